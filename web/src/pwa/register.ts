/* The service worker from the first visit (issue 17): the app shell offline,
 * the share target, installability. It is the same worker as the streamed
 * downloads' (hooks/sinks.ts), registered once. */

import { registerDownloadWorker } from '../hooks/sinks';

export function registerServiceWorker(): void {
  void registerDownloadWorker();
}
