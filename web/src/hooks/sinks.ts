/* Where received files go. Three paths, best first:
 *  - "fs": File System Access API (Chromium desktop): the user picks a
 *    folder (or a file for a single file) and bytes are written straight to it.
 *  - "sw": a service worker streams each file into the browser's downloads
 *    (needs a secure context: https or localhost). Folders are flattened.
 *  - "memory": an in-memory Blob, only for small transfers (MEMORY_LIMIT).
 * Each sink is written strictly in order by the transfer driver. */

import type { FileEntry } from '../protocol/types';
import type { RememberedTransfer, VerifiedFile } from './remembered';

export type StorageKind = 'fs' | 'sw' | 'memory';
export const MEMORY_LIMIT = 256 * 1024 * 1024;

export interface SavedFile {
  name: string;
  url?: string; // memory sink: object URL to download
}

export interface Sink {
  readonly kind: StorageKind;
  open(file: number, offset: number): Promise<void>;
  write(file: number, bytes: Uint8Array): Promise<void>;
  close(file: number, ok: boolean): Promise<void>;
  saved: SavedFile[];
  /** Where the files went, for the user. */
  where: string;
}

type W = Window & {
  showDirectoryPicker?: (o?: object) => Promise<FileSystemDirectoryHandle>;
  showSaveFilePicker?: (o?: object) => Promise<FileSystemFileHandle>;
};

let swReady: Promise<ServiceWorkerRegistration | null> | null = null;

export function registerDownloadWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!swReady) {
    swReady = (async () => {
      if (!('serviceWorker' in navigator) || !window.isSecureContext) return null;
      try {
        await navigator.serviceWorker.register('./sw.js', { scope: './' });
        return await navigator.serviceWorker.ready;
      } catch {
        return null;
      }
    })();
  }
  return swReady;
}

export function detectStorage(): StorageKind {
  if (typeof (window as W).showDirectoryPicker === 'function') return 'fs';
  if ('serviceWorker' in navigator && window.isSecureContext) return 'sw';
  return 'memory';
}

export function describeStorage(k: StorageKind): string {
  switch (k) {
    case 'fs':
      return 'Files are written straight to a folder you choose (File System Access). No size limit beyond your disk.';
    case 'sw':
      return 'Files stream into your downloads through a service worker. No size limit beyond your disk; folders are flattened, and the browser may ask once to allow several downloads.';
    case 'memory':
      return `This browser can only keep received files in memory: at most ${MEMORY_LIMIT / 1024 / 1024} MB per transfer. Use https or a desktop Chromium for large files.`;
  }
}

/** Asks the user where to save (must run inside a click handler for "fs"). */
export async function createSink(kind: StorageKind, files: FileEntry[]): Promise<Sink> {
  if (kind === 'fs') {
    const w = window as W;
    if (files.length === 1 && files[0].dir === '' && w.showSaveFilePicker) {
      const h = await w.showSaveFilePicker({ suggestedName: files[0].name });
      return new FsSink(files, null, h);
    }
    const dir = await w.showDirectoryPicker!({ mode: 'readwrite', id: 'peerdrop' });
    return new FsSink(files, dir, null);
  }
  if (kind === 'sw') {
    const reg = await registerDownloadWorker();
    if (reg?.active) return new SwSink(files, reg.active);
  }
  const total = files.reduce((s, f) => s + f.size, 0);
  if (total > MEMORY_LIMIT) throw new Error(`Too large for this browser: ${describeStorage('memory')}`);
  return new MemorySink(files);
}

/** What an FsSink reports, so that its transfer can be continued by a later page (remembered.ts). */
export interface FsSinkHooks {
  named(file: number, name: string): void;
  verified(file: number, v: VerifiedFile): void;
}

/** The folder (or file) of a remembered transfer again, asked from a click
 *  handler: null if the user refuses access, the folder is gone, or the
 *  single file it saved was changed since (the caller then asks where to
 *  save, as for a new transfer). `verifiedBefore`: the files verified by the
 *  earlier page and unchanged since, which are not received again. */
