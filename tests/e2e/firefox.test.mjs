// Firefox as a first-class browser (issue 12): Debian's firefox-esr driven by
// puppeteer-core over WebDriver BiDi (firefox.mjs), against Chromium and the
// CLI, through the real peerdrop-server. Run inside the namespace with a veth
// pair: tests/e2e/run.sh firefox.test.mjs.
//
// Firefox has no File System Access API: it receives into an OPFS file and
// hands it to the downloads folder when verified; without OPFS it streams
// through the service worker; with neither it keeps small transfers in memory. Every file is compared by
// SHA-256 with its source, read back from Firefox's download dir.
// (A private window of Firefox 153 has no OPFS but does have service workers.)

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, receivedHashes, startServer, zipEntryHashes, CONNECT_WAIT_MS, HIDE_CREATE_WRITABLE, waitConnected } from './lib.mjs';
import { cli, generate, sha256File } from './cli.mjs';
import { ffCreateRoom, ffState, ffUpload, ffWaitConnected, launchFirefox, snapshot, waitDownload } from './firefox.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-ff-e2e-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function dump(name, page) {
  const s = await page.evaluate(() => JSON.stringify(window.peerdrop?.getSnapshot())).catch((e) => String(e));
  console.error(name, s?.slice(0, 2500));
}

/* Chromium creates the room and sends `files` ({name, buffer}); Firefox joins and accepts. */
async function chromiumToFirefox(files, ffOpts = {}, { note, fileWait = 60_000 } = {}) {
  const a = await launch();
  const f = await launchFirefox(ffOpts);
  try {
    if (ffOpts.init) await f.page.evaluateOnNewDocument(ffOpts.init);
    const link = await createRoom(a.page, server.url);
    await f.page.goto(link);
    await Promise.all([waitConnected([a.page]), ffWaitConnected(f.page, CONNECT_WAIT_MS)]);
    // one verification code on both sides (issue 14): each parsed the
    // other browser's SDP fingerprint as the other sees it
    const sasA = (await a.page.getByTestId('sas').textContent()).trim();
    assert.match(sasA, /^\d{3} \d{3}$/);
    assert.equal(await f.page.$eval('[data-testid=sas]', (e) => e.textContent.trim()), sasA);
    const dir = mkdtempSync(join(tmp, 'src-'));
    for (const x of files) writeFileSync(join(dir, x.name), x.buffer);
    await a.page.getByTestId('file-input').setInputFiles(files.map((x) => join(dir, x.name)));
    await f.page.waitForSelector('[data-testid=accept]', { timeout: 30_000 });
    const before = await f.page.$eval('[data-testid=transfer-in]', (e) => e.innerText);
    if (note) assert.match(before, note, 'said before accepting where the files go');
    await f.page.click('[data-testid=accept]');
    await ffState(f.page, 'transfer-in', 'COMPLETED', fileWait).catch(async (e) => {
      await dump('firefox', f.page);
      throw e;
    });
    for (const x of files) {
      const p = await waitDownload(f.downloads, x.name, x.buffer.length, 30_000);
      assert.equal(sha(readFileSync(p)), sha(x.buffer), x.name);
    }
    return (await snapshot(f.page)).storage;
  } finally {
    await a.close();
    await f.close();
  }
}

test('Chromium -> Firefox: two files through OPFS into the downloads folder', { timeout: 180_000 }, async () => {
  const kind = await chromiumToFirefox(
    [
      { name: 'one.bin', buffer: randomBytes(24_000_000) },
      { name: 'two.txt', buffer: Buffer.from('second file\n') },
    ],
    {},
    { note: /stored in this browser as they arrive, then saved to your downloads folder.*room here: [\d.]+ [GM]B/s },
  );
  assert.equal(kind, 'opfs');
});

/* A folder into Firefox: no directory picker, so it arrives as one .zip that
 * keeps its structure (store-only, ZIP64, web/src/protocol/zip.ts), and the
 * offer says so before it is accepted. Python's zipfile checks every CRC and
 * reads each entry back. `init` runs in Firefox's page before the app. */
async function folderToFirefox(name, init) {
  const src = join(tmp, name, 'album');
  mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
  const files = {
    'a.txt': Buffer.from('top level\n'),
    'sub/b.bin': randomBytes(9_000_000),
    'sub/empty.dat': Buffer.alloc(0),
    'sub/deeper/c (copy) é.txt': Buffer.from('deep\n'),
  };
  for (const [p, b] of Object.entries(files)) writeFileSync(join(src, p), b);
  // hidden names are left out (docs/protocol.md §7): the .zip still comes, without them
  writeFileSync(join(src, '.DS_Store'), 'finder\n');
  writeFileSync(join(src, 'sub', '.hidden'), 'dot\n');
  const a = await launch();
  const f = await launchFirefox();
  try {
    if (init) await f.page.evaluateOnNewDocument(init);
    const link = await createRoom(a.page, server.url);
    await f.page.goto(link);
    await Promise.all([waitConnected([a.page]), ffWaitConnected(f.page, CONNECT_WAIT_MS)]);
    await a.page.getByTestId('folder-input').setInputFiles(src);
    await f.page.waitForSelector('[data-testid=accept]', { timeout: 30_000 });
    assert.match(await f.page.$eval('[data-testid=offer-note]', (e) => e.innerText), /You will get album\.zip: a \.zip of 4 files/);
    await f.page.click('[data-testid=accept]');
    await ffState(f.page, 'transfer-in', 'COMPLETED', 60_000).catch(async (e) => {
      await dump('firefox', f.page);
      throw e;
    });
    const zip = await waitDownload(f.downloads, 'album.zip', null, 30_000);
    assert.deepEqual(zipEntryHashes(zip), Object.fromEntries(Object.entries(files).map(([p, b]) => [`album/${p}`, sha(b)])));
    return (await snapshot(f.page)).storage;
  } finally {
    await a.close();
    await f.close();
  }
}

