// Socket.IO v5 black-box tests against `peerdrop-conformance-server sio`
// with raw WebSocket and HTTP: the fixture of docs/server-cli.md on
// /socket.io/ (pingInterval 300, pingTimeout 200, connectTimeout 1000).
// Derived from shared/notes/socketio-protocol.md section 3.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { sleep, RS } from "./lib/wire.mjs";
import { wsOpen, pollingOpen, pollSend, pollPackets, pollGet } from "./lib/eio.mjs";

const P = "/socket.io/";
const T = { timeout: 10_000 };
const CONNECT_TIMEOUT = 1000;

let srv;
let base;

before(async () => {
  srv = await startServer({ conformance: "sio" });
  base = srv.url;
});
after(async () => {
  await srv?.stop();
});

/** A WebSocket Engine.IO session that answers pings by itself. */
async function eioWs() {
  const { ws } = await wsOpen(base, P);
  ws.autoPong = true;
  return ws;
}

function parseConnect(frame, nsp = "") {
  const prefix = `40${nsp ? nsp + "," : ""}`;
  assert.ok(frame.startsWith(prefix + "{"), `expected CONNECT reply ${prefix}{...}, got ${frame}`);
  const body = JSON.parse(frame.slice(prefix.length));
  assert.deepEqual(Object.keys(body), ["sid"]);
  assert.equal(typeof body.sid, "string");
  assert.ok(body.sid.length > 0);
  return body.sid;
}

/** Connects to the main namespace and eats the fixture's "auth" event. */
async function sioConnected() {
  const ws = await eioWs();
  ws.send("40");
  parseConnect(await ws.nextText());
  assert.equal(await ws.nextText(), '42["auth",{}]');
  return ws;
}

const ph = (num) => ({ _placeholder: true, num });

describe("connect", () => {
  test("CONNECT to / gets {sid}, and auth defaults to {}", T, async () => {
    const ws = await eioWs();
    ws.send("40");
    const sid = parseConnect(await ws.nextText());
    assert.equal(await ws.nextText(), '42["auth",{}]');
    // The Socket.IO id is not the Engine.IO id: a second connection gets another.
    const ws2 = await eioWs();
    ws2.send("40");
    assert.notEqual(parseConnect(await ws2.nextText()), sid);
    ws.close();
    ws2.close();
  });

  test("CONNECT with an auth payload hands it to the namespace", T, async () => {
    const ws = await eioWs();
    ws.send('40{"token":"123","n":[1,{"x":null}]}');
    parseConnect(await ws.nextText());
    assert.deepEqual(JSON.parse((await ws.nextText()).slice(2)), ["auth", { token: "123", n: [1, { x: null }] }]);
    ws.close();
  });

  test("custom namespace, with and without payload", T, async () => {
    const ws = await eioWs();
    ws.send("40/custom,");
    parseConnect(await ws.nextText(), "/custom");
    assert.equal(await ws.nextText(), '42/custom,["auth",{}]');
    ws.close();

    const ws2 = await eioWs();
    ws2.send('40/custom,{"token":"abc"}');
    parseConnect(await ws2.nextText(), "/custom");
    assert.equal(await ws2.nextText(), '42/custom,["auth",{"token":"abc"}]');
    ws2.close();
  });

  test("invalid namespace gets CONNECT_ERROR, the connection stays usable", T, async () => {
    const ws = await eioWs();
    ws.send("40/random,");
    assert.equal(await ws.nextText(), '44/random,{"message":"Invalid namespace"}');
    ws.send("40");
    parseConnect(await ws.nextText());
    assert.equal(await ws.nextText(), '42["auth",{}]');
    ws.close();
  });

  test("invalid namespace without trailing comma", T, async () => {
    const ws = await eioWs();
    ws.send("40/random");
    assert.equal(await ws.nextText(), '44/random,{"message":"Invalid namespace"}');
    ws.close();
  });

  test("no CONNECT within connectTimeout closes the connection", T, async () => {
    const ws = await eioWs(); // answers pings, so only connectTimeout can close it
    const t0 = Date.now();
    await ws.waitClose(CONNECT_TIMEOUT + 1500);
    const dt = Date.now() - t0;
    assert.ok(dt >= CONNECT_TIMEOUT - 200, `closed after ${dt} ms, before connectTimeout`);
  });

  for (const [name, pkt] of [
    ["CONNECT with a string payload", '40"token"'],
    ["CONNECT with an array payload", "40[1]"],
    ["CONNECT to /custom with broken JSON", '40/custom,{"a":'],
  ]) {
    test(`${name} closes the connection`, T, async () => {
      const ws = await eioWs();
      ws.send(pkt);
      await ws.waitClose(2000);
    });
  }

  test("a second CONNECT to a joined namespace closes the connection", T, async () => {
    const ws = await sioConnected();
    ws.send("40");
    await ws.waitClose(2000);
  });
});

