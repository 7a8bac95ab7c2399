/* The shared authentication vectors (auth-vectors.json): key schedule, CI,
 * a whole Peerdrop authentication between an offerer and an answerer
 * in the order of docs/authentication.md §7 (the offerer commits to Ya in
 * pake-start; CPace, key confirmation over both DTLS fingerprints, SAS, the
 * five messages byte for byte), fingerprint normalisation, the message
 * codec, and the negative cases (wrong password, swapped or intercepted
 * fingerprints, the identity point, a broken commitment).
 *
 * This file generates them from the TS implementation (npm run
 * auth-vectors) and otherwise replays them; tests/unit/test_pake.c replays
 * the same file against the C implementation. */
import { readFileSync, writeFileSync } from 'node:fs';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import * as cp from './cpace';
import { canonicalFingerprint, commitment, commitmentMatches, confirmTag, confirmTagMatches, macKey } from './confirm';
import { admissionHex, channelId, deriveKeys, salt, secretBytes, split } from './keys';
import { argon2id } from '@noble/hashes/argon2.js';
import { ARGON2 } from './keys';
import { decodePakeMsg, encodePakeMsg, PakeMsgError, type PakeMsg } from './messages';
import { sasDigits } from './sas';
import { PakeSession, type PakeConfig } from './session';
import { hex, unhex, utf8 } from './bytes';
import { must } from '../testing/must';

const FILE = new URL('./auth-vectors.json', import.meta.url);
const EMPTY = new Uint8Array(0);

/** Deterministic test scalars: SHA-512 of a label, cut to 252 bits. */
function scalar(label: string): Uint8Array {
  const y = sha512(utf8(label)).slice(0, 32);
  y[31] = must(y[31], 'byte 31 of the scalar') & 0x0f;
  return y;
}

const SCHEDULE_INPUTS = [
  { name: 'generated link key (20 of 56 symbols)', room: '0f4e8a52-6b1d-4c3e-9f7a-2d5b8c1e3a90', secret: 'Hk7pQ2mZr9XwT4bNc8Ds' },
  { name: 'human password', room: 'room-42', secret: 'correct horse battery staple' },
  { name: 'same password, another room', room: 'room-43', secret: 'correct horse battery staple' },
  { name: 'non-ASCII password (NFC bytes)', room: 'room-42', secret: 'P\u00e4ssw\u00f6rd \u{1f511}' },
];

const OFFERER_SDP_FP = 'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n';
const ANSWERER_SDP_FP = 'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53';
/* what a relay that terminates DTLS shows each side instead */
const RELAY_FP_1 = 'sha-256 0D:0E:EF:33:9D:52:6C:50:BF:06:55:32:F3:C4:69:DB:5D:71:82:63:76:27:D3:56:0C:66:1F:27:69:A6:1C:40';
const RELAY_FP_2 = 'sha-256 B2:36:28:44:C0:63:61:8E:1A:03:76:C1:8C:46:7F:55:01:34:C9:7C:C0:DE:4B:D0:45:A6:D2:EA:F6:70:AE:D1';

function scheduleVector(c: (typeof SCHEDULE_INPUTS)[number]) {
  const secret = secretBytes(c.secret);
  const s = salt(c.room);
  const stretched = argon2id(secret, s, ARGON2);
  const k = split(stretched);
  return {
    name: c.name, room: c.room, secret: c.secret, secretHex: hex(secret),
    salt: hex(s), stretched: hex(stretched), admission: admissionHex(k), prs: hex(k.prs),
  };
}

interface Side {
  prs: Uint8Array;
  y: Uint8Array;
}

/** A whole authentication, as docs/authentication.md §7 runs it. */
function session(room: string, offererId: string, answererId: string, a: Side, b: Side, sid: Uint8Array, fpA: [string, string], fpB: [string, string]) {
  const ci = channelId(room, offererId, answererId);
  const Ya = cp.share(a.y, a.prs, ci, sid);
  const commit = commitment(sid, Ya);
  const Yb = cp.share(b.y, b.prs, ci, sid);
  const iskA = cp.finish('ir', 'A', a.y, sid, Ya, EMPTY, Yb, EMPTY);
  const iskB = cp.finish('ir', 'B', b.y, sid, Ya, EMPTY, Yb, EMPTY);
  const keyA = macKey(sid, iskA);
  const keyB = macKey(sid, iskB);
  const Ta = confirmTag(keyA, Ya, EMPTY, fpA[0], fpA[1]);
  const Tb = confirmTag(keyB, Yb, EMPTY, fpB[0], fpB[1]);
  return { ci, Ya, Yb, commit, iskA, iskB, keyA, keyB, Ta, Tb };
}

