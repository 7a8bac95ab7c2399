// Issue 14, the first wire step: the signaling server never learns the room
// secret. Every client here talks to the real peerdrop-server through a
// recording proxy (recorder.mjs) that keeps every byte the server receives
// (HTTP requests as they are, WebSocket messages unmasked); each test then
// looks for the secret in all of it, in every encoding a client could use,
// and checks that create-room / join-room carried an admission value (64
// hex digits, docs/authentication.md §3) instead, the same one from both
// sides of a room. Pairings: browser <-> browser with a typed non-ASCII
// password (the joiner types it decomposed, NFD), CLI <-> CLI by link,
// CLI -> browser by link, browser -> CLI with a typed password (NFD on the
// CLI's side) after a wrong one, which stays BAD_PASSWORD.
// Run: tests/e2e/run.sh admission.test.mjs (the CLI: $PEERDROP_CLI, default build/peerdrop).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openOptions, receivedHashes, startServer, waitConnected, CONNECT_WAIT_MS } from './lib.mjs';
import { cli, sha256File } from './cli.mjs';
import { secretForms, startRecorder } from './recorder.mjs';

let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-admission-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/* A typed password that NFC and NFD spell differently (ä, ö, ü), with a
 * character outside the BMP, and no run of hex digits. */
const TYPED = 'Pässwörd 🔑 über-geheim';