export async function reopenSink(r: RememberedTransfer): Promise<{ sink: FsSink; verifiedBefore: number[] } | null> {
  const h = (r.root ?? r.single) as (FileSystemHandle & { requestPermission?: (d: { mode: string }) => Promise<PermissionState> }) | null;
  if (!h) return null;
  // first thing after the click: the permission prompt needs its user activation
  if (h.requestPermission && (await h.requestPermission({ mode: 'readwrite' }).catch(() => 'denied')) !== 'granted') return null;
  try {
    if (r.root) await (r.root as unknown as { keys(): AsyncIterator<string> }).keys().next();
  } catch {
    return null; // the folder was deleted or moved
  }
  return continueIn(r, new FsSink(r.files, r.root, r.single));
}

/** The picker gave the folder (or file) of a remembered transfer after all
 *  (access was refused at first, then the user picked the same one): it
 *  continues there as after reopenSink; null if it is another one. */
export async function adoptSink(r: RememberedTransfer, picked: FsSink): Promise<{ sink: FsSink; verifiedBefore: number[] } | null> {
  const same = async (x: FileSystemHandle | null, y: FileSystemHandle | null) => !!x && !!y && (await x.isSameEntry(y).catch(() => false));
  if (!(await same(picked.root, r.root)) && !(await same(picked.single, r.single))) return null;
  return continueIn(r, new FsSink(r.files, picked.root, picked.single));
}

async function continueIn(r: RememberedTransfer, sink: FsSink): Promise<{ sink: FsSink; verifiedBefore: number[] } | null> {
  const verifiedBefore: number[] = [];
  const changed: number[] = [];
  for (const [id, v] of Object.entries(r.verified)) ((await sink.holds(Number(id), v)) ? verifiedBefore : changed).push(Number(id));
  for (const id of verifiedBefore) sink.held.set(id, r.verified[id].name);
  if (r.single && changed.length > 0) return null; // the user's file now: never overwritten unasked
  // A name is reused only where this transfer's file is not the user's now:
  // a verified file that changed keeps its content (the transfer's goes to a
  // free name), and so does a started one that is no longer empty (a closed
  // page leaves an empty file: Chromium drops an unclosed write stream).
  for (const [id, name] of Object.entries(r.names)) {
    const n = Number(id);
    if (verifiedBefore.includes(n)) continue;
    if (!changed.includes(n) && (await sink.emptyOrMissing(n, name))) sink.names[n] = name;
  }
  return { sink, verifiedBefore };
}

