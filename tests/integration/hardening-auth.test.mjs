// Issue 11, server items 2, 3 and 10: password guessing bounded however a
// client reconnects, a bounded hashing queue that keeps strangers' room
// requests fast during a flood, and client strings escaped in the log.
// The attacker is a raw WebSocket speaking Engine.IO/Socket.IO by hand (it
// renews its namespace with 41/40, as a stock client never does); other
// client addresses are 127.0.0.x (the whole 127/8 is loopback on Linux).

import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, token, DEFAULT_ARGS } from "./lib/server.mjs";
import { connect, call, closeAll } from "./lib/client.mjs";
import { openWs, tryWs, wsUrl, request, sleep } from "./lib/wire.mjs";
import fs from "node:fs";
import { createHmac } from "node:crypto";
import os from "node:os";
import path from "node:path";

const T = { timeout: 60_000 };
const servers = [];
const open = new Set();

after(async () => {
  closeAll(...open);
  for (const s of servers) s.kill();
});

async function server(extraArgs = [], args) {
  const s = await startServer({ args, extraArgs });
  servers.push(s);
  return s;
}

/** A raw Socket.IO client over one WebSocket, from `localAddress`. */
async function rawClient(srv, localAddress = "127.0.0.1") {
  const ws = await openWs(`${wsUrl(srv.url)}/socket.io/?EIO=4&transport=websocket`, { localAddress });
  open.add(ws);
  ws.autoPong = true;
  const first = await ws.nextText();
  assert.equal(first[0], "0", first);
  let nextAck = 0;
  const c = {
    ws,
    /** Joins the main namespace (a new Socket.IO socket each time). */
    async connectNsp() {
      ws.send("40");
      for (;;) {
        const f = await ws.nextText(3000);
        if (f.startsWith("40{")) return JSON.parse(f.slice(2)).sid;
      }
    },
    leaveNsp() {
      ws.send("41");
    },
    /** Sends an event with an ack id and no wait; returns the id. */
    emit(event, payload) {
      const id = nextAck++;
      ws.send(`42${id}${JSON.stringify([event, payload])}`);
      return id;
    },
    /** Waits for the ack `id`, skipping other frames. */
    async ack(id, timeout = 5000) {
      const prefix = `43${id}[`;
      const deadline = Date.now() + timeout;
      for (;;) {
        const f = await ws.nextText(Math.max(1, deadline - Date.now()));
        if (f.startsWith(prefix)) return JSON.parse(f.slice(prefix.length - 1))[0];
      }
    },
    async call(event, payload, timeout) {
      return c.ack(c.emit(event, payload), timeout);
    },
    close() {
      ws.close();
      open.delete(ws);
    },
  };
  return c;
}

async function createRoom(srv) {
  const owner = await connect(srv.url, { transports: ["websocket"] });
  open.add(owner);
  const roomId = token("room-");
  const password = srv.secret(token("pw-"));
  assert.deepEqual(await call(owner, "create-room", { roomId, password }), { ok: true, roomId });
  return { owner, roomId, password };
}

function metric(text, name) {
  const m = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text);
  assert.ok(m, `metric ${name} missing`);
  return Number(m[1]);
}

async function metrics(srv) {
  return (await request(`${srv.url}/metrics`)).text;
}

function assertRetryHint(ack) {
  assert.equal(ack.ok, false);
  assert.equal(ack.error.code, "RATE_LIMITED", JSON.stringify(ack));
  assert.ok(Number.isInteger(ack.error.retryAfterMs) && ack.error.retryAfterMs > 0, JSON.stringify(ack));
}

