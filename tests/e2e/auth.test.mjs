// Authentication on the data channel in the web app (issue 14, protocol 2;
// docs/authentication.md §7), in Chromium through the real server:
//  * two browsers in a room show the same verification code, and a new
//    connection (after a drop) runs a new authentication with a new code;
//  * a peer that skips authentication (sends a protocol-1 `hello` and an
//    `offer` instead of its PAKE message), as the opener or as the
//    acceptor, is refused: the app's row shows the authentication failure,
//    no offer from it is shown, and nobody reconnects in a loop.
// The skipping peer is the app itself with RTCDataChannel.send patched by
// an init script (the old build's behaviour on the wire: what a protocol-1
// client sends on a new channel), so it joins the room with a real
// admission value through the real signaling.
// Run: tests/e2e/run.sh auth.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, launch, shot, startServer, twoConnected } from './lib.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const SAS = '[data-testid=peer] [data-testid=sas]';
const AUTH_ERROR = 'This connection may be intercepted, or the other side used a different password. Nothing was sent.';

async function dump(pages) {
  for (const [n, p] of pages) {
    console.error(n, JSON.stringify(await p.evaluate(() => window.peerdrop?.getSnapshot()).catch(() => null), null, 1)?.slice(0, 3000));
    await shot(p, `auth-failure-${n}`).catch(() => {});
  }
}

async function sasOf(page) {
  const el = page.locator(SAS);
  await el.waitFor({ timeout: 15_000 });
  return (await el.textContent()).trim();
}

test('two browsers show the same verification code; a new connection gets a new one', { timeout: 180_000 }, async () => {
  const { a, b } = await twoConnected(server.url);
  try {
    const [ca, cb] = [await sasOf(a.page), await sasOf(b.page)];
    assert.match(ca, /^\d{3} \d{3}$/);
    assert.equal(ca, cb, 'both sides show the same code');
    // what a screen reader reads on the row
    const row = await a.page.getByTestId('peer').ariaSnapshot();
    assert.match(row, new RegExp(`Verification code ${ca}`));
    await shot(a.page, 'auth-sas');

    // a drop: the opener connects again, with a new run (new sid, new scalars)
    await a.page.evaluate(() => window.peerdrop.dropConnections());
    const fresh = async (page) => {
      // bounded: the reconnection takes well under CONNECT_WAIT_MS
      await page.waitForFunction((old) => {
        const el = document.querySelector('[data-testid=peer] [data-testid=sas]');
        const row = document.querySelector('[data-testid=peer]');
        return el && row?.dataset.state === 'CONNECTED' && el.textContent.trim() !== old;
      }, ca, { timeout: 60_000 });
      return sasOf(page);
    };
    const [na, nb] = [await fresh(a.page), await fresh(b.page)];
    assert.equal(na, nb, 'the new codes agree');
    assert.notEqual(na, ca, 'a new connection is a new authentication (equal by chance once in 10^6)');
  } catch (e) {
    await dump([['A', a.page], ['B', b.page]]);
    throw e;
  } finally {
    await a.close();
    await b.close();
  }
});

/* The page's data channels never send a PAKE message: the first one they
 * would send becomes a protocol-1 hello and an offer of one file, the later
 * ones are dropped. window.__pcs counts its RTCPeerConnections. */
const SKIP_AUTH = `
  (() => {
    window.__pcs = 0;
    const Orig = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Orig {
      constructor(...args) {
        super(...args);
        window.__pcs++;
      }
    };
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (d) {
      if (typeof d === 'string' && d.startsWith('{"t":"pake-')) {
        if (this.__skipped) return;
        this.__skipped = true;
        send.call(this, '{"t":"hello","v":1,"maxMsg":65536,"win":16777216,"caps":["resume"]}');
        send.call(this, '{"t":"offer","xfer":"00112233445566778899aabbccddeeff","files":[{"id":0,"name":"evil.txt","dir":"","size":4,"mime":"text/plain"}]}');
        return;
      }
      return send.call(this, d);
    };
  })();
`;

