/* The Screen Wake Lock during transfers (issue 17): a phone that dims and
 * sleeps mid-transfer stops its tab, and the transfer with it.
 *
 * The policy: hold a lock while a transfer runs, let it go when none does.
 * The browser releases the lock itself when the page is hidden (W3C Screen
 * Wake Lock §"Handling document loss of visibility"), so it is asked for
 * again when the page is visible again and a transfer still runs.
 * Feature-detected: without navigator.wakeLock nothing happens, and a
 * refusal (battery saver, no user activation) is not an error for the app. */

import { useEffect } from 'react';

export interface WakeLockSentinelLike {
  readonly released: boolean;
  release(): Promise<void>;
  addEventListener(type: 'release', fn: () => void): void;
}
export interface WakeLockLike {
  request(type: 'screen'): Promise<WakeLockSentinelLike>;
}
export interface VisibilityLike {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', fn: () => void): void;
  removeEventListener(type: 'visibilitychange', fn: () => void): void;
}

export class WakeLockPolicy {
  private wanted = false;
  private sentinel: WakeLockSentinelLike | null = null;
  private asking = false;
  private readonly onVisibility = () => this.update();

  constructor(
    private readonly api: WakeLockLike | undefined,
    private readonly doc: VisibilityLike,
  ) {
    if (api) doc.addEventListener('visibilitychange', this.onVisibility);
  }

  /** true while a transfer runs */
  setActive(active: boolean): void {
    this.wanted = active;
    this.update();
  }

  /** whether a lock is held now */
  get held(): boolean {
    return this.sentinel !== null && !this.sentinel.released;
  }

  dispose(): void {
    this.wanted = false;
    this.doc.removeEventListener('visibilitychange', this.onVisibility);
    this.update();
  }

  private update(): void {
    if (!this.api) return;
    if (!this.wanted) {
      const s = this.sentinel;
      this.sentinel = null;
      if (s && !s.released) s.release().catch(() => {});
      return;
    }
    if (this.held || this.asking || this.doc.visibilityState !== 'visible') return;
    this.asking = true;
    this.api.request('screen').then(
      (s) => {
        this.asking = false;
        this.sentinel = s;
        s.addEventListener('release', () => {
          if (this.sentinel === s) this.sentinel = null;
        });
        this.update(); // a transfer that ended meanwhile lets it go at once
      },
      () => {
        this.asking = false; // refused: asked again at the next change
      },
    );
  }
}

let policy: WakeLockPolicy | null = null;

/** Holds the screen awake while `active` (one policy for the page). */
export function useWakeLock(active: boolean): void {
  useEffect(() => {
    policy ??= new WakeLockPolicy((navigator as Navigator & { wakeLock?: WakeLockLike }).wakeLock, document);
    policy.setActive(active);
  }, [active]);
}
