// Short codes in the web app (issue 14, docs/authentication.md "Short
// codes"): the home page's "Receive with a link or code" box, in Debian's
// Chromium against the real peerdrop-server and the real `peerdrop` CLI.
//
// - A malformed code is refused in the box, with the problem named, the
//   error tied to the field (aria-describedby, aria-invalid), nothing sent
//   to the server; a link in the same box opens its room as before.
// - A code nobody sends with, whose room already holds a receiver, or
//   that was tried too often, gets the code room's own message, in the box.
// - CLI -> web: `peerdrop send --code` prints a code; the page takes it as a
//   person types it (capitals, spaces), both sides show the same
//   verification code, the file arrives; through a recording proxy, the
//   server received no form of the code, and the join was
//   {roomId: "code-N", code: true} with no password.
// - A wrong word from the page: AUTH_FAILED, the page says "different
//   code" and leaves the room, the sender keeps waiting; the right code
//   then works from the same page.
// Run: tests/e2e/run.sh code.test.mjs (the CLI: $PEERDROP_CLI, default build/peerdrop).

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openOptions, receivedHashes, shot, startServer, ROOT, CONNECT_WAIT_MS } from './lib.mjs';
import { cli } from './cli.mjs';
import { secretForms, startRecorder } from './recorder.mjs';

const WORDS = readFileSync(join(ROOT, 'docs', 'vectors', 'code-words.txt'), 'utf8').split('\n').filter(Boolean);
const CODE_RE = /^([1-9][0-9]{0,3})-([a-z]{4,8})-([a-z]{4,8})$/;
const BOX = 'Receive with a link or code';
const sha = (b) => createHash('sha256').update(b).digest('hex');

let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-code-e2e-'));
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

/** The box's inline error: its text, once it is there and tied to the field. */
async function boxError(page) {
  const input = page.getByLabel(BOX);
  const err = page.getByTestId('receive-error');
  await err.waitFor({ timeout: 30_000 });
  const id = await err.getAttribute('id');
  assert.ok(id, 'the error has an id');
  const described = (await input.getAttribute('aria-describedby')) ?? '';
  assert.ok(described.split(/\s+/).includes(id), `aria-describedby "${described}" names the error ${id}`);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.equal(await err.getAttribute('role'), 'alert');
  return (await err.textContent()).trim();
}

/** The code `peerdrop send --code` printed (--json: the first event with one). */
async function sentCode(sender) {
  const ev = await sender.waitFor((e) => e.event === 'code' && CODE_RE.test(e.code), 30_000);
  return ev.code;
}

/** Each form in which a client could put the code, or its words, on the wire. */
function codeForms(code, typed) {
  const [, , w1, w2] = CODE_RE.exec(code);
  const out = [code, typed, `${w1}-${w2}`, `${w1} ${w2}`, `${w1}${w2}`, `${w1}_${w2}`, `"${w1}"`, `"${w2}"`];
  return out.flatMap((s) => secretForms(s));
}

test('the Receive box refuses a malformed code, says why, and sends nothing', { timeout: 120_000 }, async () => {
  const b = await launch();
  const socketRequests = [];
  b.page.on('request', (r) => r.url().includes('/socket.io/') && socketRequests.push(r.url()));
  b.page.on('websocket', (w) => socketRequests.push(w.url()));
  try {
    await b.page.goto(server.url);
    const input = b.page.getByLabel(BOX);
    // keyboard only: type, then Enter submits
    await input.focus();
    await b.page.keyboard.type('7 guitar lemn');
    await b.page.keyboard.press('Enter');
    const unknown = await boxError(b.page);
    assert.equal(unknown, 'not a valid code: "lemn" is not in the word list');
    await shot(b.page, 'code-box-error');
    await input.fill('07-guitar-lemon');
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    assert.equal(await boxError(b.page), 'not a valid code: its number must be 1 to 9999, without leading zeros');
    await input.fill('7-guitar');
    await input.press('Enter');
    assert.equal(await boxError(b.page), 'not a valid code: expected a number and two words, like 7-guitar-lemon');
    // editing clears the error and the field's invalid state
    await input.fill('7-guitar-lemo');
    await b.page.getByTestId('receive-error').waitFor({ state: 'detached', timeout: 5_000 });
    assert.equal(await input.getAttribute('aria-invalid'), null);
    await new Promise((r) => setTimeout(r, 500)); // a socket would have started by now
    assert.deepEqual(socketRequests, [], 'nothing reached the server');
    assert.equal(await b.page.getByTestId('status').getAttribute('data-status'), 'IDLE');
  } catch (e) {
    await dump('code-box-error', b.page);
    throw e;
  } finally {
    await b.close();
  }
});