describe("issue 11 item 2: wrong-password budget survives reconnecting", () => {
  test("renewing the namespace on one WebSocket does not reset the budget (was 227 checks in 8 s)", T, async () => {
    const srv = await server();
    const { roomId } = await createRoom(srv);
    const attacker = await rawClient(srv);
    const codes = {};
    let last;
    const until = Date.now() + 3000;
    for (let i = 0; i < 300 && Date.now() < until; i++) {
      await attacker.connectNsp();
      last = await attacker.call("join-room", { roomId, password: srv.secret(token("guess-")) });
      codes[last.error.code] = (codes[last.error.code] ?? 0) + 1;
      attacker.leaveNsp();
    }
    // at most the session budget (5) was checked; everything else refused
    assert.ok((codes.BAD_PASSWORD ?? 0) <= 5 && codes.BAD_PASSWORD >= 1, JSON.stringify(codes));
    assert.ok(codes.RATE_LIMITED > 0, JSON.stringify(codes));
    assertRetryHint(last);
    attacker.close();
    await srv.stop();
  });

  test("new connections and other addresses share the room's budget; then the room backs off, right password too", T, async () => {
    const srv = await server();
    const { roomId, password } = await createRoom(srv);
    const other = await createRoom(srv);
    const codes = {};
    const addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    for (let i = 0; i < 45; i++) {
      const c = await rawClient(srv, addresses[i % 3]);
      await c.connectNsp();
      const ack = await c.call("join-room", { roomId, password: srv.secret(token("guess-")) });
      codes[ack.error.code] = (codes[ack.error.code] ?? 0) + 1;
      c.close();
    }
    assert.equal(codes.BAD_PASSWORD, 10, JSON.stringify(codes));
    assert.equal(codes.RATE_LIMITED, 35, JSON.stringify(codes));
    // a newcomer with the right password is refused while the room backs off
    const late = await rawClient(srv, "127.0.0.4");
    await late.connectNsp();
    const refused = await late.call("join-room", { roomId, password });
    assertRetryHint(refused);
    assert.ok(refused.error.retryAfterMs <= 60_000, JSON.stringify(refused));
    // ... and another room is not affected
    const ok = await late.call("join-room", { roomId: other.roomId, password: other.password });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    const m = await metrics(srv);
    assert.equal(metric(m, 'peerdrop_refused_total{reason="room_password_failures"}'), 36);
    late.close();
    await srv.stop();
  });

  test("--address-guesses bounds one address across rooms", T, async () => {
    const srv = await server(["--address-guesses", "3"]);
    const rooms = [];
    for (let i = 0; i < 4; i++) rooms.push(await createRoom(srv));
    const codes = [];
    for (const r of rooms) {
      const c = await rawClient(srv, "127.0.0.5");
      await c.connectNsp();
      codes.push((await c.call("join-room", { roomId: r.roomId, password: srv.secret(token("guess-")) })).error.code);
      c.close();
    }
    assert.deepEqual(codes, ["BAD_PASSWORD", "BAD_PASSWORD", "BAD_PASSWORD", "RATE_LIMITED"]);
    // another address still gets its checks
    const c = await rawClient(srv, "127.0.0.6");
    await c.connectNsp();
    assert.equal((await c.call("join-room", { roomId: rooms[3].roomId, password: rooms[3].password })).ok, true);
    c.close();
    await srv.stop();
  });
});

describe("issue 11 follow-up: only checks that failed spend a budget", () => {
  // One hashing thread at the default Argon2 cost: each check takes
  // 100-400 ms, so joins sent at once are all in flight together.
  const SLOW = [...DEFAULT_ARGS.map((a) => (a === "min" ? "interactive" : a)), "--hash-threads", "1"];

  /** n real socket.io clients from `address`, connected. */
  async function clients(srv, n, address) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const c = await connect(srv.url, { transports: ["websocket"], localAddress: address });
      open.add(c);
      out.push(c);
    }
    return out;
  }

  // Before: a check in flight counted as a failure, so with the default
  // --address-guesses 30 the 31st simultaneous right join from one address
  // (an office behind a NAT) was refused for a minute. Scaled down here:
  // --address-guesses 3 and 4 joins.
  test("simultaneous joins with the right password from one address are all admitted", T, async () => {
    const srv = await server(["--address-guesses", "3", "--hash-queue-per-address", "8"], SLOW);
    const rooms = [];
    for (let i = 0; i < 4; i++) rooms.push(await createRoom(srv));
    const joiners = await clients(srv, 4, "127.0.0.9");
    const acks = await Promise.all(joiners.map((c, i) =>
      call(c, "join-room", { roomId: rooms[i].roomId, password: rooms[i].password }, 15_000)));
    for (const ack of acks) assert.equal(ack.ok, true, JSON.stringify(acks));
    await srv.stop();
  });

  // Before: the third of several simultaneous right joins against a room
  // budget of 2 was refused with room_password_failures (wait a minute).
  // Now the budget holds failures only and a room has at most 4 checks in
  // flight; the fifth is told to retry in a second, with its own reason.
  test("a room's checks in flight are capped by a concurrency limit, not its budget", T, async () => {
    const srv = await server(["--room-guesses", "2", "--room-capacity", "16"], SLOW);
    const { roomId, password } = await createRoom(srv);
    const joiners = [];
    for (let i = 0; i < 5; i++) joiners.push(...(await clients(srv, 1, `127.0.2.${i + 1}`)));
    const acks = await Promise.all(joiners.map((c) => call(c, "join-room", { roomId, password }, 15_000)));
    const ok = acks.filter((a) => a.ok).length;
    const busy = acks.filter((a) => !a.ok);
    assert.equal(ok, 4, JSON.stringify(acks));
    assert.equal(busy.length, 1, JSON.stringify(acks));
    assertRetryHint(busy[0]);
    assert.equal(busy[0].error.reason, "room_checks_in_flight", JSON.stringify(busy[0]));
    assert.ok(busy[0].error.retryAfterMs <= 1000, JSON.stringify(busy[0]));
    // retried: admitted, the budget untouched by the right passwords
    const late = joiners[acks.findIndex((a) => !a.ok)];
    assert.equal((await call(late, "join-room", { roomId, password }, 15_000)).ok, true);
    const m = await metrics(srv);
    assert.equal(metric(m, 'peerdrop_refused_total{reason="room_checks_in_flight"}'), 1);
    assert.equal(metric(m, 'peerdrop_refused_total{reason="room_password_failures"}'), 0);
    await srv.stop();
  });
});