describe("bad packets close the connection", () => {
  for (const [name, pkt] of [
    ["unknown packet type", "4abc"],
    ["type 9", "49"],
    ["EVENT with an object payload", '42{}'],
    ["EVENT with an empty array", "42[]"],
    ["EVENT with a non-numeric ack id", '42abc["message"]'],
    ["EVENT with broken JSON", '42["message",'],
    ["EVENT with a reserved name", '42["connect"]'],
    ["EVENT with a non-string name", '42[{"a":1}]'],
    ["EVENT for a namespace not joined", '42/custom,["message"]'],
    ["DISCONNECT with a payload", '41"x"'],
    ["client CONNECT_ERROR", '44{"message":"x"}'],
    ["BINARY_EVENT with a bad attachment count", '45x-["message"]'],
    ["BINARY_EVENT with too many attachments", '4511-["message"]'],
  ]) {
    test(name, T, async () => {
      const ws = await sioConnected();
      ws.send(pkt);
      await ws.waitClose(2000);
    });
  }

  test("a binary frame with no attachment pending", T, async () => {
    const ws = await sioConnected();
    ws.send(Buffer.from([1, 2, 3]));
    await ws.waitClose(2000);
  });

  test("a text packet while attachments are pending", T, async () => {
    const ws = await sioConnected();
    ws.send('451-["message",{"_placeholder":true,"num":0}]');
    ws.send('42["message","x"]');
    await ws.waitClose(2000);
  });

  test("a bad packet on one connection does not disturb another", T, async () => {
    const good = await sioConnected();
    const bad = await sioConnected();
    bad.send("4abc");
    await bad.waitClose(2000);
    good.send('42["message","still here"]');
    assert.equal(await good.nextText(), '42["message-back","still here"]');
    good.close();
  });
});

describe("disconnect", () => {
  test("DISCONNECT from / keeps the Engine.IO connection open", T, async () => {
    const ws = await sioConnected();
    ws.autoPong = false;
    ws.send("41");
    // Nothing but the next heartbeat arrives: the session lives on.
    assert.equal(await ws.nextText(1000), "2");
    ws.send("3");
    // And the namespace can be joined again.
    ws.autoPong = true;
    ws.send("40");
    parseConnect(await ws.nextText());
    assert.equal(await ws.nextText(), '42["auth",{}]');
    ws.close();
  });

  test("disconnecting from /custom keeps / working", T, async () => {
    const ws = await sioConnected();
    ws.send("40/custom,");
    parseConnect(await ws.nextText(), "/custom");
    assert.equal(await ws.nextText(), '42/custom,["auth",{}]');
    ws.send("41/custom,");
    ws.send('42["message","after"]');
    assert.equal(await ws.nextText(), '42["message-back","after"]');
    // /custom is gone: an event for it is now an invalid-state packet.
    ws.send('42/custom,["message"]');
    await ws.waitClose(2000);
  });
});

