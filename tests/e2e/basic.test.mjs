import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectAccessible } from './axe.mjs';
import { createRoom, launch, receivedHashes, shot, startServer, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

test('create a room, join by link, send files and a folder, hashes match', { timeout: 180_000 }, async () => {
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, server.url, 'home');
    assert.match(link, /#room=[0-9a-f-]{36}&key=/);
    await shot(a.page, 'room-created');
    await expectAccessible(a.page, 'room created, waiting');
    await b.page.goto(link);
    await waitConnected([a.page, b.page]);
    const files = [
      { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello, peerdrop\n') },
      { name: 'random.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 256)) },
      { name: 'empty.dat', mimeType: '', buffer: Buffer.alloc(0) },
    ];
    await a.page.getByTestId('file-input').setInputFiles(files);
    const accept = b.page.getByTestId('accept');
    await accept.waitFor({ timeout: 15_000 });
    await shot(b.page, 'offer-received');
    await expectAccessible(b.page, 'offer received');
    await accept.click();
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await a.page.locator('[data-testid=transfer-out][data-state=COMPLETED]').waitFor({ timeout: 30_000 });
    await shot(b.page, 'receiver-completed');
    await shot(a.page, 'sender-completed');
    await expectAccessible(a.page, 'sender: completed');
    await expectAccessible(b.page, 'receiver: completed');
    const got = await receivedHashes(b.page);
    for (const f of files) assert.equal(got[f.name], sha(f.buffer), f.name);
    // the app did all that under the server's CSP, which it never violated
    const csp = (await a.page.request.get(server.url)).headers()['content-security-policy'] ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    for (const p of [a.page, b.page]) assert.deepEqual(await p.evaluate(() => window.__cspViolations), []);
  } catch (e) {
    for (const [n, p] of [['A', a.page], ['B', b.page]]) {
      console.error(n, JSON.stringify(await p.evaluate(() => window.peerdrop?.getSnapshot()).catch(() => null), null, 1)?.slice(0, 3000));
      await shot(p, `failure-${n}`).catch(() => {});
    }
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});
