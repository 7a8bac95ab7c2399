// Terminal <-> browser (issue 4): the real `peerdrop` CLI and the real web
// app in Debian's Chromium, through the real peerdrop-server, all on
// loopback (run inside the lo-only namespace: tests/e2e/run.sh cli-browser.test.mjs).
//
// Roles: the web app's older room member (the one told `user-joined`) makes
// the WebRTC offer. `peerdrop send` creates the room, so it offers and the
// browser answers with a=setup:active (the CLI is ICE-controlling and the
// DTLS server); when the browser created the room, the CLI answers with
// a=setup:active (ICE-controlled, DTLS client). Each test asserts its roles.
//
// Every received file is compared by SHA-256 with its source.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, receivedHashes, shot, startServer, CONNECT_WAIT_MS } from './lib.mjs';
import { cli, generate, hashTree, roles, sha256File, trackPeerConnections } from './cli.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');

/* The page's first RTCPeerConnection neither sends nor takes ICE
 * candidates, so no pair can ever form; later ones are untouched. */
const FIRST_PC_WITHOUT_ICE = `(() => {
  const Orig = window.RTCPeerConnection;
  let made = 0;
  window.RTCPeerConnection = class extends Orig {
    constructor(...args) {
      super(...args);
      if (made++ > 0) return;
      Object.defineProperty(this, 'onicecandidate', { set() {}, get() { return null; } });
      this.addIceCandidate = async () => {};
    }
  };
})();`;
let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-cli-e2e-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function dump(name, page) {
  const s = await page.evaluate(() => window.peerdrop?.getSnapshot()).catch(() => null);
  console.error(name, JSON.stringify(s)?.slice(0, 2500));
  await shot(page, `failure-${name}`).catch(() => {});
}

