// Short-code rooms (issue 14, docs/signaling.md "Code rooms"): the server
// side of `peerdrop send --code`. create-room / join-room with
// { roomId, code: true } and no password; two members; a request of the
// other kind is BAD_PASSWORD; at most PD_CODE_ROOM_JOINS (10) joins over a
// room's life, then RATE_LIMITED reason code_room_joins (on /metrics too);
// every code join counts against the address's guess budget, which new
// connections do not reset. Real server, real socket.io-client.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, token, DEFAULT_ARGS } from "./lib/server.mjs";
import { MODES, connect, call, recorder, closeAll } from "./lib/client.mjs";
import { request, sleep } from "./lib/wire.mjs";

const T = { timeout: 20_000 };
const CODE_ROOM_JOINS = 10; // PD_CODE_ROOM_JOINS, src/base/limits.h

let srv;
const open = new Set();

before(async () => {
  // this file's many joins from 127.0.0.1 must not meet the address's
  // budget, except in the test that is about it (its own server)
  srv = await startServer({ extraArgs: ["--address-guesses", "1000", "--room-guesses", "1000"] });
});
after(async () => {
  closeAll(...open);
  await srv?.stop();
});

async function peer(server = srv) {
  const s = await connect(server.url, MODES.websocket);
  open.add(s);
  s.rec = recorder(s);
  return s;
}

const codeRoom = () => token("code-");

function assertError(ack, code, reason) {
  assert.equal(ack?.ok, false, `expected ${code}, got ${JSON.stringify(ack)}`);
  assert.equal(ack.error.code, code, JSON.stringify(ack.error));
  assert.equal(typeof ack.error.message, "string");
  if (reason) assert.equal(ack.error.reason, reason, JSON.stringify(ack.error));
}

function metric(text, name) {
  const m = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text);
  assert.ok(m, `metric ${name} missing`);
  return Number(m[1]);
}

