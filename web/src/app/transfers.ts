/* Transfer views: one row per transfer with a peer (either direction), kept
 * up to date from the session's events: state, per-file progress, speed over
 * the last 3 s, time left, and the words for each error. Knows nothing of
 * connections or storage; the few storage facts an event needs come through
 * TransferStore (incoming.ts). */

import type { SessionEvent } from '../protocol/session';
import type { ErrorCode, FileEntry } from '../protocol/types';
import { entryHidden, entryPath } from '../protocol/paths';
import type { SavedFile } from './sinks';
import type { TransferView } from './types';
import { msg, type MessageKey, type Msg } from '../i18n/catalog';

export interface Transfer extends TransferView {
  samples: [number, number][];
}

export const FILE_ERRORS: Partial<Record<ErrorCode, MessageKey>> = {
  HASH_MISMATCH: 'file.error.HASH_MISMATCH',
  READ_ERROR: 'file.error.READ_ERROR',
  WRITE_ERROR: 'file.error.WRITE_ERROR',
  UNSAFE_PATH: 'file.error.UNSAFE_PATH',
  PROTOCOL: 'file.error.PROTOCOL',
};

/** What the transfer views need from the incoming side when an event ends or saves a file. */
export interface TransferStore {
  /** The files an incoming transfer has saved so far. */
  saved(xfer: string): SavedFile[];
  /** An incoming transfer is over (done, cancelled, failed): nothing to continue. */
  ended(xfer: string, dropSink: boolean): void;
  /** The peer cancelled what it had offered us. */
  offerCancelled(peerId: string): void;
}

/** A failed transfer's message: what its code means, then the peer's or
 *  session's own words (technical, in English, as on the wire) in brackets. */
export function transferError(code: ErrorCode, detail: string): Msg {
  const key = FILE_ERRORS[code];
  const what = key ? msg(key) : msg('xfer.failed');
  return detail ? msg('xfer.withDetail', { what, detail }) : what;
}

export function peerLabel(id: string): Msg {
  return msg('peer.label', { id: id.slice(0, 6) });
}

const OPEN: ReadonlySet<TransferView['state']> = new Set(['OFFERED', 'WAITING', 'TRANSFERRING', 'INTERRUPTED']);

export class TransferBook {
  private readonly map = new Map<string, Transfer>();

  /** `labelOf`: what to call a peer now (its name once its hello came). */
  constructor(private readonly labelOf: (peerId: string) => Msg = peerLabel) {}

  get(key: string): Transfer | undefined {
    return this.map.get(key);
  }
  set(t: Transfer): void {
    this.map.set(t.key, t);
  }
  values(): IterableIterator<Transfer> {
    return this.map.values();
  }
  clear(): void {
    this.map.clear();
  }

  /** Copies for the snapshot. */
  views(): TransferView[] {
    return [...this.map.values()].map((t) => ({ ...t, peerLabel: this.labelOf(t.peerId), files: t.files.map((f) => ({ ...f })), saved: [...t.saved] }));
  }

  /** `hidden`: incoming, the ids the session leaves out (its offer event's). */
  create(key: string, dir: 'in' | 'out', peerId: string, xfer: string, entries: FileEntry[], hidden: number[] = []): Transfer {
    const out = new Set(hidden);
    return {
      key, dir, peerId, peerLabel: this.labelOf(peerId), xfer,
      files: entries.map((entry) => ({ entry, bytes: 0, state: out.has(entry.id) ? 'skipped' : 'waiting', hidden: entryHidden(entry) })),
      total: entries.reduce((s, f) => s + (out.has(f.id) ? 0 : f.size), 0),
      leftOut: entries.filter((f) => out.has(f.id)).map(entryPath),
      bytes: 0, state: 'OFFERED', speed: 0, eta: Infinity, saved: [], samples: [],
    };
  }

  /** The connection to the peer dropped: what was moving waits for a reconnection. */
  interrupt(peerId: string): void {
    for (const t of this.map.values()) {
      if (t.peerId === peerId && (t.state === 'TRANSFERRING' || t.state === 'WAITING')) {
        t.state = 'INTERRUPTED';
        t.error = msg('xfer.interrupted');
      }
    }
  }

  /** The peer left the room: nothing open with it can finish. */
  peerLeft(peerId: string): void {
    for (const t of this.map.values()) {
      if (t.peerId === peerId && OPEN.has(t.state)) {
        t.state = 'ERROR';
        t.error = msg('xfer.peerLeft');
      }
    }
  }