export class FsSink implements Sink {
  readonly kind = 'fs';
  saved: SavedFile[] = [];
  where: string;
  hooks: FsSinkHooks | null = null;
  /* stream null: a held file being confirmed where it is (never written, never removed) */
  private w = new Map<number, { stream: FileSystemWritableFileStream | null; pos: number; handle: FileSystemFileHandle | null; parent: FileSystemDirectoryHandle | null; name: string; keep?: boolean }>();
  constructor(
    private files: FileEntry[],
    readonly root: FileSystemDirectoryHandle | null,
    readonly single: FileSystemFileHandle | null,
  ) {
    this.where = root ? `folder “${root.name}”` : `file “${single!.name}”`;
  }
  /** File id -> the name it is saved under; set ahead by reopenSink for a remembered transfer. */
  readonly names: Record<number, string> = {};
  /** Files an earlier page verified and that are unchanged since (reopenSink): the sender
   *  confirms them at offset = size and they stay as they are; a sender that sends one
   *  again from the start (its file changed) gets a new file beside it. */
  readonly held = new Map<number, string>(); // file id -> its name
  async emptyOrMissing(file: number, name: string): Promise<boolean> {
    if (this.single) return true; // the file the user chose for this transfer
    try {
      return (await (await (await this.parentOf(this.files[file], false)).getFileHandle(name)).getFile()).size === 0;
    } catch {
      return true; // gone (or its folder is)
    }
  }
  private async parentOf(f: FileEntry, create: boolean): Promise<FileSystemDirectoryHandle> {
    let parent = this.root!;
    for (const part of f.dir ? f.dir.split('/') : []) parent = await parent.getDirectoryHandle(part, { create });
    return parent;
  }
  /** File `file` is still where it was verified, same size, unchanged since. */
  async holds(file: number, v: VerifiedFile): Promise<boolean> {
    const f = this.files[file];
    if (!f) return false;
    try {
      const h = this.single ?? (await (await this.parentOf(f, false)).getFileHandle(v.name));
      const got = await h.getFile();
      if (got.size !== f.size || got.size !== v.size || got.lastModified !== v.lastModified) return false;
      this.saved.push({ name: savedPath(f, v.name) });
      return true;
    } catch {
      return false; // gone
    }
  }
  async open(file: number, offset: number): Promise<void> {
    const cur = this.w.get(file);
    if (cur && cur.pos === offset) return; // resume on the same open file
    if (cur?.stream) {
      await cur.stream.truncate(offset);
      await cur.stream.seek(offset);
      cur.pos = offset;
      return;
    }
    this.w.delete(file); // a held file confirmed in place, now sent from the start
    const f = this.files[file];
    const heldName = this.held.get(file);
    let keep = false;
    if (heldName !== undefined) {
      if (offset === f.size) {
        this.w.set(file, { stream: null, pos: offset, handle: null, parent: null, name: '' });
        return;
      }
      // Sent again from the start (the sender's file changed): in a folder the
      // held file stays and this one gets a free name; the single file the user
      // chose is this transfer's to replace, but only by a complete file (the
      // write stream's swap file is dropped on failure, the old file kept).
      this.held.delete(file);
      this.saved = this.saved.filter((x) => x.name !== savedPath(f, heldName));
      keep = !!this.single;
    }
    let parent: FileSystemDirectoryHandle | null = null;
    let handle: FileSystemFileHandle;
    let name = f.name;
    if (this.single) handle = this.single;
    else {
      parent = await this.parentOf(f, true);
      // a name reopenSink found still ours (missing, or the empty file a closed page left)
      name = this.names[file] ?? (await freeName(parent, f.name));
      handle = await parent.getFileHandle(name, { create: true });
    }
    const stream = await handle.createWritable({ keepExistingData: false });
    this.w.set(file, { stream, pos: 0, handle, parent, name, keep });
    this.names[file] = name;
    this.hooks?.named(file, name);
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    const cur = this.w.get(file)!;
    if (!cur.stream) throw new Error('a file confirmed in place is not written');
    await cur.stream.write(bytes as Uint8Array<ArrayBuffer>);
    cur.pos += bytes.length;
  }
  async close(file: number, ok: boolean): Promise<void> {
    const cur = this.w.get(file);
    this.w.delete(file);
    if (!cur?.stream || !cur.handle) return; // not open, or confirmed in place: listed in saved by holds()
    const f = this.files[file];
    if (ok) {
      await cur.stream.close();
      this.saved.push({ name: savedPath(f, cur.name) });
      if (this.hooks) {
        const got = await cur.handle.getFile().catch(() => null);
        if (got) this.hooks.verified(file, { name: cur.name, size: got.size, lastModified: got.lastModified });
      }
    } else {
      await cur.stream.abort().catch(() => {});
      if (cur.keep) return; // the earlier verified file, untouched by the aborted stream
      // Never leave a partial file under its final name. A file from the save
      // picker has no parent handle; Chromium's FileSystemHandle.remove() does it.
      if (cur.parent) await cur.parent.removeEntry(cur.name).catch(() => {});
      else await (cur.handle as FileSystemFileHandle & { remove?: () => Promise<void> }).remove?.().catch(() => {});
    }
  }
}

/** What the user is shown of where file `f` went: its folder path and the name it got. */
function savedPath(f: FileEntry, name: string): string {
  return f.dir ? `${f.dir}/${name}` : name;
}