describe("code rooms", () => {
  test("create and join with code: true, no password; events as for password rooms", T, async () => {
    const [a, b] = await Promise.all([peer(), peer()]);
    const id = codeRoom();
    assert.deepEqual(await call(a, "create-room", { roomId: id, code: true }), { ok: true, roomId: id });
    assert.deepEqual(await a.rec.take("room-created"), [{ roomId: id }]);
    assert.deepEqual(await call(b, "join-room", { roomId: id, code: true }), { ok: true, roomId: id, peers: [a.id] });
    assert.deepEqual(await b.rec.take("join-success"), [{ roomId: id, peers: [a.id] }]);
    assert.deepEqual(await a.rec.take("user-joined"), [{ socketId: b.id }]);
    // the relay works as in any room
    const body = srv.secret(`v=0\r\no=- ${token("sess")} 2 IN IP4 127.0.0.1\r\n`);
    assert.deepEqual(await call(a, "offer", { sdp: body, targetSocketId: b.id }), { ok: true });
    assert.deepEqual(await b.rec.take("offer"), [{ sdp: body, from: a.id }]);
    // a second create of the same id
    const c = await peer();
    assertError(await call(c, "create-room", { roomId: id, code: true }), "ROOM_EXISTS");
    closeAll(a, b, c);
  });

  test("capacity 2: a third member is ROOM_FULL; a place frees when the receiver leaves", T, async () => {
    const [a, b, c] = await Promise.all([peer(), peer(), peer()]);
    const id = codeRoom();
    assert.equal((await call(a, "create-room", { roomId: id, code: true })).ok, true);
    assert.equal((await call(b, "join-room", { roomId: id, code: true })).ok, true);
    assertError(await call(c, "join-room", { roomId: id, code: true }), "ROOM_FULL");
    b.close();
    await a.rec.take("user-left");
    assert.equal((await call(c, "join-room", { roomId: id, code: true })).ok, true);
    closeAll(a, c);
  });

  test("a password is refused with code: true; code must be a boolean", T, async () => {
    const a = await peer();
    const id = codeRoom();
    for (const ev of ["create-room", "join-room"]) {
      assertError(await call(a, ev, { roomId: id, code: true, password: srv.secret(token("pw-")) }), "INVALID_PAYLOAD");
      assertError(await call(a, ev, { roomId: id, code: "yes" }), "INVALID_PAYLOAD");
      assertError(await call(a, ev, { roomId: id, code: 1 }), "INVALID_PAYLOAD");
      // code: false is a password room, which needs its password
      assertError(await call(a, ev, { roomId: id, code: false }), "INVALID_PAYLOAD");
    }
    assert.equal((await call(a, "create-room", { roomId: id, code: true })).ok, true);
    closeAll(a);
  });

  test("a request of the other kind is BAD_PASSWORD, both ways", T, async () => {
    const [a, b, c, d] = await Promise.all([peer(), peer(), peer(), peer()]);
    const codeId = codeRoom();
    assert.equal((await call(a, "create-room", { roomId: codeId, code: true })).ok, true);
    assertError(await call(b, "join-room", { roomId: codeId, password: srv.secret(token("pw-")) }), "BAD_PASSWORD");
    const pwId = token("room-");
    const pw = srv.secret(token("pw-"));
    assert.equal((await call(c, "create-room", { roomId: pwId, password: pw })).ok, true);
    assertError(await call(d, "join-room", { roomId: pwId, code: true }), "BAD_PASSWORD");
    // neither room noticed
    await sleep(200);
    assert.deepEqual(a.rec.events.filter((e) => e.event !== "room-created"), []);
    assert.deepEqual(c.rec.events.filter((e) => e.event !== "room-created"), []);
    // and a code join of a room that does not exist
    assertError(await call(b, "join-room", { roomId: codeRoom(), code: true }), "ROOM_NOT_FOUND");
    closeAll(a, b, c, d);
  });

  test(`at most ${CODE_ROOM_JOINS} joins over a code room's life, from new connections; then RATE_LIMITED code_room_joins`, T, async () => {
    const before = metric((await request(`${srv.url}/metrics`)).text, 'peerdrop_refused_total{reason="code_room_joins"}');
    const a = await peer();
    const id = codeRoom();
    assert.equal((await call(a, "create-room", { roomId: id, code: true })).ok, true);
    for (let i = 0; i < CODE_ROOM_JOINS; i++) {
      const g = await peer(); // a guesser that reconnects between guesses
      assert.equal((await call(g, "join-room", { roomId: id, code: true })).ok, true, `join ${i + 1}`);
      g.close();
      await a.rec.take("user-left");
    }
    const g = await peer();
    assertError(await call(g, "join-room", { roomId: id, code: true }), "RATE_LIMITED", "code_room_joins");
    const after = metric((await request(`${srv.url}/metrics`)).text, 'peerdrop_refused_total{reason="code_room_joins"}');
    assert.equal(after, before + 1);
    // the sender is still in its room; another room is not affected
    const id2 = codeRoom();
    const b = await peer();
    assert.equal((await call(b, "create-room", { roomId: id2, code: true })).ok, true);
    assert.equal((await call(g, "join-room", { roomId: id2, code: true })).ok, true);
    closeAll(a, b, g);
  });
});

test("a code join counts against the address's guess budget, across connections", T, async () => {
  const s = await startServer({ extraArgs: ["--address-guesses", "3"] });
  try {
    const a = await peer(s);
    const id = codeRoom();
    assert.equal((await call(a, "create-room", { roomId: id, code: true })).ok, true);
    for (let i = 0; i < 3; i++) {
      const g = await peer(s);
      assert.equal((await call(g, "join-room", { roomId: id, code: true })).ok, true, `join ${i + 1}`);
      g.close();
      await a.rec.take("user-left");
    }
    const g = await peer(s);
    assertError(await call(g, "join-room", { roomId: id, code: true }), "RATE_LIMITED", "address_password_failures");
    closeAll(a, g);
  } finally {
    await s.stop();
  }
});