/** One side's run, step by step, as PakeSession goes through it. */
function run(name: string, config: PakeConfig, y: Uint8Array, sid: Uint8Array | undefined, feeds: string[]) {
  const p = new PakeSession(config, y, sid);
  const initial = p.takeOutput();
  const steps = feeds.map((feed) => {
    const result = p.feed(feed);
    return { feed, result, outputs: p.takeOutput(), state: p.state, reason: p.reason };
  });
  return {
    name, role: config.role, prs: hex(config.prs), fingerprintOfferer: config.fpOfferer, fingerprintAnswerer: config.fpAnswerer,
    y: hex(y), sid: sid ? hex(sid) : '', initialOutputs: initial, steps, sas: p.sas ?? '',
  };
}

function build() {
  const keySchedule = SCHEDULE_INPUTS.map(scheduleVector);
  const [link, password] = [must(keySchedule[0], 'schedule vector 0'), must(keySchedule[1], 'schedule vector 1')];
  const room = link.room;
  const offererId = 'Xq3vK8pLm2Nz7RtY5wBc';
  const answererId = 'b9FhJ4sD1gQ6kV0eU2aM';
  const prs = unhex(link.prs);
  const sid = sha512(utf8('peerdrop vector sid')).slice(0, 16);
  const ya = scalar('peerdrop vector ya');
  const yb = scalar('peerdrop vector yb');
  const fpO = canonicalFingerprint(OFFERER_SDP_FP)!;
  const fpA = canonicalFingerprint(ANSWERER_SDP_FP)!;
  const s = session(room, offererId, answererId, { prs, y: ya }, { prs, y: yb }, sid, [fpO, fpA], [fpO, fpA]);
  const msgs: { from: string; msg: PakeMsg }[] = [
    { from: 'offerer', msg: { t: 'pake-start', sid, commit: s.commit } },
    { from: 'answerer', msg: { t: 'pake-share', y: s.Yb } },
    { from: 'offerer', msg: { t: 'pake-share', y: s.Ya } },
    { from: 'offerer', msg: { t: 'pake-confirm', mac: s.Ta } },
    { from: 'answerer', msg: { t: 'pake-confirm', mac: s.Tb } },
  ];

  // wrong password: the answerer holds another room secret's PRS
  const wrongPrs = unhex(password.prs);
  const w = session(room, offererId, answererId, { prs, y: ya }, { prs: wrongPrs, y: yb }, sid, [fpO, fpA], [fpO, fpA]);
  // a relay terminating DTLS on both sides: each sees the relay's certificate for the other
  const fpR1 = canonicalFingerprint(RELAY_FP_1)!;
  const fpR2 = canonicalFingerprint(RELAY_FP_2)!;
  const m = session(room, offererId, answererId, { prs, y: ya }, { prs, y: yb }, sid, [fpO, fpR1], [fpR2, fpA]);
  // a valid point other than the committed Ya: the offerer's scalar under another PRS
  const otherYa = cp.share(ya, wrongPrs, channelId(room, offererId, answererId), sid);

  const cfg = (role: 'offerer' | 'answerer', p: Uint8Array, views: [string, string]): PakeConfig =>
    ({ role, prs: p, room, offererId, answererId, fpOfferer: views[0], fpAnswerer: views[1] });
  const encoded = msgs.map((x) => encodePakeMsg(x.msg));
  const T = (i: number) => must(encoded[i], `message ${i} of the honest run`);
  const share = (y: Uint8Array) => encodePakeMsg({ t: 'pake-share', y });
  const confirm = (mac: Uint8Array) => encodePakeMsg({ t: 'pake-confirm', mac });
  const start = (commit: Uint8Array) => encodePakeMsg({ t: 'pake-start', sid, commit });
  const helloText = '{"t":"hello","v":1,"maxMsg":65536,"win":16777216,"caps":["resume","sha256-blocks"]}';
  const runs = [
    run('offerer, honest', cfg('offerer', prs, [fpO, fpA]), ya, sid, [T(1), T(4)]),
    run('answerer, honest', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [T(0), T(2), T(3)]),
    run('answerer, the peer sends hello first (protocol 1)', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [helloText]),
    run('answerer, a share before pake-start', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [T(2)]),
    run('offerer, the answerer has another password', cfg('offerer', prs, [fpO, fpA]), ya, sid, [share(w.Yb), confirm(w.Tb)]),
    run('answerer with another password', cfg('answerer', wrongPrs, [fpO, fpA]), yb, undefined, [T(0), T(2), T(3)]),
    run('answerer, a share that breaks the commitment', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [T(0), share(otherYa)]),
    run('answerer, the identity committed and revealed', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [start(commitment(sid, cp.IDENTITY)), share(cp.IDENTITY)]),
    run('offerer, the identity as Yb', cfg('offerer', prs, [fpO, fpA]), ya, sid, [share(cp.IDENTITY)]),
    run('answerer behind a DTLS relay', cfg('answerer', prs, [fpR2, fpA]), yb, undefined, [T(0), T(2), T(3)]),
    run('offerer behind a DTLS relay', cfg('offerer', prs, [fpO, fpR1]), ya, sid, [T(1), T(4)]),
    run('answerer, another suite', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [T(0).replace('CPACE-RISTR255-SHA512', 'CPACE-X25519-SHA512')]),
    run('offerer, a pake-start back', cfg('offerer', prs, [fpO, fpA]), ya, sid, [T(0)]),
    run('answerer, truncated JSON', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [T(0).slice(0, -1)]),
    run('offerer, the peer sends an error', cfg('offerer', prs, [fpO, fpA]), ya, sid, ['{"t":"error","code":"INTERNAL","message":"no"}']),
    run('offerer, its own tag reflected', cfg('offerer', prs, [fpO, fpA]), ya, sid, [T(1), T(3)]),
    run('offerer, hello instead of a share', cfg('offerer', prs, [fpO, fpA]), ya, sid, [helloText]),
    run('answerer, a tag before the share', cfg('answerer', prs, [fpO, fpA]), yb, undefined, [T(0), T(3)]),
  ];

  // an ISK whose code starts with 0, so the zero padding is covered
  let sasZero = '';
  for (let i = 0; !sasZero || !sasDigits(unhex(sasZero)).startsWith('0'); i++) sasZero = hex(sha512(utf8(`peerdrop vector sas ${i}`)));
  const sasIsks = [hex(s.iskA), hex(w.iskB), sasZero];

  return {
    _about: 'Peerdrop authentication vectors (docs/authentication.md), generated by web/src/crypto/auth-vectors.test.ts (npm run auth-vectors) and replayed by it and by tests/unit/test_pake.c. Hex is lowercase; strings are UTF-8.',
    version: 2,
    suite: 'CPACE-RISTR255-SHA512',
    argon2id: { t: ARGON2.t, mKiB: ARGON2.m, p: ARGON2.p, len: ARGON2.dkLen },
    keySchedule,
    session: {
      room, offererId, answererId, prs: hex(prs), sid: hex(sid), ya: hex(ya), yb: hex(yb),
      ADa: '', ADb: '',
      ci: hex(s.ci), Ya: hex(s.Ya), Yb: hex(s.Yb), commit: hex(s.commit), isk: hex(s.iskA), macKey: hex(s.keyA),
      fingerprintOffererSdp: OFFERER_SDP_FP, fingerprintAnswererSdp: ANSWERER_SDP_FP,
      fingerprintOfferer: fpO, fingerprintAnswerer: fpA,
      Ta: hex(s.Ta), Tb: hex(s.Tb), sas: sasDigits(s.iskA),
      messages: msgs.map((x) => ({ from: x.from, text: encodePakeMsg(x.msg) })),
    },
    negative: {
      wrongPassword: {
        about: "the answerer derived its PRS from another secret (keySchedule[1]): other Yb and ISK; the offerer refuses Tb, the answerer refuses Ta, and the codes differ",
        answererPrs: hex(wrongPrs), Yb: hex(w.Yb), iskAnswerer: hex(w.iskB), iskOfferer: hex(w.iskA),
        Ta: hex(w.Ta), Tb: hex(w.Tb), sasAnswerer: sasDigits(w.iskB), sasOfferer: sasDigits(w.iskA),
      },
      swappedFingerprints: {
        about: 'Ta over (answerer, offerer) instead of (offerer, answerer): the answerer refuses it',
        Ta: hex(confirmTag(s.keyA, s.Ya, EMPTY, fpA, fpO)),
      },
      relayedFingerprints: {
        about: 'PAKE messages relayed verbatim (same ISK) while DTLS ends at a relay: the offerer saw (fpOfferer, relay1), the answerer (relay2, fpAnswerer); each refuses the other tag',
        relayOffererView: fpR1, relayAnswererView: fpR2, Ta: hex(m.Ta), Tb: hex(m.Tb),
      },
      identity: { about: 'G.I as the peer share: both sides abort', Y: hex(cp.IDENTITY) },
      badEncoding: { about: 'a non-canonical encoding (the draft\'s Invalid Y1) as the peer share: abort', Y: '2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c' },
      brokenCommitment: { about: 'the offerer reveals another (valid) Ya than it committed to in pake-start: the answerer aborts', Ya: hex(otherYa) },
    },
    sas: sasIsks.map((isk) => ({ isk, sas: sasDigits(unhex(isk)) })),
    sessionRuns: runs,
    fingerprints: {
      valid: [
        OFFERER_SDP_FP, ANSWERER_SDP_FP, RELAY_FP_1,
        'a=fingerprint:SHA-256 6b:8b:f0:65:5f:78:e2:51:3b:ac:6f:f3:3f:46:1b:35:dc:b8:5f:64:1a:24:c2:43:f0:a1:58:d0:a1:2c:19:08\n',
        `sha-384 ${Array.from({ length: 48 }, (_, i) => hex(Uint8Array.of(i * 5))).join(':').toUpperCase()}`,
        `a=fingerprint:sha-512 ${Array.from({ length: 64 }, (_, i) => hex(Uint8Array.of(255 - i))).join(':')}`,
      ].map((input) => ({ input, canonical: canonicalFingerprint(input) })),
      invalid: [
        '',
        'sha-256',
        'a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB',
        'a=fingerprint:md5 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B',
        'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C',
        'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53:00',
        'a=fingerprint:sha-256 4AAD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53:',
        'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:5G',
        'a=fingerprint:sha-256  4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53',
        'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53 ',
        'a=fingerprint:sha-256 4A-AD-B9-B1-3F-82-18-3B-54-02-12-DF-3E-5D-49-6B-19-E5-7C-AB-3E-4D-AD-AB-77-C1-E6-D3-06-9B-2C-53',
        'a=fingerprint:sha-256\t4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53',
        'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:53\r\n\r\n',
        'a=fingerprint:sha-256 ４A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4D:AD:AB:77:C1:E6:D3:06:9B:2C:5',
      ],
    },
    messages: {
      valid: [
        ...msgs.map((x) => ({ text: encodePakeMsg(x.msg), canonical: encodePakeMsg(x.msg) })),
        { text: `{ "y" : "${hex(s.Ya)}", "t" : "pake-share", "extra": [1, {"a": null}] }`, canonical: encodePakeMsg({ t: 'pake-share', y: s.Ya }) },
        { text: `{"t":"pake-confirm","mac":"${hex(s.Tb)}","t":"pake-confirm"}`, canonical: encodePakeMsg({ t: 'pake-confirm', mac: s.Tb }) },
        { text: `{"t":"pake-share","note":"a\\u0000b","y":"${hex(s.Yb)}"}`, canonical: encodePakeMsg({ t: 'pake-share', y: s.Yb }) },
        { text: `{"t":"pake-s\\u0074art","suite":"CPACE-RISTR255-SHA512","sid":"${hex(sid)}","commit":"${hex(s.commit)}","v":2}`, canonical: T(0) },
      ],
      invalid: [
        { text: '', problem: 'MSG' },
        { text: '[]', problem: 'MSG' },
        { text: '{"t":1}', problem: 'MSG' },
        { text: '{"y":"00"}', problem: 'MSG' },
        { text: '{"t":"hello","v":2,"maxMsg":65536,"win":16777216,"caps":[]}', problem: 'NOT_PAKE' },
        { text: '{"t":"error","code":"PROTOCOL","message":"no"}', problem: 'NOT_PAKE' },
        { text: `{"t":"pake-share","y":"${hex(s.Ya).toUpperCase()}"}`, problem: 'MSG' },
        { text: `{"t":"pake-share","y":"${hex(s.Ya).slice(2)}"}`, problem: 'MSG' },
        { text: `{"t":"pake-share","y":"${hex(s.Ya)}00"}`, problem: 'MSG' },
        { text: `{"t":"pake-share","y":"${hex(s.Ya).slice(0, 62)}zz"}`, problem: 'MSG' },
        { text: '{"t":"pake-share","y":null}', problem: 'MSG' },
        { text: '{"t":"pake-confirm","mac":"00"}', problem: 'MSG' },
        { text: `{"t":"pake-start","suite":"CPACE-X25519-SHA512","sid":"${hex(sid)}","commit":"${hex(s.commit)}"}`, problem: 'SUITE' },
        { text: `{"t":"pake-start","sid":"${hex(sid)}","commit":"${hex(s.commit)}"}`, problem: 'MSG' },
        { text: `{"t":"pake-start","suite":"CPACE-RISTR255-SHA512","sid":"${hex(sid)}"}`, problem: 'MSG' },
        { text: `{"t":"pake-start","suite":"CPACE-RISTR255-SHA512","sid":"${hex(sid)}","commit":"${hex(s.commit)}"`, problem: 'MSG' },
        { text: `{"t":"pake-share","y":"${hex(s.Ya)}","pad":"${'x'.repeat(1000)}"}`, problem: 'TOO_BIG' },
      ],
    },
  };
}

