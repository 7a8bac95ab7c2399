/* Drives one protocol Session over one RTCDataChannel: first the
 * authentication gate (docs/authentication.md §7), then the transfer
 * session: sends what they output, feeds them what arrives, performs the
 * reads and writes the session asks for, and applies the bufferedAmount
 * watermarks (docs/protocol.md §6). Nothing reaches the transfer session
 * before authentication is done. Once the hellos agreed on lanes (§5.10),
 * the channels of the session's lanes join it (addLane): each DATA message
 * goes on the open channel that will send it soonest, each channel queueing
 * only about a quarter second of what it drains (pacer.ts), and what
 * arrives on a lane is fed to the session with its lane number. Under
 * `lane-resend` (§5.11) each DATA message sent on a lane is kept until the
 * peer acknowledges it; a lane that stalls or closes has its kept messages
 * sent again on the other channels, and a lost lane no longer ends the
 * session. */

import { joinBytes } from '../protocol/codec';
import { sha256Bytes, type HashJob } from '../protocol/digest';
import { Fifo } from '../protocol/merge';
import { DataOutput, IncomingTransfer, Session, type Output, type ReadRequest, type SessionEvent } from '../protocol/session';
import { AUTH_DEADLINE_MS, type FileEntry, type Hello } from '../protocol/types';
import { AuthGate } from '../crypto/gate';
import type { PakeConfig } from '../crypto/session';
import type { Sink } from './sinks';
import { LanePacer, STALL_MS } from './pacer';

/* Chromium closes a channel whose send queue passes 16 MiB; stay well under
 * it, and refill once it has drained to 1 MiB. */
export const BUFFER_HIGH = 4 * 1024 * 1024;
export const BUFFER_LOW = 1024 * 1024;
const WRITE_BATCH = 4 * 1024 * 1024;
const BATCH_IDLE_MS = 100;
/* With lanes: how often a sender whose channels are all at their limit
 * looks again (bufferedamountlow fires only below a fixed threshold). */
const PACE_POLL_MS = 10;
/* §5.11: how often a sender with unacknowledged DATA on its lanes looks
 * for a stalled one while it sends nothing (its window is full: exactly
 * when a stalled lane holds the receiver's merge). A tenth of STALL_MS. */
const STALL_POLL_MS = STALL_MS / 10;

export interface ChannelHost {
  /** A session event for the UI (progress, offers, results...). */
  onEvent(d: ChannelDriver, e: SessionEvent): void;
  /** The peer's hello arrived: `peer` says who it is (name, device: cleaned, optional). */
  onReady(d: ChannelDriver, peer: Hello): void;
  /** Authentication done: `sas` is the six-digit verification code. */
  onAuth(d: ChannelDriver, sas: string): void;
  /** Authentication failed (or the peer did not authenticate): the channel
   *  is being closed; nothing from it reached the transfer session. */
  onAuthFailed(d: ChannelDriver, reason: string): void;
  onClosed(d: ChannelDriver): void;
  /** A lane opened (docs/protocol.md §5.10). */
  onLane?(d: ChannelDriver): void;
  /** Source files of an outgoing transfer. */
  source(xfer: string): File[] | null;
  /** The sink of an accepted incoming transfer. */
  sink(xfer: string): Sink | null;
}