test('a link in the Receive box opens its room as before', { timeout: 120_000 }, async () => {
  const a = await launch();
  const b = await launch();
  try {
    await a.page.goto(server.url);
    await openOptions(a.page);
    await a.page.getByRole('button', { name: 'Create room' }).click();
    const link = await a.page.getByTestId('share-link').inputValue({ timeout: 30_000 });
    await b.page.goto(server.url);
    await b.page.getByLabel(BOX).fill(`  ${link} `);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    await Promise.all([a.page, b.page].map((p) => p.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS })));
    const [sa, sb] = await Promise.all([a.page, b.page].map((p) => p.getByTestId('sas').textContent({ timeout: 15_000 })));
    assert.equal(sa, sb);
  } catch (e) {
    await dump('code-box-link-a', a.page);
    await dump('code-box-link-b', b.page);
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

test('a code nobody sends with: the code room\'s own message, in the box', { timeout: 120_000 }, async () => {
  const b = await launch();
  try {
    await b.page.goto(server.url);
    await b.page.getByLabel(BOX).fill(`9876-${WORDS[3]}-${WORDS[200]}`);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    assert.equal(await boxError(b.page), 'Nobody is sending with this code: check its number, or ask the sender for a new code.');
    assert.equal(await b.page.evaluate(() => window.peerdrop.getSnapshot().phase), 'IDLE', 'still on the home page');
  } catch (e) {
    await dump('code-not-found', b.page);
    throw e;
  } finally {
    await b.close();
  }
});

/** A bare Socket.IO member speaking the wire protocol from `page` (a page
 * of the server's origin): sends `event` {roomId, code: true} and resolves
 * its ack; the socket stays open (answering pings) until the page closes,
 * or is closed after the ack with `leave`. */
function rawCodeRequest(page, event, roomId, leave = false) {
  return page.evaluate(
    ({ event, roomId, leave }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
        const t = setTimeout(() => reject(new Error(`no ack to ${event}`)), 10_000);
        ws.onmessage = (m) => {
          const d = String(m.data);
          if (d === '2') ws.send('3'); // Engine.IO ping
          else if (d.startsWith('0')) ws.send('40');
          else if (d.startsWith('40')) ws.send(`420${JSON.stringify([event, { roomId, code: true }])}`);
          else if (d.startsWith('430')) {
            clearTimeout(t);
            if (leave) ws.close();
            resolve(JSON.parse(d.slice(3))[0]);
          }
        };
        ws.onerror = () => reject(new Error('websocket error'));
      }),
    { event, roomId, leave },
  );
}

test('a code whose room already holds a receiver: said in the box', { timeout: 120_000 }, async () => {
  const members = await launch();
  const b = await launch();
  try {
    await members.page.goto(server.url);
    assert.equal((await rawCodeRequest(members.page, 'create-room', 'code-4321')).ok, true);
    assert.equal((await rawCodeRequest(members.page, 'join-room', 'code-4321')).ok, true);
    await b.page.goto(server.url);
    await b.page.getByLabel(BOX).fill(`4321 ${WORDS[10]} ${WORDS[20]}`);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    assert.equal(await boxError(b.page), 'Someone else is receiving with this code right now.');
  } catch (e) {
    await dump('code-room-full', b.page);
    throw e;
  } finally {
    await members.close();
    await b.close();
  }
});

test('a code room joined too often (PD_CODE_ROOM_JOINS): "tried too many times", in the box', { timeout: 120_000 }, async () => {
  // its own server: the guess budgets of the address and the room would
  // refuse these joins first (each code join counts as a guess)
  const own = await startServer(['--room-guesses', '1000', '--address-guesses', '1000']);
  const members = await launch();
  const b = await launch();
  try {
    await members.page.goto(own.url);
    assert.equal((await rawCodeRequest(members.page, 'create-room', 'code-77')).ok, true);
    for (let i = 0; i < 10; i++) assert.equal((await rawCodeRequest(members.page, 'join-room', 'code-77', true)).ok, true, `join ${i + 1}`);
    await b.page.goto(own.url);
    await b.page.getByLabel(BOX).fill(`77-${WORDS[30]}-${WORDS[40]}`);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    assert.equal(await boxError(b.page), 'This code was tried too many times: ask the sender for a new one.');
  } catch (e) {
    await dump('code-room-joins', b.page);
    throw e;
  } finally {
    await members.close();
    await b.close();
    own.stop();
  }
});

