/* ChannelDriver with its authentication gate, over a pair of in-memory
 * data channels: the transfer session sees nothing before the PAKE is
 * done, and a peer that skips it (protocol 1's hello first, an offer, file
 * data, silence after our tag) is refused with AUTH_FAILED and the channel
 * closed; silence or a close before our tag went out is a drop. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import V from '../crypto/auth-vectors.json';
import { unhex } from '../crypto/bytes';
import { AUTH_FAILED_TEXT } from '../crypto/gate';
import type { PakeConfig } from '../crypto/session';
import { encodeControl, encodeData } from '../protocol/codec';
import { IncomingTransfer } from '../protocol/session';
import { AUTH_DEADLINE_MS, type FileEntry } from '../protocol/types';
import { ChannelDriver, type ChannelHost } from './channel';
import type { Sink } from './sinks';

/** Just enough of RTCDataChannel: send() delivers to the other end in a later task, in order. */
class FakeChannel {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  other: FakeChannel | null = null;
  sent: (string | Uint8Array)[] = [];
  /** A stalled channel (§5.11): what is sent waits here, counted in bufferedAmount, until unstuck. */
  stuck: (string | Uint8Array)[] | null = null;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: Event) => void) | null = null;
  onbufferedamountlow: ((e: Event) => void) | null = null;

  send(data: string | Uint8Array): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError');
    const copy = typeof data === 'string' ? data : data.slice();
    this.sent.push(copy);
    if (this.stuck) {
      this.stuck.push(copy);
      this.bufferedAmount += copy.length;
      return;
    }
    this.deliver(copy);
  }
  /** A stalled channel sends its queue at last. */
  unstick(): void {
    const q = this.stuck ?? [];
    this.stuck = null;
    this.bufferedAmount -= q.reduce((n, m) => n + m.length, 0);
    for (const m of q) this.deliver(m);
  }
  private deliver(copy: string | Uint8Array): void {
    const to = this.other;
    this.bufferedAmount += copy.length; // queued until the task that delivers it
    setTimeout(() => {
      this.bufferedAmount -= copy.length;
      if (to?.readyState !== 'open') return;
      const payload = typeof copy === 'string' ? copy : copy.buffer;
      to.onmessage?.({ data: payload } as MessageEvent);
    }, 0);
  }
  open(): void {
    this.readyState = 'open';
    this.onopen?.(new Event('open'));
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    setTimeout(() => this.onclose?.(new Event('close')), 0);
    this.other?.close();
  }
}

function pair(): [FakeChannel, FakeChannel] {
  const a = new FakeChannel();
  const b = new FakeChannel();
  a.other = b;
  b.other = a;
  return [a, b];
}

const S = V.session;
const base = {
  prs: unhex(S.prs), room: S.room, offererId: S.offererId, answererId: S.answererId,
  fpOfferer: S.fingerprintOfferer, fpAnswerer: S.fingerprintAnswerer,
};
const OFFERER: PakeConfig = { ...base, role: 'offerer' };
const ANSWERER: PakeConfig = { ...base, role: 'answerer' };
const HELLO_V1 = encodeControl({ t: 'hello', v: 1, maxMsg: 65536, win: 16777216, caps: ['resume'] });

function recorder() {
  const log: string[] = [];
  const host: ChannelHost = {
    onEvent: (_d, e) => log.push(`event ${e.type}`),
    onReady: () => log.push('ready'),
    onClosed: () => log.push('closed'),
    onAuth: (_d, sas) => log.push(`auth ${sas}`),
    onAuthFailed: () => log.push('auth-failed'),
    source: () => null,
    sink: () => null,
  };
  return { log, host };
}

const settle = async (ms = 50) => {
  for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(ms / 20);
};

afterEach(() => {
  vi.useRealTimers();
});

