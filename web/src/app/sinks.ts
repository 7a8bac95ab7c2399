/* Where received files go. Four paths, best first (docs/browsers.md):
 *  - "fs": File System Access API (Chromium desktop): the user picks a
 *    folder (or a file for a single file) and bytes are written straight to it.
 *  - "opfs": the origin-private file system (Firefox, Safari, Chromium on
 *    Android): each file is written to a private file as it arrives (with
 *    createWritable, or where that is missing, as in Safari before 26,
 *    createSyncAccessHandle in a worker: opfs-file.ts), then
 *    handed to the browser as a download once verified; a folder becomes
 *    one streamed .zip (protocol/zip.ts) that keeps its structure. Its disk space is
 *    checked first (navigator.storage.estimate, persist when short).
 *  - "sw": a service worker streams each file into the browser's downloads
 *    (needs a secure context: https or localhost). Only where OPFS is missing
 *    or too small: Firefox keeps a service-worker download's whole body in
 *    its parent process (measured: +254 MB RSS for 256 MiB, still held after
 *    the download ends), and stops the worker after
 *    dom.serviceWorkers.idle_timeout (30 s) unless a functional event keeps
 *    it alive: the 512 MiB stall of issue 12.
 *  - "memory": an in-memory Blob, only for small transfers (MEMORY_LIMIT).
 * Folders are flattened by "sw" (dir_name). Each sink is written
 * strictly in order by the transfer driver. */

import { entryHidden } from '../protocol/paths';
import type { FileEntry } from '../protocol/types';
import { ZipWriter, zipSize } from '../protocol/zip';
import { opfsWorkerProbe, opfsWritableInPage, opfsWriter, type OpfsWriter } from './opfs-file';
import type { RememberedTransfer, VerifiedFile } from './remembered';
import { msg, size, type Msg } from '../i18n/catalog';

export type StorageKind = 'fs' | 'opfs' | 'sw' | 'memory';
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
  where: Msg;
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
        const reg = await navigator.serviceWorker.register('./sw.js', { scope: './' });
        // register() checks for a changed sw.js: a page must not feed a worker
        // of an older app (it would drop every chunk), so a new one being
        // installed is waited for (it skips waiting), at most 5 s.
        const next = reg.installing ?? reg.waiting;
        if (next)
          await new Promise<void>((r) => {
            next.addEventListener('statechange', () => (next.state === 'activated' || next.state === 'redundant') && r());
            setTimeout(r, 5000);
          });
        return await navigator.serviceWorker.ready;
      } catch {
        return null;
      }
    })();
  }
  return swReady;
}

/** The best storage this browser offers, by what it has (sync; probeStorage then checks OPFS really works). */
export function detectStorage(): StorageKind {
  if (typeof (window as W).showDirectoryPicker === 'function') return 'fs';
  if (hasOpfs()) return 'opfs';
  return swOrMemory();
}

function swOrMemory(): StorageKind {
  if ('serviceWorker' in navigator && navigator.serviceWorker && window.isSecureContext) return 'sw';
  return 'memory';
}

/** OPFS, written from the page (createWritable) or else perhaps from a worker (probeStorage finds out). */
function hasOpfs(): boolean {
  return (
    window.isSecureContext &&
    typeof navigator.storage?.getDirectory === 'function' &&
    typeof FileSystemFileHandle !== 'undefined' &&
    (opfsWritableInPage() || typeof Worker === 'function')
  );
}

/** What detectStorage found may still be refused: a Firefox private window
 *  has both APIs but rejects getDirectory and register. Then the next path.
 *  Also says how much room OPFS has. */
export async function probeStorage(k: StorageKind): Promise<{ kind: StorageKind; free?: number }> {
  if (k === 'opfs') {
    try {
      await opfsRoot();
      if (!opfsWritableInPage()) await opfsWorkerProbe();
      return { kind: 'opfs', free: await opfsFree() };
    } catch {
      k = swOrMemory();
    }
  }
  if (k === 'sw') return { kind: (await registerDownloadWorker())?.active ? 'sw' : 'memory' };
  return { kind: k };
}

