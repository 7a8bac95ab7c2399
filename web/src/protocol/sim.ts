/* In-memory peer for tests and for generating the test vectors: a Session
 * plus synchronous "disk" (byte arrays). Deterministic, so the transcript it
 * produces is stable. Not used by the app. */

import { sha256Bytes, type HashJob } from './digest';
import { IncomingTransfer, Session, type Output, type SessionEvent, type SessionOptions } from './session';
import type { FileEntry } from './types';
import { must } from '../testing/must';

export interface LoggedMessage {
  from: string;
  msg: Output;
  /** The lane a DATA message came on (runLanes); absent: the session's channel. */
  lane?: number;
}

export class SimPeer {
  session: Session;
  sources = new Map<number, Uint8Array>(); // file id -> content (sender)
  stored: Uint8Array[] = []; // file id -> content (receiver)

  /** The stored content of file `id` (the test's view; its absence fails the test). */
  file(id: number): Uint8Array {
    return must(this.stored[id], `stored file ${id}`);
  }
  incoming: IncomingTransfer | null = null;
  events: SessionEvent[] = [];
  acceptIds: number[] | undefined;
  autoAccept = true;
  /** Corrupts bytes read for sending (to test hash mismatch). */
  corrupt: ((file: number, offset: number, b: Uint8Array) => Uint8Array) | null = null;
  /** When set, hash jobs wait here until the test answers them (session.hashed). */
  heldHashes: HashJob[] | null = null;
  /** Makes a read fail when it returns a message. */
  readError: ((file: number, offset: number) => string | null) | null = null;

  constructor(
    readonly name: string,
    opts: SessionOptions,
  ) {
    this.session = new Session(opts);
  }

  /** New session on the same peer, as after a reconnection. */
  reconnect(opts: SessionOptions): void {
    this.session.shutdown();
    this.session = new Session(opts);
  }

  setFiles(files: FileEntry[], contents: Uint8Array[]): void {
    this.sources.clear();
    files.forEach((f, i) => this.sources.set(f.id, must(contents[i], `contents for file ${i}`)));
  }

  /** Runs reads and storage until nothing changes. */
  pump(): void {
    for (let guard = 0; guard < 1e6; guard++) {
      let busy = false;
      const req = this.session.nextRead();
      if (req) {
        busy = true;
        const err = this.readError?.(req.file, req.offset);
        if (err) {
          this.session.readFailed(req, err);
          continue;
        }
        const src = this.sources.get(req.file)!;
        let b: Uint8Array = src.slice(req.offset, req.offset + req.length);
        if (this.corrupt) b = this.corrupt(req.file, req.offset, b);
        this.session.readDone(req, b);
      }
      for (const e of this.session.takeEvents()) {
        busy = true;
        this.events.push(e);
        this.onEvent(e);
      }
      if (!busy) return;
    }
    throw new Error('pump did not settle');
  }

  private onEvent(e: SessionEvent): void {
    const s = this.session;
    switch (e.type) {
      case 'offer':
        if (!this.autoAccept) return;
        if (!this.incoming || this.incoming.xfer !== e.xfer || !this.incoming.sameManifest(e.files)) {
          this.incoming = new IncomingTransfer(e.xfer, e.files);
          this.stored = e.files.map(() => new Uint8Array(0));
        }
        s.accept(this.incoming, this.acceptIds);
        return;
      case 'open':
        this.stored[e.file] = must(this.stored[e.file], `stored file ${e.file}`).slice(0, e.offset);
        return;
      case 'write': {
        const old = must(this.stored[e.file], `stored file ${e.file}`);
        const n = new Uint8Array(old.length + e.bytes.length);
        n.set(old);
        n.set(e.bytes, old.length);
        this.stored[e.file] = n;
        s.written(e.xfer, e.file, n.length);
        return;
      }
      case 'hash':
        // Synchronous, like the C engine's OpenSSL: transcripts stay
        // deterministic. Tests may hold jobs back to answer them later.
        if (this.heldHashes) this.heldHashes.push(e.job);
        else s.hashed(e.job, sha256Bytes(e.job.parts));
        return;
      case 'close':
        if (!e.ok) this.stored[e.file] = new Uint8Array(0);
        s.closed(e.xfer, e.file, e.ok);
        return;
    }
  }

