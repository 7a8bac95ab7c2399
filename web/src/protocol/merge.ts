/* The receiver's merge of DATA that arrives over several channels (the
 * session's and its lanes, docs/protocol.md §5.10). Each channel is ordered,
 * the channels are not ordered with each other: a DATA message that is not
 * the next one is held in the FIFO queue of the channel it came on, and
 * handled once it is. Under `lane-resend` (§5.11) the next one may be any
 * held message (a copy is sent behind what its new channel had queued), so
 * held DATA is kept by (file, offset) instead, and a second copy of a held
 * message is dropped. Only queues and bounds live here; what "next" means
 * is the session's (it asks through a MergeView). Sans-I/O. */

import { MAX_HELD_DATA, ProtocolError, type DataMsg } from './types';

/** What a held DATA message is to the session right now. */
export type DataFate = 'next' | 'drop' | 'wait';

export interface MergeView {
  /** 'next': the one to handle now; 'drop': to ignore (§5.6, §5.7);
   *  'wait': not yet (a later byte, a later file). Throws PROTOCOL when it
   *  can never be next. */
  fate(d: DataMsg): DataFate;
  /** The current file still expects bytes (its start handled, not all its bytes). */
  expectsBytes(): boolean;
  /** Keyed merge (§5.11): the (file, offset) of the next DATA message, or null while none is expected. */
  nextKey(): { file: number; offset: number } | null;
}

/** A FIFO without Array.shift's copying: a head index, compacted now and then. */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  push(d: T): void {
    this.items.push(d);
  }
  /** Everything queued, oldest first; the queue is then empty. */
  takeAll(): T[] {
    const all = this.head === 0 ? this.items : this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
  shift(): T | undefined {
    const d = this.items[this.head];
    if (d === undefined) return undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return d;
  }
}

export class LaneMerge {
  /** Channel k's queue; k = 0 is the session's channel, 1 … L its lanes. */
  private readonly queues: Fifo<DataMsg>[];
  /** Channel k is open (the session's always; a lane once laneOpened). */
  private readonly open: boolean[];
  /* What is held: DATA in the queues, and (held by the session) the
   * control messages behind an early `end`, which count in the same bounds. */
  private bytes = 0;
  private count = 0;
  private dataCount = 0;
  /* Keyed merge (§5.11): held DATA by file, then offset; null: the FIFOs of §5.10. */
  private readonly byKey: Map<number, Map<number, DataMsg>> | null;

  constructor(
    /** L: the lanes agreed in the hellos. */
    readonly lanes: number,
    /** Our own win: held payload above it is PROTOCOL. */
    private readonly maxBytes: number,
    private readonly maxCount = MAX_HELD_DATA,
    /** Both hellos list `lane-resend` (§5.11): held DATA is found by (file, offset). */
    keyed = false,
  ) {
    this.queues = Array.from({ length: lanes + 1 }, () => new Fifo<DataMsg>());
    this.open = Array.from({ length: lanes + 1 }, (_, k) => k === 0);
    this.byKey = keyed ? new Map() : null;
  }

  /** Held DATA is found by (file, offset) (§5.11), not at the heads of the channels' queues. */
  get keyed(): boolean {
    return this.byKey !== null;
  }