describe("issue 11 item 3: hashing queue", () => {
  // The default Argon2 level (interactive, 64 MiB): the flood costs what it
  // costs in production.
  const INTERACTIVE = DEFAULT_ARGS.map((a) => (a === "min" ? "interactive" : a));

  // The target is 1 s; measured here 140-450 ms (release and ASan,
  // load average 8 on 2 cores), 800 ms with two extra CPU hogs; before the
  // fix it was 9.5 s (over this 5 s ack timeout). CI asserts 2 s so that a
  // loaded machine does not fail it; the 1 s target belongs to the abuse
  // benchmark (bench/abuse).
  test("a flood of 300 create-room over renewed namespaces leaves a stranger's create-room fast (< 2 s in CI, target 1 s)", T, async () => {
    const srv = await server([], INTERACTIVE);
    // warm up: the first hash maps 64 MiB and starts the pool's threads
    await createRoom(srv);
    const attackers = [];
    for (let i = 0; i < 10; i++) attackers.push(await rawClient(srv, "127.0.0.1"));
    const acks = [];
    for (let round = 0; round < 30; round++) {
      for (const a of attackers) {
        a.ws.send("40");
        acks.push([a, a.emit("create-room", { roomId: token("flood-"), password: srv.secret(token("pw-")) })]);
        a.ws.send("41");
      }
    }
    await sleep(100);
    const stranger = await connect(srv.url, { transports: ["websocket"], localAddress: "127.0.0.2" });
    open.add(stranger);
    const roomId = token("room-");
    const t0 = performance.now();
    const ack = await call(stranger, "create-room", { roomId, password: srv.secret(token("pw-")) });
    const ms = performance.now() - t0;
    assert.deepEqual(ack, { ok: true, roomId });
    console.log(`# stranger's create-room during the flood: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 2000, `create-room took ${ms.toFixed(0)} ms during the flood`);
    // the queue drains: at most a handful of the flood's jobs ever ran
    const deadline = Date.now() + 10_000;
    let m;
    while (Date.now() < deadline) {
      m = await metrics(srv);
      if (metric(m, "peerdrop_hash_jobs") === 0) break;
      await sleep(50);
    }
    assert.equal(metric(m, "peerdrop_hash_jobs"), 0);
    // the flood's sockets left at once: none of their rooms was created
    assert.equal(metric(m, "peerdrop_rooms_created_total"), 2);
    const refused = ["hash_queue_session", "hash_queue_address", "hash_queue"]
      .map((l) => metric(m, `peerdrop_refused_total{reason="${l}"}`));
    console.log(`# flood: refused ${refused.join("/")} (session/address/global), cancelled ${metric(m, "peerdrop_hash_jobs_cancelled_total")}`);
    for (const a of attackers) a.close();
    await srv.stop();
  });

  test("a queued job is cancelled when its socket disconnects", T, async () => {
    // one hashing thread, kept busy, so the next job waits in the queue
    const srv = await server(["--hash-threads", "1"], INTERACTIVE);
    const busy = [];
    for (let i = 0; i < 3; i++) {
      const c = await rawClient(srv, `127.0.1.${i + 1}`);
      await c.connectNsp();
      busy.push([c, c.emit("create-room", { roomId: token("busy-"), password: srv.secret(token("pw-")) })]);
    }
    const quitter = await rawClient(srv, "127.0.0.7");
    await quitter.connectNsp();
    quitter.emit("create-room", { roomId: token("quit-"), password: srv.secret(token("pw-")) });
    await sleep(20);
    quitter.close();
    for (const [c, id] of busy) assert.equal((await c.ack(id, 10_000)).ok, true);
    const deadline = Date.now() + 5000;
    let m;
    while (Date.now() < deadline) {
      m = await metrics(srv);
      if (metric(m, "peerdrop_hash_jobs") === 0) break;
      await sleep(50);
    }
    assert.equal(metric(m, "peerdrop_hash_jobs_cancelled_total"), 1, m);
    for (const [c] of busy) c.close();
    await srv.stop();
  });
});

describe("issue 11 item 10: client strings in the log", () => {
  test("an event name with a newline and ANSI escapes cannot forge a log line", T, async () => {
    const srv = await server();
    const c = await rawClient(srv);
    await c.connectNsp();
    const forged = "x\n2026-01-01T00:00:00.000Z INFO forged.c:1 FORGED-LINE \x1b[31mred\x1b[0m";
    const ack = await c.call(forged, {});
    assert.equal(ack.error.code, "UNKNOWN_EVENT");
    await sleep(100);
    for (const line of srv.stderr.split("\n")) {
      assert.ok(!line.startsWith("2026-01-01T00:00:00.000Z"), `forged line: ${line}`);
      assert.ok(!line.includes("\x1b"), `raw escape in the log: ${JSON.stringify(line)}`);
    }
    assert.match(srv.stderr, /refused event="x\\x0a2026/);
    c.close();
    await srv.stop();
  });
});

describe("issue 11 item 7: Engine.IO refuses pages from other origins", () => {
  const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";
  const WS = "/socket.io/?EIO=4&transport=websocket";
  const FORBIDDEN = JSON.stringify({ code: 4, message: "Forbidden" });

  async function polling(srv, origin) {
    return request(`${srv.url}${HANDSHAKE}`, { headers: origin ? { origin } : {} });
  }
  async function websocket(srv, origin) {
    return tryWs(`${wsUrl(srv.url)}${WS}`, { headers: origin ? { origin } : {} });
  }

  test("without --cors-origin: same origin and no Origin only", T, async () => {
    const srv = await server();
    for (const origin of [undefined, srv.url, srv.url.toUpperCase().replace("HTTP://", "http://")]) {
      assert.equal((await polling(srv, origin)).status, 200, `polling, origin ${origin}`);
      const ws = await websocket(srv, origin);
      assert.ok(ws.client, `websocket, origin ${origin}: ${ws.status}`);
      ws.client.close();
    }
    const port = new URL(srv.url).port;
    for (const origin of ["http://evil.test", `http://127.0.0.1:${Number(port) + 1}`, `https://127.0.0.1:${port}`, "null", `http://127.0.0.1:${port}.evil.test`]) {
      const res = await polling(srv, origin);
      assert.equal(res.status, 403, `polling, origin ${origin}`);
      assert.equal(res.text, FORBIDDEN);
      const ws = await websocket(srv, origin);
      assert.equal(ws.status, 403, `websocket, origin ${origin}`);
    }
    // an upgrade of a session opened from this origin, asked from another
    const open = await polling(srv, srv.url);
    const sid = JSON.parse(open.text.slice(1)).sid;
    const up = await tryWs(`${wsUrl(srv.url)}${WS}&sid=${sid}`, { headers: { origin: "http://evil.test" } });
    assert.equal(up.status, 403);
    // socket.io-client as a page elsewhere would be
    await assert.rejects(connect(srv.url, { transports: ["websocket"], extraHeaders: { origin: "http://evil.test" } }));
    await srv.stop();
  });

  test("with --cors-origin: the listed origins too, others refused", T, async () => {
    const srv = await server(["--cors-origin", "http://example.com"]);
    for (const origin of [undefined, srv.url, "http://example.com"]) {
      assert.equal((await polling(srv, origin)).status, 200, `polling, origin ${origin}`);
      const ws = await websocket(srv, origin);
      assert.ok(ws.client, `websocket, origin ${origin}: ${ws.status}`);
      ws.client.close();
    }
    for (const origin of ["http://evil.test", "https://example.com"]) {
      assert.equal((await polling(srv, origin)).status, 403, `polling, origin ${origin}`);
      assert.equal((await websocket(srv, origin)).status, 403, `websocket, origin ${origin}`);
    }
    await srv.stop();
  });
});

describe("issue 11 item 8: security headers on every response, no symlinks out of the web root", () => {
  test("CSP, nosniff, no-referrer, frame-ancestors on every kind of answer", T, async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-csp-"));
    try {
      fs.writeFileSync(path.join(root, "index.html"), "<!doctype html><title>x</title>\n");
      const srv = await server(["--web-root", root]);
      const cases = [
        ["GET", "/"],
        ["GET", "/missing.js"],
        ["GET", "/%2e%2e/x"],
        ["POST", "/"],
        ["GET", "/healthz"],
        ["GET", "/config"],
        ["GET", "/metrics"],
        ["GET", "/socket.io/?EIO=4&transport=polling"],
        ["GET", "/socket.io/?EIO=4&transport=bogus"],
        ["GET", "/socket.io/?EIO=4&transport=polling&sid=nope"],
        ["OPTIONS", "/"],
      ];
      for (const [method, p] of cases) {
        const res = await request(srv.url, { method, rawPath: p, body: method === "POST" ? "x" : undefined });
        const what = `${method} ${p} (${res.status})`;
        const csp = String(res.headers["content-security-policy"] ?? "");
        assert.match(csp, /frame-ancestors 'none'/, what);
        assert.match(csp, /script-src 'self'/, what);
        assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, what);
        assert.equal(res.headers["x-content-type-options"], "nosniff", what);
        assert.equal(res.headers["referrer-policy"], "no-referrer", what);
      }
      // a request head over the limit gets its 431 with the headers too
      const big = await request(srv.url, { headers: { "x-big": "a".repeat(9000) } });
      assert.equal(big.status, 431);
      assert.equal(big.headers["x-content-type-options"], "nosniff");
      await srv.stop();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test("the built web app has no inline script (it runs under this CSP)", T, async (t) => {
    const dist = process.env.PEERDROP_WEB_ROOT;
    if (!dist || !fs.existsSync(path.join(dist, "index.html"))) return t.skip("no built web app (PEERDROP_WEB_ROOT)");
    const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
    for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) assert.match(tag, /\bsrc=/, `inline script: ${tag}`);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, "inline event handler");
    assert.doesNotMatch(html, /<style\b|\sstyle\s*=/i, "inline style");
  });

  test("symlinks in the web root are not followed, to files or directories outside", T, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-link-"));
    try {
      const root = path.join(tmp, "www");
      const outside = path.join(tmp, "outside");
      fs.mkdirSync(path.join(root, "assets"), { recursive: true });
      fs.mkdirSync(outside);
      const SECRET = `outside-${token()}`;
      fs.writeFileSync(path.join(outside, "secret.txt"), SECRET);
      fs.writeFileSync(path.join(root, "assets", "real.txt"), "real\n");
      fs.symlinkSync(path.join(outside, "secret.txt"), path.join(root, "leak.txt"));
      fs.symlinkSync(outside, path.join(root, "docs"));
      fs.symlinkSync("../../outside", path.join(root, "assets", "up"));
      fs.symlinkSync("/etc/passwd", path.join(root, "passwd"));
      const srv = await server(["--web-root", root]);
      assert.equal((await request(`${srv.url}/assets/real.txt`)).text, "real\n");
      for (const p of ["/leak.txt", "/docs/secret.txt", "/assets/up/secret.txt", "/passwd"]) {
        const res = await request(`${srv.url}${p}`);
        assert.equal(res.status, 404, p);
        assert.ok(!res.text.includes(SECRET) && !/root:.*:0:0:/.test(res.text), `${p} served a file outside`);
      }
      await srv.stop();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("issue 11 item 9: TURN credentials only for room members; /metrics restricted", () => {
  const urlsOf = (e) => (Array.isArray(e.urls) ? e.urls : [e.urls]);

  function assertCredential(ack, secret, socketId, ttl) {
    assert.equal(ack.iceServersTtl, ttl, JSON.stringify(ack));
    const turn = ack.iceServers.filter((e) => urlsOf(e).some((u) => /^turns?:/.test(u)));
    assert.equal(turn.length, 1, JSON.stringify(ack.iceServers));
    const stun = ack.iceServers.find((e) => urlsOf(e).some((u) => u.startsWith("stun:")));
    assert.equal(stun?.credential, undefined);
    const { username, credential } = turn[0];
    const m = /^(\d+):(.+)$/.exec(username);
    assert.ok(m, `username "<expiry>:<socket id>": ${username}`);
    assert.equal(m[2], socketId, "the username names the member's socket");
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(Number(m[1]) - (now + ttl)) <= 5, `expiry ${m[1]}, now ${now}, ttl ${ttl}`);
    assert.equal(credential, createHmac("sha1", secret).update(username).digest("base64"));
    return credential;
  }

  test("create-room and join-room acks carry a per-socket, short-lived TURN credential; ice-servers renews it", T, async () => {
    const secret = token("turnsecret-");
    const srv = await server(["--stun", "stun:stun.example.org:3478", "--turn", "turn:turn.example.org:3478", "--turn-secret", secret]);
    srv.secret(secret);
    const a = await connect(srv.url, { transports: ["websocket"] });
    const b = await connect(srv.url, { transports: ["websocket"] });
    open.add(a).add(b);
    // no room, no credential
    const outside = await call(b, "ice-servers", {});
    assert.equal(outside.error?.code, "NOT_IN_ROOM");
    const roomId = token("room-");
    const password = srv.secret(token("pw-"));
    const created = await call(a, "create-room", { roomId, password });
    srv.secret(assertCredential(created, secret, a.id, 1200));
    const joined = await call(b, "join-room", { roomId, password });
    assert.deepEqual(joined.peers, [a.id]);
    srv.secret(assertCredential(joined, secret, b.id, 1200));
    const renewed = await call(b, "ice-servers", {});
    assert.equal(renewed.ok, true);
    srv.secret(assertCredential(renewed, secret, b.id, 1200));
    // a wrong password gets none
    const c = await connect(srv.url, { transports: ["websocket"] });
    open.add(c);
    const refused = await call(c, "join-room", { roomId, password: srv.secret(token("pw-")) });
    assert.deepEqual(Object.keys(refused).sort(), ["error", "ok"]);
    closeAll(a, b, c);
    await srv.stop();
  });

  test("--turn-ttl sets the credential's lifetime", T, async () => {
    const secret = token("turnsecret-");
    const srv = await server(["--turn", "turn:turn.example.org:3478", "--turn-secret", secret, "--turn-ttl", "300"]);
    srv.secret(secret);
    const a = await connect(srv.url, { transports: ["websocket"] });
    open.add(a);
    const ack = await call(a, "create-room", { roomId: token("room-"), password: srv.secret(token("pw-")) });
    srv.secret(assertCredential(ack, secret, a.id, 300));
    a.close();
    await srv.stop();
  });

  test("/metrics answers loopback by default, --metrics-allow chooses who", T, async () => {
    const def = await server();
    assert.equal((await request(`${def.url}/metrics`, { localAddress: "127.0.0.1" })).status, 200);
    assert.equal((await request(`${def.url}/metrics`, { localAddress: "127.0.0.2" })).status, 200, "127/8 is loopback");
    await def.stop();
    const only = await server(["--metrics-allow", "127.0.0.2/32,::1"]);
    const denied = await request(`${only.url}/metrics`, { localAddress: "127.0.0.1" });
    assert.equal(denied.status, 403);
    assert.doesNotMatch(denied.text, /peerdrop_/);
    const allowed = await request(`${only.url}/metrics`, { localAddress: "127.0.0.2" });
    assert.equal(allowed.status, 200);
    assert.match(allowed.text, /peerdrop_rooms /);
    // other endpoints are not affected
    assert.equal((await request(`${only.url}/healthz`, { localAddress: "127.0.0.1" })).status, 200);
    await only.stop();
    await assert.rejects(server(["--metrics-allow", "127.0.0.1/33"]), /exited early \(code 2/);
  });
});