async function opfsFree(): Promise<number | undefined> {
  const e = await navigator.storage.estimate?.().catch(() => null);
  return e && typeof e.quota === 'number' ? Math.max(0, e.quota - (e.usage ?? 0)) : undefined;
}

export function describeStorage(k: StorageKind, free?: number): Msg {
  switch (k) {
    case 'fs':
      return msg('store.fs');
    case 'opfs':
      return free !== undefined ? msg('store.opfsRoom', { free: size(free) }) : msg('store.opfs');
    case 'sw':
      return msg('store.sw');
    case 'memory':
      return msg('store.memory', { max: size(MEMORY_LIMIT) });
  }
}

/** An error the user is shown as it is (a catalogue message). */
export class SinkError extends Error {
  constructor(readonly why: Msg) {
    super(why.key);
  }
}

/** File `file` of the manifest a sink was made for. The session checks every
 *  id against that manifest before an event reaches the sink, so a miss is a
 *  bug of ours; it fails that file (the driver reports a write error), never
 *  writes under an undefined name. */
function entryOf(files: readonly FileEntry[], file: number): FileEntry {
  const f = files[file];
  if (!f) throw new Error(`no file ${file} in this transfer`);
  return f;
}

/** The offered files that will come: the web app leaves hidden names out (docs/protocol.md §7). */
function coming(files: FileEntry[]): FileEntry[] {
  return files.filter((f) => !entryHidden(f));
}

/** What the receiver is told before accepting this offer: where its files go, any limit, and the .zip a folder becomes. */
export function describeOffer(k: StorageKind, free: number | undefined, files: FileEntry[]): Msg {
  const note = describeStorage(k, free);
  if (k !== 'opfs' || !isFolder(files)) return note;
  const n = coming(files).length;
  return msg('store.zip', { zip: zipName(files), count: n, note });
}

/** Asks the user where to save (must run inside a click handler for "fs"). */
export async function createSink(kind: StorageKind, files: FileEntry[]): Promise<Sink> {
  if (kind === 'fs') {
    const w = window as W;
    const [only] = files;
    if (files.length === 1 && only && only.dir === '' && w.showSaveFilePicker) {
      const h = await w.showSaveFilePicker({ suggestedName: only.name });
      return new FsSink(files, null, h);
    }
    const dir = await w.showDirectoryPicker!({ mode: 'readwrite', id: 'peerdrop' });
    return new FsSink(files, dir, null);
  }
  const total = files.reduce((s, f) => s + f.size, 0);
  if (kind === 'opfs') {
    const sink = await (isFolder(files) ? OpfsZipSink.create(files) : OpfsSink.create(files, total)).catch(() => null);
    if (sink) return sink;
    kind = swOrMemory(); // too little room (or refused): the next path
  }
  if (kind === 'sw') {
    const reg = await registerDownloadWorker();
    if (reg?.active) return new SwSink(files, reg.active);
  }
  if (total > MEMORY_LIMIT) throw new SinkError(msg('store.tooLarge', { why: describeStorage('memory') }));
  return new MemorySink(files);
}

/** What an FsSink reports, so that its transfer can be continued by a later page (remembered.ts). */
export interface FsSinkHooks {
  named(file: number, name: string): void;
  verified(file: number, v: VerifiedFile): void;
}

/** The files an earlier page verified and that are unchanged since, which
 *  are not received again: file id -> its remembered record. Every id is a
 *  file of the remembered manifest (FsSink.holds). */
export type VerifiedBefore = Map<number, VerifiedFile>;

/** The folder (or file) of a remembered transfer again, asked from a click
 *  handler: null if the user refuses access, the folder is gone, or the
 *  single file it saved was changed since (the caller then asks where to
 *  save, as for a new transfer). */
