// The signaling contract (docs/signaling.md) with the real socket.io-client
// against the normal server (peerdrop-server, not the conformance
// fixtures). Passwords and SDP bodies are registered as secrets: stop()
// fails if the debug log shows any.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, token } from "./lib/server.mjs";
import { MODES, connect, call, recorder, closeAll, once } from "./lib/client.mjs";
import { sleep } from "./lib/wire.mjs";

const T = { timeout: 15_000 };
const QUIET_MS = 300; // how long "nobody hears anything" is watched

let srv;
let url;
const open = new Set();

before(async () => {
  srv = await startServer();
  url = srv.url;
});
after(async () => {
  closeAll(...open);
  await srv?.stop();
});

// ---- helpers -----------------------------------------------------------------

/** A connected client with a recorder of everything it receives. */
async function peer(mode = "websocket", server = url) {
  const s = await connect(server, MODES[mode]);
  open.add(s);
  s.rec = recorder(s);
  return s;
}

const roomId = () => token("room-");
const password = (s = srv) => s.secret(token("pw-"));

/** An SDP-looking body whose random parts are registered as secrets. */
function sdp(s = srv, extra = "") {
  const sess = s.secret(token("sess"));
  const ufrag = s.secret(token("ufrag"));
  return (
    `v=0\r\no=- ${sess} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n` +
    `m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n` +
    `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${s.secret(token("icepwd"))}\r\na=mid:0\r\n${extra}`
  );
}

function assertOk(ack, extra = {}) {
  assert.deepEqual(ack, { ok: true, ...extra });
}

function assertError(ack, code) {
  assert.equal(ack?.ok, false, `expected error ${code}, got ${JSON.stringify(ack)?.slice(0, 300)}`);
  assert.deepEqual(Object.keys(ack).sort(), ["error", "ok"]);
  // RATE_LIMITED from a password or hashing budget carries a retry hint and
  // the limit that refused
  const { retryAfterMs, reason, ...rest } = ack.error;
  if (retryAfterMs !== undefined || reason !== undefined) {
    assert.equal(code, "RATE_LIMITED");
    assert.ok(Number.isInteger(retryAfterMs) && retryAfterMs > 0, `retryAfterMs ${retryAfterMs}`);
    assert.match(reason, /^[a-z_]+$/);
  }
  assert.deepEqual(Object.keys(rest).sort(), ["code", "message"]);
  assert.equal(ack.error.code, code, `error ${JSON.stringify(ack.error)}`);
  assert.equal(typeof ack.error.message, "string");
}

/** Asserts that none of `sockets` receives any event for QUIET_MS. */
async function assertQuiet(...sockets) {
  await sleep(QUIET_MS);
  for (const s of sockets) assert.deepEqual(s.rec.events, [], `socket ${s.id} heard something`);
}

/** Creates a room with `a` and joins every other peer; clears recorders. */
async function room(a, ...others) {
  const id = roomId();
  const pw = password();
  assertOk(await call(a, "create-room", { roomId: id, password: pw }), { roomId: id });
  for (const o of others) assert.equal((await call(o, "join-room", { roomId: id, password: pw })).ok, true);
  await sleep(50);
  for (const s of [a, ...others]) s.rec.clear();
  return { id, pw };
}

// ---- rooms -------------------------------------------------------------------