  /** Lane k's channel closed (§5.11: what it brought stays held). */
  laneClosed(k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > this.lanes) throw new RangeError(`no lane ${k} in this session`);
    this.open[k] = false;
  }

  /** Lane k's channel opened (1 … L). */
  laneOpened(k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > this.lanes) throw new RangeError(`no lane ${k} in this session`);
    this.open[k] = true;
  }

  /** DATA messages held, on any channel. */
  get held(): number {
    return this.dataCount;
  }
  /** Held bytes: DATA payload and control messages' whole length. */
  get heldBytes(): number {
    return this.bytes;
  }

  /* Both bounds at once, for a message of `length` bytes more. */
  private reserve(length: number): void {
    if (this.count + 1 > this.maxCount) throw new ProtocolError('PROTOCOL', `more than ${this.maxCount} messages held out of order`);
    if (this.bytes + length > this.maxBytes) throw new ProtocolError('PROTOCOL', 'messages held out of order exceed the window');
    this.count++;
    this.bytes += length;
  }

  /** A control message of `length` bytes is held behind an `end` (by the session): it counts in the bounds. */
  holdControl(length: number): void {
    this.reserve(length);
  }
  /** The session handled the held control message of `length` bytes. */
  releaseControl(length: number): void {
    this.count--;
    this.bytes -= length;
  }

  /** The channel a message came on may carry DATA; throws PROTOCOL if not. */
  checkLane(lane: number): void {
    if (!Number.isInteger(lane) || lane < 0 || lane > this.lanes || !this.open[lane]) throw new ProtocolError('PROTOCOL', `data on lane ${lane}, not open in this session`);
  }

  /** Nothing is held on channel `lane`: a message that is next can be handled at once
   *  (always, keyed: nothing waits in front of it on its channel). */
  empty(lane: number): boolean {
    return this.byKey !== null || (this.queues[lane]?.size ?? 0) === 0;
  }

  /** Holds `d`, which came on `lane`, behind what that channel holds already;
   *  keyed, by its (file, offset): a second copy of a held message is
   *  dropped, and PROTOCOL if its length differs (a copy is exact, §5.11). */
  hold(lane: number, d: DataMsg): void {
    const q = this.queues[lane];
    if (!q) throw new ProtocolError('PROTOCOL', `data on lane ${lane}, not in this session`);
    if (this.byKey) {
      let file = this.byKey.get(d.file);
      const held = file?.get(d.offset);
      if (held) {
        if (held.bytes.length !== d.bytes.length) throw new ProtocolError('PROTOCOL', 'a copy of held data differs in length');
        return;
      }
      this.reserve(d.bytes.length);
      if (!file) this.byKey.set(d.file, (file = new Map()));
      file.set(d.offset, d);
      this.dataCount++;
      return;
    }
    this.reserve(d.bytes.length);
    q.push(d);
    this.dataCount++;
  }

  private release(d: DataMsg): void {
    this.dataCount--;
    this.count--;
    this.bytes -= d.bytes.length;
  }

  /** Keyed: forgets the DATA held of `file` (it failed, or all its bytes are
   *  handled), or, without a file, all held DATA (the transfer ended), so
   *  that it never pins the bounds. Held control messages stay. */
  purge(file?: number): void {
    if (!this.byKey) return;
    for (const [f, held] of this.byKey) {
      if (file !== undefined && f !== file) continue;
      for (const d of held.values()) this.release(d);
      this.byKey.delete(f);
    }
  }

  /** Drops what is to be ignored at the heads of the queues and returns the
   *  next DATA message (taken out of its queue), or null when no head is next.
   *  Keyed: the held message at the view's next (file, offset), if any. */
  take(view: MergeView): DataMsg | null {
    if (this.dataCount === 0) return null;
    if (this.byKey) {
      const key = view.nextKey();
      const file = key && this.byKey.get(key.file);
      const d = file?.get(key!.offset);
      if (!d) return null;
      file!.delete(key!.offset);
      if (file!.size === 0) this.byKey.delete(key!.file);
      this.release(d);
      return d;
    }
    for (const q of this.queues) {
      for (let d = q.peek(); d !== undefined; d = q.peek()) {
        const fate = view.fate(d);
        if (fate === 'wait') break;
        q.shift();
        this.release(d);
        if (fate === 'next') return d;
      }
    }
    return null;
  }

  /** §5.10: every open channel holds DATA at its head, none of them the next
   *  one (take returned null), while the current file expects bytes: the
   *  next one can no longer come. Not keyed (§5.11): the next one may be a
   *  copy still on its way. */
  checkStuck(view: MergeView): void {
    if (this.byKey || this.dataCount === 0 || !view.expectsBytes()) return;
    for (let k = 0; k < this.queues.length; k++) if (this.open[k] && this.empty(k)) return;
    throw new ProtocolError('PROTOCOL', 'every channel holds data that is not the next');
  }

  /** Forgets everything held (the session ended). */
  clear(): void {
    for (let k = 0; k < this.queues.length; k++) this.queues[k] = new Fifo<DataMsg>();
    this.byKey?.clear();
    this.count = this.dataCount = this.bytes = 0;
  }
}
