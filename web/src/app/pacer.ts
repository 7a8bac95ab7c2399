/* Which channel takes the next DATA message when a session has lanes
 * (docs/protocol.md §5.10), and whether any may take one now.
 *
 * Why not simply "the least buffered, each up to BUFFER_HIGH": every lane
 * is its own SCTP association with its own rate (under random loss they
 * differ by several times, and change), while the receiver's merge hands
 * data on in the sender's order. With 4 MiB queued in each channel's send
 * buffer, a message on a lane that runs at 0.3 MB/s waits ~13 s behind
 * it; the merge holds everything after it that came on the faster lanes,
 * the receiver's window fills and the whole session moves at the pace of
 * the slowest queue (measured: 16 MiB were all queued in the first second,
 * one lane ran dry at 12 s while the others still held 1–2 MB).
 *
 * So each channel's queue is kept to about TARGET_MS of what that channel
 * is measured to drain (its bufferedAmount going down while it had data
 * queued), between FLOOR and CEILING bytes; and a message goes where it
 * will be sent soonest: the least queued time, not the least bytes.
 *
 * It also tells when a channel has stalled (docs/protocol.md §5.11): data
 * waiting, none of it drained for STALL_MS while another channel drained
 * some or had nothing waiting (the receiver's window may be full of what
 * waits for the stalled one, so the others go idle); its sender then sends
 * that channel's data again elsewhere.
 * Pure: the caller gives bufferedAmount and the time. */

export interface PacerOptions {
  /** Time of data to keep queued per channel (ms). */
  targetMs?: number;
  /** Queue limit of a channel whose rate is not known yet, and the least one. */
  floor?: number;
  /** The most a channel queues, however fast it drains. */
  ceiling?: number;
}

/* Rates are measured over at least this much time between samples. */
const SAMPLE_MS = 50;
/* Weight of a new rate sample (an EWMA over a few hundred ms). */
const GAIN = 0.3;
/* §5.11: a channel with data waiting that drained none of it this long,
 * while another drained some, has stalled. An SCTP association in timeout
 * back-off sends about one packet per round trip for tens of seconds
 * (bench/RESULTS.md); 1 s is several round trips of any path worth a lane,
 * and short against the seconds a resume costs. */
export const STALL_MS = 1000;

interface ChannelState {
  /** Bytes handed to send() on this channel, ever. */
  queued: number;
  /** Bytes/ms, or null until measured. */
  rate: number | null;
  last: { t: number; drained: number; buffered: number } | null;
  /** The most drained seen, when it last grew, and when the channel last
   *  drained or had nothing waiting (null: never sampled). */
  seen: number;
  drainAt: number;
  progressAt: number | null;
  /** bufferedAmount at the last sample, plus what was sent since. */
  waiting: number;
}

export class LanePacer<C> {
  private readonly targetMs: number;
  private readonly floor: number;
  private readonly ceiling: number;
  private readonly chans = new Map<C, ChannelState>();

  constructor(opts: PacerOptions = {}) {
    this.targetMs = opts.targetMs ?? 250;
    this.floor = opts.floor ?? 256 * 1024;
    this.ceiling = opts.ceiling ?? 4 * 1024 * 1024;
    if (!(this.floor > 0 && this.floor <= this.ceiling && this.targetMs > 0)) throw new RangeError('pacer options');
  }

  private state(c: C): ChannelState {
    let s = this.chans.get(c);
    if (!s) this.chans.set(c, (s = { queued: 0, rate: null, last: null, seen: 0, drainAt: -Infinity, progressAt: null, waiting: 0 }));
    return s;
  }

  /** `bytes` were handed to channel c's send(). */
  sent(c: C, bytes: number): void {
    const s = this.state(c);
    s.queued += bytes;
    s.waiting += bytes;
  }

  /** Forget a channel (closed). */
  drop(c: C): void {
    this.chans.delete(c);
  }

  /** Channel c's bufferedAmount at time `now` (ms): measures its rate. A
   *  channel that ran empty drained only what it was given, which says
   *  nothing of what it could have: such intervals raise the rate, never
   *  lower it. */
  sample(c: C, buffered: number, now: number): void {
    const s = this.state(c);
    const drained = s.queued - buffered;
    s.waiting = buffered;
    if (drained > s.seen) {
      s.seen = drained;
      s.drainAt = s.progressAt = now;
    } else if (buffered === 0 || s.progressAt === null) s.progressAt = now;
    const l = s.last;
    if (l && now - l.t < SAMPLE_MS) return;
    if (l && now > l.t) {
      const r = Math.max(0, drained - l.drained) / (now - l.t);
      const busy = l.buffered > 0 && buffered > 0;
      if (busy) s.rate = s.rate === null ? r : s.rate + GAIN * (r - s.rate);
      else if (s.rate === null || r > s.rate) s.rate = r > 0 ? r : s.rate;
    }
    s.last = { t: now, drained, buffered };
  }

  /** Channel c, holding `buffered` bytes at `now` (sampled then), has
   *  stalled: none of them drained for STALL_MS, while another channel
   *  drained some since c last did, or has nothing waiting. */
  stalled(c: C, buffered: number, now: number): boolean {
    const s = this.chans.get(c);
    if (!s || s.progressAt === null || buffered === 0 || now - s.progressAt < STALL_MS) return false;
    for (const [o, t] of this.chans) if (o !== c && (t.drainAt > s.progressAt || t.waiting === 0)) return true;
    return false;
  }

  /** How many bytes channel c may hold queued. */
  limit(c: C): number {
    const rate = this.chans.get(c)?.rate ?? null;
    if (rate === null) return this.floor;
    return Math.min(this.ceiling, Math.max(this.floor, rate * this.targetMs));
  }

  /** The channel that would send a message of `length` bytes soonest, among
   *  those with room under their limit; null when none has room. */
  pick(channels: readonly { c: C; buffered: number }[], length: number): C | null {
    let best: C | null = null;
    let bestWait = Infinity;
    for (const { c, buffered } of channels) {
      const lim = this.limit(c);
      if (buffered >= lim) continue;
      // unmeasured: as if it drained its floor in the target time; measured
      // at 0 (stalled): the slowest there is, taken only when nothing else has room
      const rate = this.chans.get(c)?.rate ?? this.floor / this.targetMs;
      const wait = rate > 0 ? (buffered + length) / rate : Number.MAX_VALUE;
      if (best === null || wait < bestWait) {
        bestWait = wait;
        best = c;
      }
    }
    return best;
  }
}