export class ChannelDriver {
  readonly session: Session;
  /** Null until the channel opens; then the gate every message passes until it is done. */
  private gate: AuthGate | null = null;
  private gateTimer: ReturnType<typeof setTimeout> | undefined;
  private pumping = false;
  private lowWaiter: (() => void) | null = null;
  /** Open lanes' channels by lane number (1 … L; [0] unused). */
  private lanes: (RTCDataChannel | undefined)[] = [];
  /** Open channels that carry DATA: the session's, then its open lanes. */
  private senders: RTCDataChannel[];
  /** DATA messages sent or received on each channel (0: the session's, k: lane k); read by tests. */
  readonly laneData: number[] = [0];
  /** The session's output not sent yet: with lanes, DATA waits here for
   *  room on a channel (and what came after it keeps its place). */
  private outq: Output[] = [];
  private readonly pacer = new LanePacer<RTCDataChannel>({ ceiling: BUFFER_HIGH });
  private paceTimer: ReturnType<typeof setTimeout> | null = null;
  /* §5.11 (session.laneResend): DATA sent on each lane and not yet
   * acknowledged, in the order sent (`copy`: sent there again for another
   * channel); messages to send again, first of all; stalled lanes, which
   * get no new DATA until they have nothing waiting. */
  private kept = new Map<RTCDataChannel, Fifo<{ o: DataOutput; copy: boolean }>>();
  private resendq: DataOutput[] = [];
  private stalled = new Set<RTCDataChannel>();
  private stallTimer: ReturnType<typeof setTimeout> | null = null;
  /** DATA messages and bytes sent again (§5.11), and the stalls and losses that caused it; read by tests. */
  readonly resent = { messages: 0, bytes: 0, events: 0 };

  constructor(
    readonly peerId: string,
    readonly dc: RTCDataChannel,
    /** RTCSctpTransport.maxMessageSize, read when the channel opens (0 = unknown). */
    transportLimit: () => number,
    private host: ChannelHost,
    /** We created the channel: we start the authentication and say hello
     *  first; the acceptor only answers (docs/protocol.md §5.1). */
    opener: boolean,
    /** This side's authentication config, read when the channel opens (the
     *  SDP of both sides is applied by then); it may throw (no usable
     *  fingerprint, no PRS): the gate fails. */
    authConfig: () => PakeConfig,
    /** Who we are for the peer (our hello's name and device, §5.1), and the lanes we offer (§5.10). */
    who: { name?: string; device?: string; lanes?: number } = {},
  ) {
    this.senders = [dc];
    // The preferred data message size is the protocol default (64 KiB);
    // bench/transfer sets this global to measure larger ones (up to 256 KiB).
    const msgSize = Number((globalThis as { __peerdropMsgSize?: number }).__peerdropMsgSize) || undefined;
    this.session = new Session({ msgSize, name: who.name, device: who.device, lanes: who.lanes });
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = BUFFER_LOW;
    // The opener says hello when its channel opens; the acceptor answers
    // the opener's first message, never from ondatachannel: Chromium loses
    // a message sent there now and then (docs/protocol.md §5.1). Chromium
    // may also report readyState "open" and still fire "open" afterwards:
    // hello goes out exactly once.
    let helloSent = false;
    const hello = () => {
      if (helloSent) return;
      helloSent = true;
      // Our SDP advertises 262144 (Chromium, Firefox); the transport knows the
      // limit both ways once the channel is open (the offerer's channel is
      // created before the answer, when pc.sctp does not exist yet), and the
      // protocol floor is 16 KiB.
      const limit = transportLimit();
      this.session.open({ maxMsg: Math.max(16384, Math.min(262144, limit || 65536)), sendLimit: limit || 65536 });
    };
    // The gate starts when the channel opens (the offerer sends pake-start
    // then), exactly once for the same reason as hello.
    const startGate = () => {
      if (this.gate) return;
      this.gate = new AuthGate(authConfig, Date.now());
      // the timer is the clock here: when it fires, the deadline has passed
      // (Date.now() may lag a timer by a millisecond, or jump)
      this.gateTimer = setTimeout(() => {
        this.gate?.expire(this.gate.deadline);
        this.flushGate();
      }, AUTH_DEADLINE_MS);
      this.flushGate();
    };
    this.onAuthDone = () => {
      if (!opener) return;
      hello();
      this.flush();
    };
    dc.onopen = () => startGate();
    dc.onmessage = (e) => {
      startGate();
      if (this.gate!.state !== 'done') {
        if (typeof e.data === 'string') this.gate!.onText(e.data);
        else this.gate!.onBinary();
        this.flushGate();
        return;
      }
      hello(); // before the message is handled: nothing may precede it
      if (typeof e.data === 'string') this.session.onText(e.data);
      else {
        this.laneData[0] = (this.laneData[0] ?? 0) + 1;
        this.session.onBinary(new Uint8Array(e.data as ArrayBuffer));
      }
      this.flush();
    };
    dc.onbufferedamountlow = () => this.sendQueued();
    dc.onclose = () => {
      clearTimeout(this.gateTimer);
      if (this.paceTimer) clearTimeout(this.paceTimer);
      this.paceTimer = null;
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.stallTimer = null;
      this.kept.clear();
      this.resendq = [];
      if (this.gate?.state === 'running') {
        this.authEnded = true;
        // 'lost' (our tag was not out): a drop like any other, onClosed below
        if (this.gate.close() === 'failed') host.onAuthFailed(this, this.gate.reason);
      }
      this.session.shutdown();
      if (!this.storing && this.batch) void this.runStorage(true); // keep what arrived, for a resume
      this.lowWaiter?.();
      host.onClosed(this);
    };
    // not from inside the constructor: the host learns of a failure only once it holds this driver
    if (dc.readyState === 'open') queueMicrotask(startGate);
  }

