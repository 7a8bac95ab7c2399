/* Peerdrop streamed downloads. The page hands this worker a MessagePort per
 * file; a navigation to ./dl/<id>/<name> is answered with a ReadableStream
 * fed from that port, so a large file goes to the browser's download manager
 * chunk by chunk instead of being held in memory. Backpressure: the page
 * waits for "ok" after each chunk, and "ok" only comes when the stream has
 * room (its queue is below 4 MiB). Holds no secrets, caches nothing. */

const pending = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('message', (e) => {
  const d = e.data;
  if (!d || d.type !== 'register' || typeof d.id !== 'string' || !e.ports[0]) return;
  const port = e.ports[0];
  let waiting = false;
  const stream = new ReadableStream(
    {
      start(controller) {
        port.onmessage = (m) => {
          const x = m.data;
          if (x.type === 'chunk') {
            controller.enqueue(new Uint8Array(x.buf));
            if (controller.desiredSize > 0) port.postMessage({ type: 'ok' });
            else waiting = true;
          } else if (x.type === 'end') {
            controller.close();
          } else if (x.type === 'abort') {
            controller.error(new Error('transfer failed'));
          }
        };
      },
      pull() {
        if (waiting) {
          waiting = false;
          port.postMessage({ type: 'ok' });
        }
      },
      cancel() {
        port.postMessage({ type: 'cancelled' });
      },
    },
    { highWaterMark: 4 * 1024 * 1024, size: (c) => c.byteLength },
  );
  pending.set(d.id, { stream, name: String(d.name), size: Number(d.size) });
  port.postMessage({ type: 'registered' });
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  const m = url.pathname.match(/\/dl\/([0-9a-f-]{36})\//);
  if (!m) return;
  const entry = pending.get(m[1]);
  if (!entry) {
    e.respondWith(new Response('gone', { status: 404 }));
    return;
  }
  pending.delete(m[1]);
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': "attachment; filename*=UTF-8''" + encodeURIComponent(entry.name),
    'X-Content-Type-Options': 'nosniff',
  };
  if (Number.isSafeInteger(entry.size)) headers['Content-Length'] = String(entry.size);
  e.respondWith(new Response(entry.stream, { headers }));
});