test('Chromium -> Firefox: a folder arrives as a .zip whose entries match byte for byte', { timeout: 180_000 }, async () => {
  assert.equal(await folderToFirefox('folder'), 'opfs');
});

/* Safari before 26 has OPFS but no createWritable: only
 * createSyncAccessHandle, in a worker (issue 12). Firefox has both, so the
 * page's createWritable is hidden before the app loads (the worker keeps its
 * own prototype); without the worker path the app would take the service
 * worker, which Safari cannot save from (StreamSaver.js#69). */
test('Chromium -> Firefox without createWritable: OPFS written from a worker (older Safari), then downloaded', { timeout: 180_000 }, async () => {
  const kind = await chromiumToFirefox(
    [
      { name: 'sync-one.bin', buffer: randomBytes(24_000_000) },
      { name: 'sync-two.txt', buffer: Buffer.from('second file\n') },
    ],
    { init: HIDE_CREATE_WRITABLE },
    { note: /stored in this browser as they arrive, then saved to your downloads folder.*room here: [\d.]+ [GM]B/s },
  );
  assert.equal(kind, 'opfs');
});

test('Chromium -> Firefox without createWritable: a folder arrives as a .zip written from the worker', { timeout: 180_000 }, async () => {
  assert.equal(await folderToFirefox('folder-sync', HIDE_CREATE_WRITABLE), 'opfs');
});

/* Issue 12's stall: with the chunks on a MessagePort Firefox stopped the
 * download worker after dom.serviceWorkers.idle_timeout and the transfer hung
 * ("Transferring" for ever). The timeout is cut to 2 s here so that a
 * transfer of ~5 s outlives it. */
test('Chromium -> Firefox without OPFS: the service-worker download outlives the worker idle timeout', { timeout: 180_000 }, async () => {
  const kind = await chromiumToFirefox(
    [{ name: 'sw.bin', buffer: randomBytes(96 * 2 ** 20) }],
    {
      prefs: { 'dom.serviceWorkers.idle_timeout': 2000, 'dom.serviceWorkers.idle_extended_timeout': 2000 },
      init: 'if (globalThis.StorageManager) delete StorageManager.prototype.getDirectory;',
    },
    { note: /stream into your downloads through a service worker/, fileWait: 120_000 },
  );
  assert.equal(kind, 'sw');
});

/* Measured with Firefox ESR 153: a private window refuses OPFS
 * (getDirectory: SecurityError) but, unlike older Firefox, registers service
 * workers; so the app says and takes the service-worker path there. */
test('Chromium -> Firefox in a private window: no OPFS, streamed through the service worker', { timeout: 180_000 }, async () => {
  const kind = await chromiumToFirefox([{ name: 'private.bin', buffer: randomBytes(8_000_000) }], { private: true }, { note: /stream into your downloads through a service worker/ });
  assert.equal(kind, 'sw');
});

test('Chromium -> Firefox: resume after the data channel is cut, into the same OPFS file', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmp, 'resume-'));
  const src = join(dir, 'resume.bin');
  const digest = generate(src, 150_000_000);
  const a = await launch();
  const f = await launchFirefox();
  try {
    const link = await createRoom(a.page, server.url);
    await f.page.goto(link);
    await Promise.all([waitConnected([a.page]), ffWaitConnected(f.page, CONNECT_WAIT_MS)]);
    await a.page.getByTestId('file-input').setInputFiles(src);
    await f.page.waitForSelector('[data-testid=accept]', { timeout: 30_000 });
    await f.page.click('[data-testid=accept]');
    await f.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 30_000_000, { timeout: 60_000, polling: 20 });
    await f.page.evaluate(() => window.peerdrop.dropConnections());
    await ffState(f.page, 'transfer-in', 'COMPLETED', 90_000).catch(async (e) => {
      await dump('firefox', f.page);
      throw e;
    });
    const t = (await snapshot(f.page)).transfers[0];
    assert.ok(t.resumedFrom > 0, `resumed from ${t.resumedFrom}`);
    assert.equal(sha256File(await waitDownload(f.downloads, 'resume.bin', 150_000_000, 30_000)), digest);
  } finally {
    await a.close();
    await f.close();
  }
});

