// Uploading a component with progress: fetch cannot report upload progress,
// XMLHttpRequest can.

import { ApiError, expireSession, refreshSession } from './client';
import { loadTokens } from './tokens';
import type { PluginVersion } from './types';

export interface UploadResult {
  status: number;
  version: PluginVersion;
}

function putOnce(url: string, file: Blob, onProgress: (fraction: number) => void): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    const token = loadTokens()?.access;
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/wasm');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed: the server could not be reached'));
    xhr.send(file);
  });
}

function errorFrom(xhr: XMLHttpRequest): ApiError {
  try {
    const parsed = JSON.parse(xhr.responseText) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) return new ApiError(xhr.status, parsed.error.code ?? 'error', parsed.error.message);
  } catch {
    // not JSON
  }
  return new ApiError(xhr.status, 'error', xhr.responseText || `${xhr.status} ${xhr.statusText}`);
}

/** PUTs `file` as a plugin version; resolves with the stored version or rejects with the server's refusal. */
export async function uploadVersion(
  url: string,
  file: Blob,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  let xhr = await putOnce(url, file, onProgress);
  if (xhr.status === 401 && (await refreshSession())) {
    xhr = await putOnce(url, file, onProgress);
  }
  if (xhr.status === 401 && loadTokens()) expireSession();
  if (xhr.status < 200 || xhr.status >= 300) throw errorFrom(xhr);
  onProgress(1);
  return { status: xhr.status, version: JSON.parse(xhr.responseText) as PluginVersion };
}