describe("rooms", () => {
  test("create, join, user-joined, join-success with peers oldest first", T, async () => {
    const [a, b, c] = await Promise.all([peer(), peer(), peer()]);
    const id = roomId();
    const pw = password();

    assertOk(await call(a, "create-room", { roomId: id, password: pw }), { roomId: id });
    assert.deepEqual(await a.rec.take("room-created"), [{ roomId: id }]);

    assertOk(await call(b, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [a.id] });
    assert.deepEqual(await b.rec.take("join-success"), [{ roomId: id, peers: [a.id] }]);
    assert.deepEqual(await a.rec.take("user-joined"), [{ socketId: b.id }]);

    assertOk(await call(c, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [a.id, b.id] });
    assert.deepEqual(await c.rec.take("join-success"), [{ roomId: id, peers: [a.id, b.id] }]);
    assert.deepEqual(await a.rec.take("user-joined"), [{ socketId: c.id }]);
    assert.deepEqual(await b.rec.take("user-joined"), [{ socketId: c.id }]);
    await assertQuiet(a, b, c);
    closeAll(a, b, c);
  });

  test("wrong password is refused and the room hears nothing", T, async () => {
    const [a, b, x] = await Promise.all([peer(), peer(), peer()]);
    const { id } = await room(a, b);
    assertError(await call(x, "join-room", { roomId: id, password: password() }), "BAD_PASSWORD");
    await assertQuiet(a, b, x);
    // x is not a member: it cannot relay to a member.
    assertError(await call(x, "offer", { sdp: sdp(), targetSocketId: a.id }), "NOT_IN_ROOM");
    await assertQuiet(a, b);
    closeAll(a, b, x);
  });

  test("join of an unknown room is ROOM_NOT_FOUND", T, async () => {
    const x = await peer();
    assertError(await call(x, "join-room", { roomId: roomId(), password: password() }), "ROOM_NOT_FOUND");
    x.close();
  });

  test("create of a taken id is ROOM_EXISTS, the owner hears nothing", T, async () => {
    const [a, x] = await Promise.all([peer(), peer()]);
    const { id } = await room(a);
    assertError(await call(x, "create-room", { roomId: id, password: password() }), "ROOM_EXISTS");
    await assertQuiet(a, x);
    closeAll(a, x);
  });

  test("create or join while in a room is ALREADY_IN_ROOM", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    const r1 = await room(a);
    const r2 = await room(b);
    assertError(await call(a, "create-room", { roomId: roomId(), password: password() }), "ALREADY_IN_ROOM");
    assertError(await call(a, "join-room", { roomId: r2.id, password: r2.pw }), "ALREADY_IN_ROOM");
    assertError(await call(a, "join-room", { roomId: r1.id, password: r1.pw }), "ALREADY_IN_ROOM");
    await assertQuiet(a, b);
    closeAll(a, b);
  });

  test("leave-room: ack, user-left to the others, then NOT_IN_ROOM", T, async () => {
    const [a, b, c] = await Promise.all([peer(), peer(), peer()]);
    await room(a, b, c);
    assertOk(await call(b, "leave-room", {}));
    assert.deepEqual(await a.rec.take("user-left"), [{ socketId: b.id }]);
    assert.deepEqual(await c.rec.take("user-left"), [{ socketId: b.id }]);
    assertError(await call(b, "leave-room", {}), "NOT_IN_ROOM");
    await assertQuiet(a, c);
    closeAll(a, b, c);
  });

  test("leave-room without payload", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const ack = await b.timeout(3000).emitWithAck("leave-room");
    assertOk(ack);
    assert.deepEqual(await a.rec.take("user-left"), [{ socketId: b.id }]);
    closeAll(a, b);
  });

  test("disconnect counts as leaving", T, async () => {
    const [a, b, c] = await Promise.all([peer(), peer("polling"), peer()]);
    await room(a, b, c);
    const bid = b.id;
    b.close();
    assert.deepEqual(await a.rec.take("user-left"), [{ socketId: bid }]);
    assert.deepEqual(await c.rec.take("user-left"), [{ socketId: bid }]);
    await assertQuiet(a, c);
    closeAll(a, c);
  });

  test("the room vanishes when empty: its id and password are free again", T, async () => {
    const [a, b, c] = await Promise.all([peer(), peer(), peer()]);
    const { id, pw } = await room(a, b);
    assertOk(await call(a, "leave-room", {}));
    assertOk(await call(b, "leave-room", {}));
    const pw2 = password();
    assertOk(await call(c, "create-room", { roomId: id, password: pw2 }), { roomId: id });
    // The old password hash is gone with the old room.
    assertError(await call(a, "join-room", { roomId: id, password: pw }), "BAD_PASSWORD");
    assertOk(await call(b, "join-room", { roomId: id, password: pw2 }), { roomId: id, peers: [c.id] });
    closeAll(a, b, c);
  });

  test("the room vanishes when its last member disconnects", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    const { id } = await room(a);
    a.close();
    const deadline = Date.now() + 3000;
    let ack;
    do {
      await sleep(50);
      ack = await call(b, "join-room", { roomId: id, password: password() });
    } while (ack.error?.code !== "ROOM_NOT_FOUND" && Date.now() < deadline);
    assertError(ack, "ROOM_NOT_FOUND");
    assertOk(await call(b, "create-room", { roomId: id, password: password() }), { roomId: id });
    b.close();
  });

  test("a joiner after a leave sees the remaining peers, oldest first", T, async () => {
    const [a, b, c, d] = await Promise.all([peer(), peer(), peer(), peer()]);
    const { id, pw } = await room(a, b, c);
    assertOk(await call(a, "leave-room"));
    assertOk(await call(d, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [b.id, c.id] });
    closeAll(a, b, c, d);
  });

  test("concurrent creates of one id: exactly one wins", T, async () => {
    const peers = await Promise.all([...Array(5)].map(() => peer()));
    const id = roomId();
    const acks = await Promise.all(peers.map((p) => call(p, "create-room", { roomId: id, password: password() })));
    const winners = acks.filter((a) => a.ok);
    assert.equal(winners.length, 1, JSON.stringify(acks));
    for (const a of acks.filter((x) => !x.ok)) assertError(a, "ROOM_EXISTS");
    closeAll(...peers);
  });

  test("a creator that disconnects while its room is being created leaves no room behind", T, async () => {
    const id = roomId();
    for (let i = 0; i < 3; i++) {
      const x = await peer();
      x.emit("create-room", { roomId: id, password: password() });
      x.close(); // right behind the request, while the hash may be computed
    }
    await sleep(300);
    const y = await peer();
    const deadline = Date.now() + 3000;
    let ack;
    do {
      ack = await call(y, "create-room", { roomId: id, password: password() });
      if (!ack.ok) await sleep(100);
    } while (!ack.ok && Date.now() < deadline);
    assertOk(ack, { roomId: id });
    y.close();
  });

  test("a joiner that disconnects during its join is never announced as staying", T, async () => {
    const a = await peer();
    const { id, pw } = await room(a);
    const x = await peer();
    const xid = x.id;
    x.emit("join-room", { roomId: id, password: pw });
    x.close();
    await sleep(400);
    // Either nothing was announced, or the join and the leave both were.
    const seen = a.rec.events.map((e) => `${e.event}:${e.args[0]?.socketId}`);
    assert.ok(
      seen.length === 0 || JSON.stringify(seen) === JSON.stringify([`user-joined:${xid}`, `user-left:${xid}`]),
      JSON.stringify(seen),
    );
    // And x is not a peer any more.
    assertError(await call(a, "offer", { sdp: sdp(), targetSocketId: xid }), "PEER_NOT_FOUND");
    a.close();
  });

  test("five failed password attempts, then RATE_LIMITED", T, async () => {
    const [a, x, y] = await Promise.all([peer(), peer(), peer()]);
    const { id, pw } = await room(a);
    for (let i = 0; i < 5; i++) assertError(await call(x, "join-room", { roomId: id, password: password() }), "BAD_PASSWORD");
    assertError(await call(x, "join-room", { roomId: id, password: password() }), "RATE_LIMITED");
    await assertQuiet(a);
    // Another client is not locked out.
    assertOk(await call(y, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [a.id] });
    closeAll(a, x, y);
  });
});