  private wakeSender(): void {
    const w = this.lowWaiter;
    this.lowWaiter = null;
    w?.();
  }

  /* Sends the queued output in order. Without lanes all of it (the
   * watermarks hold before the next read, in pump); with lanes up to the
   * first DATA no channel has room for, then looks again soon. Wakes the
   * reader once the queue is empty. */
  private sendQueued(): void {
    // §5.11: copies first (the receiver's merge waits for them), those still unacknowledged
    let blocked = false;
    let done = 0;
    for (const o of this.resendq) {
      if (this.dc.readyState !== 'open') break;
      if (this.session.unacked(o)) {
        const ch = this.senders.length > 1 ? this.sender(o.length) : this.dc;
        if (!ch) {
          blocked = true;
          break;
        }
        if (!this.sendData(ch, o, true)) break;
        this.resent.messages++;
        this.resent.bytes += o.length;
      }
      done++;
    }
    this.resendq.splice(0, done);
    let sent = 0;
    for (const o of this.outq) {
      if (this.dc.readyState !== 'open') break;
      if (o.kind === 'text') {
        try {
          this.dc.send(o.data);
        } catch {
          this.dc.close();
          break;
        }
      } else {
        const ch = blocked ? null : this.senders.length > 1 ? this.sender(o.length) : this.dc;
        if (!ch) {
          blocked = true;
          break;
        }
        if (!this.sendData(ch, o, false)) break;
      }
      sent++;
    }
    this.outq.splice(0, sent);
    if (blocked && this.dc.readyState === 'open') {
      this.paceTimer ??= setTimeout(() => {
        this.paceTimer = null;
        this.sendQueued();
      }, PACE_POLL_MS);
    }
    if ((this.outq.length === 0 && this.resendq.length === 0) || this.dc.readyState !== 'open') this.wakeSender();
  }

  /* One DATA message on channel ch; kept there until acknowledged when it
   * is a lane under lane-resend (§5.11). False if the send failed (the
   * session's channel is closed then). */
  private sendData(ch: RTCDataChannel, o: DataOutput, copy: boolean): boolean {
    try {
      ch.send(o.encode(this.scratch('send', o.length)) as Uint8Array<ArrayBuffer>);
    } catch {
      this.dc.close();
      return false;
    }
    this.pacer.sent(ch, o.length);
    const k = ch === this.dc ? 0 : this.lanes.indexOf(ch);
    this.laneData[k] = (this.laneData[k] ?? 0) + 1;
    if (k > 0 && this.session.laneResend) {
      let q = this.kept.get(ch);
      if (!q) this.kept.set(ch, (q = new Fifo()));
      q.push({ o, copy });
      this.armStallTimer();
    }
    return true;
  }

  /* §5.11: forgets what the peer acknowledged; each kept list is in the
   * order sent, so its head goes first (a copy queued behind newer
   * messages waits for them: kept a little longer, never sent needlessly,
   * as unacked() is asked again before a re-send). */
  private prune(): void {
    for (const q of this.kept.values()) {
      for (let e = q.peek(); e !== undefined && !this.session.unacked(e.o); e = q.peek()) q.shift();
    }
  }

