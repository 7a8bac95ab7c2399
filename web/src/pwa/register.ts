/* The service worker from the first visit (issue 17): the app shell offline,
 * the share target, installability. It is the same worker as the streamed
 * downloads' (app/sinks.ts), registered once. */

import { registerDownloadWorker } from '../app/sinks';

export function registerServiceWorker(): void {
  void registerDownloadWorker();
}
