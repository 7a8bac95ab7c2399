/* Re-sending a lane's data (docs/protocol.md §5.11, cap `lane-resend`): the
 * transfer's tag on both sides, the keyed merge that takes a copy from
 * behind newer data, each drop rule, the bounds, a lost lane, the sender's
 * bookkeeping; and that without the cap nothing changes. */
import { describe, expect, it } from 'vitest';
import { decodeData, encodeControl, encodeData } from './codec';
import { DataOutput, type Output } from './session';
import { run, SimPeer } from './sim';
import { CAP_LANE_RESEND, MAX_HELD_DATA, type FileEntry } from './types';
import { XFER } from './vectors';

const CAPS = ['resume', CAP_LANE_RESEND];
const SENDER = { maxMsg: 262144, win: 16777216, msgSize: 16384, caps: CAPS };
const RECEIVER = { maxMsg: 262144, win: 1048576, caps: CAPS };
const XFER2 = 'fedcba9876543210fedcba9876543210';
const FILES: FileEntry[] = [
  { id: 0, name: 'a.bin', dir: '', size: 100000, mime: '' },
  { id: 1, name: 'b.bin', dir: '', size: 50000, mime: '' },
];
const contents = () => FILES.map((f) => Uint8Array.from({ length: f.size }, (_, i) => (i * 7 + f.id) % 256));

/* Sender and receiver with `lanes` each, hellos exchanged, the receiver's lanes open. */
function pair(lanes = 2, sender: object = SENDER, receiver: object = RECEIVER) {
  const a = new SimPeer('sender', { ...sender, lanes });
  const b = new SimPeer('receiver', { ...receiver, lanes });
  a.setFiles(FILES, contents());
  a.session.open();
  b.session.open();
  run(a, b);
  for (let k = 1; k <= b.session.lanes; k++) b.session.laneOpened(k);
  return { a, b };
}

/* Offers `files` as `xfer`; the receiver answers (accept or decline), the
 * answer goes back; returns what the sender output then (start, DATA, end …). */
function offer(a: SimPeer, b: SimPeer, xfer = XFER, files = FILES): Output[] {
  a.session.offer(xfer, files);
  for (const o of a.session.takeOutput()) b.session.onText((o as { data: string }).data);
  b.pump();
  for (const r of b.session.takeOutput()) a.session.onText(r.kind === 'text' ? r.data : '');
  a.pump();
  return a.session.takeOutput();
}

const dataOf = (out: Output[]) => out.filter((o): o is DataOutput => o.kind === 'binary');
const textsOf = (out: Output[]) => out.filter((o) => o.kind === 'text');
function feed(b: SimPeer, o: Output, lane = 0): void {
  if (o.kind === 'text') b.session.onText(o.data, lane);
  else b.session.onBinary(o.data, lane);
  b.pump();
}
const fatal = (b: SimPeer) => {
  b.pump();
  return b.eventsOf('fatal').map((e) => [e.code, e.message]);
};
const writes = (b: SimPeer) => b.eventsOf('write').map((e) => [e.file, e.offset]);

describe('lane-resend: negotiation and the tag (§5.11)', () => {
  it('is agreed when both hellos list it and L > 0; the app lists it after text', () => {
    expect(pair(2).a.session.laneResend).toBe(true);
    expect(pair(2).b.session.laneResend).toBe(true);
    expect(pair(0).a.session.laneResend).toBe(false);
    expect(pair(2, SENDER, { ...RECEIVER, caps: ['resume'] }).a.session.laneResend).toBe(false);
    const def = new SimPeer('default', {});
    def.session.open();
    const hello = JSON.parse((def.session.takeOutput()[0] as { data: string }).data);
    expect(hello.caps).toEqual(['resume', 'sha256-blocks', 'text', 'lane-resend']);
  });

  it('DATA carries the number of offers the sender sent before its transfer; the receiver counts the same, declined offers too', () => {
    const { a, b } = pair(2);
    b.autoAccept = false;
    offer(a, b, XFER); // offer 0: the receiver's user has not answered …
    b.session.decline(); // … and declines it
    for (const r of b.session.takeOutput()) a.session.onText((r as { data: string }).data);
    a.pump();
    expect(a.eventsOf('declined')).toHaveLength(1);
    b.autoAccept = true;
    const out = offer(a, b, XFER2); // offer 1
    const data = dataOf(out);
    expect(data.length).toBeGreaterThan(0);
    expect(new Set(data.map((d) => decodeData(d.data).tag))).toEqual(new Set([1]));
    for (const o of out) feed(b, o);
    expect(fatal(b)).toEqual([]);
    expect(b.file(0)).toEqual(contents()[0]);
    expect(b.file(1)).toEqual(contents()[1]);
  });

  it('without the cap DATA has tag 0, a nonzero tag is PROTOCOL, and a lost lane ends the session', () => {
    const { a, b } = pair(2, { ...SENDER, caps: ['resume'] }, { ...RECEIVER, caps: ['resume'] });
    expect(a.session.laneResend || b.session.laneResend).toBe(false);
    const out = offer(a, b);
    expect(dataOf(out).every((d) => decodeData(d.data).tag === 0)).toBe(true);
    expect(a.session.unacked(dataOf(out)[0]!)).toBe(false); // nothing to keep
    expect(b.session.laneClosed(1)).toBe(false);
    feed(b, out[0]!);
    b.session.onBinary(encodeData(0, 0, new Uint8Array(5), undefined, undefined, 1), 0);
    expect(fatal(b)).toEqual([['PROTOCOL', 'data with a tag, lane-resend not agreed']]);
  });
});

