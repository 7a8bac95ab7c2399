/* The receiver's merge over lanes (docs/protocol.md §5.10): each rule and bound. */
import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl, encodeData } from './codec';
import { LaneMerge } from './merge';
import { Session, type Output } from './session';
import { run, runLanes, SimPeer } from './sim';
import { MAX_HELD_DATA, ProtocolError, type FileEntry } from './types';
import { E2E_FILES, XFER } from './vectors';

const SENDER = { maxMsg: 262144, win: 16777216, msgSize: 16384, caps: ['resume'] };
const RECEIVER = { maxMsg: 262144, win: 1048576, caps: ['resume'] };
const BIG: FileEntry[] = [
  { id: 0, name: 'a.bin', dir: '', size: 100000, mime: '' },
  { id: 1, name: 'b.bin', dir: '', size: 50000, mime: '' },
];
const bigContents = () => BIG.map((f) => Uint8Array.from({ length: f.size }, (_, i) => (i * 7 + f.id) % 256));

/* A sender and a receiver with `lanes` each, hellos exchanged, the receiver's lanes open. */
function pair(lanes = 2, files = BIG, contents = bigContents(), receiver = RECEIVER) {
  const a = new SimPeer('sender', { ...SENDER, lanes });
  const b = new SimPeer('receiver', { ...receiver, lanes });
  a.setFiles(files, contents);
  a.session.open();
  b.session.open();
  run(a, b);
  for (let k = 1; k <= b.session.lanes; k++) b.session.laneOpened(k);
  return { a, b };
}

/* The sender's messages once the receiver accepted: offer delivered, accept back, everything read. */
function offered(a: SimPeer, b: SimPeer): Output[] {
  a.session.offer(XFER, [...a.sources.keys()].map((id) => BIG[id] ?? E2E_FILES[id]!));
  const [offer] = a.session.takeOutput();
  if (offer?.kind !== 'text') throw new Error('no offer');
  b.session.onText(offer.data);
  b.pump();
  for (const r of b.session.takeOutput()) a.session.onText(r.kind === 'text' ? r.data : '');
  a.pump();
  return a.session.takeOutput();
}

const dataOf = (out: Output[]) => out.filter((o) => o.kind === 'binary');
function feed(b: SimPeer, o: Output, lane = 0): void {
  if (o.kind === 'text') b.session.onText(o.data, lane);
  else b.session.onBinary(o.data, lane);
  b.pump();
}
const fatal = (b: SimPeer) => {
  b.pump();
  return b.eventsOf('fatal');
};

describe('hello.lanes (§5.10)', () => {
  it('is encoded after caps, before name and device, and left out when 0', () => {
    expect(encodeControl({ t: 'hello', v: 2, maxMsg: 65536, win: 65536, caps: ['x'], lanes: 3, name: 'n', device: 'd' })).toBe(
      '{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":["x"],"lanes":3,"name":"n","device":"d"}',
    );
    expect(encodeControl({ t: 'hello', v: 2, maxMsg: 65536, win: 65536, caps: [], lanes: 0 })).toBe('{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[]}');
    expect(decodeControl('{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":0}')).toEqual({ t: 'hello', v: 2, maxMsg: 65536, win: 65536, caps: [] });
  });
  it('above 7, or not an integer, is PROTOCOL', () => {
    for (const v of ['8', '1.5', '"2"', '-1', 'null']) {
      expect(() => decodeControl(`{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":${v}}`), v).toThrow(ProtocolError);
    }
  });
  it('L is the smaller of the two; a peer without lanes gives 0', () => {
    expect(pair(3).a.session.lanes).toBe(3);
    const a = new SimPeer('a', { ...SENDER, lanes: 5 });
    const b = new SimPeer('b', { ...RECEIVER, lanes: 2 });
    const c = new SimPeer('c', RECEIVER);
    a.session.open();
    b.session.open();
    run(a, b);
    expect([a.session.lanes, b.session.lanes]).toEqual([2, 2]);
    const a2 = new SimPeer('a', { ...SENDER, lanes: 5 });
    a2.session.open();
    c.session.open();
    run(a2, c);
    expect([a2.session.lanes, c.session.lanes]).toEqual([0, 0]);
    expect(() => new Session({ lanes: 16 })).toThrow(RangeError);
  });

  it('moreLanes (§5.10): above 7 as lanes 7 and moreLanes; an older peer sees 7', () => {
    const a = new SimPeer('a', { ...SENDER, lanes: 15 });
    const b = new SimPeer('b', { ...RECEIVER, lanes: 12 });
    a.session.open();
    b.session.open();
    run(a, b);
    expect([a.session.lanes, b.session.lanes]).toEqual([12, 12]);
    // what an endpoint before moreLanes reads: lanes 7, the unknown member ignored
    const hello = decodeControl(encodeControl({ t: 'hello', v: 2, maxMsg: 65536, win: 65536, caps: [], lanes: 7, moreLanes: 15 }));
    expect(hello).toMatchObject({ lanes: 7, moreLanes: 15 });
    const older = new SimPeer('c', { ...RECEIVER, lanes: 7 });
    const a2 = new SimPeer('a', { ...SENDER, lanes: 15 });
    a2.session.open();
    older.session.open();
    run(a2, older);
    expect([a2.session.lanes, older.session.lanes]).toEqual([7, 7]);
  });
});