describe("events and acks", () => {
  test("plain event is echoed", T, async () => {
    const ws = await sioConnected();
    ws.send('42["message",1,"2",{"3":[true,null]},"€☃"]');
    assert.deepEqual(JSON.parse((await ws.nextText()).slice(2)), ["message-back", 1, "2", { 3: [true, null] }, "€☃"]);
    ws.close();
  });

  test("events keep their order", T, async () => {
    const ws = await sioConnected();
    for (let i = 0; i < 50; i++) ws.send(`42["message",${i}]`);
    for (let i = 0; i < 50; i++) assert.equal(await ws.nextText(), `42["message-back",${i}]`);
    ws.close();
  });

  test("binary event with two attachments", T, async () => {
    const ws = await sioConnected();
    ws.send(`452-${JSON.stringify(["message", ph(0), { nested: ph(1) }])}`);
    ws.send(Buffer.from([1, 2, 3]));
    ws.send(Buffer.from([4, 5, 6, 7]));
    const head = await ws.nextText();
    assert.ok(head.startsWith("452-"), `expected a BINARY_EVENT with 2 attachments, got ${head}`);
    assert.deepEqual(JSON.parse(head.slice(4)), ["message-back", ph(0), { nested: ph(1) }]);
    assert.deepEqual(await ws.nextBinary(), Buffer.from([1, 2, 3]));
    assert.deepEqual(await ws.nextBinary(), Buffer.from([4, 5, 6, 7]));
    ws.close();
  });

  test("ack with an id", T, async () => {
    const ws = await sioConnected();
    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await ws.nextText(), '43456[1,"2",{"3":[false]}]');
    ws.send('420["message-with-ack"]');
    assert.equal(await ws.nextText(), "430[]");
    ws.close();
  });

  test("binary ack with attachments", T, async () => {
    const ws = await sioConnected();
    ws.send(`452-789${JSON.stringify(["message-with-ack", ph(0), ph(1)])}`);
    ws.send(Buffer.from([1, 2, 3]));
    ws.send(Buffer.from([4, 5, 6]));
    assert.equal(await ws.nextText(), `462-789${JSON.stringify([ph(0), ph(1)])}`);
    assert.deepEqual(await ws.nextBinary(), Buffer.from([1, 2, 3]));
    assert.deepEqual(await ws.nextBinary(), Buffer.from([4, 5, 6]));
    ws.close();
  });

  test("an event on /custom does not reach the handlers of /", T, async () => {
    const ws = await sioConnected();
    ws.send("40/custom,");
    parseConnect(await ws.nextText(), "/custom");
    assert.equal(await ws.nextText(), '42/custom,["auth",{}]');
    // /custom has no message handler in the fixture: no reply. / still echoes.
    ws.send('42/custom,["message","x"]');
    ws.send('42["message","y"]');
    assert.equal(await ws.nextText(), '42["message-back","y"]');
    ws.close();
  });

  test("server-initiated ack: ids, reply, result", T, async () => {
    const ws = await sioConnected();
    const ids = [];
    for (const arg of ["a", "b"]) {
      ws.send(`42["server-ack-request","${arg}",1]`);
      const req = await ws.nextText();
      const m = /^42(\d+)(\[.*)$/.exec(req);
      assert.ok(m, `expected an EVENT with an ack id, got ${req}`);
      assert.deepEqual(JSON.parse(m[2]), ["server-ack-request", arg, 1]);
      ids.push(m[1]);
      ws.send(`43${m[1]}["got","${arg}"]`);
      assert.equal(await ws.nextText(), `42["server-ack-result","got","${arg}"]`);
    }
    assert.notEqual(ids[0], ids[1], "each server ack request needs its own id");
    ws.close();
  });

  test("server-initiated ack answered with a binary ack", T, async () => {
    const ws = await sioConnected();
    ws.send('42["server-ack-request","bin"]');
    const m = /^42(\d+)\[/.exec(await ws.nextText());
    assert.ok(m);
    ws.send(`461-${m[1]}${JSON.stringify([ph(0), "tail"])}`);
    ws.send(Buffer.from([9, 8, 7]));
    const head = await ws.nextText();
    assert.equal(head, `451-${JSON.stringify(["server-ack-result", ph(0), "tail"])}`);
    assert.deepEqual(await ws.nextBinary(), Buffer.from([9, 8, 7]));
    ws.close();
  });
});

describe("over polling", () => {
  test("connect, event, binary event as b-base64 both ways", T, async () => {
    const { sid } = await pollingOpen(base, P);
    await pollSend(base, P, sid, "40");
    const [conn, auth] = await pollPackets(base, P, sid, 2);
    parseConnect(conn);
    assert.equal(auth, '42["auth",{}]');

    await pollSend(base, P, sid, '42["message","text"]');
    assert.deepEqual(await pollPackets(base, P, sid, 1), ['42["message-back","text"]']);

    await pollSend(base, P, sid, `451-${JSON.stringify(["message", ph(0)])}${RS}bAQIDBA==`);
    const got = await pollPackets(base, P, sid, 2);
    assert.equal(got[0], `451-${JSON.stringify(["message-back", ph(0)])}`);
    assert.equal(got[1], "bAQIDBA==");

    await pollSend(base, P, sid, "1");
    await sleep(50);
    const res = await pollGet(base, P, sid);
    assert.equal(res.status, 400);
  });

  test("a header and its attachment may come in separate POSTs", T, async () => {
    const { sid } = await pollingOpen(base, P);
    await pollSend(base, P, sid, "40");
    await pollPackets(base, P, sid, 2);
    await pollSend(base, P, sid, '427["message-with-ack","x"]');
    assert.deepEqual(await pollPackets(base, P, sid, 1), ['437["x"]']);
    await pollSend(base, P, sid, `451-${JSON.stringify(["message", ph(0)])}`);
    await pollSend(base, P, sid, "b/w==");
    const got = await pollPackets(base, P, sid, 2);
    assert.deepEqual(got, [`451-${JSON.stringify(["message-back", ph(0)])}`, "b/w=="]);
    await pollSend(base, P, sid, "1");
  });
});
