// The installable app (issue 17): manifest and icons pass Chromium's own
// installability check, the service worker serves the app shell offline and
// replaces it when a new version is deployed, a share-target POST ends with
// the shared file offered in a room, the theme switch, and axe-core with no
// serious or critical violation in the main states, light and dark, at
// phone and desktop size (screenshots: tests/e2e/screenshots/pwa-*.png).
// One Chromium for the file: the second peer is a second tab. About 60 s on
// a quiet machine; the limits allow for one shared with other builds.

import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectAccessible } from './axe.mjs';
import { launch, openOptions, receivedHashes, ROOT, shot, startServer, waitConnected } from './lib.mjs';

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 900 };
const sha = (b) => createHash('sha256').update(b).digest('hex');

// A copy of web/dist, so that one test can deploy a new version of it.
const webRoot = mkdtempSync(join(tmpdir(), 'pd-pwa-web-'));
let server;
let browser;
before(async () => {
  // PEERDROP_WEB_ROOT: another build of the app (e.g. an older commit's, to see these tests fail on it)
  cpSync(process.env.PEERDROP_WEB_ROOT ?? join(ROOT, 'web', 'dist'), webRoot, { recursive: true });
  process.env.PEERDROP_WEB_ROOT = webRoot;
  server = await startServer();
  delete process.env.PEERDROP_WEB_ROOT;
  browser = await launch({ viewport: PHONE });
});
after(async () => {
  await browser?.close();
  server?.stop();
  rmSync(webRoot, { recursive: true, force: true });
});

/* Polls an async check in the page, at most `ms` (waitForFunction would
 * take the promise it returns for a truthy value). */
