// Issue 15: two peerdrop-server nodes sharing one real redis-server behave
// as one deployment. The signaling contract with the peers on different
// nodes (WebSocket, and polling and upgrade through HAProxy with
// deploy/haproxy.cfg), two nodes racing for one room id and for a room's
// last slot, Redis killed and restarted, a node SIGKILLed. Skipped, with a
// message, only when redis-server or haproxy is not installed.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { token } from "./lib/server.mjs";
import { connect, call, recorder, closeAll } from "./lib/client.mjs";
import { sleep } from "./lib/wire.mjs";
import { spawnSync } from "node:child_process";
import { serverPath } from "./lib/server.mjs";
import { which, startRedis, startNode, startHaproxy } from "./lib/cluster.mjs";
import { proxiedGet } from "./lib/proxy.mjs";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MISSING = ["redis-server", "haproxy"].filter((p) => !which(p));
const SKIP = MISSING.length ? `not installed: ${MISSING.join(", ")} (scripts/setup.sh installs them)` : false;
const T = { timeout: 30_000 };
const CAPACITY = ["--room-capacity", "2"];

// n1, n2: clients connect to them directly. p1, p2: behind HAProxy
// (deploy/haproxy.cfg, send-proxy-v2), started with --trust-proxy so that
// their per-address limits see each client's address, not HAProxy's
// (--address-guesses 1 makes that visible).
let redis, n1, n2, p1, p2, lb;
const BEHIND_LB = [...CAPACITY, "--trust-proxy", "127.0.0.1", "--address-guesses", "1"];
const open = new Set();

before(async () => {
  if (SKIP) return;
  redis = await startRedis();
  [n1, n2, p1, p2] = await Promise.all([
    startNode(redis.url, CAPACITY),
    startNode(redis.url, CAPACITY),
    startNode(redis.url, BEHIND_LB),
    startNode(redis.url, BEHIND_LB),
  ]);
  p1.proxied = p2.proxied = true;
  lb = await startHaproxy([p1.port, p2.port]);
});
after(async () => {
  closeAll(...open);
  await lb?.stop();
  const stops = [n1, n2, p1, p2].filter(Boolean).map((n) => n.stop());
  try {
    await Promise.all(stops);
  } finally {
    await redis?.close();
  }
});

const MODE = {
  websocket: { transports: ["websocket"] },
  polling: { transports: ["polling"], withCredentials: true },
  upgrade: { withCredentials: true },
};

async function peer(url, mode = "websocket") {
  const s = await connect(url, MODE[mode]);
  open.add(s);
  s.rec = recorder(s);
  return s;
}

const pw = () => n1.secret(n2.secret(token("pw-")));

async function created(s, roomId, password) {
  const ack = await call(s, "create-room", { roomId, password });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  await s.rec.take("room-created");
}