describe('ChannelDriver authentication', () => {
  it('two drivers authenticate, show the same code, then say hello (opener first)', async () => {
    vi.useFakeTimers();
    const [ca, cb] = pair();
    const A = recorder(), B = recorder();
    const da = new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER);
    const db = new ChannelDriver('a', cb as unknown as RTCDataChannel, () => 65536, B.host, false, () => ANSWERER);
    ca.open();
    cb.open();
    await settle();
    expect(A.log).toEqual([expect.stringMatching(/^auth \d{6}$/), 'ready']);
    expect(B.log).toEqual([A.log[0], 'ready']); // the same code
    const types = (c: FakeChannel) => c.sent.map((m) => (typeof m === 'string' ? JSON.parse(m).t : 'binary'));
    expect(types(ca)).toEqual(['pake-start', 'pake-share', 'pake-confirm', 'hello']);
    expect(types(cb)).toEqual(['pake-share', 'pake-confirm', 'hello']);
    expect(JSON.parse(ca.sent[3] as string).v).toBe(2);
    expect(da.authenticated && db.authenticated).toBe(true);
    expect(da.session.ready && db.session.ready).toBe(true);
  });

  it('an acceptor refuses a protocol-1 hello: AUTH_FAILED, closed, the session never saw it', async () => {
    vi.useFakeTimers();
    const [raw, cb] = pair();
    const B = recorder();
    const db = new ChannelDriver('a', cb as unknown as RTCDataChannel, () => 65536, B.host, false, () => ANSWERER);
    raw.open();
    cb.open();
    raw.send(HELLO_V1);
    await settle(200);
    expect(B.log).toEqual(['auth-failed', 'closed']);
    expect(cb.sent).toEqual([AUTH_FAILED_TEXT]);
    expect(cb.readyState).toBe('closed');
    expect(db.session.ready).toBe(false);
    expect(db.authenticated).toBe(false);
  });

  for (const [name, first] of [
    ['an offer', encodeControl({ t: 'offer', xfer: '0123456789abcdef0123456789abcdef', files: [{ id: 0, name: 'a', dir: '', size: 1, mime: '' }] })],
    ['file data', encodeData(0, 0, new Uint8Array(8))],
  ] as const) {
    it(`an acceptor refuses ${name} before authentication`, async () => {
      vi.useFakeTimers();
      const [raw, cb] = pair();
      const B = recorder();
      new ChannelDriver('a', cb as unknown as RTCDataChannel, () => 65536, B.host, false, () => ANSWERER);
      raw.open();
      cb.open();
      raw.send(first);
      await settle(200);
      expect(B.log).toEqual(['auth-failed', 'closed']);
      expect(cb.sent).toEqual([AUTH_FAILED_TEXT]);
      expect(cb.readyState).toBe('closed');
    });
  }

  it('an opener whose peer answers pake-start with an error (a protocol-1 acceptor) fails', async () => {
    vi.useFakeTimers();
    const [ca, raw] = pair();
    const A = recorder();
    raw.onmessage = () => raw.send(encodeControl({ t: 'error', code: 'PROTOCOL', message: 'first message must be hello' }));
    new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER);
    raw.open();
    ca.open();
    await settle(200);
    expect(A.log).toEqual(['auth-failed', 'closed']);
    expect(ca.sent.map((m) => JSON.parse(m as string).t)).toEqual(['pake-start', 'error']);
    expect(ca.sent[1]).toBe(AUTH_FAILED_TEXT);
  });

  it('a silent peer is dropped at the deadline, not before: a lost connection (to connect again), no AUTH_FAILED, no failure', async () => {
    vi.useFakeTimers();
    const [ca, raw] = pair();
    const A = recorder();
    new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER);
    raw.open();
    ca.open();
    await vi.advanceTimersByTimeAsync(AUTH_DEADLINE_MS - 10);
    expect(A.log).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(A.log).toEqual(['closed']);
    expect(ca.sent.map((m) => JSON.parse(m as string).t)).toEqual(['pake-start']);
    expect(ca.readyState).toBe('closed');
  });

  it('a peer that goes silent after our tag went out is refused at the deadline', async () => {
    vi.useFakeTimers();
    const [ca, raw] = pair();
    const A = recorder();
    const B = recorder();
    new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER);
    new ChannelDriver('a', raw as unknown as RTCDataChannel, () => 65536, B.host, false, () => ANSWERER);
    // the answerer's channel swallows what comes after its share: the offerer's share and tag never arrive
    const deliver = raw.onmessage!;
    let seen = 0;
    raw.onmessage = (e) => {
      if (seen++ < 1) deliver(e);
    };
    ca.open(); // the offerer's deadline comes first
    raw.open();
    await vi.advanceTimersByTimeAsync(AUTH_DEADLINE_MS + 500);
    expect(A.log).toEqual(['auth-failed', 'closed']);
    expect(ca.sent.map((m) => JSON.parse(m as string).t)).toEqual(['pake-start', 'pake-share', 'pake-confirm', 'error']);
    expect(ca.sent.at(-1)).toBe(AUTH_FAILED_TEXT);
    expect(B.log).toEqual(['closed']); // the answerer never sent its tag: a drop on its side
  });

  it('a config that cannot be built (no usable fingerprint) refuses the channel', async () => {
    vi.useFakeTimers();
    const [raw, cb] = pair();
    const B = recorder();
    raw.open();
    cb.open(); // already open when the driver takes it, as from ondatachannel
    new ChannelDriver('a', cb as unknown as RTCDataChannel, () => 65536, B.host, false, () => {
      throw new Error('not exactly one DTLS fingerprint in an SDP');
    });
    await settle(200);
    expect(B.log).toEqual(['auth-failed', 'closed']);
    expect(cb.sent).toEqual([AUTH_FAILED_TEXT]);
  });

  it('a channel that closes during authentication before our tag went out is a drop, reported once', async () => {
    vi.useFakeTimers();
    const [ca, raw] = pair();
    const A = recorder();
    new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER);
    raw.open();
    ca.open();
    await settle();
    raw.close();
    await settle();
    expect(A.log).toEqual(['closed']);
  });

  it('a channel that closes after our tag went out is a failure, reported once', async () => {
    vi.useFakeTimers();
    const [ca, raw] = pair();
    const A = recorder();
    new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER);
    // a peer that answers pake-start with a share of its own and then hangs up once it has our tag
    const B = recorder();
    new ChannelDriver('a', raw as unknown as RTCDataChannel, () => 65536, B.host, false, () => ANSWERER);
    const deliver = raw.onmessage!;
    raw.onmessage = (e) => {
      deliver(e);
      if (typeof e.data === 'string' && JSON.parse(e.data).t === 'pake-share') raw.close();
    };
    raw.open();
    ca.open();
    await settle(200);
    expect(ca.sent.map((m) => JSON.parse(m as string).t)).toEqual(['pake-start', 'pake-share', 'pake-confirm']);
    expect(A.log).toEqual(['auth-failed', 'closed']);
  });
});