test('CLI -> web with a short code: the same verification code, the file arrives, the server sees no code', { timeout: 240_000 }, async () => {
  const rec = await startRecorder(server.url);
  const payload = randomBytes(3_000_000);
  const file = join(tmp, 'by-code.bin');
  writeFileSync(file, payload);
  const sender = cli(['send', '--code', file, '--server', rec.url]);
  const b = await launch();
  try {
    const code = await sentCode(sender);
    const [, plate, w1, w2] = CODE_RE.exec(code);
    // as a person types it: capitals, spaces for hyphens, spaces around it
    const typed = `  ${plate} ${w1[0].toUpperCase()}${w1.slice(1)}  ${w2.toUpperCase()} `;
    await b.page.goto(rec.url);
    await b.page.getByLabel(BOX).fill(typed);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    assert.equal(await b.page.getByTestId('code-room').count(), 1, 'a code room: no link to share');
    const auth = await sender.waitFor((e) => e.event === 'authenticated', 30_000);
    const shown = await b.page.getByTestId('sas').textContent({ timeout: 15_000 });
    assert.match(shown, /^[0-9]{3} [0-9]{3}$/);
    assert.equal(shown.replace(' ', ''), auth.sas, `page ${shown}, CLI ${auth.sas}`);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const s = await sender.exit(30_000);
    assert.equal(s.code, 0, sender.summary());
    assert.deepEqual(await receivedHashes(b.page), { 'by-code.bin': sha(payload) });
    // the server: nothing of the code, a code join without a password
    assert.deepEqual(rec.problems, [], 'the recorder read every byte');
    for (const form of codeForms(code, typed))
      for (const p of rec.payloads) {
        const at = p.indexOf(form);
        assert.equal(at, -1, `the code reached the server: ${JSON.stringify(p.subarray(Math.max(0, at - 80), at + 80).toString('utf8'))}`);
      }
    const joins = rec.payloads.flatMap((p) => [...p.toString('utf8').matchAll(/\["join-room",(\{[^{}]*\})/g)].map((m) => JSON.parse(m[1])));
    assert.deepEqual(joins, [{ roomId: `code-${plate}`, code: true }]);
  } catch (e) {
    await dump('cli-web-code', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
    await rec.close();
  }
});

test('a wrong word from the page: "different code" on the page, the sender waits; the right code then works', { timeout: 240_000 }, async () => {
  const file = join(tmp, 'after-a-typo.txt');
  writeFileSync(file, 'sent after one wrong guess\n');
  const sender = cli(['send', '--code', file, '--server', server.url]);
  const b = await launch();
  try {
    const code = await sentCode(sender);
    const [, plate, w1, w2] = CODE_RE.exec(code);
    const other = WORDS.find((w) => w !== w2);
    await b.page.goto(server.url);
    await b.page.getByLabel(BOX).fill(`${plate}-${w1}-${other}`);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    // the page leaves the code room, as the CLI receiver exits 6, and says why
    const alert = b.page.locator('.home [role=alert]').filter({ hasText: 'the other side used a different code' });
    await alert.waitFor({ timeout: CONNECT_WAIT_MS });
    assert.equal((await alert.textContent()).trim(), 'This connection may be intercepted, or the other side used a different code. Nothing was sent.');
    await sender.waitFor((e) => e.event === 'auth-failed', 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sender.proc.exitCode, null, `the sender keeps waiting after one failed run; ${sender.summary()}`);
    // the right code, from the same page
    await b.page.getByLabel(BOX).fill(code);
    await b.page.getByRole('button', { name: 'Receive', exact: true }).click();
    await b.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    const auth = await sender.waitFor((e) => e.event === 'authenticated', 30_000);
    const shown = await b.page.getByTestId('sas').textContent({ timeout: 15_000 });
    assert.equal(shown.replace(' ', ''), auth.sas);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const s = await sender.exit(30_000);
    // the failed attempt before the success is reported (peerdrop(1): 6
    // also when another peer succeeded)
    assert.equal(s.code, 6, sender.summary());
    assert.deepEqual(Object.keys(await receivedHashes(b.page)), ['after-a-typo.txt']);
  } catch (e) {
    await dump('web-wrong-code', b.page);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    await b.close();
  }
});
