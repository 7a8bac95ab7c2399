/* Text snippets in the room (issue 17, docs/protocol.md §5.9): what was
 * received (from whom, the text), what was sent (to how many peers, how many
 * have it), and the draft in the text box. A small store of its own, read by
 * TextPanel through useSyncExternalStore; the room controller hands it the
 * text events of each peer's session and the peers to send to. Received
 * text is untrusted: it is kept as a string and rendered as text only. */

import type { SessionEvent } from '../protocol/session';
import { MAX_TEXT_BYTES } from '../protocol/types';
import { peerText, textFits, utf8Length } from '../protocol/codec';
import { msg, type Msg } from '../i18n/catalog';

/** Received snippets kept on the page; older ones are dropped first. */
export const MAX_TEXTS_SHOWN = 50;

export interface ReceivedText {
  /** Unique on this page: the peer's id and the text's id. */
  key: string;
  peerId: string;
  /** The peer's name from its hello, cleaned for one line, or its label. */
  from: Msg;
  text: string;
}

export interface SentText {
  id: string;
  text: string;
  /** Peers it was sent to, and those that acknowledged it. */
  to: string[];
  delivered: string[];
  /** Peers that take no text (an older app or CLI): not sent to them. */
  unsupported: Msg[];
}

export interface TextSnapshot {
  draft: string;
  received: ReceivedText[];
  sent: SentText[];
  /** A message, rendered in the page's language when shown (i18n). */
  error: Msg | null;
}

/** A peer as the room knows it, able to send a text. */
export interface TextPeer {
  id: string;
  label: Msg;
  session: { ready: boolean; textSupported: boolean; sendText(id: string, text: string): void };
  /** Hands what the session queued to the channel. */
  flush(): void;
}

/** A peer's name for one line: the codec's cleaning (controls, bidi and
 *  zero-width characters out, 64 bytes), "" for none. */
export function cleanName(name: string | undefined): string {
  return name === undefined ? '' : peerText(name);
}

/** The text is an http(s) URL and nothing else: the panel offers to open it. */
export function httpUrl(text: string): string | null {
  const t = text.trim();
  if (/\s/.test(t) || !/^https?:\/\//i.test(t)) return null;
  try {
    const u = new URL(t);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class TextStore {
  private listeners = new Set<() => void>();
  private snap: TextSnapshot = { draft: '', received: [], sent: [], error: null };

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  getSnapshot = (): TextSnapshot => this.snap;

  private set(p: Partial<TextSnapshot>): void {
    this.snap = { ...this.snap, ...p };
    this.listeners.forEach((l) => l());
  }

  setDraft(draft: string): void {
    this.set({ draft, error: null });
  }

  /** A text event of the session with peer `peerId` (its hello name, if any). */
  onEvent(peerId: string, label: Msg, peerName: string | undefined, e: Extract<SessionEvent, { type: 'text' | 'text-acked' }>): void {
    if (e.type === 'text') {
      const name = cleanName(peerName);
      const from = name ? msg('peer.named', { name }) : label;
      const received = [{ key: `${peerId}:${e.id}:${this.snap.received.length}`, peerId, from, text: e.text }, ...this.snap.received].slice(0, MAX_TEXTS_SHOWN);
      this.set({ received });
      return;
    }
    const sent = this.snap.sent.map((s) => (s.id === e.id && s.to.includes(peerId) && !s.delivered.includes(peerId) ? { ...s, delivered: [...s.delivered, peerId] } : s));
    this.set({ sent });
  }

  /** Sends the draft to every connected peer that takes text; clears it
   *  when at least one got it. Returns how many it was sent to. */
  send(peers: TextPeer[]): number {
    const text = this.snap.draft;
    if (text.trim() === '') {
      this.set({ error: msg('text.empty') });
      return 0;
    }
    if (!textFits(text, MAX_TEXT_BYTES)) {
      this.set({ error: msg('text.tooLong', { bytes: utf8Length(text), max: MAX_TEXT_BYTES }) });
      return 0;
    }
    const ready = peers.filter((p) => p.session.ready);
    if (ready.length === 0) {
      this.set({ error: msg('text.nobody') });
      return 0;
    }
    const id = randomId();
    const to: string[] = [];
    const unsupported: Msg[] = [];
    let failure = '';
    for (const p of ready) {
      if (!p.session.textSupported) {
        unsupported.push(p.label);
        continue;
      }
      try {
        p.session.sendText(id, text);
        p.flush();
        to.push(p.id);
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
    }
    const error =
      to.length === 0
        ? unsupported.length > 0 && !failure
          ? msg('text.unsupported')
          : msg('text.failed', { detail: failure })
        : null;
    const sent = to.length > 0 || unsupported.length > 0 ? [{ id, text, to, delivered: [], unsupported }, ...this.snap.sent].slice(0, MAX_TEXTS_SHOWN) : this.snap.sent;
    this.set({ sent, error, draft: to.length > 0 ? '' : text });
    return to.length;
  }

  /** The room was left: nothing of it stays on the page. */
  reset(): void {
    this.set({ draft: '', received: [], sent: [], error: null });
  }
}