/* Two authenticated drivers with `lanes` lanes over fake channels, a file
 * to send from A to B, B accepting it into memory (docs/protocol.md §5.10, §5.11). */
async function lanePair(lanes: number, size: number) {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 16)) % 251;
  const files: FileEntry[] = [{ id: 0, name: 'lanes.bin', dir: '', size, mime: '' }];
  const stored: Uint8Array[] = [];
  const sink = {
    kind: 'memory',
    saved: [],
    where: 'memory',
    open: async (_file: number, offset: number) => void stored.splice(0, stored.length, ...(offset === 0 ? [] : stored)),
    write: async (_file: number, bytes: Uint8Array) => void stored.push(bytes.slice()),
    close: async () => {},
  } as unknown as Sink;
  const A = recorder();
  const B = recorder();
  A.host.source = () => [new File([data], 'lanes.bin')];
  let db: ChannelDriver | null = null;
  B.host.sink = () => sink;
  B.host.onEvent = (_d, e) => {
    B.log.push(`event ${e.type}`);
    if (e.type === 'offer') queueMicrotask(() => db!.accept(new IncomingTransfer(e.xfer, e.files)));
  };
  const [ca, cb] = pair();
  const da = new ChannelDriver('b', ca as unknown as RTCDataChannel, () => 65536, A.host, true, () => OFFERER, { lanes });
  db = new ChannelDriver('a', cb as unknown as RTCDataChannel, () => 65536, B.host, false, () => ANSWERER, { lanes });
  ca.open();
  cb.open();
  await settle();
  const laneChans: [FakeChannel, FakeChannel][] = [];
  const lost: string[] = [];
  for (let k = 1; k <= lanes; k++) {
    const [la, lb] = pair();
    laneChans[k] = [la, lb];
    da.addLane(k, la as unknown as RTCDataChannel, () => lost.push(`A ${k}`));
    db.addLane(k, lb as unknown as RTCDataChannel, () => lost.push(`B ${k}`));
    la.open();
    lb.open();
  }
  await settle();
  const received = () => {
    const all = new Uint8Array(stored.reduce((n, b) => n + b.length, 0));
    let p = 0;
    for (const b of stored) {
      all.set(b, p);
      p += b.length;
    }
    return all;
  };
  return { da, db: db!, A, B, data, files, laneChans, lost, received };
}

