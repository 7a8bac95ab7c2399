// Helpers for the browser end-to-end tests: the real peerdrop-server serving
// web/dist, and Debian's Chromium driven by playwright-core (never a
// downloaded browser). Flags per ../../../shared/notes/chromium-loopback-webrtc.md.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = join(ROOT, 'tests', 'e2e', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SERVER = process.env.PEERDROP_SERVER ?? join(ROOT, 'build', 'peerdrop-server');

export async function startServer(extra = []) {
  const args = ['--port', '0', '--host', '127.0.0.1', '--web-root', process.env.PEERDROP_WEB_ROOT ?? join(ROOT, 'web', 'dist'), '--argon2', 'min', '--rate-limit', '0', ...extra];
  const proc = spawn(SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('server did not start: ' + buf)), 10000);
    proc.stderr.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening url=(\S+)/);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}: ${buf}`)));
  });
  return { url: url.endsWith('/') ? url : url + '/', stop: () => proc.kill('SIGTERM') };
}

/* The receiving side writes through the File System Access API; headless
 * Chromium cannot show a picker, so the pickers return a folder in the
 * origin-private file system, which the test then reads back. The fake
 * microphone grant makes Chromium gather 127.0.0.1 host candidates. */
export const INIT = `
  (() => {
    // every Content-Security-Policy violation the page meets (issue 11 item 8)
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    const dir = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('received', { create: true });
    window.showDirectoryPicker = async () => dir();
    window.showSaveFilePicker = async (o) => (await dir()).getFileHandle(o.suggestedName, { create: true });
    // The grant has been seen to hang under load, which stalled every
    // setLocalDescription of the page: bound it, and ask once more.
    const gum = () => navigator.mediaDevices.getUserMedia({ audio: true }).then((s) => s.getTracks().forEach((t) => t.stop()));
    const bounded = (ms) => Promise.race([gum(), new Promise((_, no) => setTimeout(() => no(new Error('getUserMedia timeout')), ms))]);
    window.__gum = bounded(5000).catch(() => bounded(5000)).catch((e) => console.error('fake microphone grant failed:', e.message));
    // ICE gathering must not start before the grant, or no 127.0.0.1 candidate appears.
    const sld = RTCPeerConnection.prototype.setLocalDescription;
    RTCPeerConnection.prototype.setLocalDescription = async function (...args) {
      await window.__gum;
      return sld.apply(this, args);
    };
  })();
