/* Outgoing files: the one group of files this page sends, offered to every
 * member whose channel is ready, and again to each that connects later
 * (a member that joins after the files were dropped gets them at once). */

import type { FileEntry } from '../protocol/types';
import { nameProblem, dirProblem } from '../protocol/paths';
import type { ChannelDriver } from './channel';
import type { TransferBook } from './transfers';
import type { PickedFile } from './types';
import { msg, type Msg } from '../i18n/catalog';

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Makes a local name acceptable to the protocol's path rules. */
export function safeComponent(s: string): string {
  // controls, separators and (rule 8) bidi, zero-width and line-separator characters
  // oxlint-disable-next-line no-control-regex
  let t = s.replace(/[\u0000-\u001f\u007f-\u009f/\\:\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '_').replace(/[. ]+$/, '');
  if (t === '' || t === '.' || t === '..') t = '_';
  if (nameProblem(t)) t = `_${t}`;
  while (new TextEncoder().encode(t).length > 255) t = t.slice(0, -1);
  return t;
}

export class OutgoingFiles {
  private current: { xfer: string; entries: FileEntry[]; files: File[] } | null = null;

  constructor(
    private readonly transfers: TransferBook,
    /** Why an offer could not be made, for the page's error line. */
    private readonly fail: (why: Msg) => void,
  ) {}

  get pending(): boolean {
    return this.current !== null;
  }
  /** The entries waiting to be offered (or offered), for the page. */
  get entries(): FileEntry[] {
    return this.current?.entries ?? [];
  }
  clear(): void {
    this.current = null;
  }
  /** The source files of an outgoing transfer (the channel reads them). */
  source(xfer: string): File[] | null {
    return this.current?.xfer === xfer ? this.current.files : null;
  }

  /** Takes a new group of files: safe, unique names, one transfer id. */
  prepare(picked: PickedFile[]): void {
    const seen = new Set<string>();
    const entries: FileEntry[] = [];
    const files: File[] = [];
    for (const p of picked) {
      const dir = p.dir.split('/').filter((x) => x !== '').map(safeComponent).join('/');
      let name = safeComponent(p.file.name);
      if (dirProblem(dir)) continue;
      for (let i = 1; seen.has(`${dir}/${name}`); i++) name = `${i}-${safeComponent(p.file.name)}`;
      seen.add(`${dir}/${name}`);
      entries.push({ id: entries.length, name, dir, size: p.file.size, mime: /^[\x20-\x7e]{0,255}$/.test(p.file.type) ? p.file.type : '' });
      files.push(p.file);
    }
    this.current = { xfer: randomHex(16), entries, files };
  }

  /** Offers the files on a ready channel, unless that peer already has them (or said no). */
  offerTo(d: ChannelDriver): boolean {
    const o = this.current;
    if (!o) return false;
    const key = `out:${d.peerId}:${o.xfer}`;
    const prev = this.transfers.get(key);
    if (prev && (prev.state === 'COMPLETED' || prev.state === 'CANCELLED' || prev.state === 'DECLINED')) return false;
    try {
      d.offer(o.xfer, o.entries);
    } catch (e) {
      this.fail(msg(e instanceof RangeError ? 'room.tooManyFiles' : 'room.offerFailed'));
      return false;
    }
    const t = prev ?? this.transfers.create(key, 'out', d.peerId, o.xfer, o.entries);
    t.state = 'WAITING';
    t.error = undefined;
    this.transfers.set(t);
    return true;
  }
}
