// Regression test for the "two browsers sometimes never connect" bug
// (docs/protocol.md §5.1): ICE, DTLS and SCTP came up and the data channel
// opened on both sides, but the accepting page's `hello`, sent from inside
// `ondatachannel`, was lost now and then (about one connection in ten with
// freshly started browsers), and the opener waited for it forever. The
// acceptor now answers the opener's first message instead. Many rooms in a
// row, two fresh browsers each; a healthy connection takes one to two
// seconds, so each gets 15 s, well
// below the app's own 20 s retry (which never fired for this bug: the
// connection itself was up). Against the app before the fix this failed
// 1 of 30 rounds (PEERDROP_WEB_ROOT=<old build> PEERDROP_CONNECT_ROUNDS=30),
// so a regression is likely, not certain, to show in one run.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, startServer } from './lib.mjs';

const ROUNDS = Number(process.env.PEERDROP_CONNECT_ROUNDS ?? 24);
let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

test(`${ROUNDS} rooms in a row: both browsers see each other connected every time`, { timeout: ROUNDS * 40_000 + 30_000 }, async () => {
  const failures = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Fresh browsers every round: with warm renderers (pages reused) the
    // lost message was never seen; with fresh ones, about one in ten.
    const a = await launch();
    const b = await launch();
    try {
      const link = await createRoom(a.page, server.url);
      await b.page.goto(link);
      const ok = await Promise.all(
        [a.page, b.page].map((p) => p.locator('[data-testid=peer][data-state=CONNECTED]').first().waitFor({ timeout: 15_000 }).then(() => true, () => false)),
      );
      if (!ok.every(Boolean)) {
        const peers = await Promise.all([a.page, b.page].map((p) => p.evaluate(() => window.peerdrop?.getSnapshot()?.peers)));
        failures.push(`round ${i}: creator ${JSON.stringify(peers[0])}, joiner ${JSON.stringify(peers[1])}`);
      }
    } finally {
      await a.close();
      await b.close();
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS} connections never completed`);
});
