import { describe, expect, it } from 'vitest';
import { WakeLockPolicy, type VisibilityLike, type WakeLockLike, type WakeLockSentinelLike } from './wakelock';

/* A wake lock as the browser gives it: a sentinel per request, released by
 * the page or by the browser (when the page is hidden); a request can be
 * refused. */
class FakeLock implements WakeLockLike {
  requests = 0;
  refuse = false;
  live: Sentinel[] = [];
  async request(type: 'screen'): Promise<WakeLockSentinelLike> {
    expect(type).toBe('screen');
    this.requests++;
    if (this.refuse) throw new DOMException('refused', 'NotAllowedError');
    const s = new Sentinel(this);
    this.live.push(s);
    return s;
  }
}
class Sentinel implements WakeLockSentinelLike {
  released = false;
  private fns: (() => void)[] = [];
  constructor(private lock: FakeLock) {}
  async release() {
    this.drop();
  }
  drop() {
    if (this.released) return;
    this.released = true;
    this.lock.live = this.lock.live.filter((s) => s !== this);
    this.fns.forEach((f) => f());
  }
  addEventListener(_t: 'release', fn: () => void) {
    this.fns.push(fn);
  }
}
class Page implements VisibilityLike {
  visibilityState = 'visible';
  private fns = new Set<() => void>();
  addEventListener(_t: 'visibilitychange', fn: () => void) {
    this.fns.add(fn);
  }
  removeEventListener(_t: 'visibilitychange', fn: () => void) {
    this.fns.delete(fn);
  }
  set(v: 'visible' | 'hidden', lock: FakeLock) {
    this.visibilityState = v;
    if (v === 'hidden') lock.live.slice().forEach((s) => s.drop()); // the browser's own release
    this.fns.forEach((f) => f());
  }
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('WakeLockPolicy', () => {
  it('holds a lock while a transfer runs and releases it when none does', async () => {
    const lock = new FakeLock();
    const p = new WakeLockPolicy(lock, new Page());
    expect(p.held).toBe(false);
    p.setActive(true);
    await settle();
    expect(p.held).toBe(true);
    expect(lock.live.length).toBe(1);
    p.setActive(true); // progress updates ask nothing more
    await settle();
    expect(lock.requests).toBe(1);
    p.setActive(false);
    await settle();
    expect(p.held).toBe(false);
    expect(lock.live.length).toBe(0);
  });

  it('asks again when the page is visible again, only while a transfer runs', async () => {
    const lock = new FakeLock();
    const page = new Page();
    const p = new WakeLockPolicy(lock, page);
    p.setActive(true);
    await settle();
    page.set('hidden', lock);
    await settle();
    expect(p.held).toBe(false);
    expect(lock.requests).toBe(1); // not while hidden
    page.set('visible', lock);
    await settle();
    expect(p.held).toBe(true);
    expect(lock.requests).toBe(2);
    p.setActive(false);
    page.set('hidden', lock);
    page.set('visible', lock);
    await settle();
    expect(lock.requests).toBe(2);
    expect(lock.live.length).toBe(0);
  });

  it('a transfer that ends while the request is pending leaves no lock behind', async () => {
    const lock = new FakeLock();
    const p = new WakeLockPolicy(lock, new Page());
    p.setActive(true);
    p.setActive(false);
    await settle();
    await settle();
    expect(lock.live.length).toBe(0);
    expect(p.held).toBe(false);
  });

  it('a refusal is not an error, and the next transfer asks again', async () => {
    const lock = new FakeLock();
    lock.refuse = true;
    const p = new WakeLockPolicy(lock, new Page());
    p.setActive(true);
    await settle();
    expect(p.held).toBe(false);
    p.setActive(false);
    lock.refuse = false;
    p.setActive(true);
    await settle();
    expect(p.held).toBe(true);
  });

  it('without the API nothing happens', () => {
    const page = new Page();
    const p = new WakeLockPolicy(undefined, page);
    p.setActive(true);
    expect(p.held).toBe(false);
    p.dispose();
  });
});
