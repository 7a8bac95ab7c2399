/* Peerdrop's service worker: streamed downloads, the app shell offline,
 * the share target.
 *
 * Streamed downloads. The page registers each file with a
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
 * when the stream has room (its queue is below 4 MiB). Holds no secrets.
 *
 * The app shell (docs/architecture.md, "The web app's service worker"): the build
 * writes precache.js, the list of the shell's files and a version that
 * changes with any of them; install caches them all in peerdrop-shell-
 * <version>, activate drops the other versions once that one is whole.
 * A page load tries the network first and falls back to the cached
 * index.html when offline; a listed file comes from the cache. Signaling,
 * /config, /metrics and /healthz never go near the cache.
 *
 * The share target (manifest.webmanifest): a POST to ./share-target is
 * taken here, its files and text are kept in the peerdrop-share cache
 * (one share at a time: a new one replaces the last), and the browser is
 * sent to ./?share-target=1, where the page takes them
 * (web/src/pwa/share.ts) and lists them; they are offered only in a room
 * the user then creates or joins. */

let PRECACHE = { version: 'none', files: [] };
try {
  importScripts('./precache.js');
  const p = self.PEERDROP_PRECACHE;
  if (p && typeof p.version === 'string' && Array.isArray(p.files)) PRECACHE = p;
} catch {
  // `npm run dev` has no list: nothing is cached, downloads still work
}
const SHELL_PREFIX = 'peerdrop-shell-';
const SHELL = SHELL_PREFIX + PRECACHE.version;
const SHARE = 'peerdrop-share';
const scoped = (path) => new URL(path, self.registration.scope).href;
const SHELL_URLS = new Set(PRECACHE.files.map(scoped));
/* Never answered from a cache, nor sent to index.html when offline. */
const NEVER_CACHED = ['socket.io/', 'config', 'metrics', 'healthz', 'dl/'].map(scoped);
/* What one share may leave in the cache: a share sheet sends a few photos;
 * any site can POST here, so a page stops a flood at the first 1000. The
 * files' bytes are bounded by the browser's storage quota. */
const SHARE_MAX_FILES = 1000;
const SHARE_MAX_TEXT = 64 * 1024; // characters of title, text and url each

const pending = new Map(); // id -> { stream, name, size }, until its fetch
const streams = new Map(); // id -> { id, controller, port, waiting }, until end or abort

/* All of the shell or nothing: a half-filled cache is deleted, and the
 * worker installs anyway (downloads must not wait on the shell); the
 * last whole version then stays in use. */
async function precache() {
  if (PRECACHE.files.length === 0 || (await caches.has(SHELL))) return;
  const tmp = await caches.open(SHELL + '-filling');
  try {
    await tmp.addAll(PRECACHE.files.map((f) => new Request(scoped(f), { cache: 'no-cache' })));
    const shell = await caches.open(SHELL);
    for (const req of await tmp.keys()) await shell.put(req, await tmp.match(req));
  } finally {
    await caches.delete(SHELL + '-filling');
  }
}

async function dropOldShells() {
  if (!(await caches.has(SHELL))) return;
  for (const name of await caches.keys()) if (name.startsWith(SHELL_PREFIX) && name !== SHELL) await caches.delete(name);
}

self.addEventListener('install', (e) => {
  self.skipWaiting();
  e.waitUntil(precache().catch(() => {}));
});
self.addEventListener('activate', (e) => e.waitUntil(Promise.all([self.clients.claim(), dropOldShells().catch(() => {})])));

/* The newest whole shell's copy of url, else any older one's. */
async function fromShell(url) {
  const own = await caches.open(SHELL);
  const hit = await own.match(url);
  if (hit) return hit;
  for (const name of (await caches.keys()).reverse()) {
    if (!name.startsWith(SHELL_PREFIX) || name.endsWith('-filling')) continue;
    const r = await (await caches.open(name)).match(url);
    if (r) return r;
  }
  return undefined;
}

/* A page load: the network's page when there is one (a new deploy is seen
 * at once), the cached shell when offline. */
async function navigate(req) {
  try {
    return await fetch(req);
  } catch (err) {
    const shell = await fromShell(scoped('index.html'));
    if (shell) return shell;
    throw err;
  }
}

async function shellFile(req) {
  return (await fromShell(req.url)) ?? fetch(req);
}

function clip(v) {
  return typeof v === 'string' ? v.slice(0, SHARE_MAX_TEXT) : '';
}

async function receiveShare(req) {
  let to = scoped('./?share-target=1');
  try {
    const form = await req.formData();
    const files = form.getAll('files').filter((f) => f instanceof File).slice(0, SHARE_MAX_FILES);
    await caches.delete(SHARE);
    const cache = await caches.open(SHARE);
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      const headers = { 'Content-Type': f.type || 'application/octet-stream', 'X-Name': encodeURIComponent(f.name) };
      await cache.put(scoped(`shared/${i}`), new Response(f, { headers }));
    }
    const meta = { files: files.length, title: clip(form.get('title')), text: clip(form.get('text')), url: clip(form.get('url')) };
    await cache.put(scoped('shared/meta'), new Response(JSON.stringify(meta), { headers: { 'Content-Type': 'application/json' } }));
  } catch {
    await caches.delete(SHARE).catch(() => {});
    to = scoped('./?share-target=failed');
  }
  return Response.redirect(to, 303);
}

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
  const req = e.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === 'POST' && url.href === scoped('share-target')) {
    e.respondWith(receiveShare(req));
    return;
  }
  const m = url.pathname.match(/\/dl\/([0-9a-f-]{36})\//);
  if (!m) {
    if (req.method !== 'GET' || NEVER_CACHED.some((p) => url.href.startsWith(p))) return;
    if (req.mode === 'navigate') e.respondWith(navigate(req));
    else if (SHELL_URLS.has(url.href)) e.respondWith(shellFile(req));
    return;
  }
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
