/* The gate every data channel passes before the transfer protocol
 * (docs/authentication.md §7, protocol version 2): nothing but the PAKE is
 * accepted before it is done, and every way of failing answers with one
 * `error` AUTH_FAILED; the deadline or a closed channel before this side's
 * tag went out is a drop ('lost'), with nothing to send. */
import { describe, expect, it } from 'vitest';
import V from './auth-vectors.json';
import { unhex } from './bytes';
import { sdpFingerprint } from './confirm';
import { AUTH_FAILED_TEXT, AuthGate } from './gate';
import type { PakeConfig } from './session';
import { encodeControl } from '../protocol/codec';
import { AUTH_DEADLINE_MS } from '../protocol/types';
import { must } from '../testing/must';

const S = V.session;
const PAKE_START = must(S.messages[0], 'session.messages[0]').text; // the honest run's first message
const base = {
  prs: unhex(S.prs), room: S.room, offererId: S.offererId, answererId: S.answererId,
  fpOfferer: S.fingerprintOfferer, fpAnswerer: S.fingerprintAnswerer,
};
const offerer: PakeConfig = { ...base, role: 'offerer' };
const answerer: PakeConfig = { ...base, role: 'answerer' };
const HELLO_V1 = encodeControl({ t: 'hello', v: 1, maxMsg: 65536, win: 16777216, caps: ['resume'] });
const HELLO_V2 = encodeControl({ t: 'hello', v: 2, maxMsg: 65536, win: 16777216, caps: ['resume'] });
const OFFER = encodeControl({ t: 'offer', xfer: '0123456789abcdef0123456789abcdef', files: [{ id: 0, name: 'a', dir: '', size: 1, mime: '' }] });

/** Runs two gates against each other until neither has anything to say. */
function converse(a: AuthGate, b: AuthGate): number {
  let flights = 0;
  for (let i = 0; i < 10; i++) {
    const fromA = a.takeOutput();
    const fromB = b.takeOutput();
    if (fromA.length === 0 && fromB.length === 0) break;
    if (fromA.length) flights++;
    if (fromB.length) flights++;
    for (const t of fromA) b.onText(t);
    for (const t of fromB) a.onText(t);
  }
  return flights;
}

