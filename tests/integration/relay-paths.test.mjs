// The relay has two paths (docs/architecture.md): a fast one that relays
// offer/answer/ice-candidate straight from the JSON text, and the full one
// (jansson) for everything else. These tests send payloads on both sides of
// that line and check that the receiver gets the same thing either way.
// Raw packets are written with engine.write so that the client's
// JSON.stringify cannot normalise them.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, token } from "./lib/server.mjs";
import { MODES, connect, call, recorder, closeAll } from "./lib/client.mjs";
import { sleep } from "./lib/wire.mjs";

const assertOk = (ack) => assert.deepEqual(ack, { ok: true });

const T = { timeout: 15_000 };
let srv;
const open = new Set();

before(async () => {
  srv = await startServer();
});
after(async () => {
  closeAll(...open);
  await srv?.stop();
});

async function pair(mode = "websocket") {
  const [a, b] = await Promise.all([connect(srv.url, MODES[mode]), connect(srv.url, MODES[mode])]);
  for (const s of [a, b]) {
    open.add(s);
    s.rec = recorder(s);
  }
  const roomId = token("room-");
  const password = srv.secret(token("pw-"));
  assert.equal((await call(a, "create-room", { roomId, password })).ok, true);
  assert.equal((await call(b, "join-room", { roomId, password })).ok, true);
  await sleep(50);
  a.rec.clear();
  b.rec.clear();
  return [a, b];
}

/** Writes a raw Socket.IO EVENT packet ("2" + JSON inside an Engine.IO message). */
function raw(socket, json) {
  socket.io.engine.write("2" + json); // Engine.IO adds the "4"
}

const tricky = [
  "plain v=0\r\na=x",
  'quotes " and \\ backslashes / slashes',
  "control \u0001\u001f chars and \u0000 NUL", // JSON.stringify writes \u00xx: full path
  "caf\u00e9 \u{1F600} \u2028 line separator",
  "x".repeat(65536), // the largest SDP accepted
];

for (const mode of ["websocket", "polling"]) {
  test(`SDP bodies arrive byte-exact over ${mode}, whichever path relays them`, T, async () => {
    const [a, b] = await pair(mode);
    for (const sdp of tricky) {
      const ack = await call(a, "offer", { sdp, targetSocketId: b.id });
      assert.deepEqual(ack, { ok: true });
      const [got] = await b.rec.take("offer");
      assert.equal(got.sdp, sdp);
      assert.equal(got.from, a.id);
    }
    closeAll(a, b);
  });
}

test("hand-written JSON outside the fast path's subset is relayed the same", T, async () => {
  const [a, b] = await pair();
  const target = JSON.stringify(b.id);
  raw(a, `[ "offer" , { "sdp" : "spaced" , "targetSocketId" : ${target} } ]`);
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "spaced", from: a.id }]);
  raw(a, `["offer",{"sdp":"\\u0041\\u00e9","targetSocketId":${target}}]`);
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "A\u00e9", from: a.id }]);
  // duplicate keys: the last one wins, as in JSON.parse
  raw(a, `["answer",{"sdp":"first","sdp":"second","targetSocketId":${target}}]`);
  assert.deepEqual(await b.rec.take("answer"), [{ sdp: "second", from: a.id }]);
  // extra arguments after the payload are ignored
  raw(a, `["offer",{"sdp":"x","targetSocketId":${target}},1,2]`);
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "x", from: a.id }]);
  closeAll(a, b);
});