// ---- relay -------------------------------------------------------------------

describe("relay", () => {
  test("offer/answer/ice-candidate reach only the target, with from", T, async () => {
    const [a, b, c, d] = await Promise.all([peer(), peer(), peer(), peer()]);
    await room(a, b);
    await room(c, d);

    const offer = sdp();
    assertOk(await call(a, "offer", { sdp: offer, targetSocketId: b.id }));
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: offer, from: a.id }]);

    const answer = sdp();
    assertOk(await call(b, "answer", { sdp: answer, targetSocketId: a.id }));
    assert.deepEqual(await a.rec.take("answer"), [{ sdp: answer, from: b.id }]);

    const cand = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "abcd" };
    assertOk(await call(a, "ice-candidate", { candidate: cand, targetSocketId: b.id }));
    assert.deepEqual(await b.rec.take("ice-candidate"), [{ candidate: cand, from: a.id }]);

    assertOk(await call(b, "ice-candidate", { candidate: null, targetSocketId: a.id }));
    assert.deepEqual(await a.rec.take("ice-candidate"), [{ candidate: null, from: b.id }]);

    await assertQuiet(a, b, c, d);
    closeAll(a, b, c, d);
  });

  test("ice-candidate: only the RTCIceCandidateInit fields are relayed", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const cand = { candidate: "candidate:2 1 udp 1 10.0.0.1 9 typ host", sdpMid: null, sdpMLineIndex: null, foo: "bar", __proto__x: 1 };
    assertOk(await call(a, "ice-candidate", { candidate: cand, targetSocketId: b.id, extra: { big: "x".repeat(100) } }));
    const [got] = await b.rec.take("ice-candidate");
    assert.deepEqual(Object.keys(got).sort(), ["candidate", "from"]);
    assert.equal(got.from, a.id);
    assert.equal(got.candidate.candidate, cand.candidate);
    for (const k of Object.keys(got.candidate)) assert.ok(["candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"].includes(k), `relayed extra field ${k}`);
    assert.ok(got.candidate.sdpMid === null || got.candidate.sdpMid === undefined);
    // A minimal candidate is fine too.
    assertOk(await call(a, "ice-candidate", { candidate: { candidate: "" }, targetSocketId: b.id }));
    const [min] = await b.rec.take("ice-candidate");
    assert.equal(min.candidate.candidate, "");
    closeAll(a, b);
  });

  test("offer: extra fields are not relayed", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const body = sdp();
    assertOk(await call(a, "offer", { sdp: body, targetSocketId: b.id, from: "forged", type: "offer" }));
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: body, from: a.id }]);
    closeAll(a, b);
  });

  // Issue 13: what a client gets from pc.localDescription (an
  // RTCSessionDescriptionInit, { type, sdp }) and sends as is is relayed in
  // that shape, with only type and sdp; a string stays a string. Both of the
  // server's paths: a plain body (the fast path) and one with a control
  // character, which JSON.stringify writes as \u0001 (the jansson path).
  test("offer / answer: an RTCSessionDescriptionInit is relayed as one", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    for (const body of [sdp(), sdp(srv, "a=x-ctl:\u0001\r\n")]) {
      assertOk(await call(a, "offer", { sdp: { type: "offer", sdp: body }, targetSocketId: b.id }));
      assert.deepEqual(await b.rec.take("offer"), [{ sdp: { type: "offer", sdp: body }, from: a.id }]);
      // members in another order, and others, which are not relayed
      assertOk(await call(b, "answer", { targetSocketId: a.id, sdp: { extra: [1], sdp: body, type: "answer" } }));
      const [got] = await a.rec.take("answer");
      assert.deepEqual(got, { sdp: { type: "answer", sdp: body }, from: b.id });
      assert.deepEqual(Object.keys(got.sdp), ["type", "sdp"]);
    }
    // the string form is unchanged
    const body = sdp();
    assertOk(await call(a, "offer", { sdp: body, targetSocketId: b.id }));
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: body, from: a.id }]);
    await assertQuiet(a, b);
    closeAll(a, b);
  });

  test("target in another room, unknown or self is PEER_NOT_FOUND", T, async () => {
    const [a, b, c, d] = await Promise.all([peer(), peer(), peer(), peer()]);
    await room(a, b);
    await room(c, d);
    for (const ev of ["offer", "answer"]) {
      assertError(await call(a, ev, { sdp: sdp(), targetSocketId: c.id }), "PEER_NOT_FOUND");
      assertError(await call(a, ev, { sdp: sdp(), targetSocketId: "no-such-socket" }), "PEER_NOT_FOUND");
    }
    assertError(await call(a, "ice-candidate", { candidate: null, targetSocketId: d.id }), "PEER_NOT_FOUND");
    const self = await call(a, "offer", { sdp: sdp(), targetSocketId: a.id });
    assert.equal(self.ok, false);
    assert.ok(["PEER_NOT_FOUND", "INVALID_PAYLOAD"].includes(self.error.code), `self-target: ${self.error.code}`);
    await assertQuiet(a, b, c, d);
    closeAll(a, b, c, d);
  });

  test("relay from a client in no room is NOT_IN_ROOM", T, async () => {
    const [a, b, x] = await Promise.all([peer(), peer(), peer()]);
    await room(a, b);
    assertError(await call(x, "offer", { sdp: sdp(), targetSocketId: a.id }), "NOT_IN_ROOM");
    assertError(await call(x, "answer", { sdp: sdp(), targetSocketId: a.id }), "NOT_IN_ROOM");
    assertError(await call(x, "ice-candidate", { candidate: null, targetSocketId: a.id }), "NOT_IN_ROOM");
    assertError(await call(x, "leave-room", {}), "NOT_IN_ROOM");
    await assertQuiet(a, b);
    closeAll(a, b, x);
  });

  test("after leaving, a peer is no longer a target", T, async () => {
    const [a, b, c] = await Promise.all([peer(), peer(), peer()]);
    await room(a, b, c);
    assertOk(await call(c, "leave-room", {}));
    assertError(await call(a, "offer", { sdp: sdp(), targetSocketId: c.id }), "PEER_NOT_FOUND");
    await sleep(100);
    assert.deepEqual(c.rec.events, []);
    closeAll(a, b, c);
  });

  test("an sdp of exactly 65536 bytes is relayed intact", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const head = sdp();
    const body = head + "a=x:" + "é".repeat((65536 - Buffer.byteLength(head) - 6) / 2) + "\r\n";
    assert.equal(Buffer.byteLength(body), 65536);
    assertOk(await call(a, "offer", { sdp: body, targetSocketId: b.id }));
    const [got] = await b.rec.take("offer");
    assert.equal(got.sdp, body);
    closeAll(a, b);
  });

  for (const [mode] of Object.entries(MODES)) {
    test(`full relay path over transport mode ${mode}`, T, async () => {
      const [a, b] = await Promise.all([peer(mode), peer(mode)]);
      const { id, pw } = await room(a);
      assertOk(await call(b, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [a.id] });
      assert.deepEqual(await b.rec.take("join-success"), [{ roomId: id, peers: [a.id] }]);
      assert.deepEqual(await a.rec.take("user-joined"), [{ socketId: b.id }]);
      for (let i = 0; i < 5; i++) {
        const o = sdp();
        assertOk(await call(b, "offer", { sdp: o, targetSocketId: a.id }));
        assert.deepEqual(await a.rec.take("offer"), [{ sdp: o, from: b.id }]);
        const an = sdp();
        assertOk(await call(a, "answer", { sdp: an, targetSocketId: b.id }));
        assert.deepEqual(await b.rec.take("answer"), [{ sdp: an, from: a.id }]);
        const cand = { candidate: `candidate:${i} 1 udp 5 127.0.0.1 ${5000 + i} typ host`, sdpMid: "0", sdpMLineIndex: 0 };
        assertOk(await call(a, "ice-candidate", { candidate: cand, targetSocketId: b.id }));
        assert.deepEqual(await b.rec.take("ice-candidate"), [{ candidate: cand, from: a.id }]);
      }
      assertOk(await call(b, "leave-room", {}));
      assert.deepEqual(await a.rec.take("user-left"), [{ socketId: b.id }]);
      await assertQuiet(a, b);
      closeAll(a, b);
    });
  }

  test("peers on different transports relay to each other", T, async () => {
    const [a, b, c] = await Promise.all([peer("polling"), peer("websocket"), peer("default")]);
    await room(a, b, c);
    const o = sdp();
    assertOk(await call(a, "offer", { sdp: o, targetSocketId: b.id }));
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: o, from: a.id }]);
    assertOk(await call(b, "offer", { sdp: o, targetSocketId: c.id }));
    assert.deepEqual(await c.rec.take("offer"), [{ sdp: o, from: b.id }]);
    assertOk(await call(c, "answer", { sdp: o, targetSocketId: a.id }));
    assert.deepEqual(await a.rec.take("answer"), [{ sdp: o, from: c.id }]);
    closeAll(a, b, c);
  });

  test("a burst of relays arrives complete and in order", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const acks = [];
    for (let i = 0; i < 50; i++) {
      acks.push(call(a, "ice-candidate", { candidate: { candidate: `candidate:${i}`, sdpMid: "0", sdpMLineIndex: 0 }, targetSocketId: b.id }));
    }
    for (const ack of await Promise.all(acks)) assertOk(ack);
    await sleep(100);
    const got = b.rec.events.filter((e) => e.event === "ice-candidate").map((e) => e.args[0].candidate.candidate);
    assert.deepEqual(got, [...Array(50).keys()].map((i) => `candidate:${i}`));
    closeAll(a, b);
  });
});