  /* §5.11: lane ch stalled or closed: every message it still keeps goes
   * again on the other channels, in order; of a stalled one only first
   * copies (a copy re-sent again would be a third live one). */
  private resendFrom(ch: RTCDataChannel, k: number, why: 'stalled' | 'closed'): void {
    const q = this.kept.get(ch);
    if (why === 'closed') this.kept.delete(ch);
    if (!q) return;
    let n = 0;
    let bytes = 0;
    for (const e of q.takeAll()) {
      if (!this.session.unacked(e.o)) continue;
      if (why === 'stalled' && e.copy) {
        q.push(e);
        continue;
      }
      this.resendq.push(e.o);
      n++;
      bytes += e.o.length;
    }
    if (n === 0) return;
    this.resent.events++;
    // no payload, no file name: which lane, why, how much
    console.warn(`peerdrop: lane ${k} ${why}: sending its ${n} unacknowledged data messages (${bytes} bytes) again on the other channels`);
  }

  /* §5.11: a lane with data waiting that drained none of it for STALL_MS
   * while another drained some gets its kept messages sent elsewhere, and
   * no new DATA until it has nothing waiting. The caller sampled every
   * channel at `now`. */
  private checkStalls(now: number): void {
    if (!this.session.laneResend) return;
    for (let k = 1; k < this.lanes.length; k++) {
      const ch = this.lanes[k];
      if (!ch) continue;
      if (this.stalled.has(ch)) {
        if (ch.bufferedAmount === 0) this.stalled.delete(ch);
        continue;
      }
      if (!this.pacer.stalled(ch, ch.bufferedAmount, now)) continue;
      this.stalled.add(ch);
      this.resendFrom(ch, k, 'stalled');
    }
  }

