// Engine.IO v4 black-box tests against `peerdrop-conformance-server eio`
// (an echo server on /engine.io/, pingInterval 300, pingTimeout 200,
// maxPayload 1e6). Derived from the protocol notes
// (shared/notes/socketio-protocol.md section 2) and the v4 spec.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { request, tryWs, openWs, wsUrl, sleep, within, RS } from "./lib/wire.mjs";
import { eioUrl, pollingOpen, pollGet, pollPost, pollSend, pollPackets, wsOpen, assertEioError } from "./lib/eio.mjs";

const P = "/engine.io/";
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const T = { timeout: 10_000 };

let srv;
let base;

before(async () => {
  srv = await startServer({ conformance: "eio" });
  base = srv.url;
});
after(async () => {
  await srv?.stop();
});

/** The session is gone: a GET with its sid is refused with 400. */
async function assertSessionGone(sid) {
  const res = await pollGet(base, P, sid);
  assert.equal(res.status, 400, `session ${sid} should be closed, GET got ${res.status} ${res.text}`);
}

/**
 * The packets of the next poll response that carries more than pings; pings
 * are answered, so a slow run never turns a heartbeat into a failure.
 */
async function nextMsgs(sid, first) {
  let res = first ?? (await pollGet(base, P, sid));
  for (let i = 0; i < 5; i++) {
    assert.equal(res.status, 200, `poll status ${res.status} ${res.text}`);
    const pkts = res.text.split(RS);
    const rest = pkts.filter((p) => p !== "2");
    if (rest.length !== pkts.length) await pollSend(base, P, sid, "3");
    if (rest.length) return { res, text: rest.join(RS) };
    res = await pollGet(base, P, sid);
  }
  assert.fail("only pings");
}

/** A WebSocket session that answers pings by itself. */
async function wsSession() {
  const r = await wsOpen(base, P);
  r.ws.autoPong = true;
  return r;
}

describe("handshake", () => {
  test("polling: open packet with exact keys and values, headers", T, async () => {
    const { open, res } = await pollingOpen(base, P);
    assert.match(String(res.headers["content-type"]), /^text\/plain; ?charset=utf-8$/i);
    assert.equal(res.headers["cache-control"], "no-store");
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.equal(typeof open.sid, "string");
    assert.ok(open.sid.length > 0);
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(open.pingInterval, PING_INTERVAL);
    assert.equal(open.pingTimeout, PING_TIMEOUT);
    assert.equal(open.maxPayload, 1_000_000);
  });

  test("polling: every handshake gets a distinct sid", T, async () => {
    const sids = new Set();
    for (let i = 0; i < 5; i++) sids.add((await pollingOpen(base, P)).sid);
    assert.equal(sids.size, 5);
  });

  test("websocket: first frame is the open packet, upgrades []", T, async () => {
    const { ws, open } = await wsOpen(base, P);
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.equal(typeof open.sid, "string");
    assert.ok(open.sid.length > 0);
    assert.deepEqual(open.upgrades, []);
    assert.equal(open.pingInterval, PING_INTERVAL);
    assert.equal(open.pingTimeout, PING_TIMEOUT);
    assert.equal(open.maxPayload, 1_000_000);
    ws.close();
  });

  test("websocket: invalid EIO or transport is refused (no session opened)", T, async () => {
    for (const q of ["EIO=abc&transport=websocket", "transport=websocket", "EIO=4&transport=abc", "EIO=3&transport=websocket"]) {
      const r = await tryWs(`${wsUrl(base)}${P}?${q}`);
      if (r.client) {
        // Accepted at the HTTP level: the server must close without an open packet.
        const f = await Promise.race([r.client.next(2000).catch(() => null), r.client.closed.then(() => null)]);
        assert.ok(f === null || f.data[0] !== "0", `${q}: got an open packet ${JSON.stringify(f?.data)}`);
        await r.client.waitClose(2000);
      } else {
        assert.ok(r.status === 400 || r.error, `${q}: expected 400 or a failed connection, got ${r.status}`);
        if (r.status !== undefined) assert.equal(r.status, 400, `${q}: status`);
      }
    }
  });
});

