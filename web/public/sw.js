/* Peerdrop streamed downloads. The page registers each file with a
 * MessagePort for the worker's replies; a navigation to ./dl/<id>/<name> is
 * answered with a ReadableStream, so a large file goes to the browser's
 * download manager chunk by chunk instead of being held in the page.
 *
 * The page sends every chunk (and the end) as a message to this worker, not
 * on the port: a message event is a functional event that keeps the worker
 * alive, and each one is held open (waitUntil) until the stream has taken
 * its chunk. Firefox stops a worker with no functional event for
 * dom.serviceWorkers.idle_timeout (30 s); with the chunks on a port it did
 * so mid-download, ending the file short (issue 12).
 *
 * Backpressure: the page waits for "ok" after each chunk, and "ok" only comes
 * when the stream has room (its queue is below 4 MiB). Holds no secrets,
 * caches nothing. */

const pending = new Map(); // id -> { stream, name, size }, until its fetch
const streams = new Map(); // id -> { id, controller, port, waiting }, until end or abort

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

/* Ends the wait of a chunk parked for room (its message event's waitUntil):
 * on room, and when the stream ends any other way, or the worker would keep
 * that event open until the browser kills it, mid-download of the next file. */
function release(st) {
  const w = st.waiting;
  st.waiting = null;
  if (w) w();
}

function register(d, port) {
  const st = { id: d.id, controller: null, port, waiting: null };
  const stream = new ReadableStream(
    {
      start(controller) {
        st.controller = controller;
      },
      pull() {
        release(st);
      },
      cancel() {
        streams.delete(d.id);
        port.postMessage({ type: 'cancelled' });
        release(st);
      },
    },
    { highWaterMark: 4 * 1024 * 1024, size: (c) => c.byteLength },
  );
  streams.set(d.id, st);
  pending.set(d.id, { stream, name: String(d.name), size: Number(d.size) });
  port.postMessage({ type: 'registered' });
}

/* Resolves once the stream has room again (then the page gets "ok"). */
function chunk(st, buf) {
  st.controller.enqueue(new Uint8Array(buf));
  if (st.controller.desiredSize > 0) {
    st.port.postMessage({ type: 'ok' });
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    st.waiting = () => {
      if (streams.get(st.id) === st) st.port.postMessage({ type: 'ok' }); // not after a cancel
      resolve();
    };
  });
}

self.addEventListener('message', (e) => {
  const d = e.data;
  if (!d || typeof d.id !== 'string') return;
  if (d.type === 'register') {
    if (e.ports[0]) register(d, e.ports[0]);
    return;
  }
  const st = streams.get(d.id);
  if (!st) return;
  try {
    if (d.type === 'chunk' && d.buf instanceof ArrayBuffer) e.waitUntil(chunk(st, d.buf));
    else if (d.type === 'end') {
      streams.delete(d.id);
      st.controller.close();
      release(st);
    } else if (d.type === 'abort') {
      streams.delete(d.id);
      st.controller.error(new Error('transfer failed'));
      release(st);
    }
  } catch {
    streams.delete(d.id); // the stream was cancelled meanwhile
  }
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