export async function reopenSink(r: RememberedTransfer): Promise<{ sink: FsSink; verifiedBefore: VerifiedBefore } | null> {
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
export async function adoptSink(r: RememberedTransfer, picked: FsSink): Promise<{ sink: FsSink; verifiedBefore: VerifiedBefore } | null> {
  const same = async (x: FileSystemHandle | null, y: FileSystemHandle | null) => !!x && !!y && (await x.isSameEntry(y).catch(() => false));
  if (!(await same(picked.root, r.root)) && !(await same(picked.single, r.single))) return null;
  return continueIn(r, new FsSink(r.files, picked.root, picked.single));
}

async function continueIn(r: RememberedTransfer, sink: FsSink): Promise<{ sink: FsSink; verifiedBefore: VerifiedBefore } | null> {
  const verifiedBefore: VerifiedBefore = new Map();
  const changed: number[] = [];
  for (const [key, v] of Object.entries(r.verified)) {
    const id = Number(key);
    if (await sink.holds(id, v)) {
      verifiedBefore.set(id, v);
      sink.held.set(id, v.name);
    } else changed.push(id);
  }
  if (r.single && changed.length > 0) return null; // the user's file now: never overwritten unasked
  // A name is reused only where this transfer's file is not the user's now:
  // a verified file that changed keeps its content (the transfer's goes to a
  // free name), and so does a started one that is no longer empty (a closed
  // page leaves an empty file: Chromium drops an unclosed write stream).
  for (const [id, name] of Object.entries(r.names)) {
    const n = Number(id);
    if (verifiedBefore.has(n)) continue;
    if (!changed.includes(n) && (await sink.emptyOrMissing(n, name))) sink.names[n] = name;
  }
  return { sink, verifiedBefore };
}

export class FsSink implements Sink {
  readonly kind = 'fs';
  saved: SavedFile[] = [];
  where: Msg;
  hooks: FsSinkHooks | null = null;
  /* stream null: a held file being confirmed where it is (never written, never removed) */
  private w = new Map<number, { stream: FileSystemWritableFileStream | null; pos: number; handle: FileSystemFileHandle | null; parent: FileSystemDirectoryHandle | null; name: string; keep?: boolean }>();
  constructor(
    private files: FileEntry[],
    readonly root: FileSystemDirectoryHandle | null,
    readonly single: FileSystemFileHandle | null,
  ) {
    this.where = root ? msg('where.folder', { name: root.name }) : msg('where.file', { name: single!.name });
  }
  /** File id -> the name it is saved under; set ahead by reopenSink for a remembered transfer. */
  readonly names: Record<number, string> = {};
  /** Files an earlier page verified and that are unchanged since (reopenSink): the sender
   *  confirms them at offset = size and they stay as they are; a sender that sends one
   *  again from the start (its file changed) gets a new file beside it. */
  readonly held = new Map<number, string>(); // file id -> its name
  async emptyOrMissing(file: number, name: string): Promise<boolean> {
    if (this.single) return true; // the file the user chose for this transfer
    const f = this.files[file];
    if (!f) return false; // a remembered name for no file of this transfer: never reused
    try {
      return (await (await (await this.parentOf(f, false)).getFileHandle(name)).getFile()).size === 0;
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
    const f = entryOf(this.files, file);
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
    const cur = this.w.get(file);
    if (!cur) throw new Error(`file ${file} is not open`);
    if (!cur.stream) throw new Error('a file confirmed in place is not written');
    await cur.stream.write(bytes as Uint8Array<ArrayBuffer>);
    cur.pos += bytes.length;
  }
  async close(file: number, ok: boolean): Promise<void> {
    const cur = this.w.get(file);
    this.w.delete(file);
    if (!cur?.stream || !cur.handle) return; // not open, or confirmed in place: listed in saved by holds()
    const f = entryOf(this.files, file);
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

/* How long a service-worker download may go without taking a chunk before
 * the write fails: a worker the browser stopped, or a download the user
 * cancelled in a way the stream never hears of, must not leave the transfer
 * "Transferring" for ever (issue 12). Generous: the download manager reads
 * as fast as the disk takes it. */
const SW_STALL_MS = 60_000;

/** A display name with the folder flattened: a/b/c.txt -> a_b_c.txt. */
function flatName(f: FileEntry): string {
  return f.dir ? `${f.dir.replaceAll('/', '_')}_${f.name}` : f.name;
}

/* Every chunk and the end go to the worker as its own message event (an
 * ExtendableMessageEvent, held open until the stream has taken the chunk):
 * Firefox stops a worker that has had no functional event for
 * dom.serviceWorkers.idle_timeout (30 s), and MessagePort messages are not
 * functional events. With the chunks on a port, a 512 MiB download stopped
 * ~28 s in, Firefox ending the file short and the page waiting for an "ok"
 * that never came (issue 12). The port carries only the worker's replies. */
class SwSink implements Sink {
  readonly kind = 'sw';
  saved: SavedFile[] = [];
  where = msg('where.downloads');
  private cur = new Map<number, { id: string; port: MessagePort; pos: number; waiters: (() => void)[]; credit: boolean; cancelled: boolean }>();
  constructor(
    private files: FileEntry[],
    private worker: ServiceWorker,
  ) {}
  async open(file: number, offset: number): Promise<void> {
    const c = this.cur.get(file);
    if (c && c.pos === offset) return;
    if (c) {
      this.worker.postMessage({ type: 'abort', id: c.id });
      this.cur.delete(file);
    }
    if (offset !== 0) throw new Error('cannot resume this download');
    const f = entryOf(this.files, file);
    const id = crypto.randomUUID();
    const ch = new MessageChannel();
    const st = { id, port: ch.port1, pos: 0, waiters: [] as (() => void)[], credit: true, cancelled: false };
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
    this.worker.postMessage({ type: 'register', id, name: flatName(f), size: f.size }, [ch.port2]);
    await registered;
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = `./dl/${id}/${encodeURIComponent(flatName(f))}`;
    document.body.appendChild(frame);
    setTimeout(() => frame.remove(), 60_000);
    this.cur.set(file, st);
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    const st = this.cur.get(file);
    if (!st) throw new Error(`file ${file} is not open`);
    const deadline = Date.now() + SW_STALL_MS;
    while (!st.credit && !st.cancelled) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the download stopped taking data (the browser ended it)');
      await new Promise<void>((r) => {
        st.waiters.push(r);
        setTimeout(r, left);
      });
    }
    if (st.cancelled) throw new Error('download cancelled in the browser');
    st.credit = false;
    const buf = bytes.slice().buffer;
    this.worker.postMessage({ type: 'chunk', id: st.id, buf }, [buf]);
    st.pos += bytes.length;
  }
  async close(file: number, ok: boolean): Promise<void> {
    const st = this.cur.get(file);
    this.cur.delete(file);
    if (!st) return;
    this.worker.postMessage({ type: ok ? 'end' : 'abort', id: st.id });
    if (ok) this.saved.push({ name: flatName(entryOf(this.files, file)) });
  }
}

/* OPFS files of this page live in a folder of their own, held under a Web
 * Lock for the page's life; a later page removes the folders whose lock is
 * free (their page is gone, and with it the downloads it handed over). */
const OPFS_DIR = 'peerdrop-incoming';
const pageId = typeof crypto !== 'undefined' && crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
let pageDir: Promise<FileSystemDirectoryHandle> | null = null;

/** A new file of this page's OPFS folder, open for writing from its start. */
async function opfsCreate(name: string): Promise<{ handle: FileSystemFileHandle; writer: OpfsWriter }> {
  const handle = await (await opfsPageDir()).getFileHandle(name, { create: true });
  return { handle, writer: await opfsWriter(handle, [OPFS_DIR, pageId, name]) };
}

async function opfsRoot(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_DIR, { create: true });
}

function opfsPageDir(): Promise<FileSystemDirectoryHandle> {
  if (!pageDir) {
    pageDir = (async () => {
      const root = await opfsRoot();
      if (navigator.locks) {
        let held: () => void = () => {};
        const got = new Promise<void>((r) => (held = r));
        void navigator.locks.request(`peerdrop-opfs-${pageId}`, () => {
          held();
          return new Promise<void>(() => {}); // until the page goes
        });
        await got;
        void sweepOpfs(root);
      }
      return root.getDirectoryHandle(pageId, { create: true });
    })();
    pageDir.catch(() => (pageDir = null));
  }
  return pageDir;
}

async function sweepOpfs(root: FileSystemDirectoryHandle): Promise<void> {
  try {
    const held = new Set(((await navigator.locks.query()).held ?? []).map((l) => l.name));
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) {
      if (name !== pageId && !held.has(`peerdrop-opfs-${name}`)) await root.removeEntry(name, { recursive: true }).catch(() => {});
    }
  } catch {
    /* best effort: the next page tries again */
  }
}

/* The space a transfer needs beyond its bytes: OPFS bookkeeping, and the
 * quota is shared with everything else this origin stores. */
const OPFS_SLACK = 16 * 1024 * 1024;
const PERSIST_WAIT_MS = 3000;

/** Room for `need` bytes in OPFS, asking to persist (bounded) when short; false if there is none. */
async function opfsRoomFor(need: number): Promise<boolean> {
  let free = await opfsFree();
  if (free !== undefined && free < need + OPFS_SLACK && navigator.storage.persist) {
    // Persisted storage gets a larger quota (Firefox: up to half the disk);
    // Firefox may ask the user, so the answer is not awaited for ever.
    await Promise.race([navigator.storage.persist().catch(() => false), new Promise((r) => setTimeout(r, PERSIST_WAIT_MS))]);
    free = await opfsFree();
  }
  return free === undefined || free >= need + OPFS_SLACK;
}

/** A transfer with folders in it: where there is no directory picker it arrives as one .zip. */
export function isFolder(files: FileEntry[]): boolean {
  return files.some((f) => f.dir !== '');
}

/** The .zip's name: the folder's, when every file is under one top folder. */
export function zipName(files: FileEntry[]): string {
  const tops = new Set(files.map((f) => (f.dir ? f.dir.split('/')[0] : '')));
  const [top] = tops;
  return tops.size === 1 && top ? `${top}.zip` : 'peerdrop.zip';
}

/** Hands an OPFS file to the browser's downloads as `name`; the File is read from disk as the download copies it. */
function handOver(file: File, name: string): string {
  const url = URL.createObjectURL(file);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  return url;
}

/* A folder (or files with folders) into one OPFS .zip, entries in the order
 * the files arrive, each with its path; handed to the downloads once every
 * file is verified. A file that fails is cut out of the archive (it is the
 * last entry); a resume rewinds the open entry to its 4 MiB block. */
export class OpfsZipSink implements Sink {
  readonly kind = 'opfs';
  saved: SavedFile[] = [];
  readonly where: Msg;
  private zip = new ZipWriter();
  private cur = -1; // the file whose entry is open
  private done = new Set<number>();
  private sealed = new Set<number>(); // complete entries whose digest is still being checked
  private broken = false;
  private ended = 0; // files verified, or failed and cut out
  private readonly coming: number; // files that will come (coming())
  private constructor(
    private files: FileEntry[],
    private handle: FileSystemFileHandle,
    private out: OpfsWriter,
    readonly name: string,
  ) {
    this.coming = coming(files).length;
    this.where = msg('where.zip', { zip: name, count: this.coming });
  }
  static async create(files: FileEntry[]): Promise<OpfsZipSink | null> {
    if (!(await opfsRoomFor(zipSize(coming(files).map((f) => ({ name: savedPath(f, f.name), size: f.size })))))) return null;
    const { handle, writer } = await opfsCreate(`zip-${crypto.randomUUID()}`);
    return new OpfsZipSink(files, handle, writer, zipName(files));
  }
  async open(file: number, offset: number): Promise<void> {
    if (this.cur === file) {
      if (this.zip.entryWritten === offset) return;
      await this.out.rewind(this.zip.rewind(offset)); // a resume: back to its block
      return;
    }
    // The next file may start while the last one's digest is still being
    // checked: its entry has all its bytes, so it is sealed now.
    if (this.cur >= 0) {
      if (this.zip.entryWritten !== entryOf(this.files, this.cur).size) throw new Error('another file is still open');
      await this.out.write(this.zip.end());
      this.sealed.add(this.cur);
      this.cur = -1;
    }
    if (offset !== 0) throw new Error('cannot resume this file inside the .zip');
    const f = entryOf(this.files, file);
    await this.out.write(this.zip.begin(savedPath(f, f.name), f.size));
    this.cur = file;
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    if (file !== this.cur) throw new Error('not the open file');
    await this.out.write(this.zip.data(bytes));
  }
  async close(file: number, ok: boolean): Promise<void> {
    if (file === this.cur) {
      this.cur = -1;
      if (!ok) {
        await this.out.rewind(this.zip.drop()); // the last entry: cut out
        this.ended++;
        return this.handOverIfEnded();
      }
      await this.out.write(this.zip.end());
    } else if (this.sealed.delete(file)) {
      // A sealed entry that then failed its digest has others after it: the
      // archive cannot drop it, so it is never handed over (the file shows failed).
      if (!ok) this.broken = true;
      if (!ok) return;
    } else return;
    this.done.add(file);
    this.ended++;
    const f = entryOf(this.files, file);
    this.saved.push({ name: savedPath(f, f.name) });
    return this.handOverIfEnded();
  }
  /** The archive is handed over once every file that will come has ended. */
  private async handOverIfEnded(): Promise<void> {
    if (this.ended < this.coming || this.broken) return;
    await this.out.write(this.zip.finish());
    await this.out.close();
    const url = handOver(await this.handle.getFile(), this.name);
    this.saved.push({ name: this.name, url });
  }
}

export class OpfsSink implements Sink {
  readonly kind = 'opfs';
  saved: SavedFile[] = [];
  where = msg('where.opfs');
  private w = new Map<number, { out: OpfsWriter; handle: FileSystemFileHandle; pos: number; name: string }>();
  private constructor(
    private files: FileEntry[],
    private dir: FileSystemDirectoryHandle,
  ) {}
  /** Null if OPFS has too little room for `total` bytes, even after asking to persist. */
  static async create(files: FileEntry[], total: number): Promise<OpfsSink | null> {
    const dir = await opfsPageDir();
    return (await opfsRoomFor(total)) ? new OpfsSink(files, dir) : null;
  }
  async open(file: number, offset: number): Promise<void> {
    const cur = this.w.get(file);
    if (cur && cur.pos === offset) return;
    if (cur) {
      await cur.out.rewind(offset);
      cur.pos = offset;
      return;
    }
    if (offset !== 0) throw new Error('cannot resume this file');
    const name = `${crypto.randomUUID()}-${file}`; // another transfer of this page has its own "0", "1"…
    const { handle, writer } = await opfsCreate(name);
    this.w.set(file, { out: writer, handle, pos: 0, name });
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    const cur = this.w.get(file);
    if (!cur) throw new Error(`file ${file} is not open`);
    await cur.out.write(bytes);
    cur.pos += bytes.length;
  }
  async close(file: number, ok: boolean): Promise<void> {
    const cur = this.w.get(file);
    this.w.delete(file);
    if (!cur) return;
    if (!ok) {
      await cur.out.abort().catch(() => {});
      await this.dir.removeEntry(cur.name).catch(() => {});
      return;
    }
    await cur.out.close();
    // A File of OPFS is read from disk when the download copies it: no copy in memory.
    const got = await cur.handle.getFile();
    const name = flatName(entryOf(this.files, file));
    this.saved.push({ name, url: handOver(got, name) });
  }
}

class MemorySink implements Sink {
  readonly kind = 'memory';
  saved: SavedFile[] = [];
  where = msg('where.memory');
  private parts = new Map<number, Uint8Array[]>();
  constructor(private files: FileEntry[]) {}
  async open(file: number, offset: number): Promise<void> {
    const p = this.parts.get(file) ?? [];
    let n = 0;
    const keep: Uint8Array[] = [];
    for (const c of p) {
      if (n >= offset) break;
      const part = c.subarray(0, Math.min(c.length, offset - n));
      keep.push(part);
      n += part.length;
    }
    this.parts.set(file, keep);
  }
  async write(file: number, bytes: Uint8Array): Promise<void> {
    const p = this.parts.get(file);
    if (!p) throw new Error(`file ${file} is not open`);
    p.push(bytes.slice());
  }
  async close(file: number, ok: boolean): Promise<void> {
    const p = this.parts.get(file) ?? [];
    this.parts.delete(file);
    if (!ok) return;
    const f = entryOf(this.files, file);
    const blob = new Blob(p as Uint8Array<ArrayBuffer>[], { type: f.mime || 'application/octet-stream' });
    this.saved.push({ name: savedPath(f, f.name), url: URL.createObjectURL(blob) });
  }
}