describe('shared authentication vectors', () => {
  if (process.env.GEN_VECTORS) {
    it('writes auth-vectors.json', () => {
      writeFileSync(FILE, JSON.stringify(build(), null, 1) + '\n');
    }, 120_000);
    return;
  }
  const V = JSON.parse(readFileSync(FILE, 'utf8'));

  it('the file is what this implementation computes, value for value', () => {
    expect(build()).toEqual(V);
  }, 120_000);

  it('key schedule: NFC of a typed password, rooms separate, derive = its steps', () => {
    const nfd = V.keySchedule[3].secret.normalize('NFD');
    expect(nfd).not.toBe(V.keySchedule[3].secret);
    expect(hex(secretBytes(nfd))).toBe(V.keySchedule[3].secretHex);
    expect(V.keySchedule[1].admission).not.toBe(V.keySchedule[2].admission);
    expect(V.keySchedule[1].prs).not.toBe(V.keySchedule[2].prs);
    for (const k of V.keySchedule) expect(k.admission).not.toBe(k.prs);
    // the one-call schedule is its steps (salt, Argon2id, HKDF split)
    const k1 = V.keySchedule[1];
    const d = deriveKeys(secretBytes(k1.secret), k1.room);
    expect([admissionHex(d), hex(d.prs)]).toEqual([k1.admission, k1.prs]);
  }, 60_000);

  it('the session: both sides get the same ISK, accept each other and show the same code', () => {
    const s = V.session;
    const sid = unhex(s.sid), Ya = unhex(s.Ya), Yb = unhex(s.Yb);
    const iskA = cp.finish('ir', 'A', unhex(s.ya), sid, Ya, EMPTY, Yb, EMPTY);
    const iskB = cp.finish('ir', 'B', unhex(s.yb), sid, Ya, EMPTY, Yb, EMPTY);
    expect(hex(iskA)).toBe(hex(iskB));
    expect(commitmentMatches(unhex(s.commit), sid, Ya)).toBe(true);
    expect(commitmentMatches(unhex(s.commit), sid, Yb)).toBe(false);
    const key = macKey(sid, iskA);
    expect(confirmTagMatches(unhex(s.Tb), key, Yb, EMPTY, s.fingerprintOfferer, s.fingerprintAnswerer)).toBe(true);
    expect(confirmTagMatches(unhex(s.Ta), key, Ya, EMPTY, s.fingerprintOfferer, s.fingerprintAnswerer)).toBe(true);
    // a tag is bound to its sender's share: Ta is not a valid Tb
    expect(confirmTagMatches(unhex(s.Ta), key, Yb, EMPTY, s.fingerprintOfferer, s.fingerprintAnswerer)).toBe(false);
    expect(sasDigits(iskB)).toBe(s.sas);
    for (const m of s.messages) expect(encodePakeMsg(decodePakeMsg(m.text))).toBe(m.text);
  });

  it('negative cases all fail closed', () => {
    const s = V.session, n = V.negative;
    const sid = unhex(s.sid), Ya = unhex(s.Ya);
    const key = macKey(sid, unhex(s.isk));
    const fo = s.fingerprintOfferer, fa = s.fingerprintAnswerer;
    // wrong password: the offerer's key does not accept the answerer's tag
    expect(n.wrongPassword.iskAnswerer).not.toBe(n.wrongPassword.iskOfferer);
    expect(confirmTagMatches(unhex(n.wrongPassword.Tb), macKey(sid, unhex(n.wrongPassword.iskOfferer)), unhex(n.wrongPassword.Yb), EMPTY, fo, fa)).toBe(false);
    expect(confirmTagMatches(unhex(n.wrongPassword.Ta), macKey(sid, unhex(n.wrongPassword.iskAnswerer)), Ya, EMPTY, fo, fa)).toBe(false);
    expect(n.wrongPassword.sasAnswerer).not.toBe(n.wrongPassword.sasOfferer);
    // swapped fingerprints
    expect(confirmTagMatches(unhex(n.swappedFingerprints.Ta), key, Ya, EMPTY, fo, fa)).toBe(false);
    // relayed DTLS: each side checks the other's tag against its own view
    expect(confirmTagMatches(unhex(n.relayedFingerprints.Tb), key, unhex(s.Yb), EMPTY, fo, n.relayedFingerprints.relayOffererView)).toBe(false);
    expect(confirmTagMatches(unhex(n.relayedFingerprints.Ta), key, Ya, EMPTY, n.relayedFingerprints.relayAnswererView, fa)).toBe(false);
    // identity and bad encodings abort on both sides
    for (const bad of [n.identity.Y, n.badEncoding.Y]) {
      expect(() => cp.finish('ir', 'A', unhex(s.ya), sid, Ya, EMPTY, unhex(bad), EMPTY)).toThrow(cp.CPaceAbort);
      expect(() => cp.finish('ir', 'B', unhex(s.yb), sid, unhex(bad), EMPTY, unhex(s.Yb), EMPTY)).toThrow(cp.CPaceAbort);
    }
    expect(commitmentMatches(unhex(s.commit), sid, unhex(n.brokenCommitment.Ya))).toBe(false);
  });

  it('fingerprints and messages', () => {
    for (const f of V.fingerprints.valid) expect(canonicalFingerprint(f.input)).toBe(f.canonical);
    for (const f of V.fingerprints.invalid) expect(canonicalFingerprint(f)).toBe(null);
    for (const m of V.messages.valid) expect(encodePakeMsg(decodePakeMsg(m.text))).toBe(m.canonical);
    for (const m of V.messages.invalid) {
      let problem = 'accepted';
      try {
        decodePakeMsg(m.text);
      } catch (e) {
        problem = e instanceof PakeMsgError ? e.problem : String(e);
      }
      expect({ text: m.text, problem }).toEqual({ text: m.text, problem: m.problem });
    }
  });

  it('session runs: the honest ones end done with the same code, every other one fails', () => {
    const runs = V.sessionRuns;
    expect(runs[0].steps.at(-1).state).toBe('done');
    expect(runs[1].steps.at(-1).state).toBe('done');
    expect(runs[0].sas).toBe(V.session.sas);
    expect(runs[1].sas).toBe(V.session.sas);
    // the opener speaks first, the acceptor only answers (docs/protocol.md §5.1)
    const T = V.session.messages.map((m: { text: string }) => m.text);
    expect(runs[0].initialOutputs).toEqual([T[0]]);
    expect(runs[0].steps.map((st: { outputs: string[] }) => st.outputs)).toEqual([[T[2], T[3]], []]);
    expect(runs[1].steps.map((st: { outputs: string[] }) => st.outputs)).toEqual([[T[1]], [], [T[4]]]);
    for (const r of runs) {
      if (r.role === 'answerer') expect({ name: r.name, initial: r.initialOutputs }).toEqual({ name: r.name, initial: [] });
      else expect({ name: r.name, sid: r.sid }).toEqual({ name: r.name, sid: V.session.sid });
    }
    for (const r of runs.slice(2)) {
      expect({ name: r.name, state: r.steps.at(-1).state }).toEqual({ name: r.name, state: 'failed' });
      expect(r.sas).toBe('');
    }
    // nothing is sent after a failure, and no run sends file-protocol messages
    for (const r of runs) for (const st of r.steps) if (st.state === 'failed') expect(st.outputs).toEqual([]);
  });

  it('commitment helper agrees with its definition', () => {
    const s = V.session;
    expect(hex(commitment(unhex(s.sid), unhex(s.Ya)))).toBe(s.commit);
  });
});
