/* The header badge and the page title: what is true now, in a few words
 * (issue 17): waiting for someone to join, connected to N, sending 43 %,
 * received ✓. Pure: derived from the snapshot alone. */

import type { RoomSnapshot, TransferView } from './types';
import { translate, type Locale } from '../i18n';
import { pct, type MessageKey, type Params } from '../i18n/catalog';

export interface StatusLine {
  /** The badge's words. */
  text: string;
  /** document.title. */
  title: string;
}

const APP = 'Peerdrop';
const ACTIVE: ReadonlySet<TransferView['state']> = new Set(['WAITING', 'TRANSFERRING', 'INTERRUPTED']);

function percent(ts: TransferView[]): number {
  const total = ts.reduce((s, t) => s + t.total, 0);
  const bytes = ts.reduce((s, t) => s + Math.min(t.bytes, t.total), 0);
  // floor: "100 %" only once every byte is there
  return total > 0 ? Math.floor((bytes * 100) / total) : 0;
}

/** In `locale` (English by default: the tests' words). */
export function statusLine(snap: RoomSnapshot, locale: Locale = 'en'): StatusLine {
  const line = (key: MessageKey, params?: Params): StatusLine => {
    const text = translate(locale, key, params);
    return { text, title: `${text} · ${APP}` };
  };
  if (snap.phase === 'IDLE') return snap.error ? line('status.error') : { text: translate(locale, 'status.ready'), title: APP };
  if (snap.phase === 'CONNECTING') return line(snap.creator ? 'status.creating' : 'status.joining');
  const ts = snap.transfers;
  const moving = ts.filter((t) => ACTIVE.has(t.state));
  const sending = moving.filter((t) => t.dir === 'out');
  const receiving = moving.filter((t) => t.dir === 'in');
  if (receiving.length > 0) return line('status.receiving', { percent: pct(percent(receiving) / 100) });
  if (sending.some((t) => t.state === 'TRANSFERRING' || t.bytes > 0)) return line('status.sending', { percent: pct(percent(sending) / 100) });
  if (sending.length > 0) return line('status.waitAccept', { count: sending.length });
  if (ts.some((t) => t.dir === 'in' && t.state === 'OFFERED')) return line('status.offered');
  if (snap.error || ts.some((t) => t.state === 'ERROR')) return line('status.error');
  const connected = snap.peers.filter((p) => p.state === 'CONNECTED').length;
  const done = ts.filter((t) => t.state === 'COMPLETED');
  if (done.some((t) => t.dir === 'in')) return line('status.received');
  if (done.length > 0) return line('status.sent');
  if (connected > 0) return line('status.connectedTo', { count: connected });
  if (snap.peers.some((p) => p.state === 'CONNECTING')) return line('status.connecting');
  return line(snap.code ? 'status.waitSender' : 'status.waitJoin');
}
