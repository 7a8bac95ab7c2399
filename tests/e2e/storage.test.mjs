// The receiving paths other than File System Access: OPFS written from a
// worker (a browser without createWritable), the service-worker streamed
// download and the in-memory Blob, plus the phone-sized layout.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, shot, startServer, zipEntryHashes, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-storage-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function pair(storage, viewport) {
  const a = await launch({ viewport });
  const b = await launch({ storage, viewport });
  const link = await createRoom(a.page, server.url);
  await b.page.goto(link);
  await waitConnected([a.page, b.page]);
  return { a, b };
}

/* Safari before 26: OPFS, but its files can only be written with
 * createSyncAccessHandle in a worker (issue 12). createWritable is hidden in
 * the page; the app must say it stores the files in the browser (not the
 * service worker, which that Safari cannot save from), start its OPFS
 * worker, resume in place after the channel is cut, and hand over the file
 * as a download. */
test('without createWritable: OPFS written from a worker, resumed in place, then downloaded', { timeout: 180_000 }, async () => {
  const { a, b } = await pair('opfs-worker');
  try {
    const buf = randomBytes(64 * 2 ** 20);
    writeFileSync(join(tmp, 'sync.bin'), buf); // over playwright's 50 MB for a buffer
    await a.page.getByTestId('file-input').setInputFiles(join(tmp, 'sync.bin'));
    await b.page.getByTestId('accept').waitFor({ timeout: 15_000 });
    assert.match(await b.page.getByTestId('transfer-in').innerText(), /stored in this browser as they arrive, then saved to your downloads folder/);
    const download = b.page.waitForEvent('download', { timeout: 90_000 });
    await b.page.getByTestId('accept').click();
    await b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 20_000_000, null, { timeout: 60_000, polling: 20 });
    await b.page.evaluate(() => window.peerdrop.dropConnections());
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 90_000 });
    const snap = await b.page.evaluate(() => JSON.parse(JSON.stringify(window.peerdrop.getSnapshot())));
    assert.equal(snap.storage, 'opfs');
    assert.ok(snap.transfers[0].resumedFrom > 0, `resumed from ${snap.transfers[0].resumedFrom}`);
    const d = await download;
    assert.equal(d.suggestedFilename(), 'sync.bin');
    assert.equal(sha(readFileSync(await d.path())), sha(buf));
    const workers = b.page.workers().map((w) => w.url()); // started by the storage probe at load
    assert.ok(workers.some((u) => /opfs-worker/.test(u)), `the OPFS worker ran (workers: ${workers.join(', ') || 'none'})`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('without createWritable: a folder arrives as a .zip written from the worker', { timeout: 180_000 }, async () => {
  const { a, b } = await pair('opfs-worker');
  try {
    const files = { 'top.txt': Buffer.from('top\n'), 'inner/x.bin': randomBytes(6_000_000), 'inner/deep/y.txt': Buffer.from('y\n') };
    for (const [p, data] of Object.entries(files)) {
      mkdirSync(join(tmp, 'pics', p, '..'), { recursive: true });
      writeFileSync(join(tmp, 'pics', p), data);
    }
    await a.page.getByTestId('folder-input').setInputFiles(join(tmp, 'pics'));
    await b.page.getByTestId('accept').waitFor({ timeout: 15_000 });
    assert.match(await b.page.getByTestId('offer-note').innerText(), /You will get pics\.zip: a \.zip of 3 files/);
    const download = b.page.waitForEvent('download', { timeout: 60_000 });
    await b.page.getByTestId('accept').click();
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const d = await download;
    assert.equal(d.suggestedFilename(), 'pics.zip');
    assert.deepEqual(zipEntryHashes(await d.path()), Object.fromEntries(Object.entries(files).map(([p, data]) => [`pics/${p}`, sha(data)])));
  } finally {
    await a.close();
    await b.close();
  }
});

test('without File System Access: streamed through the service worker into downloads', { timeout: 180_000 }, async () => {
  const { a, b } = await pair('sw');
  try {
    assert.match(await b.page.locator('main').innerText(), /service worker/);
    const files = [
      { name: 'one.bin', mimeType: 'application/octet-stream', buffer: randomBytes(20_000_000) },
      { name: 'two.txt', mimeType: 'text/plain', buffer: Buffer.from('second file\n') },
    ];
    const downloads = [];
    b.page.on('download', (d) => downloads.push(d));
    await a.page.getByTestId('file-input').setInputFiles(files);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    for (let i = 0; i < 200 && downloads.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(downloads.length, 2);
    for (const d of downloads) {
      const f = files.find((x) => x.name === d.suggestedFilename());
      assert.ok(f, d.suggestedFilename());
      assert.equal(sha(readFileSync(await d.path())), sha(f.buffer), f.name);
    }
    await shot(b.page, 'receiver-sw-completed');
  } finally {
    await a.close();
    await b.close();
  }
});

test('neither: small files kept in memory, saved from links; phone-sized screen', { timeout: 180_000 }, async () => {
  const { a, b } = await pair('memory', { width: 390, height: 844 });
  try {
    assert.match(await b.page.locator('main').innerText(), /only keep received files in memory/);
    const buf = randomBytes(1_000_000);
    await a.page.getByTestId('file-input').setInputFiles([{ name: 'small.bin', mimeType: 'application/octet-stream', buffer: buf }]);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const [dl] = await Promise.all([b.page.waitForEvent('download'), b.page.getByRole('link', { name: /Save small\.bin/ }).click()]);
    assert.equal(sha(readFileSync(await dl.path())), sha(buf));
    await shot(b.page, 'phone-receiver-memory');
    await shot(a.page, 'phone-sender');
    // nothing wider than the screen
    const overflow = await b.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `horizontal overflow ${overflow}px`);
  } finally {
    await a.close();
    await b.close();
  }
});