const keyOf = (link) => decodeURIComponent(/[#&]key=([^&]+)/.exec(link)[1]);
const roomOf = (link) => decodeURIComponent(/[#&]room=([^&]+)/.exec(link)[1]);

/** Waits (bounded) until the clients have sent `n` create-room / join-room. */
async function requestsSent(rec, n, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (rec.roomRequests().length >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${n} room requests not seen in ${ms} ms: ${JSON.stringify(rec.roomRequests())}`);
}

/** Nothing the server received holds any of `secrets`; the room requests
 *  carried admission values; returns them. */
function checkRecorded(rec, secrets, wantRequests) {
  assert.deepEqual(rec.problems, [], 'the recorder read every byte');
  const bytes = rec.payloads.reduce((n, p) => n + p.length, 0);
  console.log(`# the server received ${rec.payloads.length} payloads, ${bytes} bytes`);
  for (const s of secrets)
    for (const form of secretForms(s))
      for (const p of rec.payloads) {
        const at = p.indexOf(form);
        assert.equal(at, -1, `the room secret reached the server: ${JSON.stringify(p.subarray(Math.max(0, at - 80), at + 80).toString('utf8'))}`);
      }
  const reqs = rec.roomRequests();
  assert.deepEqual(reqs.map((r) => r.event).sort(), [...wantRequests].sort(), JSON.stringify(reqs));
  for (const r of reqs) assert.match(r.password, /^[0-9a-f]{64}$/, `${r.event} carries an admission value`);
  return reqs;
}

test('browser <-> browser, a typed password: the server never sees it (issue 14)', { timeout: 180_000 }, async () => {
  const rec = await startRecorder(server.url);
  const a = await launch();
  const b = await launch();
  try {
    await a.page.goto(rec.url);
    await openOptions(a.page);
    await a.page.getByLabel('Room password', { exact: true }).fill(TYPED);
    await a.page.getByRole('button', { name: 'Create room' }).click();
    const link = await a.page.getByTestId('share-link').inputValue({ timeout: 30_000 });
    assert.equal(keyOf(link), TYPED);
    await b.page.goto(rec.url);
    await openOptions(b.page);
    await b.page.getByLabel('Room link or id').fill(roomOf(link));
    await b.page.getByLabel('Password (not needed with a full link)').fill(TYPED.normalize('NFD'));
    await b.page.getByRole('button', { name: 'Join room' }).click();
    await requestsSent(rec, 2);
    const reqs = checkRecorded(rec, [TYPED], ['create-room', 'join-room']);
    assert.equal(reqs[0].password, reqs[1].password, 'NFC and NFD give one admission value');
    assert.equal(reqs[0].roomId, roomOf(link));
    await waitConnected([a.page, b.page]);
    checkRecorded(rec, [TYPED], ['create-room', 'join-room']); // nor later
  } finally {
    await a.close();
    await b.close();
    await rec.close();
  }
});

test('CLI <-> CLI by link: the server never sees the key (issue 14)', { timeout: 180_000 }, async () => {
  const rec = await startRecorder(server.url);
  const file = join(tmp, 'cli-cli.bin');
  writeFileSync(file, randomBytes(300_000));
  const sender = cli(['send', file, '--server', rec.url, '--count', '1']);
  let receiver;
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    assert.equal(room.password, keyOf(room.link));
    const out = join(tmp, 'out-cli-cli');
    receiver = cli(['receive', room.link, '--yes', '-o', out]);
    const [r, s] = await Promise.all([receiver.exit(90_000), sender.exit(90_000)]);
    assert.equal(r.code, 0, receiver.summary());
    assert.equal(s.code, 0, sender.summary());
    assert.equal(sha256File(join(out, 'cli-cli.bin')), sha256File(file));
    const reqs = checkRecorded(rec, [room.password], ['create-room', 'join-room']);
    assert.equal(reqs[0].password, reqs[1].password);
  } finally {
    sender.kill();
    receiver?.kill();
    await rec.close();
  }
});

test('CLI -> browser by link: the server never sees the key (issue 14)', { timeout: 180_000 }, async () => {
  const rec = await startRecorder(server.url);
  const file = join(tmp, 'cli-browser.txt');
  writeFileSync(file, 'from the terminal, through the recorder\n');
  const sender = cli(['send', file, '--server', rec.url, '--count', '1']);
  const b = await launch();
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await b.page.goto(room.link);
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.deepEqual(Object.keys(await receivedHashes(b.page)), ['cli-browser.txt']);
    const reqs = checkRecorded(rec, [room.password], ['create-room', 'join-room']);
    assert.equal(reqs[0].password, reqs[1].password, 'the CLI and the browser derive the same value');
  } finally {
    sender.kill();
    await b.close();
    await rec.close();
  }
});

test('browser -> CLI, a typed password given decomposed; a wrong one is BAD_PASSWORD (issue 14)', { timeout: 180_000 }, async () => {
  const rec = await startRecorder(server.url);
  const a = await launch();
  const wrongPw = 'Pässwort 🔑 falsch';
  let wrong;
  let right;
  try {
    await a.page.goto(rec.url);
    await openOptions(a.page);
    await a.page.getByLabel('Room password', { exact: true }).fill(TYPED);
    await a.page.getByRole('button', { name: 'Create room' }).click();
    const roomId = roomOf(await a.page.getByTestId('share-link').inputValue({ timeout: 30_000 }));
    wrong = cli(['receive', roomId, '--password', wrongPw, '--server', rec.url, '-o', join(tmp, 'out-wrong')]);
    const w = await wrong.exit(30_000);
    assert.equal(w.code, 2, wrong.summary());
    assert.ok(wrong.events.some((e) => e.event === 'error' && e.code === 'BAD_PASSWORD'), wrong.summary());
    right = cli(['receive', roomId, '--password', TYPED.normalize('NFD'), '--server', rec.url, '-o', join(tmp, 'out-right')]);
    const joined = await right.waitFor((e) => e.event === 'joined', 30_000).catch((e) => e);
    const reqs = checkRecorded(rec, [TYPED, wrongPw], ['create-room', 'join-room', 'join-room']);
    if (joined instanceof Error) throw joined;
    await a.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    checkRecorded(rec, [TYPED, wrongPw], ['create-room', 'join-room', 'join-room']);
    const created = reqs.find((r) => r.event === 'create-room');
    assert.equal(reqs.filter((r) => r.password === created.password).length, 2, 'the CLI joined with the browser\'s value');
    assert.equal(new Set(reqs.map((r) => r.password)).size, 2, 'the wrong password gave another value');
  } finally {
    wrong?.kill();
    right?.kill();
    await a.close();
    await rec.close();
  }
});