async function metric(node, name) {
  // a node behind HAProxy takes only connections with a PROXY header
  const text = node.proxied ? (await proxiedGet(node.port, "/metrics")).body : await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Room, join and relay in both directions between a (first) and b. */
async function contract(a, b, { password = pw() } = {}) {
  const roomId = token("room-");
  await created(a, roomId, password);
  const joined = await call(b, "join-room", { roomId, password });
  assert.deepEqual(joined, { ok: true, roomId, peers: [a.id] });
  assert.deepEqual((await b.rec.take("join-success"))[0], { roomId, peers: [a.id] });
  assert.deepEqual((await a.rec.take("user-joined"))[0], { socketId: b.id });

  const sdp = n1.secret(n2.secret(token("v=0 sdp-")));
  assert.deepEqual(await call(a, "offer", { sdp, targetSocketId: b.id }), { ok: true });
  assert.deepEqual((await b.rec.take("offer"))[0], { sdp, from: a.id });
  const answer = n1.secret(n2.secret(token("v=0 answer-")));
  assert.deepEqual(await call(b, "answer", { sdp: answer, targetSocketId: a.id }), { ok: true });
  assert.deepEqual((await a.rec.take("answer"))[0], { sdp: answer, from: b.id });
  const candidate = { candidate: "candidate:1 1 udp 2122260223 10.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 };
  assert.deepEqual(await call(a, "ice-candidate", { candidate, targetSocketId: b.id }), { ok: true });
  assert.deepEqual((await b.rec.take("ice-candidate"))[0], { candidate, from: a.id });
  // without an ack, and end-of-candidates
  b.emit("ice-candidate", { candidate: null, targetSocketId: a.id });
  assert.deepEqual((await a.rec.take("ice-candidate"))[0], { candidate: null, from: b.id });
  return { roomId, password };
}

test("--redis: a bad URL, or rediss:// (no TLS in this hiredis), stops the start with a reason that never shows the password", () => {
  for (const [url, reason] of [
    ["rediss://:tls-pw-secret-1@127.0.0.1:6380", /--redis: rediss:\/\/ \(TLS\) is not supported/],
    ["http://127.0.0.1:6379", /--redis: the URL must start with redis:\/\//],
    ["redis://:pw-secret-22@127.0.0.1:99999", /--redis: bad port/],
  ]) {
    const r = spawnSync(serverPath(), ["--port", "0", "--redis", url], { encoding: "utf8", timeout: 5000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, reason);
    assert.ok(!/secret/.test(r.stderr), r.stderr);
  }
  const env = spawnSync(serverPath(), ["--port", "0"], { encoding: "utf8", timeout: 5000, env: { ...process.env, PEERDROP_REDIS: "rediss://h" } });
  assert.equal(env.status, 2, env.stderr);
  assert.match(env.stderr, /TLS/);
});

describe("cluster: two nodes and Redis", { skip: SKIP }, () => {
  test("the contract across nodes over WebSocket: create, join, offer/answer/ice both ways, leave", T, async () => {
    const a = await peer(n1.url);
    const b = await peer(n2.url);
    const out1 = await metric(n1, 'peerdrop_cluster_messages_total\\{direction="out"\\}');
    const { roomId, password } = await contract(a, b);
    assert.ok((await metric(n1, 'peerdrop_cluster_messages_total\\{direction="out"\\}')) > out1, "n1 published");

    // a peer of another room, and an unknown id: PEER_NOT_FOUND
    const ack = await call(b, "offer", { sdp: "v=0", targetSocketId: "x".repeat(20) });
    assert.equal(ack.error.code, "PEER_NOT_FOUND");
    // the room holds 2: a third on either node is refused (before any
    // password check, as on one node)
    const c = await peer(n2.url);
    assert.equal((await call(c, "join-room", { roomId, password })).error.code, "ROOM_FULL");
    const d = await peer(n1.url);
    assert.equal((await call(d, "join-room", { roomId, password })).error.code, "ROOM_FULL");
    // the id is taken on the other node too
    assert.equal((await call(d, "create-room", { roomId, password })).error.code, "ROOM_EXISTS");
    assert.equal((await call(c, "join-room", { roomId: token("nope-"), password })).error.code, "ROOM_NOT_FOUND");

    // b leaves: a hears it; its slot frees for c, on b's node, who must
    // know the password made on the other node
    assert.deepEqual(await call(b, "leave-room", {}), { ok: true });
    assert.deepEqual((await a.rec.take("user-left"))[0], { socketId: b.id });
    assert.equal((await call(c, "join-room", { roomId, password: pw() })).error.code, "BAD_PASSWORD");
    assert.deepEqual(await call(c, "join-room", { roomId, password }), { ok: true, roomId, peers: [a.id] });
    assert.deepEqual((await a.rec.take("user-joined"))[0], { socketId: c.id });
    // a disconnect counts as leaving, across nodes too
    const aId = a.id;
    a.close();
    assert.deepEqual((await c.rec.take("user-left"))[0], { socketId: aId });
    assert.equal((await call(c, "offer", { sdp: "v=0", targetSocketId: aId })).error.code, "PEER_NOT_FOUND");
    closeAll(b, c, d);
  });

  for (const mode of ["polling", "upgrade"]) {
    test(`the contract across nodes over ${mode}, through HAProxy`, T, async () => {
      const a = await peer(lb.url, mode);
      const b = await peer(lb.url, mode);
      const counts = () => Promise.all([p1, p2].map(async (n) => [await metric(n, "peerdrop_rooms_created_total"), await metric(n, "peerdrop_joins_total")]));
      const before = await counts();
      await contract(a, b);
      // round robin put them on different nodes, each kept there by its
      // cookie: the room was created on one and joined on the other
      const after = (await counts()).map(([c, j], i) => [c - before[i][0], j - before[i][1]]);
      assert.ok(JSON.stringify(after) === "[[1,0],[0,1]]" || JSON.stringify(after) === "[[0,1],[1,0]]", JSON.stringify(after));
      if (mode === "upgrade") await sleep(300); // the upgrade happens meanwhile; the session survives it
      assert.deepEqual(await call(a, "leave-room", {}), { ok: true });
      assert.deepEqual((await b.rec.take("user-left"))[0], { socketId: a.id });
      assert.deepEqual(await call(b, "leave-room", {}), { ok: true });
      await contract(b, a);
      closeAll(a, b);
    });
  }

  // Before (no PROXY header), every client behind HAProxy had its address:
  // one client's wrong passwords used up the budget of every client.
  // Short-code rooms (docs/signaling.md "Code rooms"): the same rules as on
  // one node, decided in Redis. Own nodes: every code join counts as a wrong
  // password of 127.0.0.1 and of the room, which must not meet the other
  // tests' budgets (as in code-rooms.test.mjs).
  describe("short-code rooms across nodes", () => {
    const CODE_ROOM_JOINS = 10; // PD_CODE_ROOM_JOINS, src/base/limits.h
    const LOOSE = ["--address-guesses", "1000", "--room-guesses", "1000"];
    let c1, c2;
    before(async () => {
      [c1, c2] = await Promise.all([startNode(redis.url, LOOSE), startNode(redis.url, LOOSE)]);
    });
    after(() => Promise.all([c1, c2].filter(Boolean).map((n) => n.stop())));
    const codeRoom = () => token("code-");
    const refusal = (ack) => (ack.error ? `${ack.error.code}${ack.error.reason ? ":" + ack.error.reason : ""}` : "ok");

    test("created on node 1, joined on node 2, relayed; a third is ROOM_FULL on either node; the slot frees", T, async () => {
      const a = await peer(c1.url);
      const b = await peer(c2.url);
      const roomId = codeRoom();
      assert.deepEqual(await call(a, "create-room", { roomId, code: true }), { ok: true, roomId });
      await a.rec.take("room-created");
      assert.deepEqual(await call(b, "join-room", { roomId, code: true }), { ok: true, roomId, peers: [a.id] });
      assert.deepEqual((await a.rec.take("user-joined"))[0], { socketId: b.id });
      assert.deepEqual(await call(a, "offer", { sdp: "v=0 code", targetSocketId: b.id }), { ok: true });
      assert.deepEqual((await b.rec.take("offer"))[0], { sdp: "v=0 code", from: a.id });
      // capacity 2 (PD_CODE_ROOM_CAPACITY), not the nodes' --room-capacity
      for (const url of [c1.url, c2.url]) {
        const c = await peer(url);
        assert.equal(refusal(await call(c, "join-room", { roomId, code: true })), "ROOM_FULL");
        closeAll(c);
      }
      // the id is taken on both nodes, for either kind
      const d = await peer(c2.url);
      assert.equal(refusal(await call(d, "create-room", { roomId, code: true })), "ROOM_EXISTS");
      assert.equal(refusal(await call(d, "create-room", { roomId, password: pw() })), "ROOM_EXISTS");
      // b leaves: its slot frees for d, on b's node
      assert.deepEqual(await call(b, "leave-room", {}), { ok: true });
      assert.deepEqual((await a.rec.take("user-left"))[0], { socketId: b.id });
      assert.deepEqual(await call(d, "join-room", { roomId, code: true }), { ok: true, roomId, peers: [a.id] });
      assert.equal(refusal(await call(b, "join-room", { roomId: codeRoom(), code: true })), "ROOM_NOT_FOUND");
      closeAll(a, b, d);
    });

    // the record's fields as Redis holds them (docs/scale.md key layout)
    const record = async (roomId) => {
      // HGETALL: an absent record is an empty array (the helper waits for
      // one line per element, and a nil is one line, not two)
      const reply = await redis.command(["HGETALL", `pd:room:${roomId}`]);
      const lines = reply.split("\r\n").slice(1).filter((l, i) => i % 2 === 1);
      const f = {};
      for (let i = 0; i + 1 < lines.length; i += 2) f[lines[i]] = lines[i + 1];
      return `${f.k},${f.cap},${f.j}`;
    };

    test("the record holds the kind, capacity 2 and the join count; renewed, and written back whole if Redis loses it", { timeout: 40_000 }, async () => {
      const a = await peer(c1.url);
      const b = await peer(c2.url);
      const roomId = codeRoom();
      assert.equal((await call(a, "create-room", { roomId, code: true })).ok, true);
      assert.equal(await record(roomId), "c,2,0");
      assert.equal((await call(b, "join-room", { roomId, code: true })).ok, true);
      assert.equal(await record(roomId), "c,2,1");
      // Redis loses it (a restart without persistence): the nodes' next
      // refresh (every 10 s) writes it back with its kind and count
      await redis.command(["DEL", `pd:room:${roomId}`, `pd:room:${roomId}:m`]);
      const deadline = Date.now() + 15_000;
      while ((await record(roomId)) !== "c,2,1" && Date.now() < deadline) await sleep(200);
      assert.equal(await record(roomId), "c,2,1");
      assert.ok(Number((await redis.command(["PTTL", `pd:room:${roomId}`])).slice(1)) > 20_000);
      // and it is still a code room of 2 for every node
      const c = await peer(c1.url);
      assert.equal(refusal(await call(c, "join-room", { roomId, code: true })), "ROOM_FULL");
      assert.equal(refusal(await call(c, "join-room", { roomId, password: pw() })), "BAD_PASSWORD");
      closeAll(a, b, c);
    });

    test("the other kind is BAD_PASSWORD across nodes, both ways", T, async () => {
      const a = await peer(c1.url);
      const codeId = codeRoom();
      assert.equal((await call(a, "create-room", { roomId: codeId, code: true })).ok, true);
      const b = await peer(c2.url);
      const roomId = token("room-");
      const password = pw();
      assert.equal((await call(b, "create-room", { roomId, password })).ok, true);
      const x = await peer(c2.url);
      assert.equal(refusal(await call(x, "join-room", { roomId: codeId, password: pw() })), "BAD_PASSWORD");
      const y = await peer(c1.url);
      assert.equal(refusal(await call(y, "join-room", { roomId, code: true })), "BAD_PASSWORD");
      // the refusals took no place: the right kind still gets in
      assert.deepEqual(await call(x, "join-room", { roomId: codeId, code: true }), { ok: true, roomId: codeId, peers: [a.id] });
      assert.deepEqual(await call(y, "join-room", { roomId, password }), { ok: true, roomId, peers: [b.id] });
      closeAll(a, b, x, y);
    });

    test(`at most ${CODE_ROOM_JOINS} joins over a code room's life, counted on both nodes together`, T, async () => {
      const a = await peer(c1.url);
      const roomId = codeRoom();
      assert.equal((await call(a, "create-room", { roomId, code: true })).ok, true);
      // alternate nodes: each node alone sees 5, under the limit
      for (let i = 0; i < CODE_ROOM_JOINS; i++) {
        const g = await peer(i % 2 ? c1.url : c2.url);
        assert.equal(refusal(await call(g, "join-room", { roomId, code: true })), "ok", `join ${i + 1}`);
        g.close();
        await a.rec.take("user-left");
      }
      for (const url of [c1.url, c2.url]) {
        const g = await peer(url);
        assert.equal(refusal(await call(g, "join-room", { roomId, code: true })), "RATE_LIMITED:code_room_joins");
        closeAll(g);
      }
      // the sender heard each of the 10 joins, on either node, and no more
      await sleep(200);
      assert.equal(a.rec.events.filter((e) => e.event === "user-joined").length, CODE_ROOM_JOINS);
      closeAll(a);
    });

    test("two joiners on two nodes race for the one free place, and for the last join: exactly one wins, 10 times", T, async () => {
      for (let i = 0; i < 10; i++) {
        const a = await peer(i % 2 ? c1.url : c2.url);
        const roomId = codeRoom();
        assert.equal((await call(a, "create-room", { roomId, code: true })).ok, true);
        const [j1, j2] = await Promise.all([peer(c1.url), peer(c2.url)]);
        const joins = await Promise.all([j1, j2].map((j) => call(j, "join-room", { roomId, code: true })));
        assert.deepEqual(joins.map(refusal).sort(), ["ROOM_FULL", "ok"], JSON.stringify(joins));
        closeAll(j1, j2);
        await a.rec.take("user-left");
        closeAll(a);
      }
      // the 10th join: 9 made, then two nodes race for the last one
      const a = await peer(c1.url);
      const roomId = codeRoom();
      assert.equal((await call(a, "create-room", { roomId, code: true })).ok, true);
      for (let i = 0; i < CODE_ROOM_JOINS - 1; i++) {
        const g = await peer(i % 2 ? c1.url : c2.url);
        assert.equal(refusal(await call(g, "join-room", { roomId, code: true })), "ok");
        g.close();
        await a.rec.take("user-left");
      }
      const [j1, j2] = await Promise.all([peer(c1.url), peer(c2.url)]);
      const last = await Promise.all([j1, j2].map((j) => call(j, "join-room", { roomId, code: true })));
      const got = last.map(refusal);
      assert.equal(got.filter((r) => r === "ok").length, 1, JSON.stringify(last));
      // the winner made the 10th join: the loser is refused by the count,
      // checked before the capacity (as on one node)
      assert.equal(got.find((r) => r !== "ok"), "RATE_LIMITED:code_room_joins", JSON.stringify(last));
      closeAll(a, j1, j2);
    });
  });

  test("behind HAProxy (send-proxy-v2), per-address limits count each client, not HAProxy", T, async () => {
    const owner = await peer(n1.url);
    const roomId = token("room-");
    await created(owner, roomId, pw());
    const guess = async (localAddress) => {
      // WebSocket: the transport that binds localAddress; one connection,
      // placed by round robin
      const s = await connect(lb.url, { ...MODE.websocket, localAddress });
      open.add(s);
      const ack = await call(s, "join-room", { roomId, password: pw() });
      s.close();
      return ack.error.reason ? `${ack.error.code}:${ack.error.reason}` : ack.error.code;
    };
    // 127.0.0.5 guesses four times: round robin takes it to each node
    // twice; with --address-guesses 1 each node checks one guess
    const first = [];
    for (let i = 0; i < 4; i++) first.push(await guess("127.0.0.5"));
    assert.deepEqual(first.slice().sort(), ["BAD_PASSWORD", "BAD_PASSWORD", "RATE_LIMITED:address_password_failures", "RATE_LIMITED:address_password_failures"], JSON.stringify(first));
    // another client, on either node, still gets its checks
    assert.equal(await guess("127.0.0.6"), "BAD_PASSWORD");
    assert.equal(await guess("127.0.0.6"), "BAD_PASSWORD");
    // and the nodes never saw HAProxy as the client: no connection refused
    for (const n of [p1, p2]) assert.equal(await metric(n, 'peerdrop_refused_total\\{reason="proxy_header"\\}'), 0);
    closeAll(owner);
  });

  test("two nodes race to create one room id and to fill its last slot: exactly one wins, 10 times", T, async () => {
    for (let i = 0; i < 10; i++) {
      const roomId = token("race-");
      const password = pw();
      const [x, y] = await Promise.all([peer(n1.url), peer(n2.url)]);
      const acks = await Promise.all([call(x, "create-room", { roomId, password }), call(y, "create-room", { roomId, password })]);
      assert.equal(acks.filter((k) => k.ok).length, 1, JSON.stringify(acks));
      assert.equal(acks.find((k) => !k.ok).error.code, "ROOM_EXISTS");
      // one slot left (capacity 2): one joiner on each node
      const [j1, j2] = await Promise.all([peer(n1.url), peer(n2.url)]);
      const joins = await Promise.all([call(j1, "join-room", { roomId, password }), call(j2, "join-room", { roomId, password })]);
      assert.equal(joins.filter((k) => k.ok).length, 1, JSON.stringify(joins));
      assert.equal(joins.find((k) => !k.ok).error.code, "ROOM_FULL");
      closeAll(x, y, j1, j2);
    }
  });

  test("the room's budget of wrong passwords is counted by all nodes together", T, async () => {
    const a = await peer(n1.url);
    const roomId = token("guess-");
    const password = pw();
    await created(a, roomId, password);
    // 10 wrong passwords a minute per room (the default): 5 on each node,
    // one socket each (a session may fail 5 times)
    const g1 = await peer(n1.url);
    const g2 = await peer(n2.url);
    for (let i = 0; i < 5; i++) {
      for (const g of [g1, g2]) assert.equal((await call(g, "join-room", { roomId, password: pw() })).error.code, "BAD_PASSWORD");
    }
    // each node saw 5, under its own budget of 10: only the shared one refuses
    for (const node of [n1, n2]) {
      const fresh = await peer(node.url);
      for (const pass of [pw(), password]) {
        const ack = await call(fresh, "join-room", { roomId, password: pass });
        assert.equal(ack.error?.code, "RATE_LIMITED", JSON.stringify(ack));
        assert.ok(ack.error.retryAfterMs > 0 && ack.error.retryAfterMs <= 60_000, JSON.stringify(ack));
      }
      closeAll(fresh);
    }
    closeAll(a, g1, g2);
  });

  test("forged messages on a node's channel are dropped, counted, and harm nobody", T, async () => {
    const a = await peer(n1.url);
    const b = await peer(n2.url);
    const { roomId } = await contract(a, b);
    // n1's node id: its log shows the first 6 characters, Redis the rest
    const short = /redis: connected to \S+ node=(\S{6})\.\./.exec(n1.stderr)[1];
    const keys = (await redis.command("KEYS pd:node:*")).split("\r\n").filter((k) => k.startsWith("pd:node:"));
    const channel = keys.find((k) => k.startsWith(`pd:node:${short}`));
    assert.ok(channel, JSON.stringify(keys));
    const dropped = () => metric(n1, "peerdrop_cluster_dropped_total");
    const before = await dropped();
    const stranger = "z".repeat(20);
    const forged = [
      "R\tgarbage",
      `L\t${roomId}\tshort`,
      `R\t${roomId}\t${a.id}\t${b.id}\t1\t{"not":"an array"}`,
      // a relay "from" someone who is no member of the room
      `R\t${roomId}\t${a.id}\t${stranger}\t1\t["offer",{"sdp":"forged","from":"${stranger}"}]`,
    ];
    for (const f of forged) assert.match(await redis.command(["PUBLISH", channel, f]), /^:1/);
    for (let i = 0; i < 40 && (await dropped()) < before + forged.length; i++) await sleep(25);
    assert.equal(await dropped(), before + forged.length);
    await sleep(100);
    assert.deepEqual(a.rec.events.filter((e) => e.event === "offer"), []);
    // the room works on
    const sdp = n1.secret(n2.secret(token("v=0 after-")));
    assert.deepEqual(await call(b, "offer", { sdp, targetSocketId: a.id }), { ok: true });
    assert.deepEqual((await a.rec.take("offer"))[0], { sdp, from: b.id });
    // and the relay latency between nodes is measured
    assert.ok((await metric(n1, "peerdrop_cluster_relay_latency_seconds_count")) > 0);
    closeAll(a, b);
  });

  test("scripts flushed by an operator (SCRIPT FLUSH): one request gets UNAVAILABLE, the next works", T, async () => {
    const a = await peer(n1.url);
    assert.match(await redis.command("SCRIPT FLUSH"), /^\+OK/);
    const password = pw();
    assert.equal((await call(a, "create-room", { roomId: token("flushed-"), password })).error.code, "UNAVAILABLE");
    const ack = await call(a, "create-room", { roomId: token("flushed-"), password });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    closeAll(a);
  });

  test("Redis killed: create/join get UNAVAILABLE, /healthz 503; back: rooms work again, and a room from before is written back with its members", { timeout: 60_000 }, async () => {
    const a = await peer(n1.url);
    const b = await peer(n2.url);
    const old = await contract(a, b);
    await redis.stop();
    // both nodes see the link drop at once (the socket closes)
    for (const n of [n1, n2]) {
      for (let i = 0; i < 100 && (await fetch(`${n.url}/healthz`)).status !== 503; i++) await sleep(50);
      const res = await fetch(`${n.url}/healthz`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /redis/);
      assert.equal(await metric(n, "peerdrop_redis_up"), 0);
    }
    const password = pw();
    const d = await peer(n1.url);
    const refused = await call(d, "create-room", { roomId: token("down-"), password });
    assert.equal(refused.error.code, "UNAVAILABLE");
    const c = await peer(n2.url);
    assert.equal((await call(c, "join-room", { roomId: token("down-"), password })).error.code, "UNAVAILABLE");
    // relay between nodes needs Redis too: refused, not lost silently
    assert.equal((await call(a, "offer", { sdp: "v=0", targetSocketId: b.id })).error.code, "UNAVAILABLE");
    // b leaves while Redis is away: nobody can tell a's node now
    assert.deepEqual(await call(b, "leave-room", {}), { ok: true });
    await redis.start();
    // reconnection with backoff: at most 5 s apart
    for (const n of [n1, n2]) {
      for (let i = 0; i < 200 && (await fetch(`${n.url}/healthz`)).status !== 200; i++) await sleep(50);
      assert.equal((await fetch(`${n.url}/healthz`)).status, 200, n.stderr.slice(-3000));
    }
    // Redis came back empty: the nodes write their rooms back, and a's node
    // learns that b left (a refresh period after reconnecting, ~10-12 s)
    assert.deepEqual((await a.rec.take("user-left", 25_000))[0], { socketId: b.id });
    assert.deepEqual(await call(c, "join-room", old), { ok: true, roomId: old.roomId, peers: [a.id] });
    assert.deepEqual((await a.rec.take("user-joined"))[0], { socketId: c.id });
    assert.deepEqual(await call(a, "leave-room", {}), { ok: true });
    assert.deepEqual(await call(c, "leave-room", {}), { ok: true });
    await contract(a, b);
    closeAll(a, b, c, d);
  });

  test("a node SIGKILLed: its peers are announced as left within 20 s and their slots free", T, async () => {
    const n3 = await startNode(redis.url, CAPACITY);
    try {
      const a = await peer(n1.url);
      const b = await peer(n3.url);
      const { roomId, password } = await contract(a, b);
      const bId = b.id;
      const t0 = Date.now();
      n3.proc.kill("SIGKILL");
      assert.deepEqual((await a.rec.take("user-left", 20_000))[0], { socketId: bId });
      assert.ok(Date.now() - t0 < 20_000);
      const c = await peer(n2.url);
      assert.deepEqual(await call(c, "join-room", { roomId, password }), { ok: true, roomId, peers: [a.id] });
      closeAll(a, c);
    } finally {
      n3.kill();
    }
  });

  // The node resolves the Redis host name off the loop and hands hiredis the
  // address; a name with several addresses (localhost may be ::1 and
  // 127.0.0.1, Redis listens on 127.0.0.1 only) is tried address by address.
  test("--redis with a host name (localhost) works", T, async () => {
    const n3 = await startNode(`redis://localhost:${redis.port}`, CAPACITY);
    try {
      const deadline = Date.now() + 10_000;
      while ((await fetch(`${n3.url}/healthz`)).status !== 200 && Date.now() < deadline) await sleep(50);
      assert.equal((await fetch(`${n3.url}/healthz`)).status, 200, n3.stderr);
      assert.match(n3.stderr, /redis: connected to localhost:\d+ node=\S+ address=(127\.0\.0\.1|::1)/);
      const a = await peer(n3.url);
      const b = await peer(n1.url);
      await contract(a, b);
      closeAll(a, b);
    } finally {
      await n3.stop();
    }
  });
});

// The loop stays responsive while the Redis host name is looked up: in a
// namespace of its own whose DNS server never answers (each lookup takes the
// resolver's 2 s timeout), /healthz is probed while the node resolves. Before,
// hiredis called getaddrinfo on the loop at every (re)connect: /healthz
// stalled ~2 s at a time.
const UNSHARE = which("unshare") && spawnSync("unshare", ["-rnm", "true"]).status === 0;
test("a slow DNS lookup of the Redis host does not stall the loop", { ...T, skip: UNSHARE ? false : "unshare -rnm (user namespaces) not available" }, () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = mkdtempSync(path.join(os.tmpdir(), "pd-dns-"));
  try {
    const resolv = path.join(dir, "resolv.conf");
    writeFileSync(resolv, "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
    const probe = path.join(here, "lib/slow-dns-probe.mjs");
    const script = `mount --bind "$1" /etc/resolv.conf && ip link set lo up && exec "$2" "$3"`;
    const r = spawnSync("unshare", ["-rnm", "sh", "-c", script, "sh", resolv, process.execPath, probe], {
      encoding: "utf8",
      timeout: 25_000,
      env: { ...process.env, PEERDROP_SERVER: serverPath() },
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout.trim().split("\n").pop());
    console.log(`# slow DNS: ${JSON.stringify(out)}`);
    assert.ok(out.queries > 0, "the name was not looked up through DNS");
    assert.ok(out.maxMs < 1000, `/healthz stalled ${out.maxMs} ms while resolving: ${JSON.stringify(out)}`);
    assert.ok(out.probes > 10, JSON.stringify(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
