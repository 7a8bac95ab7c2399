/* A notification when a transfer finishes while the page is hidden (issue
 * 17), if the user allowed notifications. Permission is asked only from a
 * user gesture (a drop, a click on Accept): browsers ignore or penalise a
 * prompt that comes from nowhere. */

import { useEffect, useRef } from 'react';
import type { TransferView } from './types';
import { translate, type Locale } from '../i18n';

const canNotify = () => typeof Notification !== 'undefined';

/** Call from a click or drop handler: asks once, if the browser has not been told yet. */
export function askNotifications(): void {
  if (canNotify() && Notification.permission === 'default') void Notification.requestPermission().catch(() => {});
}

/** Words for a finished transfer: "Received 3 files from Blue Fox" (in `locale`). */
export function finishedText(t: TransferView, locale: Locale = 'en'): string {
  const count = t.files.filter((f) => f.state === 'done').length;
  return translate(locale, t.dir === 'in' ? 'notify.received' : 'notify.sent', { count, peer: t.peerLabel });
}

/** Shows a notification for each transfer that completes while the page is hidden. */
export function useFinishedNotifications(transfers: TransferView[], locale: Locale): void {
  const seen = useRef(new Set<string>());
  useEffect(() => {
    for (const t of transfers) {
      if (t.state !== 'COMPLETED' || seen.current.has(t.key)) continue;
      seen.current.add(t.key);
      if (!document.hidden || !canNotify() || Notification.permission !== 'granted') continue;
      try {
        const n = new Notification('Peerdrop', { body: finishedText(t, locale), tag: t.key });
        n.onclick = () => {
          window.focus();
          n.close();
        };
      } catch {
        /* Chrome on Android: notifications only through a service worker */
      }
    }
  }, [transfers, locale]);
}