// ---- bad input ---------------------------------------------------------------

describe("invalid input", () => {
  const long = (n, ch = "x") => ch.repeat(n);

  test("create-room / join-room: INVALID_PAYLOAD", T, async () => {
    const x = await peer();
    const pw = password();
    const bad = [
      undefined,
      null,
      "room",
      42,
      [],
      [{ roomId: "r", password: pw }],
      {},
      { roomId: "r" + token() },
      { password: pw },
      { roomId: 5, password: pw },
      { roomId: "", password: pw },
      { roomId: "a b", password: pw },
      { roomId: "a/b", password: pw },
      { roomId: "../x", password: pw },
      { roomId: "é", password: pw },
      { roomId: "r\u0000x", password: pw },
      { roomId: long(129), password: pw },
      { roomId: ["r"], password: pw },
      { roomId: "r" + token(), password: "" },
      { roomId: "r" + token(), password: 12345678 },
      { roomId: "r" + token(), password: null },
      { roomId: "r" + token(), password: { p: pw } },
      { roomId: "r" + token(), password: long(1025) },
      { roomId: "r" + token(), password: long(513, "é") }, // 1026 bytes in 513 characters
    ];
    for (const ev of ["create-room", "join-room"]) {
      for (const payload of bad) {
        const ack = await x.timeout(3000).emitWithAck(...(payload === undefined ? [ev] : [ev, payload]));
        assertError(ack, "INVALID_PAYLOAD");
      }
    }
    // Still a healthy client: the limits themselves are accepted.
    const id = long(128, "A");
    assertOk(await call(x, "create-room", { roomId: id, password: long(512, "é") }), { roomId: id });
    x.close();
  });

  test("room id alphabet [A-Za-z0-9_-] is accepted", T, async () => {
    const x = await peer();
    const id = `Az09_-${token()}`;
    assertOk(await call(x, "create-room", { roomId: id, password: long(1024, "p") }), { roomId: id });
    x.close();
  });

  test("offer / answer / ice-candidate: INVALID_PAYLOAD", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const t = b.id;
    const cases = [
      ["offer", undefined],
      ["offer", null],
      ["offer", "v=0"],
      ["offer", { targetSocketId: t }],
      ["offer", { sdp: 5, targetSocketId: t }],
      ["offer", { sdp: { s: 1 }, targetSocketId: t }],
      ["offer", { sdp: long(65537), targetSocketId: t }],
      ["offer", { sdp: long(32769, "é"), targetSocketId: t }], // 65538 bytes
      ["offer", { sdp: "v=0" }],
      ["offer", { sdp: "v=0", targetSocketId: 7 }],
      ["offer", { sdp: "v=0", targetSocketId: [t] }],
      ["answer", { sdp: null, targetSocketId: t }],
      ["answer", { sdp: long(65537), targetSocketId: t }],
      // an RTCSessionDescriptionInit: type is the event's, sdp a string of 1..65536 bytes
      ["offer", { sdp: { type: "answer", sdp: "v=0" }, targetSocketId: t }],
      ["answer", { sdp: { type: "offer", sdp: "v=0" }, targetSocketId: t }],
      ["answer", { sdp: { type: "pranswer", sdp: "v=0" }, targetSocketId: t }],
      ["offer", { sdp: { sdp: "v=0" }, targetSocketId: t }],
      ["offer", { sdp: { type: null, sdp: "v=0" }, targetSocketId: t }],
      ["offer", { sdp: { type: "offer" }, targetSocketId: t }],
      ["offer", { sdp: { type: "offer", sdp: "" }, targetSocketId: t }],
      ["offer", { sdp: { type: "offer", sdp: 5 }, targetSocketId: t }],
      ["offer", { sdp: { type: "offer", sdp: { type: "offer", sdp: "v=0" } }, targetSocketId: t }],
      ["offer", { sdp: { type: "offer", sdp: long(65537) }, targetSocketId: t }],
      ["offer", { sdp: { type: "offer", sdp: long(32769, "é") }, targetSocketId: t }], // 65538 bytes
      ["ice-candidate", undefined],
      ["ice-candidate", { targetSocketId: t }],
      ["ice-candidate", { candidate: "candidate:1", targetSocketId: t }],
      ["ice-candidate", { candidate: 5, targetSocketId: t }],
      ["ice-candidate", { candidate: [], targetSocketId: t }],
      ["ice-candidate", { candidate: {}, targetSocketId: t }],
      ["ice-candidate", { candidate: { candidate: 5 }, targetSocketId: t }],
      ["ice-candidate", { candidate: { candidate: long(4097) }, targetSocketId: t }],
      ["ice-candidate", { candidate: { candidate: "c", sdpMid: 0 }, targetSocketId: t }],
      ["ice-candidate", { candidate: { candidate: "c", sdpMLineIndex: "0" }, targetSocketId: t }],
      ["ice-candidate", { candidate: { candidate: "c", usernameFragment: 1 }, targetSocketId: t }],
      ["ice-candidate", { candidate: null, targetSocketId: 3 }],
    ];
    for (const [ev, payload] of cases) {
      const ack = await a.timeout(3000).emitWithAck(...(payload === undefined ? [ev] : [ev, payload]));
      assert.equal(ack.error?.code, "INVALID_PAYLOAD", `${ev} ${JSON.stringify(payload)?.slice(0, 80)} -> ${JSON.stringify(ack)}`);
      assertError(ack, "INVALID_PAYLOAD");
    }
    await assertQuiet(b);
    // The limit itself passes.
    assertOk(await call(a, "ice-candidate", { candidate: { candidate: long(4096) }, targetSocketId: t }));
    assert.equal((await b.rec.take("ice-candidate"))[0].candidate.candidate.length, 4096);
    closeAll(a, b);
  });

  // Issue 11: signaling takes no binary, so a binary event is refused at its
  // packet header, before any attachment is held: a connect_error says why,
  // the client's session ends and its room sees it leave.
  for (const mode of ["websocket", "polling"]) {
    test(`a binary event is refused: connect_error, session closed, user-left (${mode})`, T, async () => {
      const [a, b] = await Promise.all([peer(mode), peer()]);
      await room(a, b);
      const aid = a.id;
      const refused = once(a, "connect_error", 3000);
      a.emit("offer", { sdp: Buffer.from("v=0"), targetSocketId: b.id });
      const [err] = await refused;
      assert.equal(err.message, "binary packets are not accepted");
      assert.deepEqual(await b.rec.take("user-left", 3000), [{ socketId: aid }]);
      closeAll(a, b);
    });
  }

  test("unknown events are UNKNOWN_EVENT", T, async () => {
    const x = await peer();
    for (const ev of ["bogus", "Create-Room", "create-room ", "__proto__", "constructor", "toString", "signaling-error", "room-created", long(300)]) {
      assertError(await call(x, ev, {}), "UNKNOWN_EVENT");
    }
    assertError(await x.timeout(3000).emitWithAck(12345), "UNKNOWN_EVENT");
    x.close();
  });

  test("a failing event without ack gets signaling-error, to that client only", T, async () => {
    const [a, b, x] = await Promise.all([peer(), peer(), peer()]);
    const { id } = await room(a, b);
    x.emit("join-room", { roomId: id, password: password() });
    let [err] = await x.rec.take("signaling-error");
    assert.deepEqual(Object.keys(err).sort(), ["code", "event", "message"]);
    assert.deepEqual([err.event, err.code], ["join-room", "BAD_PASSWORD"]);
    assert.equal(typeof err.message, "string");

    x.emit("bogus-event", { a: 1 });
    [err] = await x.rec.take("signaling-error");
    assert.deepEqual([err.event, err.code], ["bogus-event", "UNKNOWN_EVENT"]);

    x.emit("offer", { sdp: 5 });
    [err] = await x.rec.take("signaling-error");
    assert.deepEqual([err.event, err.code], ["offer", "INVALID_PAYLOAD"]);

    x.emit("leave-room");
    [err] = await x.rec.take("signaling-error");
    assert.deepEqual([err.event, err.code], ["leave-room", "NOT_IN_ROOM"]);

    a.emit("offer", { sdp: sdp(), targetSocketId: x.id });
    [err] = await a.rec.take("signaling-error");
    assert.deepEqual([err.event, err.code], ["offer", "PEER_NOT_FOUND"]);
    await assertQuiet(b, x);
    closeAll(a, b, x);
  });

  test("successful events without ack stay silent for the sender", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    await room(a, b);
    const o = sdp();
    a.emit("offer", { sdp: o, targetSocketId: b.id });
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: o, from: a.id }]);
    await assertQuiet(a);
    closeAll(a, b);
  });

  test("bad input from one client never disturbs another's session", T, async () => {
    const [a, b, x] = await Promise.all([peer("polling"), peer("websocket"), peer()]);
    await room(a, b);
    const { id } = await room(x);
    // A barrage of refusals from x, acked and not.
    const barrage = [
      ["create-room", 1],
      ["join-room", { roomId: "../../etc", password: "x" }],
      ["offer", { sdp: "x".repeat(70_000), targetSocketId: a.id }],
      ["ice-candidate", { candidate: { candidate: {} }, targetSocketId: b.id }],
      ["offer", { sdp: "v=0", targetSocketId: a.id }],
      ["nope", { deep: JSON.parse("[".repeat(20) + "]".repeat(20)) }],
    ];
    for (const [ev, p] of barrage) {
      const ack = await x.timeout(3000).emitWithAck(ev, p);
      assert.equal(ack.ok, false, `${ev} must be refused`);
      x.emit(ev, p);
    }
    // Now x breaks the protocol itself; the server drops x alone.
    const gone = once(x, "disconnect", 3000);
    x.io.engine.write("42[not json");
    await gone;
    await sleep(100);
    // a and b never heard a thing, and still relay both ways.
    assert.deepEqual(a.rec.events, []);
    assert.deepEqual(b.rec.events, []);
    const o = sdp();
    assertOk(await call(a, "offer", { sdp: o, targetSocketId: b.id }));
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: o, from: a.id }]);
    assertOk(await call(b, "answer", { sdp: o, targetSocketId: a.id }));
    assert.deepEqual(await a.rec.take("answer"), [{ sdp: o, from: b.id }]);
    // x's room went with x.
    const y = await peer();
    assertOk(await call(y, "create-room", { roomId: id, password: password() }), { roomId: id });
    closeAll(a, b, y);
  });
});

