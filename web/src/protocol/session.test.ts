import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeControl, decodeData, encodeControl, encodeData, peerText } from './codec';
import { blockDigestHex, CAP_BLOCKS, HASH_BLOCK, sha256Bytes, type HashJob } from './digest';
import { IncomingTransfer, Session } from './session';
import { sha256Hex } from './sha256';
import { run, SimPeer, type LoggedMessage } from './sim';
import { MAX_PEER_WIN, type FileEntry } from './types';

const XFER = 'fedcba9876543210fedcba9876543210';
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex'); // compact equality

function rand(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

const FILES: [FileEntry, FileEntry, FileEntry] = [
  { id: 0, name: 'big.bin', dir: 'folder', size: 300_000, mime: 'application/octet-stream' },
  { id: 1, name: 'small.txt', dir: 'folder/sub', size: 1000, mime: 'text/plain' },
  { id: 2, name: 'empty', dir: '', size: 0, mime: '' },
];
const CONTENTS: [Uint8Array, Uint8Array, Uint8Array] = [rand(300_000, 1), rand(1000, 2), new Uint8Array(0)];
/* Plain SHA-256 digests (no 'sha256-blocks' cap) unless a test says otherwise. */
const SOPTS = { maxMsg: 262144, win: 1 << 20, msgSize: 65536, readBlock: 100_000, caps: ['resume'] };
const ROPTS = { maxMsg: 32768, win: 65536, caps: ['resume'] };

function pair(files: FileEntry[] = FILES, contents: Uint8Array[] = CONTENTS) {
  const a = new SimPeer('A', SOPTS);
  const b = new SimPeer('B', ROPTS);
  a.setFiles(files, contents);
  a.session.open();
  b.session.open();
  run(a, b);
  expect(a.session.ready && b.session.ready).toBe(true);
  return { a, b };
}

/* Flips one bit of the nth data message that reaches `p`, as if corrupted in flight. */
function corruptInFlight(p: SimPeer, nth: number) {
  const orig = p.session.onBinary.bind(p.session);
  let n = 0;
  p.session.onBinary = (msg: Uint8Array) => {
    if (n++ === nth) {
      msg = msg.slice();
      msg[100] = (msg[100] as number) ^ 1; // a data message is longer than 100 bytes
    }
    orig(msg);
  };
}

function dataBytes(log: LoggedMessage[], from: string) {
  return log.filter((m) => m.from === from && m.msg.kind === 'binary').reduce((s, m) => s + (m.msg.data as Uint8Array).length - 16, 0);
}

describe('Session', () => {
  it('transfers several files and both sides agree', () => {
    const { a, b } = pair();
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, FILES);
    run(a, b, { log });
    CONTENTS.forEach((c, i) => expect(sha256Hex(b.file(i))).toBe(sha256Hex(c)));
    expect(a.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true, true]);
    expect(b.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true, true]);
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
    // data messages never exceed the receiver's maxMsg (32768)
    for (const m of log) if (m.msg.kind === 'binary') expect(m.msg.data.length).toBeLessThanOrEqual(32768);
    expect(dataBytes(log, 'A')).toBe(301_000);
    // the last progress the sender saw is the full size of each file
    const lastOut = new Map(a.eventsOf('progress').map((e) => [e.file, e.bytes]));
    expect(lastOut.get(0)).toBe(300_000);
  });

  /* File 0's data messages (offset, payload length) sent by A to a receiver with window `win`. */
  function chunksOfBig(win: number) {
    const a = new SimPeer('A', SOPTS);
    const b = new SimPeer('B', { ...ROPTS, win });
    a.setFiles(FILES, CONTENTS);
    a.session.open();
    b.session.open();
    run(a, b);
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, FILES);
    run(a, b, { log });
    CONTENTS.forEach((c, i) => expect(hex(b.file(i))).toBe(hex(c)));
    return log.filter((m) => m.from === 'A' && m.msg.kind === 'binary').map((m) => decodeData(m.msg.data as Uint8Array)).filter((c) => c.file === 0);
  }

  it('sends full chunks however reads fall: only a file\'s last chunk is short', () => {
    // reads of 100_000 bytes and 32768-byte messages, a window that never
    // limits a read: most reads end inside a chunk, whose tail waits for
    // the next read
    const big = chunksOfBig(16 << 20);
    const payload = 32768 - 16;
    expect(big).toHaveLength(Math.ceil(300_000 / payload));
    big.forEach((c, i) => {
      expect(c.offset).toBe(i * payload);
      expect(c.bytes.length).toBe(i < big.length - 1 ? payload : 300_000 - i * payload);
    });
  });

  it('a window of a single message still completes, in full chunks', () => {
    const sizes = chunksOfBig(32768).map((c) => c.bytes.length);
    expect(sizes.slice(0, -1).every((n) => n === 32768 - 16)).toBe(true);
  });

  it('never has more than the receiver window in flight', () => {
    const { a, b } = pair();
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, FILES);
    run(a, b, { log });
    let sent = 0;
    const acked = new Map<number, number>();
    for (const m of log) {
      if (m.from === 'A' && m.msg.kind === 'binary') {
        sent += m.msg.data.length - 16;
        const ack = [...acked.values()].reduce((s, x) => s + x, 0);
        expect(sent - ack).toBeLessThanOrEqual(ROPTS.win);
      } else if (m.from === 'B' && m.msg.kind === 'text') {
        const c = decodeControl(m.msg.data);
        if (c.t === 'ack') acked.set(c.file, c.bytes);
      }
    }
  });

  it('a receiver claiming a 1 TiB window that never acknowledges gets at most MAX_PEER_WIN in flight', () => {
    const s = new Session();
    s.open();
    s.onText(encodeControl({ t: 'hello', v: 2, maxMsg: 65536, win: 2 ** 40, caps: [] }));
    s.offer(XFER, [{ id: 0, name: 'big.bin', dir: '', size: 2 ** 30, mime: '' }]);
    s.onText(encodeControl({ t: 'accept', xfer: XFER, files: [{ id: 0, offset: 0 }] }));
    const zeros = new Uint8Array(8 << 20);
    let data = 0;
    for (let turn = 0; turn < 100_000; turn++) {
      for (const o of s.takeOutput()) if (o.kind === 'binary') data += o.length - 16;
      const r = s.nextRead();
      if (!r) break;
      expect(r.length).toBeLessThanOrEqual(zeros.length);
      s.readDone(r, zeros.subarray(0, r.length));
    }
    expect(s.isClosed).toBe(false);
    expect(data).toBeLessThanOrEqual(MAX_PEER_WIN);
    expect(data).toBeGreaterThan(MAX_PEER_WIN - 65536);
  });

  it('partial accept sends only the chosen files', () => {
    const { a, b } = pair();
    b.acceptIds = [1];
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(sha256Hex(b.file(1))).toBe(sha256Hex(CONTENTS[1]));
    expect(b.file(0).length).toBe(0);
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('a file held from an earlier page (markHeld) is not asked for; the transfer completes on both sides', () => {
    const { a, b } = pair();
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = FILES.map(() => new Uint8Array(0));
    b.incoming.markHeld(0);
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(a.eventsOf('accepted')[0]?.files).toEqual([1, 2]);
    expect(b.file(0).length).toBe(0);
    expect(sha256Hex(b.file(1))).toBe(sha256Hex(CONTENTS[1]));
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('a held file with its digest is proven at offset = size: the sender confirms it, nothing is sent again', () => {
    const { a, b } = pair();
    const log: LoggedMessage[] = [];
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = [CONTENTS[0].slice(), new Uint8Array(0), new Uint8Array(0)];
    b.incoming.markHeld(0, { sha256: hex(CONTENTS[0]), blocks: false });
    a.session.offer(XFER, FILES);
    run(a, b, { log });
    const accept = log.map((m) => m.msg.kind === 'text' && decodeControl(m.msg.data)).find((c) => c && c.t === 'accept');
    expect(accept).toMatchObject({ files: [{ id: 0, offset: 300_000, sha256: hex(CONTENTS[0]) }, { id: 1, offset: 0 }, { id: 2, offset: 0 }] });
    expect(log.filter((m) => m.msg.kind === 'binary' && m.msg.file === 0)).toHaveLength(0);
    expect(a.eventsOf('file-done').map((e) => [e.file, e.ok])).toEqual([[0, true], [1, true], [2, true]]);
    expect(b.eventsOf('file-done').map((e) => [e.file, e.ok])).toEqual([[0, true], [1, true], [2, true]]);
    expect(hex(b.file(0))).toBe(hex(CONTENTS[0]));
    expect(b.incoming.proofOf(0)).toEqual({ sha256: hex(CONTENTS[0]), blocks: false });
  });

  it('every file held with its digest: accepted (not declined), and both sides complete', () => {
    const { a, b } = pair();
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = CONTENTS.map((c) => c.slice());
    CONTENTS.forEach((c, i) => b.incoming!.markHeld(i, { sha256: hex(c), blocks: false }));
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(a.eventsOf('declined')).toHaveLength(0);
    expect(a.eventsOf('file-done').every((e) => e.ok)).toBe(true);
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('a held file whose proof the sender does not share (its file changed) is sent again from 0', () => {
    const { a, b } = pair();
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = [rand(300_000, 99), new Uint8Array(0), new Uint8Array(0)];
    b.incoming.markHeld(0, { sha256: hex(b.file(0)), blocks: false });
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(b.eventsOf('open').find((e) => e.file === 0)!.offset).toBe(0);
    expect(hex(b.file(0))).toBe(hex(CONTENTS[0]));
    expect(b.eventsOf('file-done').every((e) => e.ok)).toBe(true);
  });

  it('a held file the sender cannot confirm (read error answering the whole-file proof) fails on the receiver, its copy untouched', () => {
    const { a, b } = pair();
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = [CONTENTS[0].slice(), new Uint8Array(0), new Uint8Array(0)];
    b.incoming.markHeld(0, { sha256: hex(CONTENTS[0]), blocks: false });
    a.readError = (file) => (file === 0 ? 'the file changed on disk' : null);
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(a.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'READ_ERROR' });
    // not counted verified: failed with the sender's code, as the CLI fails it (§5.5)
    expect(b.eventsOf('file-done').map((e) => [e.file, e.ok])).toEqual([[0, false], [1, true], [2, true]]);
    expect(b.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'READ_ERROR' });
    expect(b.incoming!.isFinished(0)).toBe(false);
    expect(b.eventsOf('close').filter((e) => e.file === 0)).toHaveLength(0); // nothing opened, nothing discarded
    expect(hex(b.file(0))).toBe(hex(CONTENTS[0]));
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('a held file sent again from 0 and cut midway is no longer held: a read error then fails it', () => {
    const { a, b } = pair();
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = [rand(300_000, 99), new Uint8Array(0), new Uint8Array(0)];
    b.incoming.markHeld(0, { sha256: hex(b.file(0)), blocks: false }); // the sender's file differs
    a.session.offer(XFER, FILES);
    run(a, b, { cutAfter: 5 }); // offer, start at 0, 3 data messages
    a.reconnect(SOPTS);
    b.reconnect(ROPTS);
    a.session.open();
    b.session.open();
    run(a, b);
    a.readError = (file) => (file === 0 ? 'the file changed on disk' : null);
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(b.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'READ_ERROR' });
  });

  it('a held file with a digest of the other kind is left out, as without one', () => {
    const { a, b } = pair();
    b.incoming = new IncomingTransfer(XFER, FILES);
    b.stored = [CONTENTS[0].slice(), new Uint8Array(0), new Uint8Array(0)];
    b.incoming.markHeld(0, { sha256: blockDigestHex(CONTENTS[0]), blocks: true }); // this pair has no CAP_BLOCKS
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(a.eventsOf('accepted')[0]?.files).toEqual([1, 2]);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
    expect(hex(b.file(0))).toBe(hex(CONTENTS[0]));
  });

  it('decline', () => {
    const { a, b } = pair();
    b.autoAccept = false;
    a.session.offer(XFER, FILES);
    run(a, b);
    b.session.decline();
    run(a, b);
    expect(a.eventsOf('declined')).toHaveLength(1);
    // a new offer is possible afterwards
    a.session.offer('aa'.repeat(16), FILES);
    b.autoAccept = true;
    run(a, b);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('hash mismatch is reported on both sides and the file is not kept', () => {
    const { a, b } = pair();
    corruptInFlight(b, 2);
    a.session.offer(XFER, FILES);
    run(a, b);
    const bad = b.eventsOf('file-done').find((e) => e.file === 0)!;
    expect(bad.ok).toBe(false);
    expect(bad.code).toBe('HASH_MISMATCH');
    expect(b.file(0).length).toBe(0);
    expect(a.eventsOf('file-done').find((e) => e.file === 0)!.code).toBe('HASH_MISMATCH');
    expect(b.eventsOf('file-done').filter((e) => e.ok).map((e) => e.file)).toEqual([1, 2]);
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('resumes after a dropped connection from the proven prefix', () => {
    const { a, b } = pair();
    const log1: LoggedMessage[] = [];
    a.session.offer(XFER, FILES);
    run(a, b, { log: log1, cutAfter: 5 }); // offer, start, 3 data messages
    const held = b.file(0).length;
    expect(held).toBe(3 * (32768 - 16));
    a.reconnect(SOPTS);
    b.reconnect(ROPTS);
    a.session.open();
    b.session.open();
    run(a, b);
    const log2: LoggedMessage[] = [];
    a.session.offer(XFER, FILES);
    run(a, b, { log: log2 });
    const acc = decodeControl((log2.find((m) => m.from === 'B')!.msg as { data: string }).data);
    expect(acc).toMatchObject({ t: 'accept', files: [{ id: 0, offset: held, sha256: sha256Hex(CONTENTS[0].subarray(0, held)) }, { id: 1, offset: 0 }, { id: 2, offset: 0 }] });
    expect(dataBytes(log2, 'A')).toBe(300_000 - held + 1000);
    CONTENTS.forEach((c, i) => expect(sha256Hex(b.file(i))).toBe(sha256Hex(c)));
  });

  it('restarts from 0 when the prefix does not match (file changed on the sender)', () => {
    const { a, b } = pair();
    a.session.offer(XFER, FILES);
    run(a, b, { cutAfter: 5 });
    const changed = [rand(300_000, 99), CONTENTS[1], CONTENTS[2]];
    a.setFiles(FILES, changed);
    a.reconnect(SOPTS);
    b.reconnect(ROPTS);
    a.session.open();
    b.session.open();
    run(a, b);
    const log2: LoggedMessage[] = [];
    a.session.offer(XFER, FILES);
    run(a, b, { log: log2 });
    const start = log2.map((m) => (m.msg.kind === 'text' ? decodeControl(m.msg.data) : null)).find((c) => c?.t === 'start');
    expect(start).toMatchObject({ file: 0, offset: 0 });
    changed.forEach((c, i) => expect(sha256Hex(b.file(i))).toBe(sha256Hex(c)));
  });

  it('sender cancel stops the transfer on both sides', () => {
    const { a, b } = pair();
    a.session.offer(XFER, FILES);
    run(a, b, { cutAfter: 3 });
    a.session.cancel(XFER);
    run(a, b);
    expect(a.eventsOf('cancelled')[0]).toMatchObject({ dir: 'out', byPeer: false });
    expect(b.eventsOf('cancelled')[0]).toMatchObject({ dir: 'in', byPeer: true });
    expect(b.eventsOf('close').some((e) => !e.ok)).toBe(true);
    expect(a.session.isClosed || b.session.isClosed).toBe(false);
  });

  it('receiver cancel: data already in flight is dropped quietly', () => {
    const { a, b } = pair();
    a.session.offer(XFER, FILES);
    // deliver the offer; B accepts; A produces a window of data
    run(a, b, { cutAfter: 1 });
    b.session.cancel(XFER);
    // A's data (sent before it saw the cancel) still reaches B
    a.pump();
    for (const m of a.session.takeOutput()) {
      if (m.kind === 'text') b.session.onText(m.data);
      else b.session.onBinary(m.data);
    }
    run(b, a);
    expect(b.session.isClosed).toBe(false);
    expect(a.session.isClosed).toBe(false);
    expect(a.eventsOf('cancelled')[0]).toMatchObject({ dir: 'out', byPeer: true });
    // the session is still usable
    a.session.offer('bb'.repeat(16), FILES);
    run(a, b);
    expect(b.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('refuses an offer with an unsafe path', () => {
    const { a, b } = pair();
    const evil = [{ id: 0, name: 'passwd', dir: '../../etc', size: 1, mime: '' }];
    a.setFiles(evil, [new Uint8Array(1)]);
    a.session.offer(XFER, evil);
    run(a, b);
    expect(b.eventsOf('offer')).toHaveLength(0);
    expect(b.eventsOf('transfer-error')[0]?.code).toBe('UNSAFE_PATH');
    expect(a.eventsOf('transfer-error')[0]?.code).toBe('UNSAFE_PATH');
  });

  it('leaves hidden names out unless allowHidden, receives the rest, and refuses bidi overrides always (issue 11, 12)', () => {
    const cases = [
      { dir: '.config/autostart', name: 'evil.desktop', allow: false, refused: false },
      { dir: 'a/.ssh', name: 'authorized_keys', allow: false, refused: false },
      { dir: '', name: '.bashrc', allow: false, refused: false },
      { dir: 'folder/.git', name: 'config', allow: false, refused: false },
      { dir: '.config/autostart', name: 'evil.desktop', allow: true, refused: false },
      { dir: '', name: '.bashrc', allow: true, refused: false },
      { dir: 'docs', name: 'invoice\u202efdp.exe', allow: true, refused: true },
    ];
    for (const c of cases) {
      const why = JSON.stringify(c);
      const a = new SimPeer('A', SOPTS);
      const b = new SimPeer('B', { ...ROPTS, allowHidden: c.allow });
      const files = FILES.map((f) => (f.id === 1 ? { ...f, name: c.name, dir: c.dir } : f));
      a.setFiles(files, CONTENTS);
      a.session.open();
      b.session.open();
      run(a, b);
      a.session.offer(XFER, files);
      run(a, b);
      expect(b.eventsOf('offer'), why).toHaveLength(c.refused ? 0 : 1);
      if (c.refused) {
        expect(a.eventsOf('transfer-error')[0]?.code).toBe('UNSAFE_PATH');
        continue;
      }
      const leftOut = !c.allow;
      expect(b.eventsOf('offer')[0]?.hidden, why).toEqual(leftOut ? [1] : []);
      // the others received, the hidden one never opened nor written
      expect(hex(b.file(0)), why).toBe(hex(CONTENTS[0]));
      expect(b.file(2), why).toHaveLength(0);
      expect(b.eventsOf('open').filter((e) => e.file === 1), why).toHaveLength(leftOut ? 0 : 1);
      expect(b.eventsOf('write').filter((e) => e.file === 1), why).toHaveLength(leftOut ? 0 : 1);
      expect(a.eventsOf('accepted')[0]?.files, why).toEqual(leftOut ? [0, 2] : [0, 1, 2]);
      expect(a.eventsOf('file-done').filter((e) => e.ok), why).toHaveLength(leftOut ? 2 : 3);
      expect(a.eventsOf('transfer-error'), why).toHaveLength(0);
      expect(a.eventsOf('transfer-done'), why).toHaveLength(1);
      expect(b.eventsOf('transfer-done'), why).toHaveLength(1);
      expect(b.incoming!.isFinished(1), why).toBe(!leftOut);
    }
  });

  it('never asks for a hidden file, even when the caller does; asked for alone, the offer is declined (issue 11)', () => {
    for (const ids of [[0, 1, 2], [1]]) {
      const files = FILES.map((f) => (f.id === 1 ? { ...f, name: '.envrc' } : f));
      const { a, b } = pair(files);
      b.acceptIds = ids;
      a.session.offer(XFER, files);
      run(a, b);
      expect(b.eventsOf('open').filter((e) => e.file === 1)).toHaveLength(0);
      expect(b.file(1)).toHaveLength(0);
      expect(a.eventsOf('declined')).toHaveLength(ids.length === 1 ? 1 : 0);
      expect(a.eventsOf('file-done').filter((e) => e.ok)).toHaveLength(ids.length === 1 ? 0 : 2);
      expect(a.eventsOf('fatal').length + b.eventsOf('fatal').length).toBe(0);
    }
  });

  it('refuses an offer of hidden names only, with that reason (issue 11)', () => {
    const files = [
      { ...FILES[0], dir: '.git' },
      { ...FILES[1], dir: 'a/.ssh' },
      { ...FILES[2], name: '.DS_Store' },
    ];
    const { a, b } = pair(files);
    a.session.offer(XFER, files);
    run(a, b);
    expect(b.eventsOf('offer')).toHaveLength(0);
    const message = 'unsafe path: every file has a hidden name (leading dot)';
    expect(b.eventsOf('transfer-error')[0]).toMatchObject({ code: 'UNSAFE_PATH', message, byPeer: false });
    expect(a.eventsOf('transfer-error')[0]).toMatchObject({ code: 'UNSAFE_PATH', message, byPeer: true });
    expect(b.eventsOf('open')).toHaveLength(0);
  });

  it('a read error fails that file only', () => {
    const { a, b } = pair();
    a.readError = (file, offset) => (file === 0 && offset > 0 ? 'disk gone' : null);
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(b.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'READ_ERROR' });
    expect(sha256Hex(b.file(1))).toBe(sha256Hex(CONTENTS[1]));
  });

  it('a short read (the file shrank while sending) fails that file only', () => {
    const { a, b } = pair();
    a.corrupt = (file, offset, bytes) => (file === 0 && offset > 0 ? bytes.subarray(0, bytes.length - 1) : bytes);
    a.session.offer(XFER, FILES);
    run(a, b);
    expect(a.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'READ_ERROR' });
    expect(b.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'READ_ERROR' });
    expect(sha256Hex(b.file(1))).toBe(sha256Hex(CONTENTS[1]));
    expect(a.eventsOf('transfer-done')).toHaveLength(1);
  });

  it('protocol violations are fatal and answered with an error', () => {
    const s = new Session();
    s.open();
    s.takeOutput();
    s.onBinary(encodeData(0, 0, new Uint8Array(4)));
    expect(s.isClosed).toBe(true);
    expect(decodeControl((s.takeOutput()[0] as { data: string }).data)).toMatchObject({ t: 'error', code: 'PROTOCOL' });

    const r = new Session({ maxMsg: 16384, win: 65536 });
    r.onText(encodeControl({ t: 'hello', v: 2, maxMsg: 65536, win: 65536, caps: [] }));
    r.onBinary(new Uint8Array(20000));
    expect(r.takeEvents().at(-1)).toMatchObject({ type: 'fatal', code: 'TOO_BIG' });

    const q = new Session();
    q.onText(encodeControl({ t: 'hello', v: 2, maxMsg: 1000, win: 65536, caps: [] }));
    expect(q.isClosed).toBe(true);

    // protocol 1 had no authentication (issue 14): no common version
    const old = new Session();
    old.onText(encodeControl({ t: 'hello', v: 1, maxMsg: 65536, win: 65536, caps: [] }));
    expect(old.takeEvents().at(-1)).toMatchObject({ type: 'fatal', code: 'VERSION' });
    expect(decodeControl((old.takeOutput()[0] as { data: string }).data)).toMatchObject({ t: 'error', code: 'VERSION' });
  });

  it('data at the wrong offset is fatal', () => {
    const { a, b } = pair();
    a.session.offer(XFER, FILES);
    run(a, b, { cutAfter: 2 }); // offer, start
    b.session.onBinary(encodeData(0, 5, new Uint8Array(10)));
    expect(b.session.isClosed).toBe(true);
    expect(decodeData(encodeData(0, 5, new Uint8Array(10))).offset).toBe(5);
  });
});

describe('Session resume bookkeeping', () => {
  it('writes that finish after the channel dropped still count for resume', () => {
    const a = new SimPeer('A', SOPTS);
    const b = new SimPeer('B', ROPTS);
    a.setFiles(FILES, CONTENTS);
    a.session.open();
    b.session.open();
    run(a, b);
    // B stores nothing synchronously: collect its writes and complete them after the drop
    const pending: { xfer: string; file: number; end: number }[] = [];
    const s1 = b.session;
    const origPump = b.pump.bind(b);
    b.pump = () => {
      for (const e of s1.takeEvents()) {
        if (e.type === 'offer') s1.accept((b.incoming = new IncomingTransfer(e.xfer, e.files)));
        if (e.type === 'write') pending.push({ xfer: e.xfer, file: e.file, end: e.offset + e.bytes.length });
      }
    };
    a.session.offer(XFER, FILES);
    run(a, b, { cutAfter: 4 });
    s1.shutdown();
    for (const p of pending) s1.written(p.xfer, p.file, p.end);
    expect(b.incoming!.held(0)).toBe(pending.at(-1)!.end);
    b.pump = origPump;
  });
});

/* Block digests (docs/protocol.md §5.8): both peers list 'sha256-blocks'. */
describe('Session with block digests', () => {
  const B = HASH_BLOCK;
  const BIG: [FileEntry, FileEntry] = [
    { id: 0, name: 'big.bin', dir: '', size: 2 * B + B / 4 + 7, mime: '' },
    { id: 1, name: 'small.txt', dir: '', size: 1000, mime: 'text/plain' },
  ];
  const BIG_CONTENTS: [Uint8Array, Uint8Array] = [rand(BIG[0].size, 7), rand(1000, 8)];
  const BS = { maxMsg: 262144, win: 16 << 20, msgSize: 65536, readBlock: 1 << 20, caps: ['resume', CAP_BLOCKS] };
  const BR = { maxMsg: 262144, win: 16 << 20, caps: ['resume', CAP_BLOCKS] };
  /* An independent reference: Node's OpenSSL over the blocks. */
  const nodeBlocks = (b: Uint8Array) => {
    const outer = createHash('sha256');
    for (let p = 0; p < b.length; p += B) outer.update(createHash('sha256').update(b.subarray(p, p + B)).digest());
    return outer.digest('hex');
  };
  const controls = (log: LoggedMessage[], from: string) =>
    log.filter((m) => m.from === from && m.msg.kind === 'text').map((m) => decodeControl((m.msg as { data: string }).data));

  function bpair(so: object = BS, ro: object = BR) {
    const a = new SimPeer('A', so);
    const b = new SimPeer('B', ro);
    a.setFiles(BIG, BIG_CONTENTS);
    a.session.open();
    b.session.open();
    run(a, b);
    return { a, b };
  }

  it('is used only when both sides list the cap', () => {
    expect(bpair().a.session.blockDigests).toBe(true);
    expect(bpair(BS, { ...BR, caps: ['resume'] }).a.session.blockDigests).toBe(false);
    expect(bpair({ ...BS, caps: [] }, BR).b.session.blockDigests).toBe(false);
  });

  it('a multi-block file ends with its block digest and arrives intact', () => {
    const { a, b } = bpair();
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, BIG);
    run(a, b, { log });
    const ends = controls(log, 'A').filter((c) => c.t === 'end');
    expect(ends.map((e) => (e as { sha256: string }).sha256)).toEqual(BIG_CONTENTS.map(nodeBlocks));
    expect(ends[0]).not.toMatchObject({ sha256: createHash('sha256').update(BIG_CONTENTS[0]).digest('hex') });
    BIG_CONTENTS.forEach((c, i) => expect(hex(b.file(i))).toBe(hex(c)));
    expect(b.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true]);
    expect(blockDigestHex(BIG_CONTENTS[0])).toBe(nodeBlocks(BIG_CONTENTS[0]));
  });

  it('a held multi-block file is proven whole by its block digest', () => {
    const { a, b } = bpair();
    const log: LoggedMessage[] = [];
    b.incoming = new IncomingTransfer(XFER, BIG);
    b.stored = [BIG_CONTENTS[0].slice(), new Uint8Array(0)];
    b.incoming.markHeld(0, { sha256: nodeBlocks(BIG_CONTENTS[0]), blocks: true });
    a.session.offer(XFER, BIG);
    run(a, b, { log });
    expect(controls(log, 'B').find((c) => c.t === 'accept')).toMatchObject({ files: [{ id: 0, offset: BIG[0].size }, { id: 1, offset: 0 }] });
    expect(controls(log, 'A').find((c) => c.t === 'start')).toMatchObject({ file: 0, offset: BIG[0].size });
    expect(a.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true]);
    BIG_CONTENTS.forEach((c, i) => expect(hex(b.file(i))).toBe(hex(c)));
  });

  it('a peer without the cap gets the plain SHA-256', () => {
    const { a, b } = bpair(BS, { ...BR, caps: ['resume'] });
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, BIG);
    run(a, b, { log });
    const end = controls(log, 'A').find((c) => c.t === 'end') as { sha256: string };
    expect(end.sha256).toBe(createHash('sha256').update(BIG_CONTENTS[0]).digest('hex'));
    expect(b.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true]);
  });

  it('hash results in any order, after end arrived, still verify', () => {
    const { a, b } = bpair();
    a.heldHashes = [];
    b.heldHashes = [];
    a.session.offer(XFER, BIG);
    for (let i = 0; i < 50; i++) {
      run(a, b);
      // answer the held jobs newest first, so they complete out of file order
      const jobs = [...a.heldHashes.splice(0).map((j) => [a, j] as const), ...b.heldHashes.splice(0).map((j) => [b, j] as const)].reverse();
      if (jobs.length === 0) break;
      for (const [p, j] of jobs) p.session.hashed(j, sha256Bytes(j.parts));
    }
    expect(b.eventsOf('file-done').map((e) => e.ok)).toEqual([true, true]);
    BIG_CONTENTS.forEach((c, i) => expect(hex(b.file(i))).toBe(hex(c)));
  });

  it('resumes at the last complete block and resends only the rest', () => {
    const { a, b } = bpair();
    a.session.offer(XFER, BIG);
    // offer, start, then data into the second block: 64 + 40 messages of 65520 bytes
    run(a, b, { cutAfter: 2 + 104 });
    const held = b.file(0).length;
    expect(held).toBeGreaterThan(B);
    expect(held).toBeLessThan(2 * B);
    a.reconnect(BS);
    b.reconnect(BR);
    a.session.open();
    b.session.open();
    run(a, b);
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, BIG);
    run(a, b, { log });
    const acc = controls(log, 'B')[0];
    expect(acc).toMatchObject({ t: 'accept', files: [{ id: 0, offset: B, sha256: nodeBlocks(BIG_CONTENTS[0].subarray(0, B)) }, { id: 1, offset: 0 }] });
    expect(controls(log, 'A').find((c) => c.t === 'start')).toMatchObject({ file: 0, offset: B });
    expect(dataBytes(log, 'A')).toBe(BIG[0].size - B + 1000);
    BIG_CONTENTS.forEach((c, i) => expect(hex(b.file(i))).toBe(hex(c)));
    expect(b.eventsOf('file-done').filter((e) => e.ok).map((e) => e.file)).toEqual([0, 1]);
  });

  it('a block digest of the old channel that completes after the resumed accept is ignored', () => {
    const { a, b } = bpair();
    b.heldHashes = [];
    a.session.offer(XFER, BIG);
    run(a, b, { cutAfter: 2 + 140 }); // into the third block: two block jobs held
    const held = b.heldHashes.splice(0) as [HashJob, HashJob];
    expect(held).toHaveLength(2);
    const old = b.session;
    old.hashed(held[0], sha256Bytes(held[0].parts)); // block 0 done; block 1 still out
    a.reconnect(BS);
    b.reconnect(BR);
    b.heldHashes = null;
    a.session.open();
    b.session.open();
    run(a, b);
    const log: LoggedMessage[] = [];
    a.session.offer(XFER, BIG);
    a.pump();
    for (const m of a.session.takeOutput()) b.session.onText((m as { data: string }).data);
    b.pump(); // B accepts: resume at B, block 1's digest still pending
    old.hashed(held[1], sha256Bytes(held[1].parts));
    for (const m of b.session.takeOutput()) {
      log.push({ from: 'B', msg: m });
      a.session.onText((m as { data: string }).data);
    }
    run(a, b, { log });
    expect(controls(log, 'B')[0]).toMatchObject({ t: 'accept', files: [{ id: 0, offset: B }, { id: 1, offset: 0 }] });
    expect(b.eventsOf('file-done').filter((e) => e.ok).map((e) => e.file)).toEqual([0, 1]);
    BIG_CONTENTS.forEach((c, i) => expect(hex(b.file(i))).toBe(hex(c)));
  });

  it('a resume request at an offset no block digest can prove restarts the file', () => {
    // A receiver's accept asking to resume file 0 inside the first block.
    const fresh = new SimPeer('A', BS);
    fresh.setFiles(BIG, BIG_CONTENTS);
    const s = fresh.session;
    s.open();
    s.onText(encodeControl({ t: 'hello', v: 2, maxMsg: 262144, win: 16 << 20, caps: ['resume', CAP_BLOCKS] }));
    s.offer(XFER, BIG);
    s.takeOutput();
    s.onText(encodeControl({ t: 'accept', xfer: XFER, files: [{ id: 0, offset: 1000, sha256: nodeBlocks(BIG_CONTENTS[0].subarray(0, 1000)) }] }));
    fresh.pump();
    const start = s.takeOutput().map((o) => (o.kind === 'text' ? decodeControl(o.data) : null)).find((c) => c?.t === 'start');
    expect(start).toMatchObject({ file: 0, offset: 0 });
  });

  it('corrupted data is a hash mismatch', () => {
    const { a, b } = bpair();
    corruptInFlight(b, 70); // in the second block
    a.session.offer(XFER, BIG);
    run(a, b);
    expect(b.eventsOf('file-done').find((e) => e.file === 0)).toMatchObject({ ok: false, code: 'HASH_MISMATCH' });
    expect(b.file(0).length).toBe(0);
    expect(b.eventsOf('file-done').find((e) => e.file === 1)?.ok).toBe(true);
  });

  it('a wrong block digest from the hashing layer is caught too', () => {
    const { a, b } = bpair();
    b.heldHashes = [];
    a.session.offer(XFER, BIG);
    for (let i = 0; i < 50; i++) {
      run(a, b);
      const jobs = b.heldHashes.splice(0);
      if (jobs.length === 0) break;
      for (const j of jobs) b.session.hashed(j, j.length === BIG[1].size ? new Uint8Array(32) : sha256Bytes(j.parts));
    }
    expect(b.eventsOf('file-done').map((e) => [e.file, e.ok, e.code]).sort()).toEqual([[0, true, undefined], [1, false, 'HASH_MISMATCH']]);
  });
});

describe('hello name and device (§5.1)', () => {
  const base = { t: 'hello', v: 2, maxMsg: 262144, win: 16777216, caps: ['resume'] };

  it('are optional: absent, the encoding is unchanged', () => {
    expect(encodeControl({ t: 'hello', v: 2, maxMsg: 262144, win: 16777216, caps: ['resume'] })).toBe('{"t":"hello","v":2,"maxMsg":262144,"win":16777216,"caps":["resume"]}');
    const m = decodeControl(JSON.stringify(base));
    expect(m).toEqual(base);
  });

  it('come after caps, name first, and round-trip', () => {
    const text = encodeControl({ t: 'hello', v: 2, maxMsg: 262144, win: 16777216, caps: [], name: 'Blue Fox', device: 'Firefox on Android' });
    expect(text).toBe('{"t":"hello","v":2,"maxMsg":262144,"win":16777216,"caps":[],"name":"Blue Fox","device":"Firefox on Android"}');
    expect(decodeControl(text)).toMatchObject({ name: 'Blue Fox', device: 'Firefox on Android' });
  });

  it('are cleaned on receipt: controls, bidi and zero-width gone, at most 64 UTF-8 bytes on a character boundary', () => {
    const m = decodeControl(JSON.stringify({ ...base, name: 'Evil\u202e\u0000\u001b[31m Fox\u200b\n', device: '🦊'.repeat(20) }));
    expect(m).toMatchObject({ name: 'Evil[31m Fox' });
    const device = (m as { device: string }).device;
    expect(new TextEncoder().encode(device).length).toBe(64); // 16 foxes of 4 bytes
    expect(device).toBe('🦊'.repeat(16));
    expect(peerText('x'.repeat(100))).toHaveLength(64);
    expect(peerText('\ud800 lone')).toBe('lone');
  });

  it('are left out when not a string or empty once cleaned, without failing the hello', () => {
    const m = decodeControl(JSON.stringify({ ...base, name: 42, device: '\u0001\u0002' }));
    expect(m).toEqual(base);
  });

  it('reach the peer in its ready event when set in the options', () => {
    const a = new Session({ name: 'Blue Fox', device: 'Chrome on Linux' });
    const b = new Session();
    a.open();
    b.open();
    for (const o of a.takeOutput()) if (o.kind === 'text') b.onText(o.data);
    for (const o of b.takeOutput()) if (o.kind === 'text') a.onText(o.data);
    const ready = b.takeEvents().find((e) => e.type === 'ready');
    expect(ready && ready.type === 'ready' && ready.peer).toMatchObject({ name: 'Blue Fox', device: 'Chrome on Linux' });
    const back = a.takeEvents().find((e) => e.type === 'ready');
    expect(back && back.type === 'ready' && back.peer.name).toBeUndefined();
  });
});