test('Firefox -> Chromium: Firefox creates the room and sends', { timeout: 180_000 }, async () => {
  const dir = join(tmp, 'ff-send');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'from-firefox.bin');
  const digest = generate(src, 20_000_000);
  const f = await launchFirefox();
  const b = await launch();
  try {
    const link = await ffCreateRoom(f.page, server.url);
    await b.page.goto(link);
    await Promise.all([waitConnected([b.page]), ffWaitConnected(f.page, CONNECT_WAIT_MS)]);
    await ffUpload(f.page, [src]);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await ffState(f.page, 'transfer-out', 'COMPLETED', 15_000);
    assert.equal((await receivedHashes(b.page))['from-firefox.bin'], digest);
  } finally {
    await f.close();
    await b.close();
  }
});

test('CLI -> Firefox: the CLI sends, Firefox saves to downloads', { timeout: 180_000 }, async () => {
  const dir = join(tmp, 'cli-send');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'from-cli.bin');
  const digest = generate(src, 12_000_000);
  const sender = cli(['send', src, '--server', server.url, '--count', '1']);
  const f = await launchFirefox();
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await f.page.goto(room.link);
    await ffWaitConnected(f.page, CONNECT_WAIT_MS);
    await f.page.waitForSelector('[data-testid=accept]', { timeout: 30_000 });
    await f.page.click('[data-testid=accept]');
    await ffState(f.page, 'transfer-in', 'COMPLETED', 60_000);
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.equal(sha256File(await waitDownload(f.downloads, 'from-cli.bin', 12_000_000, 30_000)), digest);
  } finally {
    sender.kill();
    await f.close();
  }
});

test('Firefox -> CLI: Firefox creates the room, the CLI receives', { timeout: 180_000 }, async () => {
  const dir = join(tmp, 'ff-to-cli');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'to-cli.bin');
  const digest = generate(src, 12_000_000);
  const out = join(tmp, 'cli-out');
  const f = await launchFirefox();
  let receiver;
  try {
    const link = await ffCreateRoom(f.page, server.url);
    receiver = cli(['receive', link, '--yes', '-o', out]);
    await receiver.waitFor((e) => e.event === 'joined', 15_000);
    await ffWaitConnected(f.page, CONNECT_WAIT_MS);
    await ffUpload(f.page, [src]);
    const r = await receiver.exit(60_000);
    assert.equal(r.code, 0, receiver.summary());
    assert.equal(sha256File(join(out, 'to-cli.bin')), digest);
  } finally {
    receiver?.kill();
    await f.close();
  }
});

/* Drop first from Firefox (issue 17): files chosen on the home page make the
 * room; a Chromium that opens the link is offered them at once; each side
 * lists the other by its friendly name and kind, sent in the hello. */
test('Firefox drops first -> Chromium: offered on joining, names and kinds both ways', { timeout: 180_000 }, async () => {
  const f = await launchFirefox();
  const a = await launch();
  try {
    await f.page.goto(server.url);
    const ffName = await f.page.$eval('[data-testid=self-name]', (e) => e.value);
    assert.match(ffName, /^[A-Z][a-z]+ [A-Z][a-z]+$/);
    const dir = mkdtempSync(join(tmp, 'drop-'));
    const body = randomBytes(300_000);
    writeFileSync(join(dir, 'first.bin'), body);
    await ffUpload(f.page, [join(dir, 'first.bin')]);
    const input = await f.page.waitForSelector('[data-testid=share-link]', { timeout: 30_000 });
    let link = '';
    for (let i = 0; i < 100 && !link; i++) {
      link = await input.evaluate((e) => e.value);
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(link, /#room=/);
    await a.page.goto(link);
    const offer = a.page.locator('[data-testid=transfer-in][data-state=OFFERED]');
    await offer.waitFor({ timeout: CONNECT_WAIT_MS });
    assert.match(await offer.innerText(), new RegExp(`From ${ffName}`));
    assert.equal(await a.page.getByTestId('peer-device').innerText(), 'Firefox on Linux');
    const chName = await a.page.getByTestId('self-name').inputValue();
    await f.page.waitForSelector('[data-testid=peer][data-state=CONNECTED]', { timeout: CONNECT_WAIT_MS });
    assert.equal(await f.page.$eval('[data-testid=peer-name]', (e) => e.textContent), chName);
    assert.equal(await f.page.$eval('[data-testid=peer-device]', (e) => e.textContent), 'Chrome on Linux');
    await a.page.getByTestId('accept').click();
    await a.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    assert.equal((await receivedHashes(a.page))['first.bin'], sha(body));
    await ffState(f.page, 'transfer-out', 'COMPLETED', 30_000);
    assert.equal(await f.page.$eval('[data-testid=status]', (e) => e.textContent), 'Sent ✓');
    assert.equal(await f.page.title(), 'Sent ✓ · Peerdrop');
  } catch (e) {
    await dump('firefox', f.page);
    throw e;
  } finally {
    await a.close();
    await f.close();
  }
});