describe("HTTP error table", () => {
  test("code 0 Transport unknown", T, async () => {
    assertEioError(await request(`${base}${P}?EIO=4`), 0, "Transport unknown");
    assertEioError(await request(`${base}${P}?EIO=4&transport=abc`), 0, "Transport unknown");
  });

  test("code 1 Session ID unknown (GET and POST)", T, async () => {
    assertEioError(await pollGet(base, P, "unknownsid123"), 1, "Session ID unknown");
    assertEioError(await pollPost(base, P, "unknownsid123", "4hello"), 1, "Session ID unknown");
  });

  test("code 2 Bad handshake method (POST, PUT, OPTIONS without CORS)", T, async () => {
    for (const method of ["POST", "PUT", "OPTIONS"]) {
      const res = await request(eioUrl(base, P, "transport=polling"), { method, body: method === "OPTIONS" ? undefined : "4x" });
      assertEioError(res, 2, "Bad handshake method");
    }
  });

  test("code 3 Bad request: websocket transport without Upgrade", T, async () => {
    assertEioError(await request(eioUrl(base, P, "transport=websocket")), 3, "Bad request");
  });

  test("code 5 Unsupported protocol version", T, async () => {
    for (const q of ["transport=polling", "EIO=abc&transport=polling", "EIO=3&transport=polling"]) {
      assertEioError(await request(`${base}${P}?${q}`), 5, "Unsupported protocol version");
    }
  });

  test("unknown path is 404", T, async () => {
    const res = await request(`${base}/nope/?EIO=4&transport=polling`);
    assert.equal(res.status, 404);
    const res2 = await request(`${base}/engine.iox/?EIO=4&transport=polling`);
    assert.equal(res2.status, 404);
  });
});