  /** The session with the peer ended on a protocol error. */
  peerFatal(peerId: string, why: Msg): void {
    for (const t of this.map.values()) {
      if (t.peerId === peerId && (t.state === 'TRANSFERRING' || t.state === 'WAITING')) {
        t.state = 'ERROR';
        t.error = why;
      }
    }
  }

  /** Every transfer with the peer has ended, at least one (none still offered to us). */
  finishedWith(peerId: string, offerPending: boolean): boolean {
    const mine = [...this.map.values()].filter((t) => t.peerId === peerId);
    return mine.length > 0 && !mine.some((t) => OPEN.has(t.state)) && !offerPending;
  }

  /** Applies one session event (not offer, fatal, ready, hash) to its
   *  transfer. Returns 'none' when no transfer had it, 'progress' for a
   *  progress step (render later), else 'changed'. A file event for an id
   *  that has no row changes nothing ('quiet'): the session checks every id
   *  against the manifest the rows were made from, so none should come. */
  apply(peerId: string, e: SessionEvent, store: TransferStore, now: number): 'none' | 'progress' | 'changed' | 'quiet' {
    const key = e.type === 'accepted' || e.type === 'declined' ? `out:${peerId}:${e.xfer}` : 'dir' in e && e.dir === 'out' && 'xfer' in e ? `out:${peerId}:${e.xfer}` : 'xfer' in e ? `in:${e.xfer}` : '';
    const t = this.map.get(key);
    if (!t) return 'none';
    switch (e.type) {
      case 'accepted':
        t.state = 'TRANSFERRING';
        t.files.forEach((f, i) => {
          if (!e.files.includes(i)) f.state = f.state === 'done' ? 'done' : 'skipped';
        });
        break;
      case 'declined':
        t.state = 'DECLINED';
        t.error = msg('xfer.declined');
        break;
      case 'open': {
        const f = t.files[e.file];
        if (!f) return 'quiet'; // no such row: see above
        f.state = 'active';
        f.bytes = e.offset;
        break;
      }
      case 'write':
      case 'close':
        return 'quiet';
      case 'progress': {
        const f = t.files[e.file];
        if (!f) return 'quiet'; // no such row: see above
        if (f.state === 'waiting') f.state = 'active';
        f.bytes = e.bytes;
        t.bytes = t.files.reduce((s, x) => s + x.bytes, 0);
        const newest: [number, number] = [now, t.bytes];
        t.samples.push(newest);
        // speed over the last 3 s, from two samples at least
        while (t.samples.length > 2 && now - (t.samples[0]?.[0] ?? now) > 3000) t.samples.shift();
        const [t0, b0] = t.samples[0] ?? newest; // never empty: newest was just pushed
        t.speed = now - t0 > 200 ? ((t.bytes - b0) * 1000) / (now - t0) : t.speed;
        const left = t.files.filter((x) => x.state !== 'skipped' && x.state !== 'failed').reduce((s, x) => s + x.entry.size - x.bytes, 0);
        t.eta = t.speed > 0 ? left / t.speed : Infinity;
        return 'progress';
      }
      case 'file-done': {
        const f = t.files[e.file];
        if (!f) return 'quiet'; // no such row: see above
        f.state = e.ok ? 'done' : 'failed';
        if (e.ok) f.bytes = f.entry.size;
        else f.error = e.code && FILE_ERRORS[e.code] ? msg(FILE_ERRORS[e.code]!) : e.message ? msg('xfer.withDetail', { what: msg('file.error.other'), detail: e.message }) : msg('file.error.other');
        if (t.dir === 'in') t.saved = [...store.saved(t.xfer)];
        break;
      }
      case 'transfer-done': {
        const failed = t.files.filter((f) => f.state === 'failed').length;
        t.state = failed ? 'ERROR' : 'COMPLETED';
        t.error = failed ? msg('xfer.failedFiles', { count: failed }) : undefined;
        t.speed = 0;
        if (t.dir === 'in') {
          t.saved = [...store.saved(t.xfer)];
          store.ended(t.xfer, true);
        }
        break;
      }
      case 'cancelled':
        t.state = 'CANCELLED';
        t.error = msg(e.byPeer ? 'xfer.peerCancelled' : 'xfer.youCancelled');
        if (t.dir === 'in') store.ended(t.xfer, true);
        if (t.dir === 'in' && e.byPeer) store.offerCancelled(peerId);
        break;
      case 'transfer-error':
        if (t.dir === 'in') store.ended(t.xfer, false);
        t.state = 'ERROR';
        t.error = transferError(e.code, e.message);
        break;
      default:
        return 'quiet';
    }
    return 'changed';
  }
}
