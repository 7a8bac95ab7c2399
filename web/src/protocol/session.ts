/* Sans-I/O transfer engine: one Session per data channel (docs/protocol.md §5).
 *
 * The caller owns the channel, the files and the clock. It feeds received
 * messages in (onText/onBinary), results of reads and writes it was asked to
 * do (readDone, written, closed), and takes out messages to send
 * (takeOutput) and events for the UI and the storage layer (takeEvents).
 * Either side may offer; one outgoing and one incoming transfer at a time.
 * Incoming progress lives in an IncomingTransfer that outlives the session,
 * so that a new connection can resume it. */

import { decodeControl, decodeData, encodeControl, encodeData, joinBytes, textFits, utf8Length } from './codec';
import { entryHidden, manifestProblem } from './paths';
import { LaneMerge, type DataFate, type MergeView } from './merge';
import { CAP_BLOCKS, createDigest, HASH_BLOCK, knownDigest, type FileDigest, type HashJob } from './digest';
import {
  CAP_LANE_RESEND, CAP_TEXT, DATA_HEADER_LEN, DEFAULT_MSG_SIZE, DEFAULT_WINDOW, MAX_ACK_STEP, MAX_LANES, MAX_PEER_WIN, MAX_WIRE_LANES, helloLanes,
  MAX_TEXT_BYTES, MAX_TEXT_PENDING, MIN_MAX_MSG, PROTOCOL_VERSION, ProtocolError,
  type AcceptEntry, type Control, type DataMsg, type ErrorCode, type FileEntry, type Hello,
} from './types';
/** arr[i] for an index this session has checked already (a file id of a
 *  validated message, the file being sent): a miss would be a bug, or a
 *  peer's message that slipped a check, so it ends the session as PROTOCOL
 *  instead of reading `undefined` on (noUncheckedIndexedAccess). */
function at<T>(arr: readonly T[], i: number): T {
  const v = arr[i];
  if (v === undefined) throw new ProtocolError('PROTOCOL', `no file ${i}`);
  return v;
}

export interface SessionOptions {
  /** Largest message we accept (our SCTP max-message-size). */
  maxMsg?: number;
  /** Bytes the peer may have in flight to us beyond what we wrote. */
  win?: number;
  /** Preferred size of an outgoing data message, header included. */
  msgSize?: number;
  /** Largest message the transport lets us send (RTCSctpTransport.maxMessageSize). */
  sendLimit?: number;
  /** Bytes asked for per read request; reads end on multiples of it. */
  readBlock?: number;
  caps?: string[];
  /** Receiver: receive files with hidden names ('.config/…', '.bashrc'). By default they are left out of
   *  accept (the offer event lists them) and an offer of nothing else is refused as UNSAFE_PATH. */
  allowHidden?: boolean;
  /** Sent in our hello (§5.1): who we are for the peer's user ("Blue Fox"), and our kind ("Firefox on Android"). */
  name?: string;
  device?: string;
  /** Sent in our hello (§5.10): the extra connections (lanes) we take part in with this peer, 0 … 15 (above 7 as moreLanes). */
  lanes?: number;
}

/* A data message, kept as its parts until it is sent: a driver encodes it
 * into one reused buffer (encode), which RTCDataChannel.send allows because
 * send copies its argument; a fresh message per chunk cost the sender an
 * allocation and a garbage-collected 64 KiB buffer per message. `data`
 * encodes a new copy (tests, the simulator). The parts are views of read
 * buffers that nothing writes to again. */
export class DataOutput {
  readonly kind = 'binary';
  constructor(
    readonly file: number,
    readonly offset: number,
    private readonly bytes: Uint8Array,
    private readonly head?: Uint8Array,
    /** The transfer's tag (§5.11), 0 without lane-resend. */
    readonly tag = 0,
  ) {}
  get length(): number {
    return DATA_HEADER_LEN + (this.head?.length ?? 0) + this.bytes.length;
  }
  get data(): Uint8Array {
    return encodeData(this.file, this.offset, this.bytes, this.head, undefined, this.tag);
  }
  /** The message written into `into` (a view of it) when it fits, else a new buffer. */
  encode(into: Uint8Array): Uint8Array {
    return encodeData(this.file, this.offset, this.bytes, this.head, into, this.tag);
  }
}

export type Output = { kind: 'text'; data: string } | DataOutput;

export type Dir = 'in' | 'out';
export type SessionEvent =
  | { type: 'ready'; peer: Hello; msgSize: number }
  /** `hidden`: ids, increasing, of the files with a hidden name that accept leaves out (no allowHidden). */
  | { type: 'offer'; xfer: string; files: FileEntry[]; hidden: number[] }
  | { type: 'accepted'; xfer: string; files: number[] }
  | { type: 'declined'; xfer: string }
  | { type: 'open'; xfer: string; file: number; offset: number }
  | { type: 'write'; xfer: string; file: number; offset: number; bytes: Uint8Array }
  /** SHA-256 this block and hand the result to Session.hashed (block-digest mode, §5.8). */
  | { type: 'hash'; job: HashJob }
  | { type: 'close'; xfer: string; file: number; ok: boolean }
  | { type: 'progress'; dir: Dir; xfer: string; file: number; bytes: number }
  | { type: 'file-done'; dir: Dir; xfer: string; file: number; ok: boolean; code?: ErrorCode; message?: string }
  | { type: 'transfer-done'; dir: Dir; xfer: string }
  | { type: 'cancelled'; dir: Dir; xfer: string; byPeer: boolean }
  | { type: 'transfer-error'; dir: Dir; xfer: string; code: ErrorCode; message: string; byPeer: boolean }
  | { type: 'fatal'; code: ErrorCode; message: string; byPeer: boolean }
  /* §5.9: a snippet arrived (already acknowledged; raw text: never render it as HTML) */
  | { type: 'text'; id: string; text: string }
  /* §5.9: the peer acknowledged our snippet */
  | { type: 'text-acked'; id: string };

export interface ReadRequest {
  xfer: string;
  file: number;
  offset: number;
  length: number;
}

/* ---- receiver state that survives a dropped connection ---- */

/* 'checking': end arrived, block digests still being computed (§5.8). */
type InStatus = 'idle' | 'accepted' | 'receiving' | 'checking' | 'ended' | 'closing' | 'verified' | 'failed';
interface InFile {
  status: InStatus;
  received: number; // bytes arrived in order (fed to the digest)
  written: number; // bytes the storage layer confirmed
  digest: FileDigest | null; // null until the file first starts
  expect: string; // end.sha256, while checking
  lastAck: number;
  resumeAt: number; // offset we asked to resume at in this session
  heldWhole: boolean; // verified by an earlier page (markHeld with its digest), until sent again from 0
}

