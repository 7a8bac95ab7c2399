import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, openOptions, receivedHashes, shot, startServer, twoConnected, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';

let server;
let tmp;
before(async () => {
  server = await startServer();
  tmp = mkdtempSync(join(tmpdir(), 'pd-err-'));
});
after(() => {
  server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('the receiver cancels: both sides show it, the partial file is removed', { timeout: 180_000 }, async () => {
  const path = join(tmp, 'cancel.bin');
  writeFileSync(path, randomBytes(300_000_000));
  const { a, b } = await twoConnected(server.url);
  try {
    await a.page.getByTestId('file-input').setInputFiles(path);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 5_000_000, null, { timeout: 60_000, polling: 20 });
    await b.page.getByRole('button', { name: 'Cancel' }).click();
    await b.page.locator('[data-testid=transfer-in][data-state=CANCELLED]').waitFor({ timeout: 10_000 });
    const out = a.page.locator('[data-testid=transfer-out][data-state=CANCELLED]');
    await out.waitFor({ timeout: 10_000 });
    assert.match(await out.innerText(), /other side cancelled/);
    await shot(a.page, 'sender-cancelled');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(Object.keys(await receivedHashes(b.page)), []);
    // the sender may send again
    assert.equal(await a.page.getByRole('button', { name: 'Choose files' }).isEnabled(), true);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an unreachable signaling server is reported', { timeout: 180_000 }, async () => {
  const own = await startServer();
  const a = await launch();
  try {
    await a.page.goto(own.url);
    own.stop();
    await new Promise((r) => setTimeout(r, 300));
    await openOptions(a.page);
    await a.page.getByRole('button', { name: 'Create room' }).click();
    const alert = a.page.getByRole('alert');
    await alert.waitFor({ timeout: 20_000 });
    assert.match(await alert.innerText(), /Cannot reach the signaling server/);
    assert.equal(await a.page.getByTestId('status').getAttribute('data-status'), 'ERROR');
    await shot(a.page, 'server-unreachable');
  } finally {
    await a.close();
  }
});

test('joining a room that does not exist is reported', { timeout: 180_000 }, async () => {
  const a = await launch();
  try {
    await a.page.goto(`${server.url}#room=00000000-0000-4000-8000-000000000000&key=whatever`);
    const alert = a.page.getByRole('alert');
    await alert.waitFor({ timeout: 20_000 });
    assert.match(await alert.innerText(), /No such room/);
  } finally {
    await a.close();
  }
});

test('"Relay only" on a server without TURN: said on the peer at once, the other peer says it got no offer; turning it off connects', { timeout: 180_000 }, async () => {
  const a = await launch();
  const b = await launch();
  try {
    const link = await createRoom(a.page, server.url);
    await a.page.getByTestId('relay-only').check();
    await a.page.getByRole('status').filter({ hasText: 'offers no TURN relay' }).waitFor({ timeout: 5_000 });
    await b.page.goto(link);
    const peer = a.page.locator('[data-testid=peer][data-state=FAILED]');
    await peer.waitFor({ timeout: 15_000 });
    assert.match(await peer.innerText(), /Relay only is on, but this server offers no TURN relay/);
    await shot(a.page, 'relay-only-without-turn');
    // the joiner never gets an offer: it says so instead of "Connecting…" for ever
    const waiting = b.page.locator('[data-testid=peer][data-state=FAILED]');
    await waiting.waitFor({ timeout: 25_000 });
    assert.match(await waiting.innerText(), /has not started a connection/);
    await a.page.getByTestId('relay-only').uncheck();
    await waitConnected([a.page, b.page]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a protocol error from the other app is shown on the peer, and the peers connect again and still transfer', { timeout: 180_000 }, async () => {
  const path = join(tmp, 'after-fatal.bin');
  const data = randomBytes(2_000_000);
  writeFileSync(path, data);
  const { a, b } = await twoConnected(server.url);
  try {
    // every peer error b shows from here on (every snapshot, none missed);
    // an error is a catalogue message (web/src/i18n): its key and parameters
    await b.page.evaluate(() => {
      window.seenPeerErrors = new Set();
      window.peerdrop.subscribe(() => window.peerdrop.getSnapshot().peers.forEach((p) => p.error && window.seenPeerErrors.add(JSON.stringify(p.error))));
    });
    // a misbehaving app: a message of no known type, straight onto the data channel
    await a.page.evaluate(() => [...window.peerdrop.members.values()][0].driver.dc.send('{"t":"no-such-type"}'));
    await b.page.waitForFunction(() => [...window.seenPeerErrors].some((e) => JSON.parse(e).key === 'peer.fatal'), null, { timeout: 10_000, polling: 50 });
    await waitConnected([a.page, b.page]);
    const errors = await b.page.evaluate(() => [...window.seenPeerErrors].map((e) => JSON.parse(e)));
    assert.equal(errors.length, 1, `only the protocol error was shown, not a closed channel: ${JSON.stringify(errors)}`);
    assert.equal(errors[0].params.code, 'PROTOCOL');
    await a.page.getByTestId('file-input').setInputFiles(path);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    const got = await receivedHashes(b.page);
    assert.deepEqual(got, { 'after-fatal.bin': createHash('sha256').update(data).digest('hex') });
  } finally {
    await a.close();
    await b.close();
  }
});
