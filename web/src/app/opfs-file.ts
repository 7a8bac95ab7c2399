/* Writing one OPFS file as a transfer arrives, whichever way this browser
 * allows: FileSystemFileHandle.createWritable() where it exists (Chromium,
 * Firefox, Safari 26+), else createSyncAccessHandle() in a dedicated worker
 * (opfs-worker.ts: Safari before 26 has only that, issue 12). Both sinks
 * that write OPFS (sinks.ts: a file each, or one .zip) write through the
 * OpfsWriter below and do not know which one they got; the finished file is
 * read back from its handle on the main thread either way.
 *
 * The two differ in one way the sinks need not care about: createWritable
 * writes a swap file that becomes the file on close(), the worker writes the
 * file in place. Either way the file is handed over only after close(). */

import type { OpfsReply, OpfsRequest } from './opfs-worker';

export interface OpfsWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** Cuts the file to `at` bytes and writes on from there (a resume). */
  rewind(at: number): Promise<void>;
  close(): Promise<void>;
  /** Gives up the file (the caller removes it if it must go). */
  abort(): Promise<void>;
}

/** Whether this browser writes OPFS files from the page (createWritable); if not, only a worker can. */
export function opfsWritableInPage(): boolean {
  return typeof FileSystemFileHandle !== 'undefined' && 'createWritable' in FileSystemFileHandle.prototype;
}

/** Opens `handle` (at `path` under the OPFS root, for the worker) for writing from its start, emptied. */
export async function opfsWriter(handle: FileSystemFileHandle, path: string[]): Promise<OpfsWriter> {
  if (opfsWritableInPage()) return new StreamWriter(await handle.createWritable({ keepExistingData: false }));
  const file = nextFile++;
  await ask({ op: 'open', file, path });
  return new WorkerWriter(file);
}

/** Whether the worker path works here (a worker with createSyncAccessHandle and OPFS); throws if not. */
export async function opfsWorkerProbe(): Promise<void> {
  await ask({ op: 'probe' }, [], PROBE_WAIT_MS);
}

class StreamWriter implements OpfsWriter {
  constructor(private stream: FileSystemWritableFileStream) {}
  write(bytes: Uint8Array): Promise<void> {
    return this.stream.write(bytes as Uint8Array<ArrayBuffer>);
  }
  async rewind(at: number): Promise<void> {
    await this.stream.truncate(at);
    await this.stream.seek(at);
  }
  close(): Promise<void> {
    return this.stream.close();
  }
  abort(): Promise<void> {
    return this.stream.abort();
  }
}

class WorkerWriter implements OpfsWriter {
  private pos = 0;
  constructor(private file: number) {}
  async write(bytes: Uint8Array): Promise<void> {
    // A copy of its own, moved to the worker: the caller's buffer is not ours to transfer.
    const buf = bytes.slice().buffer;
    await ask({ op: 'write', file: this.file, at: this.pos, buf }, [buf]);
    this.pos += bytes.length;
  }
  async rewind(at: number): Promise<void> {
    await ask({ op: 'truncate', file: this.file, size: at });
    this.pos = at;
  }
  close(): Promise<void> {
    return ask({ op: 'close', file: this.file });
  }
  abort(): Promise<void> {
    return ask({ op: 'close', file: this.file }); // releases the file's lock so that it can be removed
  }
}

/* One worker for the page, started when first needed. A worker that fails
 * (an error event: it did not load, or threw outside a request) fails every
 * request waiting on it, and the next request starts a new one. */
type Waiter = { resolve: () => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };
type Request = OpfsRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
let worker: Worker | null = null;
let nextId = 1;
let nextFile = 1;
const waiting = new Map<number, Waiter>();

/* How long a request may go unanswered before it fails: a worker that hangs
 * must not leave a transfer "Transferring" for ever (as SW_STALL_MS in
 * sinks.ts). A 4 MiB write to a local disk takes milliseconds. The probe is
 * quicker to give up: the offer waits for it before saying where files go. */
const REQUEST_WAIT_MS = 60_000;
const PROBE_WAIT_MS = 5_000;

function failAll(why: string): void {
  worker?.terminate();
  worker = null;
  for (const w of waiting.values()) {
    clearTimeout(w.timer);
    w.reject(new Error(why));
  }
  waiting.clear();
}

function start(): Worker {
  const w = new Worker(new URL('./opfs-worker.ts', import.meta.url), { type: 'module', name: 'peerdrop-opfs' });
  w.onmessage = (e: MessageEvent<OpfsReply>) => {
    const r = e.data;
    const got = waiting.get(r.id);
    if (!got) return;
    waiting.delete(r.id);
    clearTimeout(got.timer);
    if (r.error === undefined) got.resolve();
    else got.reject(new Error(`OPFS: ${r.error}`));
  };
  w.onerror = (e) => {
    e.preventDefault();
    failAll(`the OPFS worker failed: ${e.message || 'did not load'}`);
  };
  w.onmessageerror = () => failAll('the OPFS worker sent a message that could not be read');
  return w;
}

function ask(req: Request, transfer: Transferable[] = [], ms = REQUEST_WAIT_MS): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      if (waiting.delete(id)) reject(new Error(`OPFS: no answer to ${req.op} in ${ms} ms`));
    }, ms);
    waiting.set(id, { resolve, reject, timer });
    try {
      worker ??= start();
      worker.postMessage({ ...req, id } as OpfsRequest, transfer);
    } catch (e) {
      waiting.delete(id);
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
