// Firefox through a real coturn (turn.mjs) on 127.0.0.1, inside the Firefox
// namespace of run.sh (veth pair): Firefox creates a room and ticks "Relay
// only" before anyone joins, Chromium joins and sends; the transfer can only
// succeed through coturn, and the test checks that Firefox's selected ICE
// pair is a relayed one and that coturn allocated for it.
// Run: tests/e2e/run.sh firefox-turn.test.mjs
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, CONNECT_WAIT_MS, waitConnected } from './lib.mjs';
import { generate, roles, sha256File, TRACK_PCS } from './cli.mjs';
import { ffCreateRoom, ffState, ffWaitConnected, launchFirefox, waitDownload } from './firefox.mjs';
import { startTurnAndServer, TURN_PORT } from './turn.mjs';

let tmp;
let turn;
let server;
let SECRET;
let suite;
before(async () => {
  suite = await startTurnAndServer('pd-ff-turn-');
  ({ tmp, turn, server, secret: SECRET } = suite);
});
after(() => suite?.stop());

const allocations = () => (turn.log().match(/ALLOCATE processed, success/g) ?? []).length;

test('Chromium -> Firefox through coturn: "Relay only" ticked in Firefox', { timeout: 180_000 }, async () => {
  const src = join(tmp, 'via-turn.bin');
  const digest = generate(src, 10_000_000);
  const before = allocations();
  const f = await launchFirefox();
  const a = await launch();
  try {
    await f.page.evaluateOnNewDocument(TRACK_PCS);
    const link = await ffCreateRoom(f.page, server.url);
    await (await f.page.waitForSelector('[data-testid=relay-only]')).click();
    assert.equal(await f.page.$eval('[data-testid=relay-only]', (e) => e.checked), true);
    await a.page.goto(link);
    await Promise.all([waitConnected([a.page]), ffWaitConnected(f.page, CONNECT_WAIT_MS)]);
    await a.page.getByTestId('file-input').setInputFiles(src);
    await f.page.waitForSelector('[data-testid=accept]', { timeout: 30_000 });
    await f.page.click('[data-testid=accept]');
    await ffState(f.page, 'transfer-in', 'COMPLETED', 90_000);
    assert.equal(sha256File(await waitDownload(f.downloads, 'via-turn.bin', 10_000_000, 30_000)), digest);
    const r = await roles(f.page);
    console.log('# roles', JSON.stringify(r));
    // the session's connection and any lanes open by then (docs/protocol.md §5.10): all relayed
    assert.ok(r.length >= 1, JSON.stringify(r));
    for (const c of r) assert.equal(c.local, 'relay', `Firefox connected through coturn: ${JSON.stringify(r)}`);
    assert.ok(allocations() > before, `coturn allocations: ${allocations() - before}`);
  } finally {
    await f.close();
    await a.close();
  }
});