describe('the merge (§5.10)', () => {
  it('stores every file intact when DATA come out of order across lanes', () => {
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0]]) {
      const { a, b } = pair(2);
      a.session.offer(XFER, BIG);
      // round robin over three channels, delivered starting with the lanes
      const laneOf = Array.from({ length: 20 }, (_, i) => i % 3);
      runLanes(a, b, { laneOf, schedule: Array.from({ length: 60 }, (_, i) => order[i % 3]!) });
      expect(fatal(b)).toEqual([]);
      expect(fatal(a)).toEqual([]);
      expect(b.file(0)).toEqual(bigContents()[0]);
      expect(b.file(1)).toEqual(bigContents()[1]);
      expect(a.eventsOf('transfer-done')).toHaveLength(1);
    }
  });

  it("holds the last DATA of a file that came on a lane before the file's first, and the next file's DATA before its start", () => {
    const { a, b } = pair(1);
    const out = offered(a, b);
    const data = dataOf(out);
    const first = data[0]!;
    const lastOf0 = data.find((d, i) => d.file === 0 && data[i + 1]?.file !== 0)!;
    const firstOf1 = data.find((d) => d.file === 1)!;
    feed(b, out[0]!); // start 0
    feed(b, firstOf1, 1); // file 1 before its start: held on lane 1
    expect(b.eventsOf('write')).toHaveLength(0);
    expect(fatal(b)).toEqual([]);
    // the rest of file 0, its last DATA on lane 1 would be behind firstOf1: send it on 0, in order
    for (const d of data.filter((d) => d.file === 0)) feed(b, d, 0);
    expect(b.file(0)).toEqual(bigContents()[0]);
    expect(lastOf0).not.toBe(first);
    for (const o of out.filter((o) => o.kind === 'text').slice(1)) feed(b, o, 0); // end 0, start 1, end 1
    for (const d of data.filter((d) => d.file === 1 && d !== firstOf1)) feed(b, d, 0);
    expect(fatal(b)).toEqual([]);
    expect(b.file(1)).toEqual(bigContents()[1]);
    expect(b.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true]);
  });

  it('holds an end that comes before its bytes, with every control message after it, and handles them in order', () => {
    const { a, b } = pair(1);
    const out = offered(a, b);
    const texts = out.filter((o) => o.kind === 'text'); // start 0, end 0, start 1, end 1
    const data = dataOf(out);
    feed(b, texts[0]!);
    const [last, ...rest] = [data.filter((d) => d.file === 0).at(-1)!, ...data.filter((d) => d.file === 0).slice(0, -1)];
    for (const d of rest) feed(b, d, 0);
    feed(b, texts[1]!); // end 0 before the last byte: held
    feed(b, texts[2]!); // start 1: held behind it
    expect(b.eventsOf('open').map((e) => e.file)).toEqual([0]);
    expect(b.eventsOf('file-done')).toHaveLength(0);
    feed(b, last, 1); // the bytes: end 0 and start 1 go, in order
    expect(b.eventsOf('open').map((e) => e.file)).toEqual([0, 1]);
    expect(b.eventsOf('file-done').map((e) => [e.file, e.ok])).toEqual([[0, true]]);
    expect(fatal(b)).toEqual([]);
  });

  it('acknowledges only bytes handled, not held ones', () => {
    const { a, b } = pair(1);
    const out = offered(a, b);
    const data = dataOf(out);
    feed(b, out[0]!);
    for (const d of data.slice(1).filter((d) => d.file === 0)) feed(b, d, 1); // all but the first: held
    const acks = () => b.session.takeOutput().filter((o) => o.kind === 'text' && o.data.includes('"ack"'));
    expect(acks()).toEqual([]);
    feed(b, data[0]!, 0);
    expect(acks().length).toBeGreaterThan(0);
    expect(b.file(0)).toEqual(bigContents()[0]);
  });

  it('is PROTOCOL when every open channel holds DATA that is not the next one while the file expects bytes', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    const data = dataOf(out);
    feed(b, out[0]!);
    feed(b, data[1]!, 0);
    feed(b, data[2]!, 1);
    expect(fatal(b)).toEqual([]); // lane 2 may still bring data[0]
    feed(b, data[3]!, 2);
    expect(fatal(b).map((e) => e.code)).toEqual(['PROTOCOL']);
  });

  it('DATA on a lane that has not opened is PROTOCOL', () => {
    const a = new SimPeer('sender', { ...SENDER, lanes: 2 });
    const b = new SimPeer('receiver', { ...RECEIVER, lanes: 2 });
    a.setFiles(BIG, bigContents());
    a.session.open();
    b.session.open();
    run(a, b);
    b.session.laneOpened(1); // lane 2 never opens
    const out = offered(a, b);
    const data = dataOf(out);
    feed(b, out[0]!);
    expect(() => b.session.onBinary(data[0]!.data, 2)).not.toThrow();
    expect(fatal(b).map((e) => e.code)).toEqual(['PROTOCOL']); // data on a lane not open
  });

  it('with one channel open, a DATA that is not next is PROTOCOL at once; with L = 0 as before lanes', () => {
    const { a, b } = pair(1);
    const out = offered(a, b);
    feed(b, out[0]!);
    feed(b, dataOf(out)[1]!, 1);
    expect(fatal(b)).toEqual([]);
    feed(b, dataOf(out)[2]!, 0);
    expect(fatal(b).map((e) => e.code)).toEqual(['PROTOCOL']);

    const c = pair(0);
    const out0 = offered(c.a, c.b);
    feed(c.b, out0[0]!);
    feed(c.b, dataOf(out0)[0]!, 1);
    expect(fatal(c.b).map((e) => [e.code, e.message])).toEqual([['PROTOCOL', 'data on lane 1, none agreed']]);
  });

  it('a control message on a lane is PROTOCOL', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    feed(b, out[0]!, 1);
    expect(fatal(b).map((e) => e.code)).toEqual(['PROTOCOL']);
  });

  it('DATA of bytes already handled, beyond the file, or for a file not accepted is PROTOCOL at once', () => {
    for (const bad of [encodeData(0, 0, new Uint8Array(5)), encodeData(0, 99999, new Uint8Array(5)), encodeData(5, 0, new Uint8Array(5))]) {
      const { a, b } = pair(2);
      const out = offered(a, b);
      feed(b, out[0]!);
      feed(b, dataOf(out)[0]!, 0);
      b.session.onBinary(bad, 1);
      expect(fatal(b).map((e) => e.code)).toEqual(['PROTOCOL']);
    }
  });

  it(`bounds held DATA by the receiver's own win (payload bytes)`, () => {
    const huge: FileEntry[] = [{ id: 0, name: 'h', dir: '', size: 4 * 1048576, mime: '' }];
    const x = new SimPeer('sender', { ...SENDER, lanes: 2 });
    const y = new SimPeer('receiver', { ...RECEIVER, lanes: 2 });
    x.setFiles(huge, [new Uint8Array(4 * 1048576)]);
    x.session.open();
    y.session.open();
    run(x, y);
    y.session.laneOpened(1);
    y.session.laneOpened(2);
    x.session.offer(XFER, huge);
    const [offer] = x.session.takeOutput();
    y.session.onText((offer as { data: string }).data);
    y.pump();
    y.session.onText(encodeControl({ t: 'start', xfer: XFER, file: 0, offset: 0 }));
    y.pump();
    // not next (byte 0 has not come): held on lane 1, 16 × 64 KiB = win (1 MiB) is allowed
    const chunk = new Uint8Array(65536);
    let off = 65536;
    for (let n = 0; n < 16; n++, off += 65536) y.session.onBinary(encodeData(0, off, chunk), 1);
    expect(fatal(y)).toEqual([]);
    y.session.onBinary(encodeData(0, off, new Uint8Array(1)), 1);
    expect(fatal(y).map((e) => [e.code, e.message])).toEqual([['PROTOCOL', 'messages held out of order exceed the window']]);
  });

  it(`bounds held DATA at ${MAX_HELD_DATA} messages`, () => {
    const m = new LaneMerge(1, 1 << 30);
    const view = { fate: () => 'wait' as const, expectsBytes: () => false, nextKey: () => null };
    for (let i = 0; i < MAX_HELD_DATA; i++) m.hold(1, { file: 1, offset: i, tag: 0, bytes: new Uint8Array(1) });
    expect(m.held).toBe(MAX_HELD_DATA);
    expect(m.take(view)).toBeNull();
    expect(() => m.hold(0, { file: 1, offset: 0, tag: 0, bytes: new Uint8Array(1) })).toThrow(/more than 16384/);
  });

  it('drops held DATA at the head of its queue after a cancel, and of a file failed by a write error', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    const data = dataOf(out);
    feed(b, out[0]!);
    feed(b, data[2]!, 1);
    feed(b, data[3]!, 2);
    b.session.writeFailed(XFER, 0, 'disk full');
    b.pump();
    expect(fatal(b)).toEqual([]);
    expect(b.session.takeOutput().map((o) => (o.kind === 'text' ? JSON.parse(o.data).code : 'data'))).toContain('WRITE_ERROR');
    // file 0's DATA still in flight on any lane: dropped
    feed(b, data[1]!, 0);
    feed(b, data[4]!, 1);
    expect(fatal(b)).toEqual([]);
    // its end, then file 1 as usual
    for (const o of out.filter((o) => o.kind === 'text').slice(1)) feed(b, o, 0);
    for (const d of data.filter((d) => d.file === 1)) feed(b, d, 0);
    expect(fatal(b)).toEqual([]);
    expect(b.file(1)).toEqual(bigContents()[1]);

    const c = pair(2);
    const out2 = offered(c.a, c.b);
    feed(c.b, out2[0]!);
    feed(c.b, dataOf(out2)[3]!, 1);
    c.b.session.cancel(XFER);
    feed(c.b, dataOf(out2)[0]!, 2);
    feed(c.b, dataOf(out2)[4]!, 1);
    expect(fatal(c.b)).toEqual([]);
    expect(c.b.eventsOf('cancelled')).toHaveLength(1);
  });

  it('after the peer cancels, its DATA still on a lane are dropped', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    feed(b, out[0]!);
    b.session.onText(encodeControl({ t: 'cancel', xfer: XFER }));
    feed(b, dataOf(out)[1]!, 1);
    feed(b, dataOf(out)[0]!, 2);
    expect(fatal(b)).toEqual([]);
  });

  it('counts the control messages held behind an end in the same bounds: messages', () => {
    const { a, b } = pair(1);
    const out = offered(a, b);
    feed(b, out[0]!);
    b.session.onText(encodeControl({ t: 'end', xfer: XFER, file: 0, sha256: '0'.repeat(64) })); // before the bytes: held
    b.session.onBinary(dataOf(out)[1]!.data, 1); // and one DATA held
    const filler = encodeControl({ t: 'cancel', xfer: 'f'.repeat(32) });
    for (let i = 2; i < MAX_HELD_DATA; i++) b.session.onText(filler);
    expect(fatal(b)).toEqual([]);
    b.session.onText(filler);
    expect(fatal(b).map((e) => e.message)).toEqual([`more than ${MAX_HELD_DATA} messages held out of order`]);
  });

  it('counts the control messages held behind an end in the same bounds: bytes (their whole length)', () => {
    const { a, b } = pair(1, BIG, bigContents(), { ...RECEIVER, win: 262144 });
    const out = offered(a, b);
    feed(b, out[0]!);
    const end = encodeControl({ t: 'end', xfer: XFER, file: 0, sha256: '0'.repeat(64) });
    b.session.onText(end);
    const filler = encodeControl({ t: 'error', code: 'INTERNAL', message: 'x'.repeat(1000), xfer: 'f'.repeat(32) });
    let held = end.length;
    for (; held + filler.length <= 262144; held += filler.length) b.session.onText(filler);
    expect(fatal(b)).toEqual([]);
    b.session.onText(filler);
    expect(fatal(b).map((e) => e.message)).toEqual(['messages held out of order exceed the window']);
  });
});