export class IncomingTransfer {
  readonly files: InFile[];
  constructor(
    readonly xfer: string,
    readonly manifest: FileEntry[],
  ) {
    this.files = manifest.map(() => ({ status: 'idle', received: 0, written: 0, digest: null, expect: '', lastAck: 0, resumeAt: 0, heldWhole: false }));
  }
  sameManifest(files: FileEntry[]): boolean {
    return files.length === this.manifest.length && files.every((f, i) => {
      const m = at(this.manifest, i);
      return f.name === m.name && f.dir === m.dir && f.size === m.size && f.mime === m.mime;
    });
  }
  /** Bytes held of file i (for progress display). */
  held(i: number): number {
    return at(this.files, i).written;
  }
  /** Where file i continues in the session that accepted it last (0: from the start). */
  resumedAt(i: number): number {
    return at(this.files, i).resumeAt;
  }
  isFinished(i: number): boolean {
    return at(this.files, i).status === 'verified';
  }
  /** File i was stored and verified by an earlier page of this receiver (a
   *  remembered transfer). With that page's digest of it, it is asked for at
   *  offset = size with the digest as the proof, so that the sender confirms
   *  it as verified too (§5.5); without one, it is left out of accept. */
  markHeld(i: number, proof?: { sha256: string; blocks: boolean }): void {
    const f = at(this.files, i);
    const size = at(this.manifest, i).size;
    f.received = f.written = size;
    if (proof) {
      f.heldWhole = true; // idle: asked for at offset = size with this digest
      f.digest = knownDigest(proof.blocks, size, proof.sha256);
    } else {
      f.status = 'verified';
      f.lastAck = size;
    }
  }
  /** The digest file i was verified with (while it is being committed, and after), for a later page. */
  proofOf(i: number): { sha256: string; blocks: boolean } | null {
    const f = at(this.files, i);
    if ((f.status !== 'closing' && f.status !== 'verified') || !f.digest) return null;
    return { sha256: f.digest.peekHex(), blocks: f.digest.blocks };
  }
}

/* ---- sender state, per session ---- */

/* 'ending': every byte sent, block digests still being computed (§5.8). */
type OutStatus = 'skipped' | 'queued' | 'prefix' | 'sending' | 'ending' | 'ended' | 'verified' | 'failed';
interface OutFile {
  entry: FileEntry;
  status: OutStatus;
  resumeAt: number;
  resumeSha?: string;
  prefixPos: number;
  start: number;
  sent: number;
  acked: number;
  carry: Uint8Array | null; // read but not sent: the tail of the last read, shorter than a chunk
  digest: FileDigest;
}
interface Outgoing {
  xfer: string;
  files: OutFile[];
  state: 'offered' | 'active' | 'done' | 'declined' | 'cancelled' | 'failed';
  cur: number;
  pending: ReadRequest | null;
  inflight: number; // sent but not acknowledged, all files
  tag: number; // §5.11: offers we sent on this session before this one, mod 65536
}

/* Why an offer of hidden names only is refused (UNSAFE_PATH): a receiver that
 * leaves them out has nothing to accept. Same words as session.c. */
export const ALL_HIDDEN = 'every file has a hidden name (leading dot)';

export class Session {
  maxMsg: number; // fixed once open() sent our hello
  readonly win: number;
  private readonly prefMsg: number;
  private sendLimit: number;
  private readonly readBlock: number;
  private readonly caps: string[];
  private readonly allowHidden: boolean;
  private readonly who: { name?: string; device?: string };
  private peer: Hello | null = null;
  private msgSize = 0;
  private blocks = false; // both sides listed CAP_BLOCKS: block digests (§5.8)
  private text = false; // both sides listed CAP_TEXT (§5.9)
  private textPending = new Set<string>(); // our texts not yet acknowledged
  private inDigests = new WeakMap<FileDigest, number>(); // incoming file of a digest
  private out: Outgoing | null = null;
  private inc: IncomingTransfer | null = null;
  private incState: 'none' | 'offered' | 'active' = 'none';
  private pendingOffer: FileEntry[] | null = null;
  private pendingXfer = '';
  private inCur = -1;
  private dropData = false; // after a local cancel/failure: stale data still in flight
  private dropFile = -1;
  private stale = new Set<string>();
  /* §5.11 (lane-resend): offers sent and offers handled on this session,
   * mod 65536; the tag of the pending offer and of the incoming transfer;
   * the files that transfer's accept asked for. */
  private resend = false;
  private offersOut = 0;
  private offersIn = 0;
  private pendingTag = 0;
  private incTag = 0;
  private inAccepted: boolean[] = [];
  private outputs: Output[] = [];
  private events: SessionEvent[] = [];
  private dead = false;
  private readonly ownLanes: number;
  /* §5.10, once both hellos agreed on L ≥ 1: DATA held per channel, and
   * control messages held behind an `end` that came before its file's bytes. */
  private merge: LaneMerge | null = null;
  private heldControl: { m: Control; length: number }[] = [];
  private readonly view: MergeView = {
    fate: (d) => this.dataFate(d),
    expectsBytes: () => this.expectsBytes(),
    nextKey: () => (this.expectsBytes() ? { file: this.inCur, offset: at(this.inc!.files, this.inCur).received } : null),
  };

  constructor(opts: SessionOptions = {}) {
    this.maxMsg = opts.maxMsg ?? 262144;
    this.win = opts.win ?? DEFAULT_WINDOW;
    this.prefMsg = opts.msgSize ?? DEFAULT_MSG_SIZE;
    this.sendLimit = opts.sendLimit ?? Number.MAX_SAFE_INTEGER;
    // 4 MiB: with block digests a read is then one hash block, hashed
    // without copying it, and a file takes few reads (each is an IPC round
    // trip in a browser).
    this.readBlock = opts.readBlock ?? HASH_BLOCK;
    this.caps = opts.caps ?? ['resume', CAP_BLOCKS, CAP_TEXT, CAP_LANE_RESEND];
    this.allowHidden = opts.allowHidden ?? false;
    this.who = { name: opts.name || undefined, device: opts.device || undefined };
    this.ownLanes = opts.lanes ?? 0;
    if (!Number.isInteger(this.ownLanes) || this.ownLanes < 0 || this.ownLanes > MAX_LANES) throw new RangeError(`lanes: 0 … ${MAX_LANES}`);
    if (this.maxMsg < MIN_MAX_MSG) throw new RangeError('maxMsg below 16384');
    if (this.win < this.maxMsg) throw new RangeError('win below maxMsg');
  }

  /* ---- plumbing ---- */

