// TURN through a real coturn (Debian's turnserver) on 127.0.0.1, inside the
// lo-only namespace of tests/e2e/run.sh. peerdrop-server shares coturn's
// static-auth-secret; /config lists the TURN URL only, and each room member
// gets its own short-lived credential in its create-room/join-room ack
// (coturn's REST API scheme, src/server/ice_config.h; issue 11 item 9); the
// CLI and the web app take it from there. Relaying is forced (the CLI's --relay, and the
// web app's "Relay only" option, ticked by the test), so a transfer can only
// succeed through coturn, and each test checks that the selected ICE pair
// really is a relayed one on the forced side.
//
// coturn refuses loopback peers unless told otherwise (--allow-loopback-peers,
// for tests only); nothing here leaves the namespace.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, openOptions, receivedHashes, startServer, shot, waitConnected, CONNECT_WAIT_MS } from './lib.mjs';
import { cli, generate, roles, sha256File, trackPeerConnections } from './cli.mjs';
import { startTurnAndServer, TURN_PORT } from './turn.mjs';

let tmp;
let turn;
let server;
let SECRET;
let suite;
before(async () => {
  suite = await startTurnAndServer('pd-turn-');
  ({ tmp, turn, server, secret: SECRET } = suite);
});
after(() => suite?.stop());

test('/config names the TURN server but hands out no credential', async () => {
  const cfg = await (await fetch(new URL('config', server.url))).json();
  const t = cfg.iceServers.find((e) => [].concat(e.urls).some((u) => u.startsWith('turn:')));
  assert.ok(t, JSON.stringify(cfg));
  assert.equal(t.username, undefined);
  assert.equal(t.credential, undefined);
});

/* coturn logs each successful allocation of a relayed address. */
const allocations = () => (turn.log().match(/ALLOCATE processed, success/g) ?? []).length;

test('CLI -> CLI through coturn only (--relay on both sides)', { timeout: 120_000 }, async () => {
  const src = join(tmp, 'relay.bin');
  const digest = generate(src, 20_000_000);
  const before = allocations();
  const sender = cli(['send', src, '--server', server.url, '--count', '1', '--relay']);
  let receiver;
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    receiver = cli(['receive', room.link, '--yes', '--relay', '-o', join(tmp, 'out1')]);
    const [r, s] = await Promise.all([receiver.exit(90_000), sender.exit(90_000)]);
    assert.equal(r.code, 0, receiver.summary());
    assert.equal(s.code, 0, sender.summary());
    assert.equal(sha256File(join(tmp, 'out1', 'relay.bin')), digest);
    for (const p of [sender, receiver]) {
      const c = p.events.find((e) => e.event === 'connected');
      assert.equal(c?.path, 'relay', `selected pair is not relayed: ${p.summary()}`);
      // the CLI's log never shows the TURN credential
      assert.ok(!p.summary().includes(SECRET));
    }
    assert.ok(allocations() >= before + 2, `coturn allocations: ${allocations() - before}\n${turn.log().slice(-3000)}`);
  } finally {
    sender.kill();
    receiver?.kill();
  }
});

test('browser -> CLI through coturn: "Relay only" ticked in the page', { timeout: 180_000 }, async () => {
  const a = await launch();
  await trackPeerConnections(a.ctx);
  let receiver;
  try {
    await a.page.goto(server.url);
    await openOptions(a.page);
    await a.page.getByRole('button', { name: 'Create room' }).click();
    const link = await a.page.getByTestId('share-link').inputValue({ timeout: 15_000 });
    // before anyone joins: the first connection already relays
    await a.page.getByTestId('relay-only').check();
    const out = join(tmp, 'out2');
    mkdirSync(out, { recursive: true });
    // the CLI does not force relaying here: only the page's option makes the path a relayed one
    receiver = cli(['receive', link, '--yes', '-o', out]);
    await a.page.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    const r = await roles(a.page);
    const data = randomBytes(3_000_000);
    await a.page.getByTestId('file-input').setInputFiles([{ name: 'via-turn.bin', mimeType: 'application/octet-stream', buffer: data }]);
    const done = await receiver.exit(90_000);
    assert.equal(done.code, 0, receiver.summary());
    assert.equal(sha256File(join(out, 'via-turn.bin')), createHash('sha256').update(data).digest('hex'));
    console.log('# roles', JSON.stringify(r));
    // the session's connection and any lanes open by then (docs/protocol.md §5.10): all relayed
    assert.ok(r.length >= 1);
    for (const c of r) assert.equal(c.local, 'relay', 'the browser connected through coturn');
    assert.equal(await a.page.evaluate(() => localStorage.getItem('peerdrop.relayOnly')), '1', 'the choice is remembered');
    await shot(a.page, 'turn-sent');
  } finally {
    receiver?.kill();
    await a.close();
  }
});

test('browser -> browser: "Relay only" ticked mid-transfer reconnects through coturn and resumes', { timeout: 180_000 }, async () => {
  const SIZE = 120_000_000;
  const path = join(tmp, 'switch.bin');
  const digest = generate(path, SIZE);
  const a = await launch();
  const b = await launch();
  await trackPeerConnections(b.ctx);
  try {
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await waitConnected([a.page, b.page]);
    assert.notEqual((await roles(b.page))[0]?.local, 'relay', 'a direct path first');
    await a.page.getByTestId('file-input').setInputFiles(path);
    await b.page.getByTestId('accept').click({ timeout: 15_000 });
    await b.page.waitForFunction((n) => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > n, SIZE / 5, { timeout: 60_000, polling: 20 });
    // the answering side ticks it: it drops its connection, the offering side connects again
    await b.page.getByTestId('relay-only').check();
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 120_000 });
    const t = await b.page.evaluate(() => window.peerdrop.getSnapshot().transfers[0]);
    assert.ok(t.resumedFrom > 0, `resumed from ${t.resumedFrom}`);
    assert.equal((await receivedHashes(b.page))['switch.bin'], digest);
    const r = await roles(b.page);
    // the new session's connection and its lanes: every one relays
    assert.ok(r.length >= 1, JSON.stringify(r));
    for (const c of r) assert.equal(c.local, 'relay', `the new connections relay: ${JSON.stringify(r)}`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a TURN secret coturn does not know: --relay fails with a clear error, in bounded time', { timeout: 120_000 }, async () => {
  const wrong = await startServer(['--turn', `turn:127.0.0.1:${TURN_PORT}?transport=udp`, '--turn-secret', 'not-the-secret']);
  const src = join(tmp, 'small.txt');
  generate(src, 1000);
  const sender = cli(['send', src, '--server', wrong.url, '--count', '1', '--relay']);
  let receiver;
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    const t0 = Date.now();
    receiver = cli(['receive', room.link, '--yes', '--relay', '-o', join(tmp, 'out3')]);
    const r = await receiver.exit(90_000);
    assert.equal(r.code, 3, receiver.summary());
    const err = receiver.events.find((e) => e.event === 'error');
    assert.ok(err?.message, receiver.summary());
    console.log(`# failed after ${Date.now() - t0} ms: ${err.message}`);
  } finally {
    sender.kill();
    receiver?.kill();
    wrong.stop();
  }
});