describe("polling messages", () => {
  test("one text message is echoed", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const post = await pollPost(base, P, sid, "4hello");
    assert.equal(post.status, 200);
    assert.equal(post.text, "ok");
    assert.match(String(post.headers["content-type"]), /^text\/html/i);
    const { res: get, text } = await nextMsgs(sid);
    assert.match(String(get.headers["content-type"]), /^text\/plain; ?charset=utf-8$/i);
    assert.equal(get.headers["cache-control"], "no-store");
    assert.equal(text, "4hello");
  });

  test("several packets joined by \\x1e come back joined", T, async () => {
    const { sid } = await pollingOpen(base, P);
    await pollSend(base, P, sid, ["4hello", "4€uro ☃", "4"].join(RS));
    assert.equal((await nextMsgs(sid)).text, ["4hello", "4€uro ☃", "4"].join(RS));
  });

  test("b-base64 binary is echoed as b-base64", T, async () => {
    const { sid } = await pollingOpen(base, P);
    await pollSend(base, P, sid, `4hello${RS}bAQIDBA==${RS}b3q2+7w==`);
    assert.equal((await nextMsgs(sid)).text, `4hello${RS}bAQIDBA==${RS}b3q2+7w==`);
  });

  test("a held GET is answered when a message arrives", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const t0 = Date.now();
    const held = pollGet(base, P, sid);
    await sleep(100);
    await pollSend(base, P, sid, "4late");
    assert.equal((await nextMsgs(sid, await held)).text, "4late");
    assert.ok(Date.now() - t0 >= 90, "the GET must have been held until the message");
  });

  test("an invalid packet gets 400 and closes the session", T, async () => {
    const { sid } = await pollingOpen(base, P);
    // The notes give 400; the reference answers this POST 200 "ok" and then
    // closes. Either is fine: what matters is that the session is gone.
    const res = await pollPost(base, P, sid, "abc");
    assert.ok(res.status === 400 || res.status === 200, `POST abc -> ${res.status}`);
    await assertSessionGone(sid);
    // The server itself is fine.
    await pollingOpen(base, P);
  });

  test("a duplicate GET closes the session", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const first = pollGet(base, P, sid);
    await sleep(50);
    const second = await pollGet(base, P, sid);
    assert.ok(second.status === 400 || second.status === 500, `second GET: ${second.status}`);
    const firstRes = await first;
    assert.equal(firstRes.status, 200);
    assert.equal(firstRes.text, "1", "the held GET must get the close packet");
    await assertSessionGone(sid);
  });

  test("an overlapping POST closes the session", T, async () => {
    const { sid } = await pollingOpen(base, P);
    // The first POST uploads slowly, so the second one overlaps it.
    const slow = pollPost(base, P, sid, "4" + "s".repeat(300_000), { chunkDelayMs: 40 }).catch((e) => e);
    await sleep(60);
    const second = await pollPost(base, P, sid, "4overlap");
    assert.ok(second.status === 400 || second.status === 500, `overlapping POST: ${second.status} ${second.text}`);
    await slow;
    await assertSessionGone(sid);
  });

  test("a cancelled GET closes the session", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const ac = new AbortController();
    const held = pollGet(base, P, sid, { signal: ac.signal }).catch((e) => e);
    await sleep(50);
    ac.abort();
    assert.equal((await held).name, "AbortError");
    await sleep(100);
    await assertSessionGone(sid);
  });

  test("a POST over maxPayload gets 413", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const res = await pollPost(base, P, sid, "4" + "a".repeat(1_000_001), { timeout: 5000, chunkDelayMs: 5 });
    assert.equal(res.status, 413);
    // Nobody else is disturbed.
    const other = await pollingOpen(base, P);
    await pollSend(base, P, other.sid, "4still-fine");
    assert.equal((await pollGet(base, P, other.sid)).text, "4still-fine");
  });

  test("a POST of exactly maxPayload bytes is accepted", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const body = "4" + "z".repeat(1_000_000 - 1);
    await pollSend(base, P, sid, body);
    const { text } = await nextMsgs(sid);
    assert.equal(text.length, body.length);
    assert.ok(text === body);
  });
});

describe("websocket messages", () => {
  test("text is echoed", T, async () => {
    const { ws } = await wsSession();
    ws.send("4hello");
    assert.equal(await ws.nextText(), "4hello");
    ws.send("4€ ☃");
    assert.equal(await ws.nextText(), "4€ ☃");
    ws.close();
  });

  test("binary frames carry no type byte", T, async () => {
    const { ws } = await wsSession();
    ws.send(Buffer.from([1, 2, 3, 4]));
    assert.deepEqual(await ws.nextBinary(), Buffer.from([1, 2, 3, 4]));
    ws.send(Buffer.from([0xde, 0xad]));
    assert.deepEqual(await ws.nextBinary(), Buffer.from([0xde, 0xad]));
    ws.close();
  });

  test("several frames sent at once are all echoed in order", T, async () => {
    const { ws } = await wsSession();
    for (let i = 0; i < 20; i++) ws.send(`4m${i}`);
    for (let i = 0; i < 20; i++) assert.equal(await ws.nextText(), `4m${i}`);
    ws.close();
  });

  test("fragmented messages are reassembled (RFC 6455 section 5.4)", T, async () => {
    const { ws } = await wsSession();
    ws.ws.send("4frag", { fin: false });
    ws.ws.send("men", { fin: false });
    ws.ws.send("ted", { fin: true });
    assert.equal(await ws.nextText(), "4fragmented");
    ws.ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
    ws.ws.send(Buffer.from([3]), { binary: true, fin: true });
    assert.deepEqual(await ws.nextBinary(), Buffer.from([1, 2, 3]));
    ws.close();
  });

  test("a WebSocket ping control frame gets a pong with the same data", T, async () => {
    const { ws } = await wsSession();
    const pong = new Promise((resolve) => ws.ws.once("pong", (d) => resolve(Buffer.from(d))));
    ws.ws.ping(Buffer.from("hi!"));
    assert.deepEqual(await within(2000, pong, "pong frame"), Buffer.from("hi!"));
    // The session is unaffected.
    ws.send("4after-ping");
    assert.equal(await ws.nextText(), "4after-ping");
    ws.close();
  });

  test("a close frame is answered with a close frame", T, async () => {
    const { ws } = await wsSession();
    ws.ws.close(1000, "bye");
    // 1006 would mean the TCP connection ended without a close frame; the
    // answer may echo 1000 or carry no code (1005), RFC 6455 section 5.5.1.
    const { code } = await ws.waitClose(2000);
    assert.ok(code === 1000 || code === 1005, `close code ${code}`);
  });

  test("a client-sent ping packet is a protocol error in v4", T, async () => {
    const { ws } = await wsSession();
    ws.send("2");
    await ws.waitClose(2000);
  });

  test("an invalid packet closes the socket", T, async () => {
    const { ws } = await wsOpen(base, P);
    ws.send("abc");
    await ws.waitClose(2000);
  });
});

