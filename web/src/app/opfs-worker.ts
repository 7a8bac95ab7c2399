/* The OPFS writer of a browser without FileSystemFileHandle.createWritable
 * (Safari before 26): there the only way to write an OPFS file is
 * createSyncAccessHandle(), which exists in dedicated workers only (WHATWG
 * File System, "[Exposed=DedicatedWorker]"). The page (opfs-file.ts) sends
 * one request at a time per file and waits for its reply; this worker opens
 * the file by its path under the OPFS root, writes at the offsets it is
 * given (so that a resume truncates and rewinds as the createWritable path
 * does), flushes and closes. It knows nothing of transfers, digests or
 * downloads: the page hands the finished file over from the main thread.
 *
 * Every handle method is awaited: Safari 15.2-16 and Chromium 102-107
 * shipped getSize/truncate/flush/close as promises, later ones made them
 * synchronous; awaiting a plain value is harmless. */

export type OpfsRequest =
  | { id: number; op: 'probe' }
  | { id: number; op: 'open'; file: number; path: string[] }
  | { id: number; op: 'write'; file: number; at: number; buf: ArrayBuffer }
  | { id: number; op: 'truncate'; file: number; size: number }
  | { id: number; op: 'close'; file: number };
export type OpfsReply = { id: number; error?: string };

interface SyncAccessHandle {
  write(b: Uint8Array, o: { at: number }): number;
  truncate(size: number): void | Promise<void>;
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}
type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncAccessHandle> };

const open = new Map<number, SyncAccessHandle>();
const scope = self as unknown as { onmessage: ((e: MessageEvent<OpfsRequest>) => void) | null; postMessage(r: OpfsReply): void };

async function fileAt(path: string[]): Promise<SyncFileHandle> {
  const name = path.at(-1);
  if (name === undefined) throw new Error('empty path');
  let dir = await navigator.storage.getDirectory();
  for (const d of path.slice(0, -1)) dir = await dir.getDirectoryHandle(d);
  return (await dir.getFileHandle(name, { create: true })) as SyncFileHandle;
}

function handleOf(file: number): SyncAccessHandle {
  const h = open.get(file);
  if (!h) throw new Error(`file ${file} is not open`);
  return h;
}

async function run(r: OpfsRequest): Promise<void> {
  switch (r.op) {
    case 'probe':
      if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype))
        throw new Error('no createSyncAccessHandle in this worker');
      await navigator.storage.getDirectory(); // refused where the page's is (a private window)
      return;
    case 'open': {
      if (open.has(r.file)) throw new Error(`file ${r.file} is already open`);
      const h = await (await fileAt(r.path)).createSyncAccessHandle();
      await h.truncate(0); // as createWritable({ keepExistingData: false })
      open.set(r.file, h);
      return;
    }
    case 'write': {
      const n = handleOf(r.file).write(new Uint8Array(r.buf), { at: r.at });
      // A short write is a full disk or quota: never a file with a hole in it.
      if (n !== r.buf.byteLength) throw new Error(`wrote ${n} of ${r.buf.byteLength} bytes`);
      return;
    }
    case 'truncate':
      await handleOf(r.file).truncate(r.size);
      return;
    case 'close': {
      const h = open.get(r.file);
      open.delete(r.file);
      if (!h) return;
      try {
        await h.flush();
      } finally {
        await h.close(); // the lock on the file goes even when the flush failed
      }
      return;
    }
  }
}

scope.onmessage = (e) => {
  const r = e.data;
  run(r).then(
    () => scope.postMessage({ id: r.id }),
    (err: unknown) => scope.postMessage({ id: r.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
};