// ---- servers with other limits -------------------------------------------------

describe("room capacity (--room-capacity 2)", () => {
  let small;
  before(async () => {
    small = await startServer({ extraArgs: ["--room-capacity", "2"] });
  });
  after(async () => {
    await small?.stop();
  });

  test("the third joiner gets ROOM_FULL and the room hears nothing", T, async () => {
    const [a, b, c] = await Promise.all([peer("websocket", small.url), peer("websocket", small.url), peer("websocket", small.url)]);
    const id = roomId();
    const pw = small.secret(token("pw-"));
    assertOk(await call(a, "create-room", { roomId: id, password: pw }), { roomId: id });
    assertOk(await call(b, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [a.id] });
    await sleep(50);
    a.rec.clear();
    b.rec.clear();
    assertError(await call(c, "join-room", { roomId: id, password: pw }), "ROOM_FULL");
    await assertQuiet(a, b, c);
    // A free seat again after a leave.
    assertOk(await call(b, "leave-room", {}));
    assertOk(await call(c, "join-room", { roomId: id, password: pw }), { roomId: id, peers: [a.id] });
    // One seat free and four concurrent joins (passwords are verified off
    // the event loop): exactly one gets it, the room never overfills.
    assertOk(await call(c, "leave-room", {}));
    const many = await Promise.all([...Array(4)].map(() => peer("websocket", small.url)));
    const acks = await Promise.all(many.map((p) => call(p, "join-room", { roomId: id, password: pw })));
    assert.equal(acks.filter((x) => x.ok).length, 1, JSON.stringify(acks));
    for (const ack of acks.filter((x) => !x.ok)) assertError(ack, "ROOM_FULL");
    closeAll(...many);
    closeAll(a, b, c);
  });
});

