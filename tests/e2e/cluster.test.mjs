// Issue 15: two browsers, each on its own server node, the nodes sharing
// one real redis-server (--redis): a exchanges files with b as on one node.
// The room is made on node 1 and its link opened on node 2 (the same path
// and fragment, node 2's origin), so the join, the offer/answer and every
// ICE candidate cross Redis; then the CLI (WebSocket, node 1) sends to a
// browser on node 2. Skipped only when redis-server (or, for the second
// case, the built CLI) is missing.
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, receivedHashes, shot, startServer, waitConnected } from './lib.mjs';
import { startRedis, which } from '../integration/lib/cluster.mjs';
import { cli, CLI } from './cli.mjs';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const SKIP = which('redis-server') ? false : 'redis-server is not installed (scripts/setup.sh installs it)';
let redis, n1, n2;
before(async () => {
  if (SKIP) return;
  redis = await startRedis();
  n1 = await startServer(['--redis', redis.url]);
  n2 = await startServer(['--redis', redis.url]);
});
after(async () => {
  n1?.stop();
  n2?.stop();
  await redis?.close();
});

async function crossNodeMessages(url) {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/^peerdrop_cluster_messages_total\{direction="in"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
}

test('browser <-> browser, each on its own node: files a -> b, hashes match', { timeout: 180_000, skip: SKIP }, async () => {
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, n1.url);
    const other = new URL(link);
    other.host = new URL(n2.url).host;
    await b.page.goto(other.href);
    await waitConnected([a.page, b.page]);
    assert.ok((await crossNodeMessages(n1.url)) > 0, 'node 1 heard from node 2');
    assert.ok((await crossNodeMessages(n2.url)) > 0, 'node 2 heard from node 1');
    const files = [
      { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello across nodes\n') },
      { name: 'random.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 256)) },
    ];
    await a.page.getByTestId('file-input').setInputFiles(files);
    const accept = b.page.getByTestId('accept');
    await accept.waitFor({ timeout: 15_000 });
    await accept.click();
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const got = await receivedHashes(b.page);
    for (const f of files) assert.equal(got[f.name], sha(f.buffer), f.name);
  } catch (e) {
    for (const [n, p] of [['A', a.page], ['B', b.page]]) await shot(p, `cluster-failure-${n}`).catch(() => {});
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

test('CLI on node 1 -> browser on node 2: files, hashes match', { timeout: 180_000, skip: SKIP || (existsSync(CLI) ? false : `no CLI at ${CLI}`) }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pd-cluster-cli-'));
  const files = { 'from-cli.txt': Buffer.from('terminal on node 1\n'), 'blob.bin': randomBytes(2_000_000) };
  for (const [p, b] of Object.entries(files)) writeFileSync(join(tmp, p), b);
  const sender = cli(['send', ...Object.keys(files).map((p) => join(tmp, p)), '--server', n1.url, '--count', '1']);
  const b = await launch();
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    const other = new URL(room.link);
    assert.equal(other.host, new URL(n1.url).host);
    other.host = new URL(n2.url).host;
    await b.page.goto(other.href);
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: 60_000 });
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    const got = await receivedHashes(b.page);
    for (const [p, buf] of Object.entries(files)) assert.equal(got[p], sha(buf), p);
  } catch (e) {
    await shot(b.page, 'cluster-cli-failure').catch(() => {});
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