describe("heartbeat", () => {
  test("polling: server pings, pongs keep the session, silence closes it", T, async () => {
    const { sid } = await pollingOpen(base, P);
    let last = Date.now();
    for (let i = 0; i < 3; i++) {
      const get = await pollGet(base, P, sid, { timeout: 2000 });
      assert.equal(get.text, "2");
      const dt = Date.now() - last;
      assert.ok(dt >= PING_INTERVAL - 100, `ping came ${dt} ms after the previous pong, before pingInterval`);
      await pollSend(base, P, sid, "3");
      last = Date.now();
    }
    // No pong any more: closed after pingInterval + pingTimeout.
    await sleep(PING_INTERVAL + PING_TIMEOUT + 150);
    await assertSessionGone(sid);
  });

  test("websocket: server pings, pongs keep the session, silence closes it", T, async () => {
    const { ws } = await wsOpen(base, P);
    for (let i = 0; i < 3; i++) {
      assert.equal(await ws.nextText(1000), "2");
      ws.send("3");
    }
    const t0 = Date.now();
    assert.equal(await ws.nextText(1000), "2");
    await ws.waitClose(PING_TIMEOUT + 1000);
    const dt = Date.now() - t0;
    assert.ok(dt >= PING_TIMEOUT - 50, `closed ${dt} ms after the ping, before pingTimeout`);
  });
});

describe("close", () => {
  test("polling: client close packet releases the held GET with a noop", T, async () => {
    const { sid } = await pollingOpen(base, P);
    const held = pollGet(base, P, sid);
    await sleep(50);
    const post = await pollPost(base, P, sid, "1");
    assert.equal(post.status, 200);
    const get = await held;
    assert.equal(get.status, 200);
    assert.equal(get.text, "6");
    await assertSessionGone(sid);
  });

  test("websocket: client close packet closes the socket", T, async () => {
    const { ws } = await wsOpen(base, P);
    ws.send("1");
    await ws.waitClose(2000);
  });
});

