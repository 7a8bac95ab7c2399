// One 1 GiB file from the `peerdrop` CLI to the web app in Chromium, on
// loopback (slow: tests/e2e/run.sh cli-browser-big.test.mjs). The file is
// generated on disk block by block with its SHA-256 computed on the way;
// the CLI streams it (1 MiB reads under a 4 MiB buffered high-water mark).
// Prints the throughput (accept to the browser's COMPLETED, which follows
// its SHA-256 check) and the CLI sender's peak RSS.
// PEERDROP_BIG_BYTES changes the size.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, receivedHashes, shot, startServer } from './lib.mjs';
import { cli, generate } from './cli.mjs';

const SIZE = Number(process.env.PEERDROP_BIG_BYTES ?? 2 ** 30);
let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-cli-big-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test(`CLI -> browser: a ${SIZE} byte file arrives intact`, { timeout: 900_000 }, async () => {
  const path = join(tmp, 'big.bin');
  const digest = generate(path, SIZE);
  const sender = cli(['send', path, '--server', server.url, '--count', '1']);
  const b = await launch();
  let sample;
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    const t0 = Date.now();
    let rss = 0; // the CLI's VmHWM, sampled while it runs (it exits right after the end)
    sample = setInterval(() => {
      try {
        rss = Math.max(rss, /VmHWM:\s*(\d+) kB/.exec(readFileSync(`/proc/${sender.proc.pid}/status`, 'utf8'))[1] / 1024);
      } catch {}
    }, 200);
    await b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 0, null, { timeout: 60_000, polling: 50 });
    await shot(b.page, 'cli-big-in-progress');
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 840_000 });
    const secs = (Date.now() - t0) / 1000;
    clearInterval(sample);
    console.log(`# ${SIZE} bytes CLI -> Chromium in ${secs.toFixed(1)} s: ${(SIZE / 1e6 / secs).toFixed(1)} MB/s; CLI peak RSS ${rss.toFixed(1)} MiB`);
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.equal((await receivedHashes(b.page))['big.bin'], digest);
  } catch (e) {
    await shot(b.page, 'failure-cli-big').catch(() => {});
    console.error(JSON.stringify(await b.page.evaluate(() => window.peerdrop?.getSnapshot()).catch(() => null))?.slice(0, 2500));
    console.error(sender.summary());
    throw e;
  } finally {
    clearInterval(sample);
    sender.kill();
    await b.close();
  }
});