`;

/* How long a test waits for two peers to connect. The app gives up on an
 * attempt after 20 s and the offerer retries (web/src/app/peer.ts), so a
 * wait covers one retry on a loaded machine. */
export const CONNECT_WAIT_MS = 60_000;

/* Waits until every page shows a connected peer. No reload, no second
 * chance beyond the app's own: two browsers that do not connect are a bug
 * (the last one: docs/protocol.md §5.1, the acceptor's early hello). */
export async function waitConnected(pages) {
  const sel = '[data-testid=peer][data-state=CONNECTED]';
  await Promise.all(pages.map((p) => p.locator(sel).first().waitFor({ timeout: CONNECT_WAIT_MS })));
}

/** Run before the app loads: a browser whose OPFS files cannot be written from the page (Safari before 26). */
export const HIDE_CREATE_WRITABLE = 'if (globalThis.FileSystemFileHandle) delete FileSystemFileHandle.prototype.createWritable;';

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
];

/** One Chromium for a whole file, each party in a context of its own (its own
 *  storage, OPFS and localStorage): cheaper than a browser per party.
 *  `party()` returns { ctx, page }; close() ends the browser. A party's
 *  `locale` is its browser's language (English unless given, see launch). */
export async function launchShared({ viewport = { width: 900, height: 1000 } } = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    party: async (name, { locale = 'en-US' } = {}) => {
      const ctx = await browser.newContext({ viewport, locale, acceptDownloads: true });
      await ctx.addInitScript(INIT);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => console.error(`[${name} pageerror]`, e.message));
      page.on('console', (m) => m.type() === 'error' && console.error(`[${name} console]`, m.text()));
      return { ctx, page };
    },
    close: () => browser.close(),
  };
}

/* storage: 'fs' (default: File System Access into OPFS), 'opfs' (no File
 * System Access: an OPFS file, then a download), 'opfs-worker' (nor
 * createWritable, as Safari before 26: the OPFS file is written by
 * createSyncAccessHandle in a worker; init scripts do not reach workers, so
 * the worker keeps it), 'sw' (nor OPFS:
 * service-worker downloads), 'memory' (none of them). */
/* locale: the browser's language (navigator.languages, Accept-Language, Intl);
 * English by default, whatever the machine's, since the suites match the
 * app's English text (i18n.test.mjs runs the other languages). */
/* executablePath and extraArgs: for the benchmarks only (bench/wan runs a
 * browser in another network namespace through a wrapper script). */
export async function launch({ storage = 'fs', viewport = { width: 900, height: 1000 }, locale = 'en-US', executablePath = CHROMIUM, extraArgs = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'pd-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport,
    locale,
    acceptDownloads: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  await ctx.addInitScript(INIT);
  if (storage !== 'fs') await ctx.addInitScript('delete window.showDirectoryPicker; delete window.showSaveFilePicker;');
  if (storage === 'opfs-worker') await ctx.addInitScript(HIDE_CREATE_WRITABLE);
  if (storage === 'sw' || storage === 'memory') await ctx.addInitScript('if (globalThis.StorageManager) delete StorageManager.prototype.getDirectory;');
  if (storage === 'memory') await ctx.addInitScript("Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined }); delete Navigator.prototype.serviceWorker;");
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('[console]', m.text()));
  return {
    ctx,
    page,
    profile,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Opens the home page's "Options" (a room with a password of one's own,
 *  joining by id and password), unless it is open already. */
export async function openOptions(page) {
  const d = page.getByTestId('options');
  if (!(await d.evaluate((e) => e.open))) await d.locator('summary').click();
}

/** Creates an empty room in `page` (Options, Create room); returns the share link. */
export async function createRoom(page, url, screenshot) {
  await page.goto(url);
  if (screenshot) await shot(page, screenshot);
  await openOptions(page);
  await page.getByRole('button', { name: 'Create room' }).click();
  const link = page.getByTestId('share-link');
  await link.waitFor();
  return link.inputValue();
}

/** Two fresh browsers, a in a room it created and b joined by its link, both
 *  connected; if that fails they are closed here (a test's own finally only
 *  covers what comes after). */
export async function twoConnected(url) {
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, url);
    await b.page.goto(link);
    await waitConnected([a.page, b.page]);
    return { a, b, link };
  } catch (e) {
    await a.close().catch(() => {});
    await b.close().catch(() => {});
    throw e;
  }
}

/** SHA-256 (hex) of every file under the OPFS "received" folder, by relative path. */
export async function receivedHashes(page) {
  return page.evaluate(async () => {
    const out = {};
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('received', { create: true });
    async function walk(dir, prefix) {
      for await (const [name, h] of dir.entries()) {
        if (h.kind === 'directory') await walk(h, prefix + name + '/');
        else {
          const f = await h.getFile();
          // hash in slices so that large files do not need one huge buffer
          const d = await crypto.subtle.digest('SHA-256', await f.arrayBuffer());
          out[prefix + name] = Array.from(new Uint8Array(d), (x) => x.toString(16).padStart(2, '0')).join('');
        }
      }
    }
    await walk(root, '');
    return out;
  });
}

/* Python's zipfile checks every entry's CRC and reads each one back; Info-ZIP
 * unzip tests the archive too (two readers that are not ours). */
const PY_ZIP = `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))
`;
/** SHA-256 (hex) of every entry of the .zip at `path`, by its name in the archive. */
export function zipEntryHashes(path) {
  const got = JSON.parse(execFileSync('python3', ['-c', PY_ZIP, path]).toString());
  execFileSync('unzip', ['-tq', path]);
  return got;
}