describe("upgrade", () => {
  async function upgraded() {
    const { sid } = await pollingOpen(base, P);
    const ws = await openWs(eioUrl(wsUrl(base), P, `transport=websocket&sid=${sid}`));
    ws.autoPong = true; // pings reach the WebSocket only after "5"
    return { sid, ws };
  }

  test("probe, noop to every held GET while upgrading, 5, then polling is refused", T, async () => {
    const { sid, ws } = await upgraded();
    const held = pollGet(base, P, sid);
    await sleep(50);
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    assert.equal((await nextMsgs(sid, await held)).text, "6");
    // A second GET during the upgrade is released with a noop too.
    assert.equal((await nextMsgs(sid)).text, "6");
    ws.send("5");
    // From now on messages go over the WebSocket, and no noop leaks onto it.
    ws.send("4after-upgrade");
    assert.equal(await ws.nextText(), "4after-upgrade");
    const res = await pollGet(base, P, sid);
    assertEioError(res, 3, "Bad request");
    const post = await pollPost(base, P, sid, "4x");
    assert.equal(post.status, 400);
    ws.close();
  });

  test("messages buffered before the upgrade are flushed over the WebSocket", T, async () => {
    const { sid, ws } = await upgraded();
    await pollSend(base, P, sid, "4buffered");
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    ws.send("5");
    // The echo was buffered for polling (no GET was made): it must not be lost.
    assert.equal(await ws.nextText(), "4buffered");
    ws.close();
  });

  test("packets emitted while upgrading are delivered exactly once", T, async () => {
    // The reference sends them on polling until "5" (notes 2.7); holding
    // them for the WebSocket is also fine for a client. Losing or
    // duplicating them is not.
    const { sid, ws } = await upgraded();
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    await pollSend(base, P, sid, "4during");
    const { text } = await nextMsgs(sid); // the echo or a noop
    const onPolling = text.split(RS).filter((p) => p !== "6");
    ws.send("5");
    ws.send("4after");
    const onWs = [];
    for (;;) {
      const f = await ws.nextText();
      if (f === "4after") break;
      onWs.push(f);
    }
    assert.deepEqual([...onPolling, ...onWs], ["4during"], `polling ${JSON.stringify(onPolling)}, websocket ${JSON.stringify(onWs)}`);
    ws.close();
  });

  test("an aborted upgrade loses nothing: buffered packets go out on polling", T, async () => {
    const { sid, ws } = await upgraded();
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    await pollSend(base, P, sid, "4during");
    ws.close(); // the probe WebSocket dies before "5"
    const deadline = Date.now() + 3000;
    let got = [];
    while (!got.includes("4during") && Date.now() < deadline) {
      const { text } = await nextMsgs(sid);
      got = got.concat(text.split(RS).filter((p) => p !== "6"));
    }
    assert.deepEqual(got, ["4during"]);
    // Polling goes on as before.
    await pollSend(base, P, sid, "4still");
    assert.deepEqual(await pollPackets(base, P, sid, 1), ["4still"]);
  });

  test("heartbeat continues over the upgraded WebSocket", T, async () => {
    const { ws } = await upgraded();
    ws.autoPong = false;
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    ws.send("5");
    for (let i = 0; i < 2; i++) {
      assert.equal(await ws.nextText(1000), "2");
      ws.send("3");
    }
    ws.close();
  });

  test("a second WebSocket for an upgraded sid is closed", T, async () => {
    const { sid, ws } = await upgraded();
    ws.send("2probe");
    assert.equal(await ws.nextText(), "3probe");
    ws.send("5");
    await sleep(50);
    const r = await tryWs(eioUrl(wsUrl(base), P, `transport=websocket&sid=${sid}`));
    if (r.client) await r.client.waitClose(2000);
    else assert.ok(r.status === 400 || r.error, `second websocket: ${r.status}`);
    // The first one still works.
    ws.send("4first");
    assert.equal(await ws.nextText(), "4first");
    ws.close();
  });

  test("a non-probe packet on the probing WebSocket closes it, polling lives on", T, async () => {
    const { sid, ws } = await upgraded();
    ws.send("4not-a-probe");
    await ws.waitClose(2000);
    await pollSend(base, P, sid, "4still-polling");
    const got = await pollPackets(base, P, sid, 1);
    assert.deepEqual(got, ["4still-polling"]);
  });

  test("a websocket upgrade with an unknown sid is refused", T, async () => {
    const r = await tryWs(eioUrl(wsUrl(base), P, "transport=websocket&sid=doesnotexist"));
    if (r.client) {
      const f = await within(2000, r.client.closed, "close");
      assert.ok(f);
    } else {
      assert.equal(r.status ?? 400, 400);
    }
  });
});