  eventsOf<T extends SessionEvent['type']>(t: T): Extract<SessionEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === t) as Extract<SessionEvent, { type: T }>[];
  }
}

export interface RunOptions {
  /** Stop (as if the channel dropped) after this many messages from `a` were delivered. */
  cutAfter?: number;
  log?: LoggedMessage[];
}

/** Exchanges messages between two peers until both are idle. Deterministic. */
export function run(a: SimPeer, b: SimPeer, opts: RunOptions = {}): void {
  let deliveredFromA = 0;
  for (let round = 0; round < 1e6; round++) {
    a.pump();
    const fromA = a.session.takeOutput();
    for (const m of fromA) {
      if (opts.cutAfter !== undefined && deliveredFromA >= opts.cutAfter) return;
      opts.log?.push({ from: a.name, msg: m });
      deliver(b, m);
      deliveredFromA++;
      b.pump();
    }
    b.pump();
    const fromB = b.session.takeOutput();
    for (const m of fromB) {
      opts.log?.push({ from: b.name, msg: m });
      deliver(a, m);
      a.pump();
    }
    if (fromA.length === 0 && fromB.length === 0) return;
  }
  throw new Error('run did not settle');
}

/* Data messages are encoded the way ChannelDriver sends them: into one
 * reused buffer, which the channel copies (here: slice). */
let sendBuffer = new Uint8Array(0);
function deliver(p: SimPeer, m: Output, lane = 0): void {
  if (m.kind === 'text') return p.session.onText(m.data, lane);
  if (sendBuffer.length < m.length) sendBuffer = new Uint8Array(m.length);
  p.session.onBinary(m.encode(sendBuffer).slice(), lane);
}

export interface LaneRunOptions {
  /** The lane (0 … L) of the sender's n-th DATA message; beyond the list, 0. */
  laneOf: number[];
  /** Which channel's oldest undelivered message from `a` goes next, step by
   *  step; once it is used up (or names an empty channel), channel 0 first,
   *  then each lane in turn. */
  schedule: number[];
  log?: LoggedMessage[];
}

/** As run(), but a's DATA messages travel on lanes (docs/protocol.md
 *  §5.10): each channel in order, the channels delivered in the order the
 *  schedule says. b's replies go back at once, on the session's channel.
 *  Deterministic. */
export function runLanes(a: SimPeer, b: SimPeer, opts: LaneRunOptions): void {
  const channels: Output[][] = Array.from({ length: a.session.lanes + 1 }, () => []);
  let dataSent = 0;
  let step = 0;
  const collect = () => {
    a.pump();
    for (const m of a.session.takeOutput()) {
      const lane = m.kind === 'text' ? 0 : (opts.laneOf[dataSent++] ?? 0);
      must(channels[lane], `channel ${lane}`).push(m);
    }
  };
  collect();
  for (let round = 0; round < 1e6; round++) {
    const planned = opts.schedule[step++];
    const lane = planned !== undefined && (channels[planned]?.length ?? 0) > 0 ? planned : channels.findIndex((c) => c.length > 0);
    if (lane < 0) return;
    const m = must(must(channels[lane], `channel ${lane}`).shift(), 'message');
    opts.log?.push({ from: a.name, msg: m, lane: m.kind === 'text' ? undefined : lane });
    deliver(b, m, lane);
    b.pump();
    for (const r of b.session.takeOutput()) {
      opts.log?.push({ from: b.name, msg: r });
      deliver(a, r, 0);
    }
    collect();
  }
  throw new Error('runLanes did not settle');
}