// Issue 16: a lane (docs/signaling.md, Lanes) is relayed after "from" on
// all three events, as given, by either path; absent, nothing is added.
test("lane is relayed as given on offer, answer and ice-candidate, on both paths", T, async () => {
  const [a, b] = await pair();
  const target = JSON.stringify(b.id);
  assertOk(await call(a, "offer", { sdp: "v=0", targetSocketId: b.id, lane: 3 }));
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "v=0", from: a.id, lane: 3 }]);
  assertOk(await call(b, "answer", { lane: 7, sdp: { type: "answer", sdp: "v=0" }, targetSocketId: a.id }));
  assert.deepEqual(await a.rec.take("answer"), [{ sdp: { type: "answer", sdp: "v=0" }, from: b.id, lane: 7 }]);
  const cand = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 };
  assertOk(await call(a, "ice-candidate", { candidate: cand, targetSocketId: b.id, lane: 1 }));
  assert.deepEqual(await b.rec.take("ice-candidate"), [{ candidate: cand, from: a.id, lane: 1 }]);
  assertOk(await call(a, "ice-candidate", { candidate: null, targetSocketId: b.id, lane: 0 }));
  assert.deepEqual(await b.rec.take("ice-candidate"), [{ candidate: null, from: a.id, lane: 0 }]);
  // the full path (spaces, an escape) relays the same
  raw(a, `[ "offer" , { "lane" : 2 , "sdp" : "\\u0041" , "targetSocketId" : ${target} } ]`);
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "A", from: a.id, lane: 2 }]);
  // absent: the event is as before, with no lane
  assertOk(await call(a, "offer", { sdp: "v=0", targetSocketId: b.id }));
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "v=0", from: a.id }]);
  // refused alike, whichever path looks first
  // 8 … 15 since hello.moreLanes (docs/protocol.md §5.10)
  assertOk(await call(a, "offer", { sdp: "v=0", targetSocketId: b.id, lane: 15 }));
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "v=0", from: a.id, lane: 15 }]);
  raw(a, `[ "offer" , { "lane" : 12 , "sdp" : "y" , "targetSocketId" : ${target} } ]`);
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "y", from: a.id, lane: 12 }]);
  for (const lane of [16, 100, -1, "1", null, true, 1.5, [1], { k: 1 }]) {
    for (const ev of ["offer", "ice-candidate"]) {
      const payload = ev === "offer" ? { sdp: "v=0", targetSocketId: b.id, lane } : { candidate: null, targetSocketId: b.id, lane };
      const ack = await call(a, ev, payload);
      assert.equal(ack.error?.code, "INVALID_PAYLOAD", `${ev} lane ${JSON.stringify(lane)} -> ${JSON.stringify(ack)}`);
    }
  }
  raw(a, `[ "offer" , { "lane" : 16 , "sdp" : "x" , "targetSocketId" : ${target} } ]`);
  await sleep(200);
  assert.deepEqual(b.rec.events.filter((e) => e.event === "offer"), []);
  closeAll(a, b);
});

test("candidates keep only RTCIceCandidateInit fields, on both paths", T, async () => {
  const [a, b] = await pair();
  const base = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 };
  const cases = [
    [{ ...base, extra: { deep: [1, 2] }, usernameFragment: null }, { ...base, usernameFragment: null }],
    [{ candidate: "", sdpMid: null, sdpMLineIndex: null }, { candidate: "", sdpMid: null, sdpMLineIndex: null }],
    [{ ...base, sdpMLineIndex: 65535 }, { ...base, sdpMLineIndex: 65535 }],
    [null, null], // end of candidates: the full path
  ];
  for (const [sent, expected] of cases) {
    assert.deepEqual(await call(a, "ice-candidate", { candidate: sent, targetSocketId: b.id }), { ok: true });
    assert.deepEqual(await b.rec.take("ice-candidate"), [{ candidate: expected, from: a.id }]);
  }
  for (const bad of [{ ...base, sdpMLineIndex: 65536 }, { ...base, sdpMLineIndex: -1 }, { ...base, sdpMid: 5 }, { sdpMid: "0" }]) {
    const ack = await call(a, "ice-candidate", { candidate: bad, targetSocketId: b.id });
    assert.equal(ack.error?.code, "INVALID_PAYLOAD", JSON.stringify(bad));
  }
  await sleep(100);
  assert.deepEqual(b.rec.events, []);
  closeAll(a, b);
});

test("refusals are the same whichever path looked first", T, async () => {
  const [a, b] = await pair();
  const [c] = await pair();
  const cases = [
    [{ sdp: "x", targetSocketId: c.id }, "PEER_NOT_FOUND"], // another room
    [{ sdp: "x", targetSocketId: a.id }, "PEER_NOT_FOUND"], // oneself
    [{ sdp: "x".repeat(65537), targetSocketId: b.id }, "INVALID_PAYLOAD"],
    [{ sdp: "", targetSocketId: b.id }, "INVALID_PAYLOAD"],
    [{ sdp: 5, targetSocketId: b.id }, "INVALID_PAYLOAD"],
    [{ targetSocketId: b.id }, "INVALID_PAYLOAD"],
  ];
  for (const [payload, code] of cases) {
    const ack = await call(a, "offer", payload);
    assert.equal(ack.error?.code, code, JSON.stringify(payload).slice(0, 100));
  }
  // an escaped character in the target id: the fast path cannot compare it,
  // the full path decodes it and relays exactly once
  const escaped = "\\u" + b.id.charCodeAt(0).toString(16).padStart(4, "0") + b.id.slice(1);
  raw(a, `["offer",{"sdp":"esc","targetSocketId":"${escaped}"}]`);
  assert.deepEqual(await b.rec.take("offer"), [{ sdp: "esc", from: a.id }]);
  await sleep(100);
  assert.deepEqual(b.rec.events, []);
  closeAll(a, b, c);
});