async function freeName(dir: FileSystemDirectoryHandle, name: string): Promise<string> {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let i = 0; i < 1000; i++) {
    const cand = i === 0 ? name : `${stem} (${i})${ext}`;
    try {
      await dir.getFileHandle(cand);
    } catch {
      return cand; // NotFoundError: free
    }
  }
  return `${stem} (${Date.now()})${ext}`;
}

class SwSink implements Sink {
  readonly kind = 'sw';
  saved: SavedFile[] = [];
  where = 'your downloads folder';
  private cur = new Map<number, { port: MessagePort; pos: number; waiters: (() => void)[]; credit: boolean; cancelled: boolean }>();
  constructor(
    private files: FileEntry[],
    private worker: ServiceWorker,
  ) {}
  private displayName(f: FileEntry): string {
    return f.dir ? `${f.dir.replaceAll('/', '_')}_${f.name}` : f.name;
  }
  async open(file: number, offset: number): Promise<void> {
    const c = this.cur.get(file);
    if (c && c.pos === offset) return;
    if (c) {
      c.port.postMessage({ type: 'abort' });
      this.cur.delete(file);
    }
    if (offset !== 0) throw new Error('cannot resume this download');
    const f = this.files[file];
    const id = crypto.randomUUID();
    const ch = new MessageChannel();
    const st = { port: ch.port1, pos: 0, waiters: [] as (() => void)[], credit: true, cancelled: false };
    const registered = new Promise<void>((resolve) => {
      ch.port1.onmessage = (m) => {
        const t = (m.data as { type: string }).type;
        if (t === 'registered') resolve();
        else if (t === 'ok') {
          st.credit = true;
          st.waiters.splice(0).forEach((w) => w());
        } else if (t === 'cancelled') {
          st.cancelled = true;
          st.waiters.splice(0).forEach((w) => w());
        }
      };
    });
    this.worker.postMessage({ type: 'register', id, name: this.displayName(f), size: f.size }, [ch.port2]);
    await registered;
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = `./dl/${id}/${encodeURIComponent(this.displayName(f))}`;
    document.body.appendChild(frame);
    setTimeout(() => frame.remove(), 60_000);
    this.cur.set(file, st);
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    const st = this.cur.get(file)!;
    while (!st.credit && !st.cancelled) await new Promise<void>((r) => st.waiters.push(r));
    if (st.cancelled) throw new Error('download cancelled in the browser');
    st.credit = false;
    const buf = bytes.slice().buffer;
    st.port.postMessage({ type: 'chunk', buf }, [buf]);
    st.pos += bytes.length;
  }
  async close(file: number, ok: boolean): Promise<void> {
    const st = this.cur.get(file);
    this.cur.delete(file);
    if (!st) return;
    st.port.postMessage({ type: ok ? 'end' : 'abort' });
    if (ok) this.saved.push({ name: this.displayName(this.files[file]) });
  }
}

class MemorySink implements Sink {
  readonly kind = 'memory';
  saved: SavedFile[] = [];
  where = 'memory (click each file to save it)';
  private parts = new Map<number, Uint8Array[]>();
  constructor(private files: FileEntry[]) {}
  async open(file: number, offset: number): Promise<void> {
    const p = this.parts.get(file) ?? [];
    let n = 0;
    const keep: Uint8Array[] = [];
    for (const c of p) {
      if (n >= offset) break;
      keep.push(c.subarray(0, Math.min(c.length, offset - n)));
      n += keep[keep.length - 1].length;
    }
    this.parts.set(file, keep);
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    this.parts.get(file)!.push(bytes.slice());
  }
  async close(file: number, ok: boolean): Promise<void> {
    const p = this.parts.get(file) ?? [];
    this.parts.delete(file);
    if (!ok) return;
    const f = this.files[file];
    const blob = new Blob(p as Uint8Array<ArrayBuffer>[], { type: f.mime || 'application/octet-stream' });
    this.saved.push({ name: savedPath(f, f.name), url: URL.createObjectURL(blob) });
  }
}