  /* While lanes keep unacknowledged DATA (or one is stalled), look for
   * stalls even when nothing is being sent. */
  private armStallTimer(): void {
    if (this.stallTimer || this.dc.readyState !== 'open') return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.dc.readyState !== 'open') return;
      this.prune();
      const now = performance.now();
      for (const c of this.senders) if (c.readyState === 'open') this.pacer.sample(c, c.bufferedAmount, now);
      this.checkStalls(now);
      if (this.stalled.size > 0 || [...this.kept.values()].some((q) => q.size > 0)) this.armStallTimer();
      if (this.resendq.length > 0 || this.outq.length > 0) this.sendQueued();
    }, STALL_POLL_MS);
  }

  /** Lane k's channel (docs/protocol.md §5.10): joins the session once it
   *  opens; what arrives on it goes to the session as lane k (a control
   *  message there is PROTOCOL). `onLost` is told when it closes after it
   *  opened, once loseLane(k) has run: unless that said the session goes
   *  on (§5.11), the session ends like a dropped channel (the caller closes it). */
  addLane(k: number, ch: RTCDataChannel, onLost: () => void): void {
    ch.binaryType = 'arraybuffer';
    ch.bufferedAmountLowThreshold = BUFFER_LOW;
    let open = false;
    const opened = () => {
      if (open || this.dc.readyState !== 'open' || this.session.isClosed) return;
      open = true;
      this.lanes[k] = ch;
      this.laneData[k] = 0;
      this.session.laneOpened(k);
      this.senders = [this.dc, ...this.lanes.filter((c): c is RTCDataChannel => c !== undefined)];
      this.host.onLane?.(this);
      this.flush();
    };
    ch.onopen = opened;
    ch.onmessage = (e) => {
      if (!open) return;
      if (typeof e.data === 'string') this.session.onText(e.data, k);
      else {
        this.laneData[k] = (this.laneData[k] ?? 0) + 1;
        this.session.onBinary(new Uint8Array(e.data as ArrayBuffer), k);
      }
      this.flush();
    };
    ch.onbufferedamountlow = () => this.sendQueued();
    ch.onclose = () => {
      if (!open) return;
      open = false;
      this.loseLane(k);
      onLost();
    };
    if (ch.readyState === 'open') opened();
  }

  /** Lane k closed or failed (its channel, or its connection): it carries
   *  nothing more. True: the session goes on (§5.11: what the lane kept
   *  unacknowledged is sent again on the other channels); false: it ends
   *  like a dropped channel (§5.10), and the caller closes it. Idempotent. */
  loseLane(k: number): boolean {
    const ch = this.lanes[k];
    if (ch) {
      this.lanes[k] = undefined;
      this.senders = this.senders.filter((c) => c !== ch);
      this.pacer.drop(ch);
      this.stalled.delete(ch);
    }
    if (k < 1 || k > this.session.lanes) return false;
    const goesOn = this.session.laneClosed(k);
    if (ch) {
      if (goesOn) this.resendFrom(ch, k, 'closed');
      else this.kept.delete(ch);
      this.sendQueued();
    }
    return goesOn;
  }

  /** Lanes open now. */
  get openLanes(): number {
    return this.senders.length - 1;
  }

  /* With lanes, the channel that takes a DATA message of `length` bytes
   * (§5.10: each goes whole on one), or null while all are at their limit. */
  private sender(length: number): RTCDataChannel | null {
    const now = performance.now();
    const open = this.senders.filter((c) => c.readyState === 'open');
    for (const c of open) this.pacer.sample(c, c.bufferedAmount, now);
    this.checkStalls(now);
    const usable = this.stalled.size > 0 ? open.filter((c) => !this.stalled.has(c)) : open;
    return this.pacer.pick(usable.map((c) => ({ c, buffered: c.bufferedAmount })), length);
  }

  private onAuthDone: () => void;
  /** onAuth or onAuthFailed was called. */
  private authEnded = false;

  /** Authenticated: the transfer session may run (offers are shown and sent only then). */
  get authenticated(): boolean {
    return this.gate?.state === 'done';
  }

  /** Sends what the gate outputs; on its end tells the host, once. */
  private flushGate(): void {
    const g = this.gate;
    if (!g) return;
    for (const text of g.takeOutput()) {
      if (this.dc.readyState !== 'open') break;
      try {
        this.dc.send(text);
      } catch {
        break;
      }
    }
    if (g.state === 'running' || this.authEnded) return;
    this.authEnded = true;
    clearTimeout(this.gateTimer);
    if (g.state === 'done') {
      this.host.onAuth(this, g.sas!);
      this.onAuthDone();
      return;
    }
    this.session.shutdown(); // nothing more goes to or comes from the transfer session
    if (g.state === 'lost') {
      // the deadline before our tag went out: a drop, not a failure (gate.ts);
      // onclose then reports it as one, and the peers connect again
      this.dc.close();
      return;
    }
    this.host.onAuthFailed(this, g.reason);
    // the error goes out before the channel closes (as after a fatal session error, flush())
    setTimeout(() => this.dc.close(), 100);
  }

  offer(xfer: string, files: FileEntry[]): void {
    this.session.offer(xfer, files);
    this.flush();
  }
  /** False if nothing was left to ask for (every file held already): the offer is declined. */
  accept(inc: IncomingTransfer, ids?: number[]): boolean {
    const asked = this.session.accept(inc, ids);
    this.flush();
    return asked;
  }
  decline(): void {
    this.session.decline();
    this.flush();
  }
  cancel(xfer: string): void {
    this.session.cancel(xfer);
    this.flush();
  }

  /** Sends queued output and dispatches events; then keeps the sender going. */
  flush(): void {
    // Not open (yet, or any more): output stays queued in the session.
    if (this.dc.readyState === 'open') for (const o of this.session.takeOutput()) this.outq.push(o);
    if (this.kept.size > 0) this.prune();
    this.sendQueued();
    for (const e of this.session.takeEvents()) this.dispatch(e);
    if (this.session.isClosed && this.dc.readyState === 'open') setTimeout(() => this.dc.close(), 100);
    void this.pump();
  }

  private dispatch(e: SessionEvent): void {
    switch (e.type) {
      case 'open':
      case 'write':
      case 'close':
        return this.storage(e);
      case 'ready':
        this.host.onReady(this, e.peer);
        return;
      case 'hash':
        return this.hash(e.job);
      default:
        this.host.onEvent(this, e);
    }
  }

  /* Storage runs strictly in order, one operation at a time. Data is
   * gathered into writes of WRITE_BATCH bytes: each File System Access write
   * is an IPC round trip plus a blob, and measured in headless Chromium
   * (256 MiB into OPFS) 64 KiB writes reach 72 MB/s for 3.6 s of browser-process
   * CPU, 1 MiB writes 175 MB/s for 1.4 s, 4 MiB writes 233 MB/s for 1.1 s.
   * Merging only what happened to be queued was not enough: data arrives
   * slower than a write completes, so most writes were single 64 KiB chunks.
   * A partial batch is written when anything else is queued (open, close),
   * after BATCH_IDLE_MS without data, when the channel closes (so that a
   * resume can use it) and before drained() resolves. */
  private ops: (Extract<SessionEvent, { type: 'open' | 'write' | 'close' }> & { sink: Sink | null })[] = [];
  private storing = false;
  private idleWaiters: (() => void)[] = [];
  private batch: { xfer: string; file: number; sink: Sink; offset: number; parts: Uint8Array[]; len: number } | null = null;
  private batchTimer: ReturnType<typeof setTimeout> | null = null;
  private lastOp = 0;

  private storage(e: Extract<SessionEvent, { type: 'open' | 'write' | 'close' }>): void {
    // The sink is looked up now: a cancel may forget the transfer before its
    // queued close (which deletes the partial file) runs.
    this.ops.push({ ...e, sink: this.host.sink(e.xfer) });
    if (e.type !== 'write') this.host.onEvent(this, e);
    if (!this.storing) void this.runStorage(false);
  }

  private async runStorage(force: boolean): Promise<void> {
    this.storing = true;
    this.lastOp = performance.now();
    const s = this.session;
    while (this.ops.length > 0) {
      const e = this.ops.shift()!;
      const sink = e.sink;
      if (!sink) continue;
      if (e.type === 'write') {
        const b = this.batch;
        if (b && (b.sink !== sink || b.xfer !== e.xfer || b.file !== e.file || b.offset + b.len !== e.offset)) await this.writeBatch();
        if (!this.batch) this.batch = { xfer: e.xfer, file: e.file, sink, offset: e.offset, parts: [], len: 0 };
        this.batch.parts.push(e.bytes);
        this.batch.len += e.bytes.length;
        if (this.batch.len >= WRITE_BATCH) await this.writeBatch();
        continue;
      }
      // A failed or cancelled file is deleted by its close: do not write its tail first.
      if (e.type === 'close' && !e.ok && this.batch?.xfer === e.xfer && this.batch.file === e.file) this.batch = null;
      await this.writeBatch();
      try {
        if (e.type === 'open') await sink.open(e.file, e.offset);
        else {
          await sink.close(e.file, e.ok);
          if (e.ok) s.closed(e.xfer, e.file, true);
        }
      } catch (err) {
        if (e.type === 'close' && e.ok) s.closed(e.xfer, e.file, false, String(err));
        else s.writeFailed(e.xfer, e.file, err instanceof Error ? err.message : String(err));
      }
      this.flush();
    }
    if (this.batch && (force || this.idleWaiters.length > 0 || this.dc.readyState !== 'open')) await this.writeBatch();
    this.storing = false;
    if (this.ops.length > 0) return this.runStorage(force);
    if (!this.batch) this.wakeIdle();
    else if (!this.batchTimer) this.armBatchTimer(BATCH_IDLE_MS);
  }

  /* One timer for the idle flush, re-armed rather than reset for every chunk. */
  private armBatchTimer(ms: number): void {
    this.batchTimer = setTimeout(() => {
      this.batchTimer = null;
      if (!this.batch || this.storing) return;
      const idle = performance.now() - this.lastOp;
      if (idle >= BATCH_IDLE_MS) void this.runStorage(true);
      else this.armBatchTimer(BATCH_IDLE_MS - idle);
    }, ms);
  }

  private async writeBatch(): Promise<void> {
    const b = this.batch;
    if (!b || b.len === 0) return;
    this.batch = null;
    // the sink is done with the bytes once its write resolves: one buffer serves every batch
    const bytes = joinBytes(b.parts, b.len, this.scratch('write', b.len));
    try {
      await b.sink.write(b.file, bytes);
      this.session.written(b.xfer, b.file, b.offset + b.len);
    } catch (err) {
      this.session.writeFailed(b.xfer, b.file, err instanceof Error ? err.message : String(err));
    }
    this.flush();
  }

  /* Block digests (docs/protocol.md §5.8) with WebCrypto: native SHA-256
   * (SHA-NI where the CPU has it), off the main thread, ~10x our
   * WebAssembly block function; that was the largest CPU cost of a
   * transfer against a raw data channel (bench/RESULTS.md). Results may
   * arrive in any order: the digest folds them in file order. Without
   * WebCrypto (an insecure context) the same digest is computed here. */
  private hashing = 0;
  private hash(job: HashJob): void {
    // digest() copies its input before it returns (WebCrypto): one buffer serves every block
    const bytes = joinBytes(job.parts, job.length, this.scratch('hash', job.length));
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) {
      this.session.hashed(job, sha256Bytes([bytes]));
      queueMicrotask(() => this.flush());
      return;
    }
    this.hashing++;
    subtle
      .digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
      .then(
        (d) => this.session.hashed(job, new Uint8Array(d)),
        () => this.session.hashed(job, sha256Bytes(job.parts)), // not `bytes`: reused by now
      )
      .finally(() => {
        this.hashing--;
        this.flush();
        this.wakeIdle();
      });
  }

  /* Reused buffers: a fresh 4 MiB buffer per block and per write batch
   * costs page faults and garbage collection on every 4 MiB, a fresh one per
   * data message an allocation per 64 KiB. Every data message is written
   * into "send" just before send(), which copies it (as the raw reference
   * page relies on too). */
  private scratches = { write: new Uint8Array(0), hash: new Uint8Array(0), send: new Uint8Array(0) };
  private scratch(use: 'write' | 'hash' | 'send', length: number): Uint8Array {
    const reserve = use === 'send' ? length : WRITE_BATCH + 262144;
    if (this.scratches[use].length < length) this.scratches[use] = new Uint8Array(Math.max(length, reserve));
    return this.scratches[use];
  }

  private isIdle(): boolean {
    return !this.storing && this.ops.length === 0 && !this.batch && this.hashing === 0;
  }
  private wakeIdle(): void {
    if (this.isIdle()) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Resolves when everything received is stored and hashed (before accepting a resume). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => {
      this.idleWaiters.push(r);
      if (!this.storing) void this.runStorage(true);
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.dc.readyState !== 'open') return;
        // one channel: its watermarks; lanes: the pacer's limits, applied as the queue is sent
        if (this.resendq.length > 0 || (this.senders.length > 1 ? this.outq.length > 0 : this.dc.bufferedAmount > BUFFER_HIGH)) {
          await new Promise<void>((r) => (this.lowWaiter = r));
          continue;
        }
        const req = this.session.nextRead();
        if (!req) return;
        await this.read(req);
        this.flush();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async read(req: ReadRequest): Promise<void> {
    const files = this.host.source(req.xfer);
    const f = files?.[req.file];
    if (!f) return this.session.readFailed(req, 'file no longer available');
    try {
      const buf = await f.slice(req.offset, req.offset + req.length).arrayBuffer();
      this.session.readDone(req, new Uint8Array(buf));
    } catch (err) {
      this.session.readFailed(req, err instanceof Error ? err.message : 'read failed');
    }
  }

  close(): void {
    this.dc.close();
  }
}
