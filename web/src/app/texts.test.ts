/* The room's text store (texts.ts): names cleaned for one line, URLs told
 * apart, a snippet sent to the peers that take text and counted as they
 * acknowledge it. */
import { describe, expect, it } from 'vitest';
import { cleanName, httpUrl, TextStore, type TextPeer } from './texts';
import { translate } from '../i18n';
import { msg, type Msg } from '../i18n/catalog';
import { must } from '../testing/must';

/* Labels, names and errors are catalogue messages: read here in English. */
const en = (m: Msg | null) => (m ? translate('en', m.key, m.params) : m);
const label = (id: string) => msg('peer.label', { id });

function peer(id: string, textSupported = true, ready = true) {
  const got: [string, string][] = [];
  let flushed = 0;
  const p: TextPeer = {
    id,
    label: label(id),
    session: { ready, textSupported, sendText: (i, t) => void got.push([i, t]) },
    flush: () => void flushed++,
  };
  return { p, got, flushed: () => flushed };
}

describe('texts', () => {
  it('cleans a peer name: no controls, no bidi or zero-width characters, 64 bytes', () => {
    expect(cleanName('Blue Fox 🦊')).toBe('Blue Fox 🦊');
    expect(cleanName('Bob\u001b[2J\u202eevil\n')).toBe('Bob[2Jevil');
    expect(cleanName('a\u200bb\u2066c\u0085d\ufeff')).toBe('abcd');
    expect(cleanName(undefined)).toBe('');
    expect(new TextEncoder().encode(cleanName('😀'.repeat(20))).length).toBeLessThanOrEqual(64);
  });

  it('links only a lone http(s) URL', () => {
    expect(httpUrl(' https://example.com/a?b=1 ')).toBe('https://example.com/a?b=1');
    expect(httpUrl('http://x.test')).toBe('http://x.test/');
    expect(httpUrl('javascript:alert(1)')).toBeNull();
    expect(httpUrl('see https://example.com')).toBeNull();
    expect(httpUrl('data:text/html,<script>')).toBeNull();
    expect(httpUrl('https://')).toBeNull();
  });

  it('sends the draft to the peers that take text, counts acks, keeps received ones from their sender', () => {
    const s = new TextStore();
    const a = peer('a');
    const old = peer('b', false);
    const notReady = peer('c', true, false);
    s.setDraft('hello');
    expect(s.send([a.p, old.p, notReady.p])).toBe(1);
    const [id, text] = must(a.got[0], 'the text a was sent');
    expect(text).toBe('hello');
    expect(a.flushed()).toBe(1);
    expect(notReady.got).toEqual([]);
    let snap = s.getSnapshot();
    expect(snap.draft).toBe('');
    expect(snap.sent[0]).toMatchObject({ id, to: ['a'], delivered: [] });
    expect(snap.sent[0]?.unsupported.map(en)).toEqual(['Peer b']);
    s.onEvent('a', label('a'), undefined, { type: 'text-acked', id });
    s.onEvent('a', label('a'), 'Blue\u0007 Fox', { type: 'text', id, text: '<b>hi</b>' });
    s.onEvent('d', label('d'), undefined, { type: 'text', id, text: 'second' });
    snap = s.getSnapshot();
    expect(snap.sent[0]?.delivered).toEqual(['a']);
    expect(snap.received.map((r) => [en(r.from), r.text])).toEqual([['Peer d', 'second'], ['Blue Fox', '<b>hi</b>']]);
  });

  it('says why nothing was sent', () => {
    const s = new TextStore();
    s.setDraft('  ');
    expect(s.send([peer('a').p])).toBe(0);
    expect(en(s.getSnapshot().error)).toMatch(/Type or paste/);
    s.setDraft('x'.repeat(65537));
    expect(s.send([peer('a').p])).toBe(0);
    expect(en(s.getSnapshot().error)).toMatch(/too long/);
    s.setDraft('hi');
    expect(s.send([])).toBe(0);
    expect(en(s.getSnapshot().error)).toMatch(/Nobody is connected/);
    expect(s.send([peer('b', false).p])).toBe(0);
    expect(en(s.getSnapshot().error)).toMatch(/cannot receive text/);
    expect(s.getSnapshot().draft).toBe('hi');
  });
});
