// One file of 1 GiB, generated on the fly, browser to browser on loopback.
// Prints the throughput (first byte offered to the receiver's final
// verification). Set PEERDROP_BIG_BYTES to change the size.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, receivedHashes, shot, startServer, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';

const SIZE = Number(process.env.PEERDROP_BIG_BYTES ?? 2 ** 30);
let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-big-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test(`a ${SIZE} byte file arrives intact`, { timeout: 900_000 }, async () => {
  const path = join(tmp, 'big.bin');
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  const block = randomBytes(16 << 20);
  for (let left = SIZE, i = 0; left > 0; i++) {
    const b = block.subarray(0, Math.min(left, block.length));
    b.writeUInt32BE(i, 0); // every block differs
    writeSync(fd, b);
    h.update(b);
    left -= b.length;
  }
  closeSync(fd);
  const digest = h.digest('hex');
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await waitConnected([a.page, b.page]);
    await a.page.getByTestId('file-input').setInputFiles(path);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    const t0 = Date.now();
    await b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 0, null, { timeout: 60_000, polling: 50 });
    await shot(b.page, 'big-in-progress');
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 840_000 });
    const secs = (Date.now() - t0) / 1000;
    console.log(`# ${SIZE} bytes in ${secs.toFixed(1)} s: ${(SIZE / 1e6 / secs).toFixed(1)} MB/s`);
    await shot(b.page, 'big-completed');
    assert.equal((await receivedHashes(b.page))['big.bin'], digest);
  } finally {
    await a.close();
    await b.close();
  }
});