/* Fake time in 10 ms steps, with a real turn of the event loop between
 * them (the file reads and WebCrypto digests are real I/O), until `done`
 * holds or `ms` of fake time have passed. */
const realTimeout = globalThis.setTimeout; // taken before any test fakes it
async function until(done: () => boolean, ms: number): Promise<void> {
  for (let t = 0; t < ms && !done(); t += 10) {
    await vi.advanceTimersByTimeAsync(10);
    await new Promise((r) => realTimeout(r, 5));
  }
}
const FAKE: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] };

describe('ChannelDriver lane-resend (docs/protocol.md §5.11)', () => {
  it("a lane that stops draining has its unacknowledged DATA sent on the others, gets no more, and the transfer completes; its late delivery is dropped", async () => {
    vi.useFakeTimers(FAKE);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { da, db, A, B, data, files, laneChans, received } = await lanePair(2, 3_000_000);
    expect(da.session.laneResend && db.session.laneResend).toBe(true);
    expect(da.openLanes).toBe(2);
    const [stuck] = laneChans[1]!;
    stuck.stuck = [];
    da.offer('0123456789abcdef0123456789abcdef', files);
    // every message is sent (4 of them on lane 1, at its floor) and the others delivered
    await until(() => laneChans[2]![0].bufferedAmount === 0 && da.laneData.reduce((a, b) => a + b) === 46, 900);
    expect(B.log).not.toContain('event transfer-done'); // the merge waits for lane 1's messages
    expect(da.resent.events).toBe(0);
    const onStuck = stuck.stuck.length;
    expect(onStuck).toBeGreaterThan(0);
    await until(() => A.log.includes('event transfer-done'), 5000); // past STALL_MS
    expect(B.log.filter((l) => l === 'event transfer-done')).toHaveLength(1);
    expect(A.log.filter((l) => l === 'event transfer-done')).toHaveLength(1);
    expect(Buffer.compare(received(), data)).toBe(0); // (toEqual on 3 MB takes seconds)
    expect(da.resent.events).toBe(1);
    expect(da.resent.messages).toBe(onStuck);
    expect(stuck.stuck.length).toBe(onStuck); // no new DATA for the stalled lane
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^peerdrop: lane 1 stalled: sending its \d+ unacknowledged data messages \(\d+ bytes\) again on the other channels$/)]);
    stuck.unstick(); // the first copies arrive at last: dropped
    await until(() => false, 200);
    expect(db.session.isClosed || da.session.isClosed).toBe(false);
    expect(B.log.filter((l) => l.startsWith('event fatal') || l === 'closed')).toEqual([]);
    warn.mockRestore();
  });

  it("a closed lane's DATA is sent again and the transfer completes in the same session", async () => {
    vi.useFakeTimers(FAKE);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { da, db, A, B, data, files, laneChans, lost, received } = await lanePair(2, 3_000_000);
    const [gone] = laneChans[2]!;
    gone.stuck = []; // what it holds never arrives
    da.offer('0123456789abcdef0123456789abcdef', files);
    await until(() => gone.stuck!.length > 0, 500);
    expect(gone.stuck.length).toBeGreaterThan(0);
    gone.close();
    await until(() => A.log.includes('event transfer-done'), 5000);
    expect(lost.sort()).toEqual(['A 2', 'B 2']);
    expect(da.loseLane(2) && db.loseLane(2)).toBe(true); // the session goes on (what members.ts asks)
    expect(da.openLanes).toBe(1);
    expect(B.log.filter((l) => l === 'event transfer-done')).toHaveLength(1);
    expect(A.log.filter((l) => l === 'event transfer-done')).toHaveLength(1);
    expect(Buffer.compare(received(), data)).toBe(0); // (toEqual on 3 MB takes seconds)
    expect(da.resent.messages).toBeGreaterThan(0);
    expect([...A.log, ...B.log].filter((l) => l === 'closed' || l.startsWith('event fatal'))).toEqual([]);
    expect(da.session.isClosed || db.session.isClosed).toBe(false);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^peerdrop: lane 2 closed: sending its \d+ unacknowledged/)]);
    warn.mockRestore();
  });
});