  takeOutput(): Output[] {
    const o = this.outputs;
    this.outputs = [];
    return o;
  }
  takeEvents(): SessionEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }
  get ready(): boolean {
    return this.peer !== null && !this.dead;
  }
  get isClosed(): boolean {
    return this.dead;
  }
  get dataMsgSize(): number {
    return this.msgSize;
  }
  /** Digests of this session are block digests (§5.8). */
  get blockDigests(): boolean {
    return this.blocks;
  }
  private send(m: Control): void {
    this.outputs.push({ kind: 'text', data: encodeControl(m) });
  }
  private emit(e: SessionEvent): void {
    this.events.push(e);
  }
  private fail(code: ErrorCode, message: string): void {
    if (this.dead) return;
    this.send({ t: 'error', code, message });
    this.emit({ type: 'fatal', code, message, byPeer: false });
    this.dead = true;
  }

  /** Call once when the channel opens: queues our hello. `limits` are the
   *  transport's, known only once the channel is open (RTCSctpTransport). */
  open(limits?: { maxMsg: number; sendLimit: number }): void {
    if (limits) {
      if (limits.maxMsg < MIN_MAX_MSG || this.win < limits.maxMsg) throw new RangeError('maxMsg out of range');
      this.maxMsg = limits.maxMsg;
      this.sendLimit = limits.sendLimit;
    }
    const hello: Hello = { t: 'hello', v: PROTOCOL_VERSION, maxMsg: this.maxMsg, win: this.win, caps: this.caps };
    if (this.ownLanes > 0) hello.lanes = Math.min(this.ownLanes, MAX_WIRE_LANES);
    if (this.ownLanes > MAX_WIRE_LANES) hello.moreLanes = this.ownLanes;
    if (this.who.name) hello.name = this.who.name;
    if (this.who.device) hello.device = this.who.device;
    this.send(hello);
  }

  /** The channel closed: nothing more can be sent. Incoming state stays resumable. */
  shutdown(): void {
    this.dead = true;
    this.merge?.clear();
    this.heldControl = [];
    if (this.inc) for (const f of this.inc.files) if (f.status === 'accepted' || f.status === 'receiving' || f.status === 'checking') f.status = 'idle';
  }

  /** A text message that arrived on channel `lane` (0: the session's; a lane carries DATA only, §5.10). */
  onText(text: string, lane = 0): void {
    if (this.dead) return;
    try {
      if (lane !== 0) throw new ProtocolError('PROTOCOL', `control message on lane ${lane}`);
      const length = utf8Length(text);
      if (length > this.maxMsg) throw new ProtocolError('TOO_BIG', 'control message over maxMsg');
      const m = decodeControl(text);
      if (this.heldControl.length === 0 && !this.mustHold(m)) this.handle(m);
      else {
        // §5.10: behind an `end` that came before its file's bytes, in order,
        // counted in the merge's bounds (whole length) like held DATA
        this.merge?.holdControl(length);
        this.heldControl.push({ m, length });
      }
      this.progress();
    } catch (e) {
      this.caught(e);
    }
  }

  /** A binary message that arrived on channel `lane` (0: the session's, 1 … L: an open lane, §5.10). */
  onBinary(msg: Uint8Array, lane = 0): void {
    if (this.dead) return;
    try {
      if (msg.length > this.maxMsg) throw new ProtocolError('TOO_BIG', 'data message over maxMsg');
      if (!this.peer) throw new ProtocolError('PROTOCOL', 'data before hello');
      const mg = this.merge;
      if (!mg) {
        if (lane !== 0) throw new ProtocolError('PROTOCOL', `data on lane ${lane}, none agreed`);
        return this.onData(msg);
      }
      mg.checkLane(lane);
      const d = this.decodeTagged(msg);
      if (mg.empty(lane)) {
        const fate = this.dataFate(d);
        if (fate === 'drop') return;
        if (fate === 'next') {
          this.handleData(d);
          if (mg.held > 0 || this.heldControl.length > 0) this.progress();
          return;
        }
      }
      mg.hold(lane, d);
      this.progress();
    } catch (e) {
      this.caught(e);
    }
  }

  /* ---- lanes (§5.10) ---- */

  /** L: the lanes both hellos agreed on (0 until the peer's hello, and with a peer without lanes). */
  get lanes(): number {
    return this.merge?.lanes ?? 0;
  }

  /** Lane k (1 … L) opened: from now on it is one of the channels the merge waits on. */
  laneOpened(k: number): void {
    if (!this.merge) throw new RangeError('no lanes in this session');
    this.merge.laneOpened(k);
  }

  /** Both hellos list `lane-resend` and L > 0 (§5.11): DATA carries its
   *  transfer's tag, copies are dropped, a lost lane does not end the session. */
  get laneResend(): boolean {
    return this.resend;
  }

  /** Lane k (1 … L) closed or failed after it opened. True: the session goes
   *  on (§5.11; what the lane brought stays held, and the caller must send
   *  again what it sent on it that is not acknowledged, see unacked); false:
   *  without lane-resend the session ends like a dropped channel (§5.10), and
   *  the caller closes it. */
  laneClosed(k: number): boolean {
    if (!this.merge) throw new RangeError('no lanes in this session');
    this.merge.laneClosed(k);
    return this.resend && !this.dead;
  }

  /** Sender, under lane-resend (§5.11): whether a DATA message this session
   *  output must still be kept for a re-send: its transfer is the active
   *  outgoing one, its file is still being sent or waits for `verified`,
   *  and the peer's `ack` does not cover it. O(1). */
  unacked(d: DataOutput): boolean {
    const o = this.out;
    if (!this.resend || this.dead || !o || o.state !== 'active' || d.tag !== o.tag) return false;
    const f = o.files[d.file];
    if (!f || (f.status !== 'sending' && f.status !== 'ending' && f.status !== 'ended')) return false;
    return f.acked < d.offset + d.length - DATA_HEADER_LEN;
  }

  /* What a DATA message is to the receiver now: the next one (the current
   * file at the bytes handled of it), one to ignore (§5.6, §5.7), or a
   * later one that may become next; PROTOCOL when it never can. */
  private dataFate(d: DataMsg): DataFate {
    if (this.resend) return this.copyFate(d);
    const inc = this.incState === 'active' ? this.inc : null;
    if (!inc) {
      if (this.dropData) return 'drop'; // in flight before a cancel or a transfer error
      throw new ProtocolError('PROTOCOL', 'data for no file being received');
    }
    const f = inc.files[d.file];
    const entry = inc.manifest[d.file];
    if (!f || !entry) throw new ProtocolError('PROTOCOL', 'data for no file being received');
    if (d.file === this.dropFile || f.status === 'failed') return 'drop'; // a file failed by either side
    if (d.offset + d.bytes.length > entry.size) throw new ProtocolError('PROTOCOL', 'data beyond file size');
    if (d.file === this.inCur && f.status === 'receiving') {
      if (d.offset === f.received) return 'next';
      if (d.offset < f.received) throw new ProtocolError('PROTOCOL', 'data offset is not the next byte');
      return 'wait';
    }
    if (d.file > this.inCur && f.status === 'accepted') return 'wait'; // for its start
    throw new ProtocolError('PROTOCOL', 'data for no file being received');
  }

  /* §5.11: the same under lane-resend, where a message may be a copy. A
   * copy of another transfer's data (its tag), of bytes already handled, or
   * of a file failed or done with is dropped; one that overlaps handled
   * bytes partly is PROTOCOL (a copy is exact), as is one beyond its file
   * or of a file the accept did not ask for. */
  private copyFate(d: DataMsg): DataFate {
    const inc = this.incState === 'active' ? this.inc : null;
    if (!inc || d.tag !== this.incTag) return 'drop';
    const f = inc.files[d.file];
    const entry = inc.manifest[d.file];
    if (!f || !entry || this.inAccepted[d.file] !== true) throw new ProtocolError('PROTOCOL', 'data for a file not accepted');
    const end = d.offset + d.bytes.length;
    if (end > entry.size) throw new ProtocolError('PROTOCOL', 'data beyond file size');
    if (f.status === 'failed' || d.file === this.dropFile || d.file < this.inCur) return 'drop';
    if (d.file === this.inCur) {
      if (f.status !== 'receiving' || end <= f.received) return 'drop'; // all its bytes handled
      if (d.offset < f.received) throw new ProtocolError('PROTOCOL', 'data overlaps bytes already handled');
      return d.offset === f.received ? 'next' : 'wait';
    }
    if (f.status === 'accepted') return 'wait'; // for its start
    throw new ProtocolError('PROTOCOL', 'data for no file being received');
  }

  private expectsBytes(): boolean {
    const inc = this.incState === 'active' ? this.inc : null;
    const f = inc?.files[this.inCur];
    const entry = inc?.manifest[this.inCur];
    return !!f && !!entry && f.status === 'receiving' && f.received < entry.size;
  }

  /* §5.10: an `end` for the current file before all its bytes were handled waits for them. */
  private mustHold(m: Control): boolean {
    return this.merge !== null && m.t === 'end' && this.inc?.xfer === m.xfer && m.file === this.inCur && this.expectsBytes();
  }

  /* Handles what became handleable: held DATA that is next, held control
   * messages once the `end` at their head may go; then the stuck rule. */
  private progress(): void {
    const mg = this.merge;
    if (!mg) return;
    for (;;) {
      if (this.dead) return;
      const d = mg.take(this.view);
      if (d) {
        this.handleData(d);
        continue;
      }
      const c = this.heldControl[0];
      if (c !== undefined && !this.mustHold(c.m)) {
        this.heldControl.shift();
        mg.releaseControl(c.length);
        this.handle(c.m);
        continue;
      }
      break;
    }
    mg.checkStuck(this.view);
  }

  /* progress() after a local call that may let held messages go (a cancel, a failed file). */
  private progressSafe(): void {
    if (!this.merge || this.dead) return;
    try {
      this.progress();
    } catch (e) {
      this.caught(e);
    }
  }

  private caught(e: unknown): void {
    if (e instanceof ProtocolError) this.fail(e.code, e.message);
    else this.fail('INTERNAL', e instanceof Error ? e.message : String(e));
  }

  private handle(m: Control): void {
    if (!this.peer) {
      if (m.t === 'error') return this.peerFatal(m.code, m.message);
      if (m.t !== 'hello') throw new ProtocolError('PROTOCOL', 'first message must be hello');
      // Version 2 (issue 14) is the first with authentication, which this app
      // never goes without: an older peer has no common version.
      if (m.v < PROTOCOL_VERSION) throw new ProtocolError('VERSION', 'no common version');
      if (m.maxMsg < MIN_MAX_MSG) throw new ProtocolError('PROTOCOL', 'maxMsg below 16384');
      if (m.win < m.maxMsg) throw new ProtocolError('PROTOCOL', 'win below maxMsg');
      this.peer = m;
      this.blocks = this.caps.includes(CAP_BLOCKS) && m.caps.includes(CAP_BLOCKS);
      this.text = this.caps.includes(CAP_TEXT) && m.caps.includes(CAP_TEXT);
      this.msgSize = Math.max(MIN_MAX_MSG, Math.min(this.prefMsg, m.maxMsg, this.sendLimit));
      const lanes = Math.min(this.ownLanes, helloLanes(m));
      this.resend = lanes > 0 && this.caps.includes(CAP_LANE_RESEND) && m.caps.includes(CAP_LANE_RESEND);
      if (lanes > 0) this.merge = new LaneMerge(lanes, this.win, undefined, this.resend);
      this.emit({ type: 'ready', peer: m, msgSize: this.msgSize });
      return;
    }
    switch (m.t) {
      case 'hello':
        throw new ProtocolError('PROTOCOL', 'second hello');
      case 'offer':
        return this.onOffer(m.xfer, m.files);
      case 'accept':
        return this.onAccept(m.xfer, m.files);
      case 'decline':
        return this.onDecline(m.xfer);
      case 'start':
        return this.onStart(m.xfer, m.file, m.offset);
      case 'end':
        return this.onEnd(m.xfer, m.file, m.sha256);
      case 'ack':
        return this.onAck(m.xfer, m.file, m.bytes);
      case 'verified':
        return this.onVerified(m.xfer, m.file);
      case 'cancel':
        return this.onCancel(m.xfer);
      case 'error':
        return this.onError(m.code, m.message, m.xfer, m.file);
      case 'text':
        return this.onTextMsg(m.id, m.text);
      case 'text-ack':
        return this.onTextAck(m.id);
    }
  }

  /* ================= text snippets (§5.9) ================= */

  /** The peer's hello.name (§5.1), cleaned by the codec (peerText): render it as text only. */
  get peerName(): string | undefined {
    return this.peer?.name;
  }

  /** Both hellos list "text": sendText may be used. */
  get textSupported(): boolean {
    return this.ready && this.text;
  }

  /** Sends a snippet (1 … 65536 UTF-8 bytes) under `id` (32 lowercase hex).
   *  Throws if not ready, if the peer takes no text (nothing is sent: a peer
   *  that did not list "text" never gets one), if 16 are waiting for their
   *  ack, or if the message exceeds the peer's maxMsg. A 'text-acked' event
   *  with this id follows once the peer has it. */
  sendText(id: string, text: string): void {
    if (!/^[0-9a-f]{32}$/.test(id) || this.textPending.has(id)) throw new RangeError('bad text id');
    if (!textFits(text, MAX_TEXT_BYTES)) throw new RangeError('text: 1 to 65536 bytes of Unicode text');
    if (!this.ready) throw new Error('session not ready');
    if (!this.text) throw new Error('the peer takes no text');
    if (this.textPending.size >= MAX_TEXT_PENDING) throw new Error('too many texts waiting for their ack');
    const data = encodeControl({ t: 'text', id, text });
    if (utf8Length(data) > this.peer!.maxMsg) throw new RangeError('text does not fit in one message');
    this.outputs.push({ kind: 'text', data });
    this.textPending.add(id);
  }

  private onTextMsg(id: string, text: string): void {
    // a peer that never got "text" from us has no business sending one
    if (!this.text) throw new ProtocolError('PROTOCOL', 'text without the text capability');
    this.emit({ type: 'text', id, text });
    this.send({ t: 'text-ack', id });
  }

  private onTextAck(id: string): void {
    if (!this.textPending.delete(id)) throw new ProtocolError('PROTOCOL', 'text-ack for no text sent');
    this.emit({ type: 'text-acked', id });
  }

  private peerFatal(code: ErrorCode, message: string): void {
    this.emit({ type: 'fatal', code, message, byPeer: true });
    this.dead = true;
  }

  /* ================= sender ================= */

  /** Offers files to the peer. Throws if not ready, busy, or the offer does not fit in one message. */
  offer(xfer: string, files: FileEntry[]): void {
    if (!this.ready) throw new Error('session not ready');
    if (this.out && (this.out.state === 'offered' || this.out.state === 'active')) throw new Error('an outgoing transfer is active');
    const msg = encodeControl({ t: 'offer', xfer, files });
    if (utf8Length(msg) > this.peer!.maxMsg) throw new RangeError('manifest does not fit in one message');
    this.out = {
      xfer,
      state: 'offered',
      cur: -1,
      pending: null,
      inflight: 0,
      tag: this.offersOut,
      files: files.map((entry) => ({ entry, status: 'skipped', resumeAt: 0, prefixPos: 0, start: 0, sent: 0, acked: 0, carry: null, digest: createDigest(this.blocks) })),
    };
    this.outputs.push({ kind: 'text', data: msg });
    this.offersOut = (this.offersOut + 1) % 65536;
  }

  private outFor(xfer: string): Outgoing | null {
    return this.out && this.out.xfer === xfer && (this.out.state === 'offered' || this.out.state === 'active') ? this.out : null;
  }

  private onAccept(xfer: string, entries: AcceptEntry[]): void {
    const o = this.outFor(xfer);
    if (!o) {
      if (this.stale.has(xfer)) return;
      throw new ProtocolError('PROTOCOL', 'accept for no offered transfer');
    }
    if (o.state !== 'offered') throw new ProtocolError('PROTOCOL', 'second accept');
    for (const a of entries) {
      if (a.id >= o.files.length) throw new ProtocolError('PROTOCOL', 'accept of unknown file');
      const f = at(o.files, a.id);
      f.status = 'queued';
      f.resumeAt = a.offset;
      f.resumeSha = a.sha256;
    }
    o.state = 'active';
    this.emit({ type: 'accepted', xfer, files: entries.map((a) => a.id) });
    this.advance(o);
  }

  private onDecline(xfer: string): void {
    const o = this.outFor(xfer);
    if (!o) {
      if (this.stale.has(xfer)) return;
      throw new ProtocolError('PROTOCOL', 'decline for no offered transfer');
    }
    if (o.state !== 'offered') throw new ProtocolError('PROTOCOL', 'decline after accept');
    o.state = 'declined';
    this.emit({ type: 'declined', xfer });
  }

  /* Moves to the next queued file: prefix check for a resume, or start at 0. */
  private advance(o: Outgoing): void {
    for (;;) {
      const next = o.files.findIndex((f, i) => i > o.cur && f.status === 'queued');
      if (next < 0) {
        o.cur = o.files.length;
        this.checkOutDone(o);
        return;
      }
      o.cur = next;
      const f = at(o.files, next);
      // A block digest proves a prefix only at a block boundary or the end (§5.8).
      const provable = !this.blocks || f.resumeAt % HASH_BLOCK === 0 || f.resumeAt === f.entry.size;
      if (f.resumeAt > 0 && f.resumeAt <= f.entry.size && f.resumeSha && provable) {
        f.status = 'prefix';
        f.prefixPos = 0;
        f.digest = createDigest(this.blocks);
        return;
      }
      this.startFile(o, f, 0);
      if ((f.status as OutStatus) === 'sending') return; // else it was empty and has ended
    }
  }

  private startFile(o: Outgoing, f: OutFile, offset: number): void {
    if (offset === 0) f.digest = createDigest(this.blocks);
    f.start = f.sent = f.acked = offset;
    f.carry = null;
    f.status = 'sending';
    this.send({ t: 'start', xfer: o.xfer, file: f.entry.id, offset });
    this.maybeEnd(o, f);
  }

  private maybeEnd(o: Outgoing, f: OutFile): void {
    if (f.status === 'sending' && f.sent === f.entry.size) {
      f.status = 'ending';
      this.hashJobs(f.digest.finish());
    }
    if (f.status === 'ending' && f.digest.settled) {
      f.status = 'ended';
      this.send({ t: 'end', xfer: o.xfer, file: f.entry.id, sha256: f.digest.peekHex() });
    }
  }

  private hashJobs(jobs: HashJob[]): void {
    for (const job of jobs) this.emit({ type: 'hash', job });
  }

  /** The SHA-256 of a block asked for by a 'hash' event. */
  hashed(job: HashJob, sha256: Uint8Array): void {
    job.owner.done(job, sha256);
    if (this.dead) return;
    const o = this.out;
    if (o && o.state === 'active' && o.cur < o.files.length) {
      const f = at(o.files, o.cur);
      if (f.digest === job.owner) {
        if (f.status === 'prefix') this.checkPrefix(o, f);
        else if (f.status === 'ending') {
          this.maybeEnd(o, f);
          if ((f.status as OutStatus) === 'ended') this.advance(o);
        }
      }
    }
    // The file may be behind the current one: the sender may start the next file right after end.
    const inc = this.inc;
    const file = this.inDigests.get(job.owner);
    if (inc && this.incState === 'active' && file !== undefined && at(inc.files, file)?.digest === job.owner) this.checkEnd(inc, file);
  }

  /** Next read the caller should perform, or null (nothing to do, window full, or a read outstanding). */
  nextRead(): ReadRequest | null {
    const o = this.out;
    if (this.dead || !o || o.state !== 'active' || o.pending || o.cur >= o.files.length) return null;
    const f = at(o.files, o.cur);
    let length: number;
    let offset: number;
    if (f.status === 'prefix') {
      offset = f.prefixPos;
      length = Math.min(this.readBlock, f.resumeAt - f.prefixPos);
      if (length <= 0) return null; // read, digest pending
    } else if (f.status === 'sending') {
      // Reads end on readBlock boundaries of the file; chunking does not
      // depend on them (a chunk may span two reads, see readDone).
      const carried = f.carry?.length ?? 0;
      offset = f.sent + carried;
      const payload = this.msgSize - DATA_HEADER_LEN;
      const remaining = f.entry.size - offset;
      const toBoundary = this.readBlock - (offset % this.readBlock);
      const avail = Math.min(this.peer!.win, MAX_PEER_WIN) - o.inflight - carried;
      length = Math.min(toBoundary, remaining, avail);
      if (length <= 0) return null;
      // a window too full for one more chunk: wait for acks, if any are due
      if (length < payload && length < remaining && length < toBoundary && o.inflight > 0) return null;
    } else return null;
    o.pending = { xfer: o.xfer, file: f.entry.id, offset, length };
    return o.pending;
  }

  /** Result of the outstanding read. */
  readDone(req: ReadRequest, bytes: Uint8Array): void {
    const o = this.out;
    if (!o || o.pending !== req) return; // transfer cancelled meanwhile
    // still pending here: readFailed ends only the read it was given
    if (bytes.length !== req.length) return this.readFailed(req, 'short read (file changed?)');
    o.pending = null;
    if (this.dead || o.state !== 'active') return;
    const f = at(o.files, req.file);
    if (f.status !== 'prefix' && f.status !== 'sending') return; // failed by the peer meanwhile
    this.hashJobs(f.digest.update(bytes));
    if (f.status === 'prefix') {
      f.prefixPos += bytes.length;
      if (f.prefixPos === f.resumeAt) {
        if (f.resumeAt === f.entry.size) this.hashJobs(f.digest.finish());
        this.checkPrefix(o, f);
      }
      return;
    }
    // Every chunk is full but a file's last: the tail of a read waits in
    // carry for the next one (one message in 64 for 4 MiB reads, and never
    // a short message per read).
    const payload = this.msgSize - DATA_HEADER_LEN;
    const sentBefore = f.sent;
    const atEnd = req.offset + bytes.length === f.entry.size;
    let p = 0;
    if (f.carry) {
      const carry = f.carry;
      const need = payload - carry.length;
      if (bytes.length < need && !atEnd) {
        f.carry = joinBytes([carry, bytes]);
        p = bytes.length;
      } else {
        const head = bytes.subarray(0, need);
        this.outputs.push(new DataOutput(f.entry.id, f.sent, head, carry, this.resend ? o.tag : 0));
        f.sent += carry.length + head.length;
        f.carry = null;
        p = head.length;
      }
    }
    for (; p + payload <= bytes.length || (atEnd && p < bytes.length); p += payload) {
      const chunk = bytes.subarray(p, Math.min(p + payload, bytes.length));
      this.outputs.push(new DataOutput(f.entry.id, f.sent, chunk, undefined, this.resend ? o.tag : 0));
      f.sent += chunk.length;
    }
    if (p < bytes.length) f.carry = bytes.subarray(p);
    o.inflight += f.sent - sentBefore;
    this.maybeEnd(o, f);
    if ((f.status as OutStatus) === 'ended') this.advance(o);
  }

  /* The prefix is read: once its digest is complete, continue or restart (§5.5). */
  private checkPrefix(o: Outgoing, f: OutFile): void {
    if (f.prefixPos !== f.resumeAt || !f.digest.settled) return;
    if (f.digest.peekHex() === f.resumeSha) this.startFile(o, f, f.resumeAt);
    else this.startFile(o, f, 0);
    if ((f.status as OutStatus) === 'ended') this.advance(o);
  }

  readFailed(req: ReadRequest, message: string): void {
    const o = this.out;
    if (!o || o.pending !== req) return;
    o.pending = null;
    if (this.dead || o.state !== 'active') return;
    const f = at(o.files, req.file);
    this.send({ t: 'error', code: 'READ_ERROR', message, xfer: o.xfer, file: f.entry.id });
    this.outFileFailed(o, f, 'READ_ERROR', message);
    this.advance(o);
  }

  private outFileFailed(o: Outgoing, f: OutFile, code: ErrorCode, message: string): void {
    o.inflight -= f.sent - f.acked; // release its window share
    f.acked = f.sent;
    f.status = 'failed';
    this.emit({ type: 'file-done', dir: 'out', xfer: o.xfer, file: f.entry.id, ok: false, code, message });
  }

  private outFile(xfer: string, file: number, what: string): [Outgoing, OutFile] | null {
    const o = this.outFor(xfer);
    if (!o) {
      if (this.stale.has(xfer)) return null;
      throw new ProtocolError('PROTOCOL', `${what} for unknown transfer`);
    }
    const f = at(o.files, file);
    // acks the receiver sent before it saw this file fail (§5.7)
    if (what === 'ack' && o.state === 'active' && f?.status === 'failed') return null;
    if (o.state !== 'active' || !f || (f.status !== 'sending' && f.status !== 'ending' && f.status !== 'ended')) throw new ProtocolError('PROTOCOL', `${what} for a file not being sent`);
    return [o, f];
  }

  private onAck(xfer: string, file: number, bytes: number): void {
    const r = this.outFile(xfer, file, 'ack');
    if (!r) return;
    const [o, f] = r;
    if (bytes < f.acked || bytes > f.sent) throw new ProtocolError('PROTOCOL', 'ack out of range');
    o.inflight -= bytes - f.acked;
    f.acked = bytes;
    this.emit({ type: 'progress', dir: 'out', xfer, file, bytes });
  }

  private onVerified(xfer: string, file: number): void {
    const r = this.outFile(xfer, file, 'verified');
    if (!r) return;
    const [o, f] = r;
    if (f.status !== 'ended') throw new ProtocolError('PROTOCOL', 'verified before end');
    o.inflight -= f.sent - f.acked;
    f.acked = f.sent;
    f.status = 'verified';
    this.emit({ type: 'progress', dir: 'out', xfer, file, bytes: f.entry.size });
    this.emit({ type: 'file-done', dir: 'out', xfer, file, ok: true });
    this.checkOutDone(o);
  }

  private checkOutDone(o: Outgoing): void {
    if (o.state !== 'active' || o.cur < o.files.length) return;
    if (o.files.every((f) => f.status === 'skipped' || f.status === 'verified' || f.status === 'failed')) {
      o.state = 'done';
      this.stale.add(o.xfer);
      this.emit({ type: 'transfer-done', dir: 'out', xfer: o.xfer });
    }
  }

  /* ================= receiver ================= */

  private onOffer(xfer: string, files: FileEntry[]): void {
    // §5.11: every offer handled counts, the declined and refused ones too (the sender counted them)
    const tag = this.offersIn;
    this.offersIn = (this.offersIn + 1) % 65536;
    if (this.incState !== 'none') {
      this.send({ t: 'decline', xfer }); // one incoming transfer at a time
      return;
    }
    // Hidden names (a receiver's policy, §7): those files are left out of accept,
    // so an offer of nothing else has nothing to accept.
    const hidden = this.allowHidden ? [] : files.filter((f) => entryHidden(f)).map((f) => f.id);
    const problem = manifestProblem(files) ?? (hidden.length > 0 && hidden.length === files.length ? ALL_HIDDEN : null);
    if (problem) {
      const message = `unsafe path: ${problem}`;
      this.send({ t: 'error', code: 'UNSAFE_PATH', message, xfer });
      this.stale.add(xfer);
      this.emit({ type: 'transfer-error', dir: 'in', xfer, code: 'UNSAFE_PATH', message, byPeer: false });
      return;
    }
    this.stale.delete(xfer);
    this.incState = 'offered';
    this.pendingXfer = xfer;
    this.pendingOffer = files;
    this.pendingTag = tag;
    this.emit({ type: 'offer', xfer, files, hidden });
  }

  /** Accepts the pending offer into `inc` (new, or kept from an interrupted session with the same
   *  manifest: then its held prefixes are offered for resume). `ids` defaults to every file not
   *  already verified. Without allowHidden, files with a hidden name are left out whatever `ids` says.
   *  False if nothing was left to ask for: then the offer is declined. */
  accept(inc: IncomingTransfer, ids?: number[]): boolean {
    if (this.incState !== 'offered' || inc.xfer !== this.pendingXfer || !inc.sameManifest(this.pendingOffer!)) throw new Error('no matching offer');
    // A held file whose digest is not of this session's kind cannot be proven: left out, as it is there.
    for (const f of inc.files) if (f.heldWhole && f.status === 'idle' && f.digest!.blocks !== this.blocks) f.status = 'verified';
    const want = (ids ?? inc.manifest.map((f) => f.id)).filter(
      // never a hidden name unless allowed, whatever the caller asked
      (i) => i >= 0 && i < inc.files.length && at(inc.files, i).status !== 'verified' && (this.allowHidden || !entryHidden(at(inc.manifest, i))),
    );
    want.sort((a, b) => a - b);
    if (want.length === 0) {
      this.decline();
      return false;
    }
    const entries: AcceptEntry[] = want.map((id) => {
      const f = at(inc.files, id);
      f.status = 'accepted';
      // Resume only from bytes that are both hashed and stored, with a digest of this session's kind.
      const d = f.digest;
      if (d && d.blocks === this.blocks && d.covered > 0 && d.covered <= f.written) {
        // From here on the digest holds exactly this prefix: a block job of
        // the old channel that completes later must not move it.
        d.rewind();
        f.resumeAt = d.covered;
        return { id, offset: d.covered, sha256: d.peekHex() };
      }
      f.resumeAt = 0;
      return { id, offset: 0 };
    });
    this.inc = inc;
    this.incState = 'active';
    this.incTag = this.pendingTag;
    this.inAccepted = [];
    for (const id of want) this.inAccepted[id] = true;
    this.inCur = -1;
    this.dropData = false;
    this.dropFile = -1;
    this.pendingOffer = null;
    this.send({ t: 'accept', xfer: inc.xfer, files: entries });
    return true;
  }

  decline(): void {
    if (this.incState !== 'offered') throw new Error('no offer to decline');
    this.send({ t: 'decline', xfer: this.pendingXfer });
    this.stale.add(this.pendingXfer);
    this.incState = 'none';
    this.pendingOffer = null;
  }

  private incFor(xfer: string, what: string): IncomingTransfer | null {
    if (this.incState === 'active' && this.inc && this.inc.xfer === xfer) return this.inc;
    if (this.stale.has(xfer)) return null;
    throw new ProtocolError('PROTOCOL', `${what} for unknown transfer`);
  }

  private onStart(xfer: string, file: number, offset: number): void {
    const inc = this.incFor(xfer, 'start');
    if (!inc) return;
    const f = at(inc.files, file);
    if (!f || f.status !== 'accepted' || file <= this.inCur) throw new ProtocolError('PROTOCOL', 'start of a file not accepted or out of order');
    if (this.inCur >= 0 && at(inc.files, this.inCur).status === 'receiving') throw new ProtocolError('PROTOCOL', 'start before previous end');
    if (offset !== 0 && offset !== f.resumeAt) throw new ProtocolError('PROTOCOL', 'start offset is neither 0 nor the resume offset');
    if (offset === 0) {
      f.digest = createDigest(this.blocks);
      this.inDigests.set(f.digest, file);
      f.received = f.written = 0;
      f.heldWhole = false; // what arrives now is a new copy, not the held one
    } else {
      // Resuming at our digest's end: bytes held beyond it are rewritten.
      f.digest!.rewind();
      this.inDigests.set(f.digest!, file);
      f.received = f.written = offset;
    }
    f.lastAck = offset;
    f.status = 'receiving';
    this.inCur = file;
    this.dropData = false;
    this.emit({ type: 'open', xfer, file, offset });
  }

  private onData(msg: Uint8Array): void {
    this.handleData(this.decodeTagged(msg));
  }

  /* §4: the reserved field carries a tag only under lane-resend (§5.11). */
  private decodeTagged(msg: Uint8Array): DataMsg {
    const d = decodeData(msg);
    if (d.tag !== 0 && !this.resend) throw new ProtocolError('PROTOCOL', 'data with a tag, lane-resend not agreed');
    return d;
  }

  /* Checks, stores and hashes the next DATA message (from the session's
   * channel, or released by the lanes' merge). */
  private handleData(d: DataMsg): void {
    const inc = this.inc;
    const f = inc && this.incState === 'active' && d.file === this.inCur ? at(inc.files, d.file) : undefined;
    if (!inc || !f || f.status !== 'receiving') {
      if (this.dropData || d.file === this.dropFile) return; // in flight before our cancel/error
      throw new ProtocolError('PROTOCOL', 'data for no file being received');
    }
    if (d.offset !== f.received) throw new ProtocolError('PROTOCOL', 'data offset is not the next byte');
    if (d.offset + d.bytes.length > at(inc.manifest, d.file).size) throw new ProtocolError('PROTOCOL', 'data beyond file size');
    f.received += d.bytes.length;
    this.emit({ type: 'write', xfer: inc.xfer, file: d.file, offset: d.offset, bytes: d.bytes });
    this.hashJobs(f.digest!.update(d.bytes));
    if (f.received === at(inc.manifest, d.file).size) {
      this.hashJobs(f.digest!.finish());
      this.merge?.purge(d.file); // §5.11: what is still held of it is all handled
    }
  }

  private onEnd(xfer: string, file: number, sha: string): void {
    const inc = this.incFor(xfer, 'end');
    if (!inc) return;
    if (file === this.dropFile) return;
    const f = at(inc.files, file);
    if (!f || file !== this.inCur || f.status !== 'receiving') throw new ProtocolError('PROTOCOL', 'end of a file not being received');
    if (f.received !== at(inc.manifest, file).size) throw new ProtocolError('PROTOCOL', 'end before all bytes');
    f.status = 'checking';
    f.expect = sha;
    this.checkEnd(inc, file);
  }

  /* Compares the digest with end.sha256 once every block is hashed. */
  private checkEnd(inc: IncomingTransfer, file: number): void {
    const f = at(inc.files, file);
    if (f.status !== 'checking' || !f.digest!.settled) return;
    const xfer = inc.xfer;
    if (f.digest!.peekHex() !== f.expect) {
      const message = `SHA-256 mismatch for ${at(inc.manifest, file).name}`;
      this.send({ t: 'error', code: 'HASH_MISMATCH', message, xfer, file });
      f.status = 'failed';
      f.received = f.written = 0;
      f.digest = null;
      this.emit({ type: 'close', xfer, file, ok: false });
      this.emit({ type: 'file-done', dir: 'in', xfer, file, ok: false, code: 'HASH_MISMATCH', message });
      this.checkInDone(inc);
      return;
    }
    f.status = 'ended';
    this.maybeClose(inc, file);
  }

  /** The storage layer has written file `file` up to byte `upTo`. */
  written(xfer: string, file: number, upTo: number): void {
    const inc = this.inc;
    if (!inc || inc.xfer !== xfer) return;
    const f = at(inc.files, file);
    // After shutdown() the storage still finishes queued writes; record them
    // so that the next session can resume from them.
    if (this.dead && f.status === 'idle' && upTo <= f.received) {
      f.written = upTo;
      return;
    }
    if (this.incState !== 'active' || (f.status !== 'receiving' && f.status !== 'checking' && f.status !== 'ended')) return;
    f.written = upTo;
    this.emit({ type: 'progress', dir: 'in', xfer, file, bytes: upTo });
    const step = Math.min(MAX_ACK_STEP, Math.floor(this.win / 4));
    if (!this.dead && (upTo - f.lastAck >= step || upTo === at(inc.manifest, file).size)) {
      f.lastAck = upTo;
      this.send({ t: 'ack', xfer, file, bytes: upTo });
    }
    this.maybeClose(inc, file);
  }

  private maybeClose(inc: IncomingTransfer, file: number): void {
    const f = at(inc.files, file);
    if (f.status === 'ended' && f.written === at(inc.manifest, file).size) {
      f.status = 'closing';
      this.emit({ type: 'close', xfer: inc.xfer, file, ok: true });
    }
  }

  /** The storage layer finished a `close` event; `ok` false means committing failed. */
  closed(xfer: string, file: number, ok: boolean, message = 'could not store the file'): void {
    const inc = this.inc;
    if (!inc || inc.xfer !== xfer || this.incState !== 'active') return;
    const f = at(inc.files, file);
    if (f.status !== 'closing') return;
    if (ok) {
      f.status = 'verified';
      if (!this.dead) {
        if (f.lastAck < at(inc.manifest, file).size) this.send({ t: 'ack', xfer, file, bytes: at(inc.manifest, file).size });
        f.lastAck = at(inc.manifest, file).size;
        this.send({ t: 'verified', xfer, file });
      }
      this.emit({ type: 'file-done', dir: 'in', xfer, file, ok: true });
    } else {
      f.status = 'failed';
      if (!this.dead) this.send({ t: 'error', code: 'WRITE_ERROR', message, xfer, file });
      this.emit({ type: 'file-done', dir: 'in', xfer, file, ok: false, code: 'WRITE_ERROR', message });
    }
    this.checkInDone(inc);
  }

  /** A write failed: the file is abandoned, the rest of the transfer continues. */
  writeFailed(xfer: string, file: number, message: string): void {
    const inc = this.inc;
    if (!inc || inc.xfer !== xfer || this.incState !== 'active') return;
    const f = at(inc.files, file);
    if (f.status !== 'receiving' && f.status !== 'checking' && f.status !== 'ended') return;
    f.status = 'failed';
    this.dropFile = file;
    this.merge?.purge(file); // §5.11: held DATA of a failed file never pins the bounds
    if (!this.dead) this.send({ t: 'error', code: 'WRITE_ERROR', message, xfer, file });
    this.emit({ type: 'close', xfer, file, ok: false });
    this.emit({ type: 'file-done', dir: 'in', xfer, file, ok: false, code: 'WRITE_ERROR', message });
    this.checkInDone(inc);
    this.progressSafe(); // held DATA of the file is dropped, a held end goes
  }

  private checkInDone(inc: IncomingTransfer): void {
    const all = inc.files.every((f) => f.status === 'idle' || f.status === 'verified' || f.status === 'failed');
    if (all) {
      this.incState = 'none';
      this.inc = null;
      this.merge?.purge(); // §5.11: copies of it still held are stale
      this.stale.add(inc.xfer);
      this.emit({ type: 'transfer-done', dir: 'in', xfer: inc.xfer });
    }
  }

  /* ================= both ================= */

  /** Cancels our outgoing or incoming transfer `xfer`. */
  cancel(xfer: string): void {
    if (this.dead) return;
    if (this.stopTransfer(xfer, false)) this.send({ t: 'cancel', xfer });
    else if (this.incState === 'offered' && this.pendingXfer === xfer) this.decline();
    this.progressSafe(); // held DATA of it is dropped, held control messages go on
  }

  private onCancel(xfer: string): void {
    if (!this.stopTransfer(xfer, true)) {
      if (this.incState === 'offered' && this.pendingXfer === xfer) {
        this.incState = 'none';
        this.pendingOffer = null;
        this.stale.add(xfer);
        this.emit({ type: 'cancelled', dir: 'in', xfer, byPeer: true });
        return;
      }
      if (!this.stale.has(xfer)) throw new ProtocolError('PROTOCOL', 'cancel for unknown transfer');
    }
  }

  /* Stops an active transfer; returns false if `xfer` is not one. */
  private stopTransfer(xfer: string, byPeer: boolean): boolean {
    const o = this.outFor(xfer);
    if (o) {
      o.state = 'cancelled';
      o.pending = null;
      this.stale.add(xfer);
      this.emit({ type: 'cancelled', dir: 'out', xfer, byPeer });
      return true;
    }
    if (this.incState === 'active' && this.inc && this.inc.xfer === xfer) {
      const inc = this.inc;
      const st = this.inCur >= 0 ? at(inc.files, this.inCur).status : 'idle';
      if (st === 'receiving' || st === 'checking' || st === 'ended') {
        this.emit({ type: 'close', xfer, file: this.inCur, ok: false });
      }
      for (const f of inc.files) if (f.status !== 'verified') f.status = 'failed';
      this.inc = null;
      this.incState = 'none';
      this.merge?.purge(); // §5.11: held DATA of a cancelled transfer never pins the bounds
      // With lanes, DATA the peer sent before its cancel may still come on another channel.
      this.dropData = !byPeer || this.merge !== null;
      this.stale.add(xfer);
      this.emit({ type: 'cancelled', dir: 'in', xfer, byPeer });
      return true;
    }
    return false;
  }

  private onError(code: ErrorCode, message: string, xfer?: string, file?: number): void {
    if (xfer === undefined) return this.peerFatal(code, message);
    const o = this.outFor(xfer);
    if (o) {
      if (file !== undefined) {
        const f = at(o.files, file);
        if (f?.status === 'failed') return; // both sides failed it at once (§5.7)
        if (!f || (f.status !== 'prefix' && f.status !== 'sending' && f.status !== 'ending' && f.status !== 'ended')) throw new ProtocolError('PROTOCOL', 'error for a file not being sent');
        const wasCurrent = o.cur === file;
        if (wasCurrent) o.pending = null;
        this.outFileFailed(o, f, code, message);
        if (wasCurrent) this.advance(o);
        else this.checkOutDone(o);
        return;
      }
      o.state = 'failed';
      o.pending = null;
      this.stale.add(xfer);
      this.emit({ type: 'transfer-error', dir: 'out', xfer, code, message, byPeer: true });
      return;
    }
    if (this.inc && this.incState === 'active' && this.inc.xfer === xfer) {
      const inc = this.inc;
      if (file !== undefined) {
        const f = at(inc.files, file);
        if (f?.status === 'failed') return; // both sides failed it at once (§5.7)
        if (!f || (f.status !== 'receiving' && f.status !== 'checking' && f.status !== 'accepted')) throw new ProtocolError('PROTOCOL', 'error for a file not being received');
        // A held file asked for with a whole-file proof (heldWhole, still 'accepted': no start
        // came) is failed like any other: the sender did not confirm it, so it is not verified
        // in this transfer (§5.5, as the CLI does). Nothing was opened for it, so no close:
        // the copy held stays untouched, and a later session may prove it again.
        if (f.status === 'receiving' || f.status === 'checking') this.emit({ type: 'close', xfer, file, ok: false });
        f.status = 'failed';
        this.merge?.purge(file);
        this.emit({ type: 'file-done', dir: 'in', xfer, file, ok: false, code, message });
        this.checkInDone(inc);
        return;
      }
      const st = this.inCur >= 0 ? at(inc.files, this.inCur).status : 'idle';
      if (st === 'receiving' || st === 'checking') this.emit({ type: 'close', xfer, file: this.inCur, ok: false });
      for (const f of inc.files) if (f.status !== 'verified') f.status = 'failed';
      this.inc = null;
      this.incState = 'none';
      this.merge?.purge();
      if (this.merge) this.dropData = true; // DATA sent before the error may still come on a lane
      this.stale.add(xfer);
      this.emit({ type: 'transfer-error', dir: 'in', xfer, code, message, byPeer: true });
      return;
    }
    if (this.out && this.out.xfer === xfer && this.out.state !== 'cancelled') {
      // e.g. UNSAFE_PATH in answer to our offer
      this.out.state = 'failed';
      this.emit({ type: 'transfer-error', dir: 'out', xfer, code, message, byPeer: true });
      return;
    }
    if (!this.stale.has(xfer)) throw new ProtocolError('PROTOCOL', 'error for unknown transfer');
  }
}