describe("rate limit (--rate-limit 5)", () => {
  let limited;
  before(async () => {
    limited = await startServer({ extraArgs: ["--rate-limit", "5"] });
  });
  after(async () => {
    await limited?.stop();
  });

  test("a burst is cut with RATE_LIMITED, per socket, and recovers", T, async () => {
    const [x, y] = await Promise.all([peer("websocket", limited.url), peer("websocket", limited.url)]);
    const acks = await Promise.all([...Array(20)].map(() => call(x, "leave-room", {})));
    const codes = acks.map((a) => a.error?.code);
    assert.equal(codes[0], "NOT_IN_ROOM", `first event of the burst: ${codes[0]}`);
    const limitedCount = codes.filter((c) => c === "RATE_LIMITED").length;
    const served = codes.filter((c) => c === "NOT_IN_ROOM").length;
    assert.equal(limitedCount + served, 20, JSON.stringify(codes));
    assert.ok(served >= 1 && served <= 10, `served ${served} of 20 at 5/s: ${JSON.stringify(codes)}`);
    for (const a of acks) if (a.error.code === "RATE_LIMITED") assertError(a, "RATE_LIMITED");
    // The limit is per socket: y is unaffected.
    assertError(await call(y, "leave-room", {}), "NOT_IN_ROOM");
    // Without ack, the refusal is a signaling-error.
    for (let i = 0; i < 10; i++) x.emit("leave-room", {});
    const [err] = await x.rec.take("signaling-error");
    assert.ok(["RATE_LIMITED", "NOT_IN_ROOM"].includes(err.code));
    await sleep(300);
    assert.ok(x.rec.events.some((e) => e.event === "signaling-error" && e.args[0].code === "RATE_LIMITED"));
    // After a quiet second the socket is served again.
    await sleep(1200);
    assertError(await call(x, "leave-room", {}), "NOT_IN_ROOM");
    assert.ok(x.connected);
    closeAll(x, y);
  });
});