describe('AuthGate', () => {
  it('two honest sides end done with the same code, in four flights, the offerer speaking first', () => {
    const a = new AuthGate(() => offerer, 0);
    const b = new AuthGate(() => answerer, 0);
    expect(b.takeOutput()).toEqual([]); // the acceptor never sends first
    const first = a.takeOutput();
    expect(first.map((t) => JSON.parse(t).t)).toEqual(['pake-start']);
    first.forEach((t) => b.onText(t));
    expect(converse(a, b)).toBe(3);
    expect([a.state, b.state]).toEqual(['done', 'done']);
    expect(a.sas).toMatch(/^\d{6}$/);
    expect(a.sas).toBe(b.sas);
  });

  it('other passwords: both fail, each says AUTH_FAILED, neither has a code', () => {
    const a = new AuthGate(() => offerer, 0);
    const b = new AuthGate(() => ({ ...answerer, prs: unhex(V.negative.wrongPassword.answererPrs) }), 0);
    converse(a, b);
    expect([a.state, b.state]).toEqual(['failed', 'failed']);
    expect([a.sas, b.sas]).toEqual([null, null]);
  });

  const refusals: [string, PakeConfig, (g: AuthGate) => void][] = [
    ['a protocol-1 hello to the acceptor', answerer, (g) => g.onText(HELLO_V1)],
    ['a protocol-2 hello to the acceptor', answerer, (g) => g.onText(HELLO_V2)],
    ['an offer to the acceptor', answerer, (g) => g.onText(OFFER)],
    ['file data to the acceptor', answerer, (g) => g.onBinary()],
    ['a hello instead of a share to the opener', offerer, (g) => g.onText(HELLO_V2)],
    ['file data to the opener', offerer, (g) => g.onBinary()],
    ["the peer's error", offerer, (g) => g.onText(encodeControl({ t: 'error', code: 'PROTOCOL', message: 'first message must be hello' }))],
    ['an over-long text', answerer, (g) => g.onText(`{"t":"pake-share","pad":"${'x'.repeat(2000)}"}`)],
  ];
  for (const [name, cfg, act] of refusals) {
    it(`refuses ${name} with one AUTH_FAILED, and then ignores everything`, () => {
      const g = new AuthGate(() => cfg, 0);
      g.takeOutput();
      act(g);
      expect(g.state).toBe('failed');
      expect(g.takeOutput()).toEqual([AUTH_FAILED_TEXT]);
      g.onText(PAKE_START);
      g.onBinary();
      g.expire(10 * AUTH_DEADLINE_MS);
      expect(g.takeOutput()).toEqual([]);
      expect(g.sas).toBe(null);
    });
  }

  it('AUTH_FAILED is the canonical error message of docs/protocol.md §8', () => {
    expect(AUTH_FAILED_TEXT).toBe('{"t":"error","code":"AUTH_FAILED","message":"authentication failed"}');
  });

  it('the deadline is not reached one millisecond early; with nothing from the peer it is a drop, not a failure', () => {
    for (const cfg of [answerer, offerer]) {
      const g = new AuthGate(() => cfg, 1000);
      g.takeOutput();
      g.expire(1000 + AUTH_DEADLINE_MS - 1);
      expect(g.state).toBe('running');
      g.expire(1000 + AUTH_DEADLINE_MS);
      expect(g.state).toBe('lost');
      expect(g.takeOutput()).toEqual([]);
      g.onText(PAKE_START);
      expect([g.state, g.sas, g.takeOutput()]).toEqual(['lost', null, []]);
    }
  });

  it("the deadline after our tag went out is a failure (the peer could test a guess against it); before, it is a drop", () => {
    const a = new AuthGate(() => offerer, 0);
    const b = new AuthGate(() => answerer, 0);
    a.takeOutput().forEach((t) => b.onText(t)); // pake-start
    b.takeOutput().forEach((t) => a.onText(t)); // pake-share: the offerer sends its share and tag, which get lost
    expect(a.takeOutput().map((t) => JSON.parse(t).t)).toEqual(['pake-share', 'pake-confirm']);
    expect([a.tagSent, b.tagSent]).toEqual([true, false]);
    a.expire(AUTH_DEADLINE_MS);
    b.expire(AUTH_DEADLINE_MS);
    expect([a.state, b.state]).toEqual(['failed', 'lost']);
    expect(a.takeOutput()).toEqual([AUTH_FAILED_TEXT]);
    expect(b.takeOutput()).toEqual([]);
  });

  it('a config that cannot be built (no fingerprint, no PRS) fails at once', () => {
    const g = new AuthGate(() => {
      throw new Error('not exactly one DTLS fingerprint in an SDP');
    }, 0);
    expect(g.state).toBe('failed');
    expect(g.takeOutput()).toEqual([AUTH_FAILED_TEXT]);
    const h = new AuthGate(() => ({ ...offerer, fpAnswerer: 'sha-1 00' }), 0);
    expect(h.state).toBe('failed');
  });

  it('a closed channel ends the run with nothing to send: a drop before our tag went out, a failure after', () => {
    const g = new AuthGate(() => offerer, 0);
    g.takeOutput();
    g.close();
    expect(g.state).toBe('lost');
    expect(g.takeOutput()).toEqual([]);
    const a = new AuthGate(() => offerer, 0);
    const b = new AuthGate(() => answerer, 0);
    a.takeOutput().forEach((t) => b.onText(t));
    b.takeOutput().forEach((t) => a.onText(t));
    b.close();
    a.close();
    expect([a.state, b.state]).toEqual(['failed', 'lost']);
    expect([a.takeOutput(), b.takeOutput()]).toEqual([[], []]);
  });
});

describe('sdpFingerprint', () => {
  const fp = 'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08';
  const other = 'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53';
  const sdp = (...lines: string[]) => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', ...lines, ''].join('\r\n');
  const media = 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel';

  it('takes the one certificate, at session or media level, repeated or not', () => {
    expect(sdpFingerprint(sdp(media, fp))).toBe(S.fingerprintOfferer);
    expect(sdpFingerprint(sdp(fp, media))).toBe(S.fingerprintOfferer);
    expect(sdpFingerprint(sdp(fp, media, fp.toLowerCase(), media, fp))).toBe(S.fingerprintOfferer);
    expect(sdpFingerprint([media, fp].join('\n'))).toBe(S.fingerprintOfferer);
  });

  it('refuses none, two certificates, or one it cannot use', () => {
    expect(sdpFingerprint(sdp(media))).toBe(null);
    expect(sdpFingerprint('')).toBe(null);
    expect(sdpFingerprint(sdp(media, fp, other))).toBe(null);
    expect(sdpFingerprint(sdp(fp, media, other))).toBe(null);
    expect(sdpFingerprint(sdp(media, 'a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB'))).toBe(null);
    expect(sdpFingerprint(sdp(media, fp, 'a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB'))).toBe(null);
  });
});
