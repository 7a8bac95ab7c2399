// The receiving paths other than File System Access: the service-worker
// streamed download and the in-memory Blob, plus the phone-sized layout.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, shot, startServer, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

async function pair(storage, viewport) {
  const a = await launch({ viewport });
  const b = await launch({ storage, viewport });
  const link = await createRoom(a.page, server.url);
  await b.page.goto(link);
  await waitConnected([a.page, b.page]);
  return { a, b };
}

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