describe('lane-resend: the keyed merge (§5.11)', () => {
  it('takes a copy that arrives behind newer data on another channel, and drops the first copy when it comes at last', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    const data = dataOf(out);
    const texts = textsOf(out);
    feed(b, texts[0]!); // start 0
    // data[0] went on lane 1, which stalls; everything else comes on 0 and 2
    for (let i = 1; i < data.length; i++) feed(b, data[i]!, i % 2 === 0 ? 0 : 2);
    for (const t of texts.slice(1)) feed(b, t, 0); // end 0, start 1, end 1: held behind the end
    expect(writes(b)).toEqual([]);
    expect(fatal(b)).toEqual([]); // every open channel held a non-next DATA: not PROTOCOL under the cap
    feed(b, data[0]!, 2); // the copy, behind what lane 2 had queued
    expect(b.file(0)).toEqual(contents()[0]);
    expect(b.file(1)).toEqual(contents()[1]);
    feed(b, data[0]!, 1); // the stalled first copy, delivered at last: dropped
    expect(fatal(b)).toEqual([]);
    expect(b.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true]);
  });

  it('drops a second copy of held data, and refuses one of another length', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    const data = dataOf(out);
    feed(b, out[0]!);
    feed(b, data[2]!, 1);
    feed(b, data[2]!, 2); // the same, again: dropped, not held twice
    feed(b, data[1]!, 0);
    feed(b, data[0]!, 0);
    expect(fatal(b)).toEqual([]);
    expect(writes(b)).toEqual([[0, 0], [0, 16368], [0, 32736]]);
    feed(b, data[4]!, 1);
    const d4 = decodeData(data[4]!.data);
    b.session.onBinary(encodeData(0, d4.offset, d4.bytes.subarray(1), undefined, undefined, d4.tag), 2);
    expect(fatal(b)).toEqual([['PROTOCOL', 'a copy of held data differs in length']]);
  });

  it('drops copies of bytes already handled and of a file done with; PROTOCOL for a partial overlap, bytes beyond the file, a file not accepted', () => {
    const drop = (mk: (b: SimPeer, out: Output[]) => Uint8Array) => {
      const { a, b } = pair(2);
      const out = offered(a, b);
      feed(b, out[0]!);
      for (const d of dataOf(out).slice(0, 3)) feed(b, d, 0);
      b.session.onBinary(mk(b, out), 1);
      return fatal(b);
    };
    const tagged = (file: number, offset: number, n: number) => encodeData(file, offset, new Uint8Array(n), undefined, undefined, 0);
    expect(drop((_b, out) => dataOf(out)[1]!.data)).toEqual([]); // handled already
    expect(drop(() => tagged(0, 16368, 100))).toEqual([]); // inside handled bytes: a copy of nothing sent, still all handled
    expect(drop(() => tagged(0, 40000, 16368))).toEqual([['PROTOCOL', 'data overlaps bytes already handled']]);
    expect(drop(() => tagged(0, 99999, 5))).toEqual([['PROTOCOL', 'data beyond file size']]);
    expect(drop(() => tagged(5, 0, 5))).toEqual([['PROTOCOL', 'data for a file not accepted']]);

    // file 0 done: its copies are dropped while file 1 is received
    const { a, b } = pair(2);
    const out = offered(a, b);
    for (const o of out.filter((o) => o.kind === 'text' || o.file === 0)) feed(b, o);
    feed(b, textsOf(out)[2]!); // start 1
    feed(b, dataOf(out)[0]!, 1);
    feed(b, dataOf(out).at(-1)!, 2); // file 1's last: held
    expect(fatal(b)).toEqual([]);
    // a file left out of accept is PROTOCOL, whatever its tag
    const c = pair(2);
    c.b.acceptIds = [1];
    const out2 = offer(c.a, c.b);
    feed(c.b, out2[0]!);
    c.b.session.onBinary(tagged(0, 0, 5), 1);
    expect(fatal(c.b)).toEqual([['PROTOCOL', 'data for a file not accepted']]);
  });

  it('drops data whose tag is not the incoming transfer\'s: none active, or an earlier transfer after the next one started', () => {
    const { a, b } = pair(2);
    const out1 = offered(a, b);
    for (const o of out1) feed(b, o);
    for (const r of b.session.takeOutput()) a.session.onText((r as { data: string }).data);
    a.pump();
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
    const stale = dataOf(out1)[0]!;
    feed(b, stale, 1); // none being received
    expect(fatal(b)).toEqual([]);
    const out2 = offer(a, b, XFER2);
    expect(decodeData(dataOf(out2)[0]!.data).tag).toBe(1);
    feed(b, out2[0]!); // start 0 of transfer 1
    feed(b, stale, 1); // transfer 0's file 0 at offset 0: the next byte by (file, offset), but not its transfer
    expect(writes(b).filter(([, off]) => off === 0)).toHaveLength(2); // file 0 and 1 of transfer 0 only
    for (const o of out2.slice(1)) feed(b, o, o.kind === 'text' ? 0 : 2);
    expect(fatal(b)).toEqual([]);
    expect(b.eventsOf('transfer-done')).toHaveLength(2);
  });

  it('keeps the bounds: held payload up to the own win, a copy counted once', () => {
    const huge: FileEntry[] = [{ id: 0, name: 'h', dir: '', size: 4 * 1048576, mime: '' }];
    const { a, b } = pair(2);
    a.setFiles(huge, [new Uint8Array(4 * 1048576)]);
    offer(a, b, XFER, huge);
    b.session.onText(encodeControl({ t: 'start', xfer: XFER, file: 0, offset: 0 }));
    const chunk = new Uint8Array(65536);
    let off = 65536;
    for (let n = 0; n < 16; n++, off += 65536) {
      b.session.onBinary(encodeData(0, off, chunk), 1);
      b.session.onBinary(encodeData(0, off, chunk), 2); // its copy: dropped, not counted
    }
    expect(fatal(b)).toEqual([]);
    b.session.onBinary(encodeData(0, off, new Uint8Array(1)), 1);
    expect(fatal(b)).toEqual([['PROTOCOL', 'messages held out of order exceed the window']]);
  });

  it(`keeps the bounds: at most ${MAX_HELD_DATA} messages held`, () => {
    const huge: FileEntry[] = [{ id: 0, name: 'h', dir: '', size: 2 * MAX_HELD_DATA + 10, mime: '' }];
    const { a, b } = pair(2, SENDER, { ...RECEIVER, win: 16777216 });
    a.setFiles(huge, [new Uint8Array(huge[0]!.size)]);
    offer(a, b, XFER, huge);
    b.session.onText(encodeControl({ t: 'start', xfer: XFER, file: 0, offset: 0 }));
    const one = new Uint8Array(1);
    for (let i = 1; i <= MAX_HELD_DATA; i++) b.session.onBinary(encodeData(0, 2 * i, one), 1 + (i % 2));
    expect(fatal(b)).toEqual([]);
    b.session.onBinary(encodeData(0, 2 * MAX_HELD_DATA + 2, one), 1);
    expect(fatal(b)).toEqual([['PROTOCOL', `more than ${MAX_HELD_DATA} messages held out of order`]]);
  });

  it('forgets the held data of a cancelled transfer and of a failed file: it never pins the bounds', () => {
    const huge: FileEntry[] = [
      { id: 0, name: 'h', dir: '', size: 4 * 1048576, mime: '' },
      { id: 1, name: 'i', dir: '', size: 4 * 1048576, mime: '' },
    ];
    const { a, b } = pair(2);
    a.setFiles(huge, [new Uint8Array(4 * 1048576), new Uint8Array(4 * 1048576)]);
    const chunk = new Uint8Array(65536);
    const holdFull = (xfer: string, tag: number, file: number) => {
      b.session.onText(encodeControl({ t: 'start', xfer, file, offset: 0 }));
      for (let off = 65536; off <= 16 * 65536; off += 65536) b.session.onBinary(encodeData(file, off, chunk, undefined, undefined, tag), 1);
    };
    offer(a, b, XFER, huge);
    holdFull(XFER, 0, 0); // a whole window held
    expect(fatal(b)).toEqual([]);
    b.session.writeFailed(XFER, 0, 'disk full'); // file 0 fails: what is held of it goes
    b.pump();
    holdFull(XFER, 0, 1); // a whole window again, of file 1
    expect(fatal(b)).toEqual([]);
    b.session.cancel(XFER); // the transfer goes, and what is held of it
    b.pump();
    a.session.onText(encodeControl({ t: 'cancel', xfer: XFER }));
    offer(a, b, XFER2, huge);
    holdFull(XFER2, 1, 0);
    expect(fatal(b)).toEqual([]);
  });
});

