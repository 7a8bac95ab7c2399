// Debian's Firefox ESR (/usr/bin/firefox-esr) driven by puppeteer-core over
// WebDriver BiDi: never a downloaded browser build (playwright-core cannot
// drive a stock Firefox). Prefs and the namespace it needs per
// ../../../shared/notes/firefox-webrtc-tests.md: Firefox gathers no host
// candidate when `lo` is the only interface, so tests/e2e/run.sh gives
// Firefox suites a veth pair too.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

/** A fresh Firefox with its own profile and download dir.
 *  private: the page opens in a private window (no service worker there). */
export async function launchFirefox({ private: priv = false, prefs = {} } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'pd-firefox-'));
  const downloads = mkdtempSync(join(tmpdir(), 'pd-firefox-dl-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    protocolTimeout: 120_000,
    extraPrefsFirefox: {
      // English, whatever the machine's language: the suites match the app's English text
      'intl.accept_languages': 'en-US, en',
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false, // no mDNS names for host candidates
      'media.navigator.permission.disabled': true,
      'media.navigator.streams.fake': true,
      'browser.download.folderList': 2,
      'browser.download.dir': downloads,
      'browser.download.useDownloadDir': true,
      'browser.download.always_ask_before_handling_new_types': false,
      'browser.download.start_downloads_in_tmp_dir': false,
      'browser.download.alwaysOpenPanel': false,
      'browser.download.panel.shown': true,
      'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream,application/zip',
      // Private browsing for every window: what a user's private window gets
      // (no service worker, no persistent storage). puppeteer's incognito
      // context is a BiDi user context (a container), not private browsing.
      ...(priv ? { 'browser.privatebrowsing.autostart': true } : {}),
      ...prefs,
    },
  });
  const page = (await browser.pages())[0] ?? (await browser.newPage());
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (e) => console.error('[firefox pageerror]', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('[firefox console]', m.text()));
  return {
    browser,
    page,
    profile,
    downloads,
    pid: browser.process()?.pid,
    close: async () => {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}

/** Every process under `pid` (itself included), from /proc. */
export function processTree(pid) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  const out = [];
  const todo = [pid];
  while (todo.length > 0 && out.length < 1000) {
    const p = todo.pop();
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** RSS in bytes of each process under `pid`: [{pid, kind, rss}]; kind: 'parent' for `pid`,
 *  else the thread name Firefox gives the process ("Isolated Web Co", "Socket Process", ...). */
export function treeRss(pid) {
  const out = [];
  for (const p of processTree(pid)) {
    try {
      const rss = Number(readFileSync(`/proc/${p}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0) * 1024;
      const kind = p === pid ? 'parent' : readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      out.push({ pid: p, kind, rss });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Waits until `dir` holds a finished file named `name` of `size` bytes (Firefox writes
 *  downloads to a .part file beside an empty placeholder and renames it when done;
 *  size null: any size once no .part is left); returns its path. */
export async function waitDownload(dir, name, size, ms) {
  const path = join(dir, name);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const parts = readdirSync(dir).some((f) => f.endsWith('.part'));
    if (existsSync(path) && (size === null ? !parts && statSync(path).size > 0 : statSync(path).size === size && !existsSync(path + '.part'))) return path;
    await new Promise((r) => setTimeout(r, 200));
  }
  let have = [];
  try {
    have = readdirSync(dir).map((f) => `${f} (${statSync(join(dir, f)).size})`);
  } catch {
    /* no dir */
  }
  throw new Error(`download ${name} (${size} bytes) not complete in ${ms} ms; the dir has: ${have.join(', ') || 'nothing'}`);
}

/** The app's snapshot (window.peerdrop) of a puppeteer page. */
export const snapshot = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.peerdrop.getSnapshot())));

/** Puppeteer counterparts of lib.mjs's page helpers, for a Firefox page. */
export async function ffOpenOptions(page) {
  const d = await page.waitForSelector('[data-testid=options]');
  if (!(await d.evaluate((e) => e.open))) await page.locator('[data-testid=options] > summary').click();
}

export async function ffCreateRoom(page, url) {
  await page.goto(url);
  await ffOpenOptions(page);
  await page.locator('button::-p-text(Create room)').click();
  const link = await page.waitForSelector('[data-testid=share-link]');
  for (let i = 0; i < 100; i++) {
    const v = await link.evaluate((e) => e.value);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no share link');
}

export const ffWaitConnected = (page, ms) => page.waitForSelector('[data-testid=peer][data-state=CONNECTED]', { timeout: ms });
export const ffState = (page, sel, state, ms) => page.waitForSelector(`[data-testid=${sel}][data-state=${state}]`, { timeout: ms });
export async function ffUpload(page, paths) {
  const input = await page.waitForSelector('[data-testid=file-input]');
  await input.uploadFile(...paths);
}
