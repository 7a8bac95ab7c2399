/* The header badge and the page title: what is true now, in a few words
 * (issue 17): waiting for someone to join, connected to N, sending 43 %,
 * received ✓. Pure: derived from the snapshot alone. */

import type { RoomSnapshot, TransferView } from './types';

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

function line(text: string): StatusLine {
  return { text, title: `${text} · ${APP}` };
}

export function statusLine(snap: RoomSnapshot): StatusLine {
  if (snap.phase === 'IDLE') return snap.error ? line('Error') : { text: 'Ready', title: APP };
  if (snap.phase === 'CONNECTING') return line(snap.creator ? 'Creating the room…' : 'Joining…');
  const ts = snap.transfers;
  const moving = ts.filter((t) => ACTIVE.has(t.state));
  const sending = moving.filter((t) => t.dir === 'out');
  const receiving = moving.filter((t) => t.dir === 'in');
  if (receiving.length > 0) return line(`Receiving ${percent(receiving)} %`);
  if (sending.some((t) => t.state === 'TRANSFERRING' || t.bytes > 0)) return line(`Sending ${percent(sending)} %`);
  if (sending.length > 0) return line(sending.length > 1 ? 'Waiting for the receivers to accept' : 'Waiting for the receiver to accept');
  if (ts.some((t) => t.dir === 'in' && t.state === 'OFFERED')) return line('Files offered to you');
  if (snap.error || ts.some((t) => t.state === 'ERROR')) return line('Error');
  const connected = snap.peers.filter((p) => p.state === 'CONNECTED').length;
  const done = ts.filter((t) => t.state === 'COMPLETED');
  if (done.some((t) => t.dir === 'in')) return line('Received ✓');
  if (done.length > 0) return line('Sent ✓');
  if (connected > 0) return line(connected === 1 ? 'Connected to 1 person' : `Connected to ${connected} people`);
  if (snap.peers.some((p) => p.state === 'CONNECTING')) return line('Connecting…');
  return line(snap.code ? 'Waiting for the sender' : 'Waiting for someone to join');
}