describe('lane-resend: a lost lane (§5.11)', () => {
  it('a lane that closes does not end the session; what it brought stays held, its data comes again on another channel', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    const data = dataOf(out);
    feed(b, out[0]!);
    feed(b, data[2]!, 1); // held, from lane 1
    feed(b, data[3]!, 1);
    expect(b.session.laneClosed(1)).toBe(true);
    expect(a.session.laneClosed(1)).toBe(true);
    // lane 1 carried data[1] too, lost with it: the sender sends it again on lane 2
    feed(b, data[0]!, 0);
    feed(b, data[1]!, 2);
    for (const o of out.slice(1)) if (o.kind === 'text' || (o !== data[0] && o !== data[1] && o !== data[2] && o !== data[3])) feed(b, o, o.kind === 'text' ? 0 : 2);
    expect(fatal(b)).toEqual([]);
    expect(b.file(0)).toEqual(contents()[0]);
    expect(b.file(1)).toEqual(contents()[1]);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
    // a lane closed is closed: data said to come on it is PROTOCOL
    b.session.onBinary(data[0]!.data, 1);
    expect(fatal(b).map(([c]) => c)).toEqual(['PROTOCOL']);
  });
});

describe('lane-resend: what the sender keeps (§5.11)', () => {
  it('a DATA message is unacknowledged until an ack covers it, its file is verified or failed, or its transfer ends', () => {
    const { a, b } = pair(2);
    const out = offered(a, b);
    const data = dataOf(out);
    expect(data.every((d) => a.session.unacked(d))).toBe(true);
    const ackFor = (file: number, bytes: number) => a.session.onText(encodeControl({ t: 'ack', xfer: XFER, file, bytes }));
    ackFor(0, 32736); // data[0] and data[1] exactly
    expect(data.map((d) => a.session.unacked(d)).slice(0, 4)).toEqual([false, false, true, true]);
    ackFor(0, 32737); // one byte of data[2]: not covered
    expect(a.session.unacked(data[2]!)).toBe(true);
    a.session.onText(encodeControl({ t: 'ack', xfer: XFER, file: 0, bytes: 100000 }));
    a.session.onText(encodeControl({ t: 'verified', xfer: XFER, file: 0 }));
    expect(data.filter((d) => d.file === 0).some((d) => a.session.unacked(d))).toBe(false);
    expect(data.filter((d) => d.file === 1).every((d) => a.session.unacked(d))).toBe(true);
    a.session.onText(encodeControl({ t: 'error', code: 'WRITE_ERROR', message: 'x', xfer: XFER, file: 1 }));
    expect(data.some((d) => a.session.unacked(d))).toBe(false);

    const c = pair(2);
    const out2 = offered(c.a, c.b);
    c.a.session.cancel(XFER);
    expect(dataOf(out2).some((d) => c.a.session.unacked(d))).toBe(false);
  });
});

/* The sender's messages once the receiver accepted (offer 0). */
function offered(a: SimPeer, b: SimPeer): Output[] {
  return offer(a, b);
}