async function until(page, what, ms, check, arg) {
  const end = Date.now() + ms;
  for (;;) {
    if (await page.evaluate(check, arg)) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/* The page's worker has installed and controls it, with the shell cached. */
async function workerReady(page) {
  const state = () =>
    page.evaluate(async () => {
      const reg = await navigator.serviceWorker?.getRegistration();
      return { active: reg?.active?.state ?? null, controlled: !!navigator.serviceWorker?.controller, caches: await caches.keys() };
    });
  try {
    await until(page, 'the service worker controls the page, shell cached', 15_000, async () => {
      const reg = await navigator.serviceWorker?.getRegistration();
      const names = await caches.keys();
      return !!(reg?.active && navigator.serviceWorker.controller && names.some((n) => /^peerdrop-shell-[0-9a-f]{16}$/.test(n)));
    });
  } catch (e) {
    e.message += ` (${JSON.stringify(await state().catch((x) => x.message))})`;
    throw e;
  }
}

/* axe and a screenshot of the page as it is, light and dark, phone and desktop. */
async function checkState(page, name) {
  for (const scheme of ['light', 'dark'])
    for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      await expectAccessible(page, `${name}, ${scheme}, ${size}`);
      await shot(page, `pwa-${name}-${scheme}-${size}`);
    }
  await page.setViewportSize(PHONE);
  await page.emulateMedia({ colorScheme: 'light' });
}

test('installable: Chromium finds no installability error; manifest, icons and share target as served', { timeout: 60_000 }, async () => {
  const { page, ctx } = browser;
  await page.goto(server.url);
  await workerReady(page);
  const cdp = await ctx.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
  const { errors, data } = await cdp.send('Page.getAppManifest');
  assert.deepEqual(errors, []);
  const m = JSON.parse(data);
  assert.equal(m.display, 'standalone');
  assert.equal(m.share_target.method, 'POST');
  assert.equal(m.share_target.enctype, 'multipart/form-data');
  for (const icon of m.icons) {
    const res = await page.request.get(new URL(icon.src, server.url + 'manifest.webmanifest').href);
    assert.equal(res.status(), 200, icon.src);
    assert.equal(res.headers()['content-type'], icon.type, icon.src);
  }
  await cdp.detach();
});

test('offline: a reload renders the app shell from the cache; signaling, /config and /metrics are never cached', { timeout: 60_000 }, async () => {
  const { page, ctx } = browser;
  await page.goto(server.url);
  await workerReady(page);
  await ctx.setOffline(true);
  try {
    await page.reload();
    await page.getByTestId('receive-box').waitFor({ timeout: 10_000 }); // the home page
    await shot(page, 'pwa-offline');
    assert.equal(await page.evaluate(() => fetch('./config').then(() => 'answered', () => 'failed')), 'failed');
  } finally {
    await ctx.setOffline(false);
  }
  const cached = await page.evaluate(async () => {
    const out = [];
    for (const n of await caches.keys()) for (const r of await (await caches.open(n)).keys()) out.push(new URL(r.url).pathname);
    return out;
  });
  assert.ok(cached.includes('/index.html'), cached.join(' '));
  assert.ok(cached.some((p) => /^\/assets\/index-.*\.js$/.test(p)), cached.join(' '));
  for (const p of cached) assert.doesNotMatch(p, /^\/(socket\.io|config|metrics|healthz)/);
});

test('a new deploy: the worker updates, fills a new cache and drops the old one', { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(server.url);
  await workerReady(page);
  const before = await page.evaluate(() => caches.keys());
  const old = before.find((n) => n.startsWith('peerdrop-shell-'));
  // the build would write a new list: a changed file, so a new version
  const list = readFileSync(join(webRoot, 'precache.js'), 'utf8');
  const version = 'feedfacefeedface';
  writeFileSync(join(webRoot, 'precache.js'), list.replace(/"version":"[0-9a-f]{16}"/, `"version":"${version}"`));
  writeFileSync(join(webRoot, 'favicon.svg'), readFileSync(join(webRoot, 'favicon.svg'), 'utf8') + '\n');
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
  await until(
    page,
    'the new version cached, the old one gone',
    15_000,
    async ([v, o]) => {
      const names = await caches.keys();
      return names.includes(`peerdrop-shell-${v}`) && !names.includes(o);
    },
    [version, old],
  );
});

/* A POST to the share target from a page of no origin of ours (the app's
 * own CSP, form-action 'none', would stop it there), as a share sheet's. */
async function share(page, body, fields) {
  await page.goto('about:blank');
  await page.setContent(`<form method="post" enctype="multipart/form-data" action="${server.url}share-target">
    <input type="file" name="files" multiple>${fields}<button>share</button></form>`);
  await page.locator('input[type=file]').setInputFiles([{ name: 'shared.txt', mimeType: 'text/plain', buffer: body }]);
  await page.getByRole('button', { name: 'share' }).click();
}

test('share target: a shared file is listed, then offered in the room the user creates; axe in every state', { timeout: 180_000 }, async () => {
  const { page, ctx } = browser;
  await page.goto(server.url);
  await workerReady(page);
  await checkState(page, 'home');
  // another site's page (here about:blank) POSTs to the share target, as
  // a phone's share sheet does
  const sharer = await ctx.newPage();
  const peer = await ctx.newPage();
  try {
    const body = Buffer.from('shared from the share sheet\n');
    await share(sharer, body, '<input name="title" value="A title"><input name="url" value="https://example.com/x">');
    await sharer.getByTestId('shared').waitFor({ timeout: 10_000 });
    assert.equal(new URL(sharer.url()).search, ''); // the marker is gone
    assert.deepEqual(await sharer.getByTestId('shared-file').locator('.fname').allTextContents(), ['shared.txt', 'shared-text.txt']);
    await checkState(sharer, 'shared');
    // taken once: a reload shows nothing shared
    await sharer.reload();
    await sharer.getByTestId('receive-box').waitFor();
    assert.equal(await sharer.getByTestId('shared').count(), 0);
    assert.deepEqual(await sharer.evaluate(() => caches.keys().then((k) => k.filter((n) => n === 'peerdrop-share'))), []);

    // again, then into a room
    await share(sharer, body, '');
    await sharer.getByTestId('shared-file').first().waitFor({ timeout: 10_000 });
    await openOptions(sharer);
    await sharer.getByRole('button', { name: 'Create room' }).click();
    const link = await sharer.getByTestId('share-link').inputValue();
    await sharer.getByTestId('no-peers').waitFor();
    await checkState(sharer, 'room-waiting');
    await peer.goto(link);
    await waitConnected([sharer, peer]);
    const offer = peer.locator('[data-testid=transfer-in][data-state=OFFERED]');
    await offer.waitFor({ timeout: 15_000 });
    assert.deepEqual(await offer.locator('.fname').allTextContents(), ['shared.txt']);
    await checkState(sharer, 'room-peer');
    await peer.getByTestId('accept').click();
    await peer.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await sharer.locator('[data-testid=transfer-out][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    assert.equal((await receivedHashes(peer))['shared.txt'], sha(body));
    await checkState(peer, 'received');
    for (const p of [sharer, peer]) assert.deepEqual(await p.evaluate(() => window.__cspViolations), []);
  } catch (e) {
    await shot(sharer, 'pwa-failure-sharer').catch(() => {});
    await shot(peer, 'pwa-failure-peer').catch(() => {});
    throw e;
  } finally {
    await sharer.close();
    await peer.close();
  }
});

test('share target without the worker: the server sends the browser to the app, which says nothing arrived', { timeout: 60_000 }, async () => {
  const { ctx } = browser;
  const page = await ctx.newPage();
  try {
    await page.goto(server.url);
    await workerReady(page);
    await page.evaluate(async () => {
      for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
    });
    await share(page, Buffer.from('lost\n'), '');
    await page.getByTestId('share-lost').waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId('shared').count(), 0);
    assert.equal(new URL(page.url()).search, '');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    assert.equal(await page.getByTestId('share-lost').count(), 0);
    // and the app registered its worker again (it controls the next page
    // load: the old registration, still held by the suite's first tab, is
    // taken up again, so no new worker claims this one, as the spec says)
    await until(page, 'a worker registered again', 15_000, async () => !!(await navigator.serviceWorker.getRegistration())?.active);
  } finally {
    await page.close();
  }
});

test('themes: the system scheme by default, a manual choice over it, remembered after a reload', { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(server.url);
  const bg = () => page.evaluate(() => getComputedStyle(document.body.parentElement).backgroundColor);
  const LIGHT = 'rgb(244, 245, 247)';
  const DARK = 'rgb(18, 19, 23)';
  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    assert.equal(await bg(), DARK);
    const sw = page.getByTestId('theme');
    await sw.click(); // automatic -> light
    assert.equal(await sw.getAttribute('data-theme-choice'), 'light');
    assert.equal(await bg(), LIGHT);
    await page.reload();
    assert.equal(await page.getByTestId('theme').getAttribute('data-theme-choice'), 'light');
    assert.equal(await bg(), LIGHT);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByTestId('theme').click(); // light -> dark
    assert.equal(await bg(), DARK);
    await expectAccessible(page, 'home, dark by choice');
    await page.getByTestId('theme').click(); // dark -> automatic
    assert.equal(await bg(), LIGHT);
    assert.equal(await page.evaluate(() => localStorage.getItem('peerdrop.theme')), null);
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
});
