// The one way the console talks to `/api/v1`: bearer token, JSON bodies,
// `{"error": {code, message}}` answers as ApiError, and session expiry
// (a 401 refreshes the token once; if that fails the session ends).

import { clearTokens, loadTokens, saveTokens, type Tokens } from './tokens';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let onSessionExpired: (() => void) | null = null;

/** Called when the API refuses the session and it cannot be refreshed. */
export function setSessionExpiredHandler(handler: (() => void) | null): void {
  onSessionExpired = handler;
}

/** Forgets the tokens and tells the app the session is over. */
export function expireSession(): void {
  clearTokens();
  onSessionExpired?.();
}

export interface TokenPair {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

export function tokensFrom(pair: TokenPair): Tokens {
  return { access: pair.access_token, refresh: pair.refresh_token };
}

let refreshing: Promise<boolean> | null = null;

/** Swaps the refresh token for a new pair; one refresh at a time. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const refresh = loadTokens()?.refresh;
    if (!refresh) return false;
    const response = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refresh }),
    });
    if (!response.ok) return false;
    saveTokens(tokensFrom((await response.json()) as TokenPair));
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** For calls that must not end the session on 401 (sign-in itself). */
  anonymous?: boolean;
  /** Aborts the request (e.g. a stream the page no longer shows). */
  signal?: AbortSignal;
}

function withAuth(options: RequestOptions): Headers {
  const headers = new Headers(options.headers);
  const tokens = loadTokens();
  if (tokens && !options.anonymous) headers.set('authorization', `Bearer ${tokens.access}`);
  if (options.json !== undefined) headers.set('content-type', 'application/json');
  return headers;
}

/** A raw response; 401 handled as session expiry. */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
  const attempt = () => fetch(path, { method, headers: withAuth(options), body, signal: options.signal });
  let response = await attempt();
  if (response.status === 401 && !options.anonymous && loadTokens()) {
    if (await refreshSession()) {
      response = await attempt();
    }
    if (response.status === 401) expireSession();
  }
  return response;
}

/** The error an API answer carries, or a generic one naming the status. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) {
      return new ApiError(response.status, parsed.error.code ?? 'error', parsed.error.message);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, 'error', text || `${response.status} ${response.statusText}`);
}

/** A JSON call: the parsed answer, or an ApiError. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);

/** `/api/v1/tenants/{tenant}{rest}`. */
export function tenantPath(tenant: string, rest = ''): string {
  return `/api/v1/tenants/${encodeURIComponent(tenant)}${rest}`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