for (const role of ['opener', 'acceptor']) {
  test(`a peer that skips authentication (as the ${role}) is refused, with no offer shown and no reconnection`, { timeout: 180_000 }, async () => {
    const app = await launch();
    const skip = await launch();
    await skip.ctx.addInitScript(SKIP_AUTH);
    try {
      // the older member makes the offer and opens the channel
      const [first, second] = role === 'opener' ? [skip, app] : [app, skip];
      const link = await createRoom(first.page, server.url);
      await second.page.goto(link);
      const failed = '[data-testid=peer][data-state=FAILED] [data-testid=auth-error]';
      await app.page.locator(failed).waitFor({ timeout: 60_000 });
      assert.equal((await app.page.locator(failed).textContent()).trim(), AUTH_ERROR);
      // the skipping side is refused too: it got error AUTH_FAILED (or the close)
      await skip.page.locator(failed).waitFor({ timeout: 15_000 });
      await shot(app.page, `auth-refused-${role}`);
      // a failed peer stays failed: nobody reconnects (the app's retries come
      // after 0.5-3 s), and nothing from it is ever offered or verified
      await new Promise((r) => setTimeout(r, 5000));
      assert.equal(await skip.page.evaluate(() => window.__pcs), 1, 'one connection attempt, no retry loop');
      for (const p of [app.page, skip.page]) {
        assert.equal(await p.locator('[data-testid=peer][data-state=FAILED]').count(), 1);
        assert.equal(await p.locator(SAS).count(), 0, 'no verification code');
        assert.equal(await p.getByTestId('accept').count(), 0, 'no offer shown');
        assert.equal(await p.getByTestId('transfer-in').count(), 0);
      }
      const snap = await app.page.evaluate(() => window.peerdrop.getSnapshot());
      assert.equal(snap.transfers.length, 0);
      assert.equal(snap.peers[0].authFailed, true);
    } catch (e) {
      await dump([['app', app.page], ['skip', skip.page]]);
      throw e;
    } finally {
      await app.close();
      await skip.close();
    }
  });
}

/* The page's key-confirmation tag has one hex digit changed, as when the
 * two sides derived different keys or saw different DTLS certificates (a
 * wrong secret, an interception): the peer's check fails. */
const BAD_TAG = `
  (() => {
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (d) {
      if (typeof d === 'string' && d.startsWith('{"t":"pake-confirm"')) {
        const i = d.indexOf('"mac":"') + 7;
        d = d.slice(0, i) + (d[i] === '0' ? '1' : '0') + d.slice(i + 1);
      }
      return send.call(this, d);
    };
  })();
`;

for (const role of ['opener', 'acceptor']) {
  test(`a key confirmation that does not verify (the ${role}'s tag) fails closed on both sides`, { timeout: 180_000 }, async () => {
    const app = await launch();
    const bad = await launch();
    await bad.ctx.addInitScript(BAD_TAG);
    try {
      const [first, second] = role === 'opener' ? [bad, app] : [app, bad];
      const link = await createRoom(first.page, server.url);
      await second.page.goto(link);
      const failed = '[data-testid=peer][data-state=FAILED] [data-testid=auth-error]';
      // the acceptor's tag is checked last: the opener refuses it after the
      // acceptor is done, and the acceptor learns it from AUTH_FAILED
      for (const p of [app.page, bad.page]) {
        await p.locator(failed).waitFor({ timeout: 60_000 });
        assert.equal((await p.locator(failed).textContent()).trim(), AUTH_ERROR);
      }
      await new Promise((r) => setTimeout(r, 3000));
      for (const p of [app.page, bad.page]) {
        assert.equal(await p.locator('[data-testid=peer][data-state=FAILED]').count(), 1, 'still failed: no reconnection');
        assert.equal(await p.locator(SAS).count(), 0, 'no verification code');
      }
    } catch (e) {
      await dump([['app', app.page], ['bad', bad.page]]);
      throw e;
    } finally {
      await app.close();
      await bad.close();
    }
  });
}
