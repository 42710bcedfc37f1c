// Drag-and-drop upload of a `.wasm` component as a new plugin version, with
// progress; a refusal is shown exactly as the server words it.

import { useState, type DragEvent, type FormEvent } from 'react';
import { messageOf, tenantPath } from '../../api/client';
import { uploadVersion } from '../../api/upload';
import { Notice } from '../../components/ui';

/** `hello_p2.wasm` → `hello-p2`: a valid plugin name guessed from a file name. */
export function nameFromFile(fileName: string): string {
  const base = fileName
    .replace(/\.wasm$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '');
  return base.slice(0, 63);
}

export function UploadBox({ tenant, onUploaded }: { tenant: string; onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [version, setVersion] = useState('1.0.0');
  const [progress, setProgress] = useState<number | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [uploading, setUploading] = useState(false);

  function choose(chosen: File | undefined) {
    if (!chosen) return;
    setFile(chosen);
    setRefusal(null);
    setDone(null);
    setProgress(null);
    if (!name) setName(nameFromFile(chosen.name));
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files[0]);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setRefusal(null);
    setDone(null);
    setProgress(0);
    setUploading(true);
    const url = tenantPath(tenant, `/plugins/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`);
    try {
      const result = await uploadVersion(url, file, setProgress);
      const v = result.version;
      setDone(
        result.status === 201
          ? `Uploaded ${v.name} ${v.version} (${v.world}).`
          : `${v.name} ${v.version} was already uploaded with the same bytes.`,
      );
      onUploaded();
    } catch (e) {
      setProgress(null);
      setRefusal(messageOf(e));
    } finally {
      setUploading(false);
    }
  }

  return (
    <form className="card upload" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a version</h2>
      <div
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
        data-testid="drop-zone"
      >
        <p>{file ? `${file.name} (${file.size} bytes)` : 'Drop a .wasm component here, or'}</p>
        <label className="button secondary">
          Choose a file
          <input
            className="visually-hidden"
            type="file"
            accept=".wasm,application/wasm"
            onChange={(e) => choose(e.target.files?.[0])}
          />
        </label>
      </div>
      <div className="row">
        <label>
          Plugin name
          <input value={name} required pattern="[a-z][a-z0-9\-]{0,62}" onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Version
          <input value={version} required onChange={(e) => setVersion(e.target.value)} />
        </label>
      </div>
      {progress !== null && (
        <label className="progress">
          Upload progress
          <progress value={progress} max={1}>
            {Math.round(progress * 100)}%
          </progress>
        </label>
      )}
      {refusal && (
        <div className="refusal" role="alert">
          <strong>The server refused the upload:</strong>
          <pre data-testid="upload-refusal">{refusal}</pre>
        </div>
      )}
      <Notice>{done}</Notice>
      <button type="submit" disabled={!file || uploading}>
        {uploading ? 'Uploading…' : 'Upload'}
      </button>
    </form>
  );
}
