/* What a receiving page remembers of a transfer into a folder (File System
 * Access), so that a page opened again after a closed tab, a reload or a
 * crash can continue it: the files already verified are not received again
 * and none is saved twice under a new name ("name (1)"). Kept in IndexedDB
 * (folder and file handles are structured-cloneable there, in Chromium),
 * per transfer id, until the transfer ends, is declined or cancelled; a
 * record older than a week is swept when the store opens.
 *
 * Nothing secret is kept: the transfer id, the manifest, the handles, the
 * names used and the digests of the files verified. A failure to remember only loses the feature. */

import type { FileEntry } from '../protocol/types';

export interface VerifiedFile {
  name: string;
  size: number;
  /** File.lastModified when it was verified: a file changed since is received again. */
  lastModified: number;
  /** Its digest (§5.3/§5.8) and whether block digests: what proves it to the sender again (§5.5). */
  sha256?: string;
  blocks?: boolean;
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
/* Receiving must never wait on this store: a blocked or slow IndexedDB
 * only loses the feature. */
const RECALL_TIMEOUT_MS = 2000;

let opened: Promise<IDBDatabase | null> | null = null;
function db(): Promise<IDBDatabase | null> {
  if (!opened) {
    opened = new Promise((resolve) => {
      if (typeof indexedDB === 'undefined') return resolve(null);
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'xfer' });
      req.onsuccess = () => {
        const d = req.result;
        d.onversionchange = () => d.close(); // a newer page upgrades: do not block it
        sweep(d);
        resolve(d);
      };
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    });
  }
  return opened;
}

/* Transfers never offered again (their sender left for good) are dropped after a week. */
function sweep(d: IDBDatabase): void {
  try {
    const cur = d.transaction(STORE, 'readwrite').objectStore(STORE).openCursor();
    cur.onsuccess = () => {
      const c = cur.result;
      if (!c) return;
      if (Date.now() - (c.value as RememberedTransfer).at > MAX_AGE_MS) c.delete();
      c.continue();
    };
  } catch {
    /* not swept this time */
  }
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

/* Writes of one page go out in order, so a later state never loses to an
 * earlier one; and they are coalesced per transfer: while one is being
 * written only the newest next state waits (a folder of 10,000 files must
 * not queue 20,000 copies of its manifest). null = forget. */
let chain: Promise<unknown> = Promise.resolve();
const waiting = new Map<string, RememberedTransfer | null>();

function enqueue(xfer: string, next: RememberedTransfer | null): void {
  const queued = waiting.has(xfer);
  waiting.set(xfer, next);
  if (queued) return;
  chain = chain.then(() => {
    const v = waiting.get(xfer);
    waiting.delete(xfer);
    return v ? run('readwrite', (s) => s.put(v)) : run('readwrite', (s) => s.delete(xfer));
  });
}

export function remember(r: RememberedTransfer): void {
  enqueue(r.xfer, { ...r, names: { ...r.names }, verified: { ...r.verified }, at: Date.now() });
}

export function forget(xfer: string): void {
  release(xfer);
  enqueue(xfer, null);
}

/* A transfer a live page is receiving is held under a Web Lock (shared by
 * the origin's tabs): another tab of this browser offered the same transfer
 * must not take it for one to continue, into the same files. The browser
 * drops the lock when the page goes, whichever way. */
const lockName = (xfer: string) => `peerdrop-receiving-${xfer}`;
const claims = new Map<string, { release?: () => void; over: boolean }>();

export function claim(xfer: string): void {
  if (typeof navigator === 'undefined' || !navigator.locks || claims.has(xfer)) return;
  const c: { release?: () => void; over: boolean } = { over: false };
  claims.set(xfer, c);
  navigator.locks.request(lockName(xfer), () => (c.over ? undefined : new Promise<void>((r) => (c.release = r)))).catch(() => {});
}

function release(xfer: string): void {
  const c = claims.get(xfer);
  if (!c) return;
  claims.delete(xfer);
  c.over = true;
  c.release?.();
}

async function receivingElsewhere(xfer: string): Promise<boolean> {
  if (claims.has(xfer) || typeof navigator === 'undefined' || !navigator.locks) return false;
  const q = await navigator.locks.query();
  return (q.held ?? []).some((l) => l.name === lockName(xfer));
}

export async function recall(xfer: string): Promise<RememberedTransfer | null> {
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), RECALL_TIMEOUT_MS));
  return Promise.race([lookUp(xfer), timeout]);
}

async function lookUp(xfer: string): Promise<RememberedTransfer | null> {
  if (await receivingElsewhere(xfer)) return null;
  await chain;
  const r = await run<RememberedTransfer | undefined>('readonly', (s) => s.get(xfer));
  if (!r) return null;
  if (Date.now() - r.at > MAX_AGE_MS) {
    forget(xfer);
    return null;
  }
  return r;
}
