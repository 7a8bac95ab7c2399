/* LanePacer: each channel's queue limit follows the rate it is measured to
 * drain while busy, and a message goes where it is sent soonest. */
import { describe, expect, it } from 'vitest';
import { LanePacer } from './pacer';

const KIB = 1024;

/* Drains `rate` bytes/ms from channel c's queue for `ms`, sampling every 50 ms. */
function drain(p: LanePacer<string>, c: string, q: { buffered: number; t: number }, rate: number, ms: number): void {
  for (let end = q.t + ms; q.t < end; ) {
    q.t += 50;
    q.buffered = Math.max(0, q.buffered - rate * 50);
    p.sample(c, q.buffered, q.t);
  }
}

/* Channel c gets `bytes` queued at time 0 (one send), and is sampled. */
function queued(p: LanePacer<string>, c: string, bytes: number): { buffered: number; t: number } {
  p.sent(c, bytes);
  p.sample(c, bytes, 0);
  return { buffered: bytes, t: 0 };
}

describe('LanePacer', () => {
  it('an unmeasured channel may hold its floor, no more', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, ceiling: 4096 * KIB, targetMs: 250 });
    expect(p.limit('a')).toBe(64 * KIB);
    expect(p.pick([{ c: 'a', buffered: 0 }], 64 * KIB)).toBe('a');
    expect(p.pick([{ c: 'a', buffered: 64 * KIB }], 64 * KIB)).toBeNull();
  });

  it("a busy channel's limit is its measured rate times the target time, within floor and ceiling", () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, ceiling: 1024 * KIB, targetMs: 250 });
    const q = queued(p, 'a', 8000 * KIB);
    drain(p, 'a', q, 2000, 1000); // 2 MB/s
    expect(p.limit('a')).toBeCloseTo(2000 * 250, -3);
    drain(p, 'a', q, 100000, 50); // far faster than the ceiling allows
    expect(p.limit('a')).toBe(1024 * KIB);
    const slow = new LanePacer<string>({ floor: 64 * KIB, ceiling: 1024 * KIB, targetMs: 250 });
    const r = queued(slow, 'b', 1000 * KIB);
    drain(slow, 'b', r, 10, 1000); // 10 kB/s: under the floor
    expect(slow.limit('b')).toBe(64 * KIB);
  });

  it('a channel that ran empty is not judged slow by it: idle intervals only raise the rate', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const q = queued(p, 'a', 4000 * KIB);
    drain(p, 'a', q, 4000, 500);
    const busyLimit = p.limit('a');
    drain(p, 'a', q, 4000, 2000); // empty after ~1 s, then idle samples of 0 bytes/ms
    expect(q.buffered).toBe(0);
    expect(p.limit('a')).toBeGreaterThanOrEqual(busyLimit * 0.99);
  });

  it('a message goes where it is sent soonest: the least queued time, not the least bytes', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, ceiling: 16384 * KIB, targetMs: 1000 });
    const fast = queued(p, 'fast', 8000 * KIB);
    const slow = queued(p, 'slow', 8000 * KIB);
    for (let i = 0; i < 20; i++) {
      drain(p, 'fast', fast, 4000, 50);
      drain(p, 'slow', slow, 400, 50);
    }
    // fast: 4 MB/s, limit 4 MB; slow: 0.4 MB/s, limit 400 kB
    const chans = [
      { c: 'fast', buffered: 1000 * KIB },
      { c: 'slow', buffered: 200 * KIB },
    ];
    expect(p.pick(chans, 64 * KIB)).toBe('fast'); // ~0.27 s against ~0.67 s
    expect(p.pick([{ c: 'fast', buffered: 3900 * KIB }, { c: 'slow', buffered: 300 * KIB }], 64 * KIB)).toBe('slow');
    // the slow one is at its limit: only the fast one may take more
    expect(p.pick([{ c: 'fast', buffered: 3900 * KIB }, { c: 'slow', buffered: 420 * KIB }], 64 * KIB)).toBe('fast');
  });

  it('a stalled channel (busy, nothing drained) gets nothing while another has room', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const a = queued(p, 'a', 100 * KIB);
    const b = queued(p, 'b', 100 * KIB);
    drain(p, 'a', a, 0.1, 500);
    drain(p, 'b', b, 100, 500);
    b.buffered = 40 * KIB;
    a.buffered = 10 * KIB;
    expect(p.pick([{ c: 'a', buffered: a.buffered }, { c: 'b', buffered: b.buffered }], 64 * KIB)).toBe('b');
  });

  it('a channel that drained nothing at all since it was measured is not taken for an unmeasured one', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const a = queued(p, 'a', 100 * KIB);
    drain(p, 'a', a, 0, 500); // busy, rate exactly 0
    a.buffered = 10 * KIB;
    // b is unmeasured, and holds more than a
    expect(p.pick([{ c: 'a', buffered: a.buffered }, { c: 'b', buffered: 40 * KIB }], 64 * KIB)).toBe('b');
  });

  it('a channel with data waiting that drained none of it for 1 s while another drained some has stalled (§5.11)', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const a = queued(p, 'a', 100 * KIB);
    const b = queued(p, 'b', 100 * KIB);
    drain(p, 'a', a, 0, 950);
    drain(p, 'b', b, 10, 950);
    expect(p.stalled('a', a.buffered, 950)).toBe(false); // not 1 s yet
    drain(p, 'a', a, 0, 100);
    drain(p, 'b', b, 10, 100);
    expect(p.stalled('a', a.buffered, 1050)).toBe(true);
    expect(p.stalled('b', b.buffered, 1050)).toBe(false);
    // it drains again: no longer stalled
    drain(p, 'a', a, 1, 50);
    expect(p.stalled('a', a.buffered, 1100)).toBe(false);
  });

  it('is stalled when the others have nothing waiting (the window is full behind it), not when they are stuck too, nor with nothing waiting itself', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const a = queued(p, 'a', 100 * KIB);
    const b = queued(p, 'b', 100 * KIB);
    drain(p, 'b', b, 3000, 100); // b drains all it had at once, then has nothing
    drain(p, 'a', a, 10, 100); // a drains some, then nothing more
    drain(p, 'a', a, 0, 1000);
    drain(p, 'b', b, 0, 1000);
    expect(p.stalled('a', a.buffered, 1100)).toBe(true); // b drained nothing since, but has nothing waiting
    expect(p.stalled('b', 0, 1100)).toBe(false); // nothing waiting
    // both hold data and neither drains (the path is down): no lane to send it again on
    const q = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const c = queued(q, 'c', 100 * KIB);
    const d = queued(q, 'd', 100 * KIB);
    drain(q, 'd', d, 10, 100);
    drain(q, 'c', c, 10, 100);
    drain(q, 'c', c, 0, 1500);
    drain(q, 'd', d, 0, 1500);
    expect(q.stalled('c', c.buffered, 1600)).toBe(false);
    expect(q.stalled('d', d.buffered, 1600)).toBe(false);
  });

  it('dropping a channel forgets what it measured', () => {
    const p = new LanePacer<string>({ floor: 64 * KIB, targetMs: 250 });
    const q = queued(p, 'a', 4000 * KIB);
    drain(p, 'a', q, 4000, 500);
    expect(p.limit('a')).toBeGreaterThan(64 * KIB);
    p.drop('a');
    expect(p.limit('a')).toBe(64 * KIB);
  });

  it('refuses options that make no sense', () => {
    expect(() => new LanePacer({ floor: 0 })).toThrow(RangeError);
    expect(() => new LanePacer({ floor: 2048, ceiling: 1024 })).toThrow(RangeError);
    expect(() => new LanePacer({ targetMs: 0 })).toThrow(RangeError);
  });
});
