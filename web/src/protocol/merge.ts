/* The receiver's merge of DATA that arrives over several channels (the
 * session's and its lanes, docs/protocol.md §5.10). Each channel is ordered,
 * the channels are not ordered with each other: a DATA message that is not
 * the next one is held in the FIFO queue of the channel it came on, and
 * handled once it is. Only queues and bounds live here; what "next" means
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
}

/* A FIFO without Array.shift's copying: a head index, compacted now and then. */
class Fifo {
  private items: DataMsg[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  peek(): DataMsg | undefined {
    return this.items[this.head];
  }
  push(d: DataMsg): void {
    this.items.push(d);
  }
  shift(): DataMsg | undefined {
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
  private readonly queues: Fifo[];
  /** Channel k is open (the session's always; a lane once laneOpened). */
  private readonly open: boolean[];
  /* What is held: DATA in the queues, and (held by the session) the
   * control messages behind an early `end`, which count in the same bounds. */
  private bytes = 0;
  private count = 0;
  private dataCount = 0;

  constructor(
    /** L: the lanes agreed in the hellos. */
    readonly lanes: number,
    /** Our own win: held payload above it is PROTOCOL. */
    private readonly maxBytes: number,
    private readonly maxCount = MAX_HELD_DATA,
  ) {
    this.queues = Array.from({ length: lanes + 1 }, () => new Fifo());
    this.open = Array.from({ length: lanes + 1 }, (_, k) => k === 0);
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

  /** Nothing is held on channel `lane`: a message that is next can be handled at once. */
  empty(lane: number): boolean {
    return (this.queues[lane]?.size ?? 0) === 0;
  }

  /** Holds `d`, which came on `lane`, behind what that channel holds already. */
  hold(lane: number, d: DataMsg): void {
    const q = this.queues[lane];
    if (!q) throw new ProtocolError('PROTOCOL', `data on lane ${lane}, not in this session`);
    this.reserve(d.bytes.length);
    q.push(d);
    this.dataCount++;
  }

  /** Drops what is to be ignored at the heads of the queues and returns the
   *  next DATA message (taken out of its queue), or null when no head is next. */
  take(view: MergeView): DataMsg | null {
    if (this.dataCount === 0) return null;
    for (const q of this.queues) {
      for (let d = q.peek(); d !== undefined; d = q.peek()) {
        const fate = view.fate(d);
        if (fate === 'wait') break;
        q.shift();
        this.dataCount--;
        this.count--;
        this.bytes -= d.bytes.length;
        if (fate === 'next') return d;
      }
    }
    return null;
  }

  /** §5.10: every open channel holds DATA at its head, none of them the next
   *  one (take returned null), while the current file expects bytes: the
   *  next one can no longer come. */
  checkStuck(view: MergeView): void {
    if (this.dataCount === 0 || !view.expectsBytes()) return;
    for (let k = 0; k < this.queues.length; k++) if (this.open[k] && this.empty(k)) return;
    throw new ProtocolError('PROTOCOL', 'every channel holds data that is not the next');
  }

  /** Forgets everything held (the session ended). */
  clear(): void {
    for (let k = 0; k < this.queues.length; k++) this.queues[k] = new Fifo();
    this.count = this.dataCount = this.bytes = 0;
  }
}