test('CLI -> browser: files and a folder, CLI offers', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'send1');
  mkdirSync(join(src, 'album', 'sub', 'deeper'), { recursive: true });
  const files = {
    'hello.txt': Buffer.from('hello from the terminal\n'),
    'random.bin': randomBytes(5_000_000),
    'empty.dat': Buffer.alloc(0),
    'album/a.txt': Buffer.from('top level\n'),
    'album/sub/b.bin': randomBytes(700_000),
    'album/sub/deeper/c (copy).txt': Buffer.from('deep\n'),
  };
  for (const [p, b] of Object.entries(files)) writeFileSync(join(src, p), b);
  const sender = cli(['send', join(src, 'hello.txt'), join(src, 'random.bin'), join(src, 'empty.dat'), join(src, 'album'), '--server', server.url, '--count', '1']);
  const b = await launch();
  await trackPeerConnections(b.ctx);
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    const r = await roles(b.page); // before the CLI (--count 1) exits and closes
    // protocol 2 (issue 14): both sides show the same verification code
    const auth = await sender.waitFor((e) => e.event === 'authenticated', 15_000);
    const shown = await b.page.getByTestId('sas').textContent({ timeout: 15_000 });
    assert.match(shown, /^[0-9]{3} [0-9]{3}$/);
    assert.equal(shown.replace(' ', ''), auth.sas, `page ${shown}, CLI ${auth.sas}`);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    const got = await receivedHashes(b.page);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(files).sort());
    for (const [p, buf] of Object.entries(files)) assert.equal(got[p], sha(buf), p);
    console.log('# roles', JSON.stringify(r));
    // the session's connection, and any lanes open by then (docs/protocol.md
    // §5.10): the session's offerer opens them, so every one has its roles
    assert.ok(r.length >= 1);
    for (const c of r) {
      assert.equal(c.browserDescription, 'answer', 'the CLI (room creator) offers');
      assert.equal(c.remoteSetup, 'actpass');
      assert.equal(c.browserSetup, 'active', 'browser is the DTLS client, the CLI the server');
    }
  } catch (e) {
    await dump('cli-to-browser', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

/* The web app's wait for a peer's offer (web/src/app/room.ts OFFER_WAIT_MS):
 * a closed channel whose peer does not connect again is called dropped after it. */
const OFFER_WAIT_MS = 15_000;

test('CLI -> browser: a sender that finished (and stays for other receivers, then exits) is not a dropped connection: the transfer stays done, no error', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'send-finished');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'note.txt'), 'done and gone\n');
  // no --count: the sender closes this receiver's channel when done (docs/protocol.md §5.2)
  // and stays in the room for others; it never offers to this page again
  const sender = cli(['send', join(src, 'note.txt'), '--server', server.url]);
  const b = await launch();
  const check = async (when) => {
    const snap = await b.page.evaluate(() => window.peerdrop.getSnapshot());
    const bad = snap.peers.filter((p) => p.error || p.state === 'FAILED');
    assert.deepEqual(bad, [], `no peer shows an error ${when}`);
    const ins = snap.transfers.filter((t) => t.dir === 'in');
    assert.equal(ins.length, 1);
    assert.equal(ins[0].state, 'COMPLETED', when);
    assert.equal(ins[0].error, undefined, when);
    assert.equal(ins[0].files[0].state, 'done', when);
    assert.equal(snap.error, null, when);
    assert.equal(await b.page.getByText(/dropped/i).count(), 0, `no "dropped" text on the page ${when}`);
    return snap;
  };
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    await b.page.getByTestId('accept').click({ timeout: 60_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await sender.waitFor((e) => e.event === 'done', 15_000);
    // Past the page's wait for a new offer (counted from the channel's close, which
    // follows 'done'), with a margin for a loaded machine: nothing may read as a failure.
    await b.page.waitForTimeout(OFFER_WAIT_MS + 2_000);
    const snap = await check('while the finished sender stays in the room');
    assert.equal(snap.peers[0]?.state, 'FINISHED');
    sender.proc.kill('SIGINT');
    await sender.exit(15_000);
    await b.page.waitForTimeout(1_000); // its user-left
    await check('after the sender exited');
  } catch (e) {
    await dump('cli-finished-left', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

test('CLI -> browser: hidden files (.gitignore, .git/) are left out, visibly, and the rest is saved (issue 11)', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'send-hidden');
  mkdirSync(join(src, 'proj', '.git'), { recursive: true });
  const files = {
    'proj/main.c': Buffer.from('int main(void) { return 0; }\n'),
    'proj/.gitignore': Buffer.from('build\n'),
    'proj/.git/config': Buffer.from('[core]\n'),
    'notes.txt': Buffer.from('notes\n'),
  };
  for (const [p, b] of Object.entries(files)) writeFileSync(join(src, p), b);
  const sender = cli(['send', join(src, 'proj'), join(src, 'notes.txt'), '--server', server.url, '--count', '1']);
  const b = await launch();
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    // said in the offer, before accepting
    const note = b.page.locator('[data-testid=transfer-in] [data-testid=left-out]');
    await note.waitFor({ timeout: 30_000 });
    const before = await note.textContent();
    assert.match(before, /^2 hidden files \((proj\/\.gitignore|proj\/\.git\/config), (proj\/\.gitignore|proj\/\.git\/config)\) will not be saved/, before);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    assert.match(await note.textContent(), /^2 hidden files .* were not saved/);
    assert.equal(await b.page.locator('[data-testid=transfer-in] [data-file-state=skipped]').count(), 2);
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.equal(sender.events.find((e) => e.event === 'accepted')?.files, 2, sender.summary());
    const got = await receivedHashes(b.page);
    assert.deepEqual(Object.keys(got).sort(), ['notes.txt', 'proj/main.c']);
    for (const p of Object.keys(got)) assert.equal(got[p], sha(files[p]), p);
  } catch (e) {
    await dump('cli-to-browser-hidden', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

test('CLI -> browser: an offer of hidden files only is refused, and the page says why (issue 11)', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'send-hidden-only');
  mkdirSync(join(src, '.config', 'autostart'), { recursive: true });
  writeFileSync(join(src, '.config', 'autostart', 'evil.desktop'), '[Desktop Entry]\nExec=evil\n');
  const sender = cli(['send', join(src, '.config'), '--server', server.url, '--count', '1']);
  const b = await launch();
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    const err = await sender.waitFor((e) => e.event === 'error', CONNECT_WAIT_MS);
    assert.equal(err.code, 'UNSAFE_PATH');
    assert.equal(err.message, 'unsafe path: every file has a hidden name (leading dot)');
    const alert = b.page.getByRole('alert').filter({ hasText: 'hidden name' });
    await alert.waitFor({ timeout: 15_000 });
    assert.match(await alert.textContent(), /every file has a hidden name \(starting with “\.”\), and this app does not save hidden files/);
    assert.deepEqual(await receivedHashes(b.page), {});
  } catch (e) {
    await dump('cli-to-browser-hidden-only', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

/* `peerdrop receive LINK --yes -o out` joins the room `page` created;
 * resolves once the page shows it connected (the CLI is killed if not). */
async function cliReceiverJoins(page, out) {
  const link = await createRoom(page, server.url);
  const receiver = cli(['receive', link, '--yes', '-o', out]);
  try {
    await receiver.waitFor((e) => e.event === 'joined', 15_000);
    await page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
  } catch (e) {
    receiver.kill();
    throw e;
  }
  return { link, receiver };
}

/* The browser creates a room, `peerdrop receive LINK` joins, the browser
 * sends `pick` (one selection: the web app sends files or a folder). */
async function browserToCli(name, pick, files) {
  const a = await launch();
  await trackPeerConnections(a.ctx);
  const out = join(tmp, `out-${name}`);
  let receiver;
  try {
    ({ receiver } = await cliReceiverJoins(a.page, out));
    const rl = await roles(a.page);
    // protocol 2 (issue 14): the CLI (it accepted the channel) and the page show the same code
    const auth = await receiver.waitFor((e) => e.event === 'authenticated', 15_000);
    const shown = await a.page.getByTestId('sas').textContent({ timeout: 15_000 });
    assert.equal(shown, `${auth.sas.slice(0, 3)} ${auth.sas.slice(3)}`);
    await pick(a.page);
    const r = await receiver.exit(60_000);
    assert.equal(r.code, 0, receiver.summary());
    await a.page.locator('[data-testid=transfer-out][data-state=COMPLETED]').waitFor({ timeout: 15_000 });
    console.log('# roles', JSON.stringify(rl));
    assert.ok(rl.length >= 1); // the session's connection and its lanes
    for (const c of rl) {
      assert.equal(c.browserDescription, 'offer', 'the browser (room creator) offers');
      assert.equal(c.browserSetup, 'actpass');
      assert.equal(c.remoteSetup, 'active', 'the CLI is the DTLS client');
    }
    const got = hashTree(out);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(files).sort());
    for (const [p, buf] of Object.entries(files)) assert.equal(got[p], sha(buf), p);
  } catch (e) {
    await dump(`browser-to-cli-${name}`, a.page);
    throw e;
  } finally {
    receiver?.kill();
    await a.close();
  }
}

test('browser -> CLI: files, browser offers', { timeout: 180_000 }, async () => {
  const loose = [
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('from the browser\n') },
    { name: 'data.bin', mimeType: 'application/octet-stream', buffer: randomBytes(6_000_000) },
    { name: 'empty.dat', mimeType: '', buffer: Buffer.alloc(0) },
  ];
  await browserToCli('files', (page) => page.getByTestId('file-input').setInputFiles(loose), Object.fromEntries(loose.map((f) => [f.name, f.buffer])));
});

test('browser -> CLI: a folder keeps its structure', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'send-folder');
  mkdirSync(join(src, 'photos', '2024'), { recursive: true });
  const files = {
    'photos/x.jpg': randomBytes(1_500_000),
    'photos/2024/y.raw': randomBytes(3_000_000),
    'photos/2024/empty': Buffer.alloc(0),
  };
  for (const [p, buf] of Object.entries(files)) writeFileSync(join(src, p), buf);
  await browserToCli('folder', (page) => page.getByTestId('folder-input').setInputFiles(join(src, 'photos')), files);
});

test('browser -> CLI: the CLI receiver is killed mid-transfer and resumes from its .partial', { timeout: 180_000 }, async () => {
  const SIZE = 200_000_000;
  const path = join(tmp, 'resume.bin');
  const digest = generate(path, SIZE);
  const a = await launch();
  const out = join(tmp, 'out3');
  let first;
  let second;
  try {
    let link;
    ({ link, receiver: first } = await cliReceiverJoins(a.page, out));
    await a.page.getByTestId('file-input').setInputFiles(path);
    await first.waitFor((e) => e.event === 'progress' && e.bytes >= SIZE / 5, 60_000);
    first.proc.kill('SIGKILL');
    await first.exited;
    const partial = join(out, 'resume.bin.partial');
    const held = statSync(partial).size;
    assert.ok(held > 0 && held < SIZE, `partial holds ${held}`);
    assert.ok(!existsSync(join(out, 'resume.bin')));

    // the browser offers its selection again to the peer that joins next
    second = cli(['receive', link, '--yes', '-o', out]);
    const resumed = await second.waitFor((e) => e.event === 'resume', 30_000);
    assert.equal(resumed.bytes, held);
    // block digests (docs/protocol.md §5.8): it continues at the last whole 4 MiB block it holds
    assert.equal(resumed.offset, Math.floor(held / 4194304) * 4194304);
    assert.ok(resumed.offset > 0);
    const r = await second.exit(120_000);
    assert.equal(r.code, 0, second.summary());
    assert.equal(sha256File(join(out, 'resume.bin')), digest);
    assert.ok(!existsSync(partial));
    // the browser sent only the rest: the receiver's first progress starts at the resume offset
    const firstProgress = second.events.find((e) => e.event === 'progress');
    assert.ok(firstProgress.bytes >= resumed.offset, JSON.stringify(firstProgress));
  } catch (e) {
    await dump('resume', a.page);
    throw e;
  } finally {
    first?.kill();
    second?.kill();
    await a.close();
  }
});

/* The connection is lost mid-transfer (the page closes its data channel)
 * and both programs stay up: the offering side offers the same transfer
 * again, the receiver takes it without asking, skips the files it verified
 * and resumes the one under way. */
test('browser -> CLI: a connection lost mid-transfer resumes in the same run', { timeout: 180_000 }, async () => {
  const SIZE = 200_000_000;
  const first = join(tmp, 'lost-first.txt');
  writeFileSync(first, 'verified before the loss\n');
  const path = join(tmp, 'lost.bin');
  const digest = generate(path, SIZE);
  const a = await launch();
  const out = join(tmp, 'out-lost');
  let receiver;
  try {
    ({ receiver } = await cliReceiverJoins(a.page, out));
    await a.page.getByTestId('file-input').setInputFiles([first, path]);
    await receiver.waitFor((e) => e.event === 'progress' && e.bytes >= SIZE / 5, 60_000);
    await a.page.evaluate(() => window.peerdrop.dropConnections());
    const resumed = await receiver.waitFor((e) => e.event === 'resume', 60_000);
    assert.equal(resumed.name, 'lost.bin');
    assert.ok(resumed.offset > 0 && resumed.offset < SIZE, JSON.stringify(resumed));
    const r = await receiver.exit(120_000);
    assert.equal(r.code, 0, receiver.summary());
    await a.page.locator('[data-testid=transfer-out][data-state=COMPLETED]').waitFor({ timeout: 15_000 });
    assert.equal(sha256File(join(out, 'lost.bin')), digest);
    // the file verified before the loss is neither sent nor stored again
    assert.deepEqual(Object.keys(hashTree(out)).sort(), ['lost-first.txt', 'lost.bin']);
    assert.equal(receiver.events.filter((e) => e.event === 'file' && e.name === 'lost-first.txt').length, 1);
  } catch (e) {
    await dump('lost-browser-to-cli', a.page);
    console.error(receiver?.summary());
    throw e;
  } finally {
    receiver?.kill();
    await a.close();
  }
});

test('CLI -> browser: a connection lost mid-transfer is offered again and resumes', { timeout: 180_000 }, async () => {
  const SIZE = 200_000_000;
  const path = join(tmp, 'lost2.bin');
  const digest = generate(path, SIZE);
  const sender = cli(['send', path, '--server', server.url, '--count', '1']);
  const b = await launch();
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.waitForFunction((n) => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > n, SIZE / 5, { timeout: 60_000, polling: 20 });
    await b.page.evaluate(() => window.peerdrop.dropConnections());
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 120_000 });
    const t = await b.page.evaluate(() => window.peerdrop.getSnapshot().transfers[0]);
    assert.ok(t.resumedFrom > 0, `resumed from ${t.resumedFrom}`);
    assert.equal((await receivedHashes(b.page))['lost2.bin'], digest);
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.ok(sender.events.some((e) => e.event === 'accepted'));
  } catch (e) {
    await dump('lost-cli-to-browser', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

test('CLI -> browser: a tab closed mid-transfer and opened again continues it, no file saved twice', { timeout: 180_000 }, async () => {
  const names = ['one.bin', 'two.bin', 'big.bin'];
  const dir = join(tmp, 'reopen');
  mkdirSync(dir, { recursive: true });
  const digests = names.map((n, i) => generate(join(dir, n), i < 2 ? 3_000_000 : 200_000_000));
  const sender = cli(['send', ...names.map((n) => join(dir, n)), '--server', server.url, '--count', '1']);
  const b = await launch();
  let page = b.page;
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await page.goto(room.link);
    await page.getByTestId('accept').click({ timeout: CONNECT_WAIT_MS });
    await page.waitForFunction(() => {
      const t = window.peerdrop.getSnapshot().transfers[0];
      return t && t.files[1].state === 'done' && t.files[2].bytes > 20_000_000;
    }, null, { timeout: 60_000, polling: 20 });
    await page.close();
    page = await b.ctx.newPage();
    await page.goto(room.link);
    const note = page.getByTestId('continue-earlier');
    await note.waitFor({ timeout: CONNECT_WAIT_MS });
    assert.match(await note.innerText(), /2 of 3 files verified/);
    await page.getByTestId('accept').click();
    await page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 120_000 });
    const t = await page.evaluate(() => window.peerdrop.getSnapshot().transfers[0]);
    assert.equal(t.resumedFrom, 6_000_000);
    const got = await receivedHashes(page);
    assert.deepEqual(Object.keys(got).sort(), [...names].sort(), 'no file saved twice');
    names.forEach((n, i) => assert.equal(got[n], digests[i], n));
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    // the reopened page asked for every file, the two it holds by their
    // digests at offset = size, and the CLI confirmed all three
    const peers = sender.events.filter((e) => e.event === 'accepted').map((e) => e.peer);
    assert.equal(peers.length, 2, sender.summary());
    assert.equal(sender.events.find((e) => e.event === 'accepted' && e.peer === peers[1]).files, 3);
    const confirmed = sender.events.filter((e) => e.event === 'file' && e.peer === peers[1]);
    assert.deepEqual(confirmed.map((e) => [e.name, e.ok]), names.map((n) => [n, true]));
  } catch (e) {
    await dump('reopen-cli-to-browser', page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

test('CLI -> browser: a first connection that never forms is offered again', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'retry.bin');
  const data = randomBytes(2_000_000);
  writeFileSync(src, data);
  const sender = cli(['send', src, '--server', server.url, '--count', '1']);
  const b = await launch();
  // The page's first RTCPeerConnection neither sends nor takes ICE
  // candidates, so no pair can ever form: the CLI's connect timeout (30 s)
  // fails it, and the CLI offers again. Later connections are untouched.
  await b.ctx.addInitScript(FIRST_PC_WITHOUT_ICE);
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    const failed = await sender.waitFor((e) => e.event === 'error' && e.peer, 60_000);
    assert.match(failed.message, /no connection/);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.equal((await receivedHashes(b.page))['retry.bin'], sha(data));
    assert.equal(sender.events.filter((e) => e.event === 'connected').length, 1, sender.summary());
  } catch (e) {
    await dump('cli-retry', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});

test('browser -> CLI: a first connection that never forms is offered again, and the CLI waits for it', { timeout: 180_000 }, async () => {
  const a = await launch();
  // As above, the page's first RTCPeerConnection never exchanges candidates:
  // the app gives up on it after 20 s and offers again; the CLI receiver
  // must take the new offer (replacing the attempt it still waits on).
  await a.ctx.addInitScript(FIRST_PC_WITHOUT_ICE);
  const out = join(tmp, 'out-browser-retry');
  let receiver;
  try {
    ({ receiver } = await cliReceiverJoins(a.page, out));
    const data = randomBytes(1_500_000);
    await a.page.getByTestId('file-input').setInputFiles([{ name: 'second-try.bin', mimeType: 'application/octet-stream', buffer: data }]);
    const r = await receiver.exit(60_000);
    assert.equal(r.code, 0, receiver.summary());
    assert.equal(sha256File(join(out, 'second-try.bin')), sha(data));
    assert.equal(receiver.events.filter((e) => e.event === 'connected').length, 1, receiver.summary());
  } catch (e) {
    await dump('browser-retry', a.page);
    console.error(receiver?.summary());
    throw e;
  } finally {
    receiver?.kill();
    await a.close();
  }
});
