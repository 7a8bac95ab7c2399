import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, receivedHashes, shot, startServer, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-e2e-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function connected(...pages) {
  await waitConnected(pages);
}

async function dump(name, page) {
  const s = await page.evaluate(() => window.peerdrop?.getSnapshot()).catch(() => null);
  console.error(name, JSON.stringify(s)?.slice(0, 2500));
  await shot(page, `failure-${name}`).catch(() => {});
}

test('a wrong password is refused with a clear message', { timeout: 180_000 }, async () => {
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link.replace(/key=[^&]+/, 'key=wrong-password'));
    const alert = b.page.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    assert.match(await alert.innerText(), /Wrong password/);
    await shot(b.page, 'wrong-password');
    assert.equal(await a.page.getByTestId('no-peers').count(), 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a folder keeps its structure', { timeout: 180_000 }, async () => {
  const dir = join(tmp, 'album');
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  const files = { 'a.txt': Buffer.from('top level\n'), 'sub/b.bin': randomBytes(200_000), 'sub/deeper/c.txt': Buffer.from('deep\n') };
  for (const [p, b] of Object.entries(files)) writeFileSync(join(dir, p), b);
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await connected(a.page, b.page);
    await a.page.getByTestId('folder-input').setInputFiles(dir);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 30_000 });
    const got = await receivedHashes(b.page);
    for (const [p, buf] of Object.entries(files)) assert.equal(got[`album/${p}`], sha(buf), p);
  } catch (e) {
    await dump('folder-A', a.page);
    await dump('folder-B', b.page);
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

test('one sender to two receivers, each with its own progress', { timeout: 180_000 }, async () => {
  const data = randomBytes(8_000_000);
  const a = await launch();
  const b = await launch();
  const c = await launch();
  try {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await c.page.goto(link);
    await a.page.locator('[data-testid=peer][data-state=CONNECTED]').nth(1).waitFor({ timeout: CONNECT_WAIT_MS });
    await connected(b.page, c.page);
    await a.page.getByTestId('file-input').setInputFiles([{ name: 'shared.bin', mimeType: 'application/octet-stream', buffer: data }]);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await c.page.getByTestId('accept').click({ timeout: 15_000 });
    for (const p of [b.page, c.page]) await p.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    assert.equal(await a.page.locator('[data-testid=transfer-out][data-state=COMPLETED]').count(), 2);
    await shot(a.page, 'one-to-two-sender');
    for (const p of [b.page, c.page]) assert.equal((await receivedHashes(p))['shared.bin'], sha(data));
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
});

test('resume after the data channel is cut', { timeout: 180_000 }, async () => {
  const path = join(tmp, 'resume.bin');
  const data = randomBytes(300_000_000);
  writeFileSync(path, data);
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await connected(a.page, b.page);
    await a.page.getByTestId('file-input').setInputFiles(path);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.waitForFunction(() => {
      const t = window.peerdrop.getSnapshot().transfers[0];
      return t && t.bytes > 30_000_000;
    }, null, { timeout: 60_000, polling: 20 });
    // every peer state each side shows from here on (every snapshot, none missed)
    const record = () => {
      window.seenPeerStates = new Set();
      window.peerdrop.subscribe(() => window.peerdrop.getSnapshot().peers.forEach((p) => window.seenPeerStates.add(p.state)));
    };
    await a.page.evaluate(record);
    await b.page.evaluate(record);
    await b.page.evaluate(() => window.peerdrop.dropConnections());
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 90_000 });
    const t = await b.page.evaluate(() => window.peerdrop.getSnapshot().transfers[0]);
    assert.ok(t.resumedFrom > 0, `resumed from ${t.resumedFrom}`);
    // a reconnection is shown as one ("Connecting"), never as a failed peer, on either side
    for (const p of [a.page, b.page]) assert.deepEqual(await p.evaluate(() => [...window.seenPeerStates].sort()), ['CONNECTED', 'CONNECTING']);
    await shot(b.page, 'resumed-completed');
    assert.equal((await receivedHashes(b.page))['resume.bin'], sha(data));
  } catch (e) {
    await dump('resume-A', a.page);
    await dump('resume-B', b.page);
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

/* b receives `names` (with `data`) from a; once every file but the last is
 * verified and the last is past 10 MB, b's tab is closed and a new, blank
 * tab of the same browser profile (same folder access, same IndexedDB) is
 * returned as `page`. */
async function closedMidTransfer(names, data) {
  names.forEach((n, i) => writeFileSync(join(tmp, n), data[i]));
  return withTwoBrowsers(async (a, b) => {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await connected(a.page, b.page);
    await a.page.getByTestId('file-input').setInputFiles(names.map((n) => join(tmp, n)));
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.waitForFunction(() => {
      const t = window.peerdrop.getSnapshot().transfers[0];
      const last = t?.files.length - 1;
      return t && t.files.every((f, i) => i === last || f.state === 'done') && t.files[last].bytes > 10_000_000;
    }, null, { timeout: 60_000, polling: 20 });
    await b.page.close();
    return { a, b, link, page: await b.ctx.newPage() };
  });
}

/* Runs a test's set-up with two fresh browsers; if the set-up fails they are
 * closed here (the test's own finally only covers what comes after). */
async function withTwoBrowsers(setUp) {
  const a = await launch();
  const b = await launch();
  try {
    return await setUp(a, b);
  } catch (e) {
    await a.close().catch(() => {});
    await b.close().catch(() => {});
    throw e;
  }
}

test('a receiving page closed mid-transfer and opened again continues: verified files are neither received again nor saved twice, one the user changed meanwhile is kept', { timeout: 240_000 }, async () => {
  const names = ['one.bin', 'two.bin', 'big.bin'];
  const data = [randomBytes(3_000_000), randomBytes(3_000_000), randomBytes(300_000_000)];
  const { a, b, link, page } = await closedMidTransfer(names, data);
  try {
    // Meanwhile the user edits one.bin; the closed page left big.bin empty (its
    // write stream never closed), under the name the transfer goes on using.
    await page.goto(server.url); // the origin's storage, without joining yet
    const sizes = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('received');
      const w = await (await dir.getFileHandle('one.bin')).createWritable();
      await w.write(new TextEncoder().encode('edited by the user'));
      await w.close();
      const out = {};
      for await (const [name, h] of dir.entries()) out[name] = (await h.getFile()).size;
      out.twoModified = (await (await dir.getFileHandle('two.bin')).getFile()).lastModified;
      return out;
    });
    const twoModified = sizes.twoModified;
    delete sizes.twoModified;
    assert.deepEqual(sizes, { 'one.bin': 18, 'two.bin': 3_000_000, 'big.bin': 0 });
    await page.goto('about:blank'); // so that the link loads the app afresh, not as a fragment change
    await page.goto(link);
    const note = page.getByTestId('continue-earlier');
    await note.waitFor({ timeout: CONNECT_WAIT_MS });
    assert.match(await note.innerText(), /2 of 3 files verified/);
    await shot(page, 'continue-after-reopen');
    await page.getByTestId('accept').click();
    await page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 120_000 });
    const t = await page.evaluate(() => window.peerdrop.getSnapshot().transfers[0]);
    assert.equal(t.resumedFrom, 3_000_000, 'two.bin was kept, not received again');
    const got = await receivedHashes(page);
    assert.deepEqual(Object.keys(got).sort(), ['big.bin', 'one (1).bin', 'one.bin', 'two.bin'], 'nothing saved twice but the changed file, nothing left over');
    assert.equal(got['one.bin'], sha(Buffer.from('edited by the user')), "the user's edit is never overwritten");
    assert.equal(got['one (1).bin'], sha(data[0]));
    assert.equal(got['two.bin'], sha(data[1]));
    assert.equal(got['big.bin'], sha(data[2]));
    assert.equal(await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('received');
      return (await (await dir.getFileHandle('two.bin')).getFile()).lastModified;
    }), twoModified, 'two.bin was confirmed where it is, never written again');
    // the sender's view of the new page: every file verified, two.bin by its
    // digest (proven at offset = size), not sent again and not "skipped"
    const out = await a.page.evaluate(() => window.peerdrop.getSnapshot().transfers.find((x) => x.dir === 'out' && x.state === 'COMPLETED'));
    assert.deepEqual(out.files.map((f) => f.state), ['done', 'done', 'done']);
    // a finished transfer is forgotten: nothing for a later page to continue
    const left = await page.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('peerdrop');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const r = req.result.transaction('incoming').objectStore('incoming').count();
        r.onsuccess = () => resolve(r.result);
      };
    }));
    assert.equal(left, 0);
  } catch (e) {
    await dump('reopen-A', a.page);
    await dump('reopen-B', page);
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

test('a reopened page refused access to the earlier folder falls back to a plain offer; the same folder picked then continues there', { timeout: 180_000 }, async () => {
  const data = [randomBytes(3_000_000), randomBytes(300_000_000)];
  const { a, b, link, page } = await closedMidTransfer(['first.bin', 'rest.bin'], data);
  try {
    // the user answers the permission prompt with "Don't allow"
    await page.addInitScript(() => {
      FileSystemHandle.prototype.requestPermission = async () => 'denied';
    });
    await page.goto(link);
    await page.getByTestId('continue-earlier').waitFor({ timeout: CONNECT_WAIT_MS });
    await page.getByTestId('accept').click();
    const card = page.locator('[data-testid=transfer-in][data-state=OFFERED]');
    await card.getByText('The earlier folder is not available as it was').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('continue-earlier').count(), 0);
    // now "Accept and save": the folder picker, where the user picks the same folder (the test's picker does)
    await page.getByTestId('accept').click();
    await page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 120_000 });
    const got = await receivedHashes(page);
    assert.deepEqual(Object.keys(got).sort(), ['first.bin', 'rest.bin'], 'nothing saved twice, no empty leftover');
    assert.equal(got['first.bin'], sha(data[0]), 'the earlier verified file is untouched');
    assert.equal(got['rest.bin'], sha(data[1]));
    const t = await page.evaluate(() => window.peerdrop.getSnapshot().transfers[0]);
    assert.equal(t.resumedFrom, 3_000_000, 'first.bin was not received again');
  } catch (e) {
    await dump('refused-B', page);
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

/* Two browsers in one room, b receiving a 300 MB file from a, already past 10 MB. */
async function receivingMidway(name) {
  const path = join(tmp, name);
  writeFileSync(path, randomBytes(300_000_000));
  return withTwoBrowsers(async (a, b) => {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await connected(a.page, b.page);
    await a.page.getByTestId('file-input').setInputFiles(path);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 10_000_000, null, { timeout: 60_000, polling: 20 });
    return { a, b, link };
  });
}

test('a second tab of the same browser, offered a transfer the first tab is receiving, gets a plain offer, not "Continue"', { timeout: 180_000 }, async () => {
  const { a, b, link } = await receivingMidway('twotabs.bin');
  try {
    const second = await b.ctx.newPage(); // same profile: same IndexedDB, same folder
    await second.goto(link);
    await second.locator('[data-testid=transfer-in][data-state=OFFERED]').waitFor({ timeout: CONNECT_WAIT_MS });
    assert.equal(await second.getByTestId('continue-earlier').count(), 0);
    assert.equal(await second.getByTestId('accept').innerText(), 'Accept and save');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a peer leaving mid-transfer is reported', { timeout: 180_000 }, async () => {
  const { a, b } = await receivingMidway('leave.bin');
  try {
    await a.close();
    // A clean close is seen at once; a killed one only after the server's
    // ping timeout (25 s + 20 s by default).
    const t = b.page.locator('[data-testid=transfer-in][data-state=ERROR]');
    await t.waitFor({ timeout: 60_000 });
    assert.match(await t.innerText(), /left the room/);
    await shot(b.page, 'peer-left');
  } finally {
    await a.close().catch(() => {});
    await b.close();
  }
});
