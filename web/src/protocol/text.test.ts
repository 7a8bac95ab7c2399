/* Text snippets and names in the engine (docs/protocol.md §5.9): what is
 * negotiated, sent, acknowledged and refused. The byte-exact messages are
 * the `texts`, `control` and `invalid` vectors (vectors.test.ts); these are
 * the session's rules around them, as test_text in tests/unit/test_transfer.c. */
import { describe, expect, it } from 'vitest';
import { Session, type SessionEvent } from './session';
import { MAX_TEXT_BYTES, MAX_TEXT_PENDING } from './types';

const ID = 'fedcba9876543210fedcba9876543210';
const hex32 = (n: number) => n.toString(16).padStart(32, '0');

function pair(a: Session, b: Session) {
  const ev = { a: [] as SessionEvent[], b: [] as SessionEvent[] };
  const sent: { from: string; text: string }[] = [];
  const pump = () => {
    for (let round = 0; round < 100; round++) {
      let moved = false;
      for (const [from, src, dst] of [['a', a, b], ['b', b, a]] as const)
        for (const o of src.takeOutput()) {
          moved = true;
          if (o.kind === 'text') {
            sent.push({ from, text: o.data });
            dst.onText(o.data);
          }
        }
      ev.a.push(...a.takeEvents());
      ev.b.push(...b.takeEvents());
      if (!moved) return;
    }
  };
  a.open();
  b.open();
  pump();
  return { ev, sent, pump };
}

const lastError = (s: Session) => s.takeOutput().map((o) => (o.kind === 'text' ? JSON.parse(o.data) : null)).pop();

describe('text snippets (§5.9)', () => {
  it('goes both ways between peers that list "text", each acknowledged once', () => {
    const a = new Session({ name: 'Blue Fox' });
    const b = new Session();
    const { ev, pump } = pair(a, b);
    expect(a.textSupported && b.textSupported).toBe(true);
    expect([a.peerName, b.peerName]).toEqual([undefined, 'Blue Fox']);
    a.sendText(ID, 'a\u0000b\u001b[2J');
    pump();
    expect(ev.b).toContainEqual({ type: 'text', id: ID, text: 'a\u0000b\u001b[2J' });
    expect(ev.a).toContainEqual({ type: 'text-acked', id: ID });
    b.sendText(ID, 'x'.repeat(MAX_TEXT_BYTES)); // ids are per sender
    pump();
    expect(ev.a.filter((e) => e.type === 'text')).toHaveLength(1);
    expect(ev.b.filter((e) => e.type === 'text-acked')).toHaveLength(1);
  });

  it('is never sent to a peer whose hello has no "text"; one from it is PROTOCOL', () => {
    const a = new Session();
    const b = new Session({ caps: ['resume', 'sha256-blocks'] });
    const { ev } = pair(a, b);
    expect(a.textSupported || b.textSupported).toBe(false);
    expect(() => a.sendText(ID, 'hi')).toThrow(/takes no text/);
    expect(a.takeOutput()).toEqual([]);
    b.onText(`{"t":"text","id":"${ID}","text":"hi"}`);
    expect(lastError(b)).toEqual({ t: 'error', code: 'PROTOCOL', message: 'text without the text capability' });
    expect(b.isClosed).toBe(true);
    expect(ev.b.some((e) => e.type === 'text')).toBe(false);
  });

  it('refuses locally: empty, too long, lone surrogates, bad ids, too many waiting, over maxMsg', () => {
    const a = new Session();
    const b = new Session();
    const { pump } = pair(a, b);
    expect(() => a.sendText(ID, '')).toThrow(RangeError);
    expect(() => a.sendText(ID, 'é'.repeat(MAX_TEXT_BYTES / 2) + 'a')).toThrow(RangeError);
    expect(() => a.sendText(ID, 'a\ud800')).toThrow(RangeError);
    expect(() => a.sendText('ABC', 'hi')).toThrow(RangeError);
    for (let i = 0; i < MAX_TEXT_PENDING; i++) a.sendText(hex32(i), 'hi');
    expect(() => a.sendText(hex32(0), 'hi')).toThrow(RangeError); // still waiting: not unique
    expect(() => a.sendText(hex32(99), 'hi')).toThrow(/too many/);
    pump();
    a.sendText(hex32(99), 'hi'); // acknowledged: room again
    const small = new Session();
    small.open();
    small.onText('{"t":"hello","v":2,"maxMsg":16384,"win":16384,"caps":["text"]}');
    expect(() => small.sendText(ID, 'x'.repeat(20000))).toThrow(/does not fit/);
    expect(() => small.sendText(ID, '\u0001'.repeat(4000))).toThrow(/does not fit/); // 24000 bytes escaped
  });

  it('a text-ack for no text of ours, a text before hello: PROTOCOL', () => {
    const a = new Session();
    const b = new Session();
    pair(a, b);
    a.onText(`{"t":"text-ack","id":"${ID}"}`);
    expect(lastError(a)).toEqual({ t: 'error', code: 'PROTOCOL', message: 'text-ack for no text sent' });
    const c = new Session();
    c.open();
    c.takeOutput();
    c.onText(`{"t":"text","id":"${ID}","text":"hi"}`);
    expect(lastError(c)).toEqual({ t: 'error', code: 'PROTOCOL', message: 'first message must be hello' });
  });

  it('a name is cleaned and cut to 64 bytes; one that is not a string is left out (§5.1)', () => {
    const a = new Session({ name: 'ü'.repeat(40) + '\u202e' });
    const b = new Session();
    pair(a, b);
    expect(b.peerName).toBe('ü'.repeat(32));
    const c = new Session();
    c.open();
    c.onText('{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":["text"],"name":7}');
    expect(c.ready).toBe(true);
    expect(c.peerName).toBeUndefined();
  });
});
