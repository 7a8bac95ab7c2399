/* What a receiving page remembers of a transfer into a folder (File System
 * Access), so that a page opened again after a closed tab, a reload or a
 * crash can continue it: the files already verified are not received again
 * and none is saved twice under a new name ("name (1)"). Kept in IndexedDB
 * (folder and file handles are structured-cloneable there, in Chromium),
 * per transfer id, until the transfer ends; a week at most.
 *
 * Nothing secret is kept: the transfer id, the manifest, the handles and
 * the names used. A failure to remember only loses the feature. */

import type { FileEntry } from '../protocol/types';

export interface VerifiedFile {
  name: string;
  size: number;
  /** File.lastModified when it was verified: a file changed since is received again. */
  lastModified: number;
}

export interface RememberedTransfer {
  xfer: string;
  files: FileEntry[];
  root: FileSystemDirectoryHandle | null;
  single: FileSystemFileHandle | null;
  /** File id -> name it was saved under (started or verified). */
  names: Record<number, string>;
  verified: Record<number, VerifiedFile>;
  at: number;
}

const DB = 'peerdrop';
const STORE = 'incoming';
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

let opened: Promise<IDBDatabase | null> | null = null;
function db(): Promise<IDBDatabase | null> {
  if (!opened) {
    opened = new Promise((resolve) => {
      if (typeof indexedDB === 'undefined') return resolve(null);
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'xfer' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    });
  }
  return opened;
}

function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T | null> {
  return db().then(
    (d) =>
      new Promise<T | null>((resolve) => {
        if (!d) return resolve(null);
        try {
          const req = op(d.transaction(STORE, mode).objectStore(STORE));
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => resolve(null);
        } catch {
          resolve(null);
        }
      }),
  );
}

/* Writes of one page go out in order: a later state never loses to an earlier one. */
let chain: Promise<unknown> = Promise.resolve();

export function remember(r: RememberedTransfer): void {
  const copy = { ...r, names: { ...r.names }, verified: { ...r.verified }, at: Date.now() };
  chain = chain.then(() => run('readwrite', (s) => s.put(copy)));
}

export function forget(xfer: string): void {
  chain = chain.then(() => run('readwrite', (s) => s.delete(xfer)));
}

export async function recall(xfer: string): Promise<RememberedTransfer | null> {
  await chain;
  const r = await run<RememberedTransfer | undefined>('readonly', (s) => s.get(xfer));
  if (!r) return null;
  if (Date.now() - r.at > MAX_AGE_MS) {
    forget(xfer);
    return null;
  }
  return r;
}
