// The real socket.io-client (npm, 4.8.x) against
// `peerdrop-conformance-server sio`, in each transport mode: polling then
// upgrade (the default), polling only, WebSocket only.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { startServer } from "./lib/server.mjs";
import { MODES, client, connected, connect, once, toBuffer, closeAll } from "./lib/client.mjs";
import { sleep } from "./lib/wire.mjs";

const T = { timeout: 15_000 };
const MAX_PAYLOAD = 1_000_000;

let srv;
let url;

before(async () => {
  srv = await startServer({ conformance: "sio" });
  url = srv.url;
});
after(async () => {
  await srv?.stop();
});

for (const [mode, opts] of Object.entries(MODES)) {
  describe(`mode ${mode}`, () => {
    test("connects and gets the auth event", T, async () => {
      const s = client(url, opts);
      const auth = once(s, "auth");
      await connected(s);
      assert.equal(typeof s.id, "string");
      assert.deepEqual(await auth, [{}]);
      const expected = mode === "websocket" ? "websocket" : "polling";
      if (mode !== "default") assert.equal(s.io.engine.transport.name, expected);
      s.close();
    });

    test("auth payload reaches the server", T, async () => {
      const s = client(url, { ...opts, auth: { token: "abc", n: 1 } });
      const auth = once(s, "auth");
      await connected(s);
      assert.deepEqual(await auth, [{ token: "abc", n: 1 }]);
      s.close();
    });

    if (mode === "default") {
      test("the transport really upgrades to websocket", T, async () => {
        const s = client(url, opts);
        const upgraded = once(s.io.engine, "upgrade", 5000);
        await connected(s);
        const [transport] = await upgraded;
        assert.equal(transport.name, "websocket");
        assert.equal(s.io.engine.transport.name, "websocket");
        // And traffic flows over it.
        s.emit("message", "after-upgrade");
        assert.deepEqual(await once(s, "message-back"), ["after-upgrade"]);
        s.close();
      });

      test("events emitted around the upgrade are not lost", T, async () => {
        const s = client(url, opts);
        const got = [];
        let sent = 0;
        const burst = () => {
          for (let i = 0; i < 10; i++) s.emit("message", sent++);
        };
        s.on("message-back", (i) => got.push(i));
        s.on("connect", burst); // while the probe is in flight
        s.io.engine.on("upgrading", burst); // probe done, polling paused
        const upgraded = once(s.io.engine, "upgrade", 5000);
        await connected(s);
        await upgraded;
        burst(); // after the switch
        const deadline = Date.now() + 3000;
        while (got.length < sent && Date.now() < deadline) await sleep(10);
        assert.equal(sent, 30);
        assert.deepEqual(got, [...Array(sent).keys()]);
        s.close();
      });
    }

    test("emit and receive", T, async () => {
      const s = await connect(url, opts);
      s.emit("message", "hello", 42, { a: [1, null, true] }, "€☃");
      assert.deepEqual(await once(s, "message-back"), ["hello", 42, { a: [1, null, true] }, "€☃"]);
      s.close();
    });

    test("binary both ways (Buffer and Uint8Array)", T, async () => {
      const s = await connect(url, opts);
      const big = Buffer.alloc(100_000, 0xab);
      s.emit("message", Buffer.from([1, 2, 3]), new Uint8Array([4, 5]), { nested: Buffer.from([0, 255]) }, big);
      const [a, b, c, d] = await once(s, "message-back");
      assert.deepEqual(toBuffer(a), Buffer.from([1, 2, 3]));
      assert.deepEqual(toBuffer(b), Buffer.from([4, 5]));
      assert.deepEqual(toBuffer(c.nested), Buffer.from([0, 255]));
      assert.ok(toBuffer(d).equals(big));
      s.close();
    });

    test("ack client -> server", T, async () => {
      const s = await connect(url, opts);
      const args = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no ack")), 3000);
        s.emit("message-with-ack", 1, "two", { three: 3 }, Buffer.from([9]), (...a) => {
          clearTimeout(timer);
          resolve(a);
        });
      });
      assert.equal(args.length, 4);
      assert.deepEqual(args.slice(0, 3), [1, "two", { three: 3 }]);
      assert.deepEqual(toBuffer(args[3]), Buffer.from([9]));
      assert.equal(await s.timeout(3000).emitWithAck("message-with-ack", "x"), "x");
      s.close();
    });

    test("ack server -> client", T, async () => {
      const s = await connect(url, opts);
      s.on("server-ack-request", (...args) => {
        const ack = args.pop();
        assert.equal(typeof ack, "function", "server-ack-request must carry an ack id");
        ack("reply", ...args, Buffer.from([7, 7]));
      });
      const result = once(s, "server-ack-result");
      s.emit("server-ack-request", "q", 5);
      const args = await result;
      assert.deepEqual(args.slice(0, 3), ["reply", "q", 5]);
      assert.deepEqual(toBuffer(args[3]), Buffer.from([7, 7]));
      s.close();
    });

    test("namespaces: /custom connects, /random is refused", T, async () => {
      const c = client(`${url}/custom`, opts);
      const auth = once(c, "auth");
      await connected(c);
      assert.deepEqual(await auth, [{}]);
      c.close();

      const r = client(`${url}/random`, opts);
      const [err] = await once(r, "connect_error", 5000);
      assert.equal(err.message, "Invalid namespace");
      assert.equal(r.connected, false);
      r.close();
    });

    test("two namespaces on one connection; leaving one keeps the other", T, async () => {
      const m = new Manager(url, { ...opts, reconnection: false });
      const main = m.socket("/");
      const custom = m.socket("/custom");
      await Promise.all([connected(main), connected(custom)]);
      assert.equal(main.io.engine, custom.io.engine);
      custom.disconnect();
      main.emit("message", "still");
      assert.deepEqual(await once(main, "message-back"), ["still"]);
      main.close();
    });

    test("a 100-message burst keeps order", T, async () => {
      const s = await connect(url, opts);
      const got = [];
      s.on("message-back", (i, pad) => got.push([i, pad.length]));
      for (let i = 0; i < 100; i++) s.emit("message", i, "x".repeat(i * 10));
      const deadline = Date.now() + 5000;
      while (got.length < 100 && Date.now() < deadline) await sleep(10);
      assert.deepEqual(
        got,
        [...Array(100).keys()].map((i) => [i, i * 10]),
      );
      s.close();
    });

    test("reconnects after the server closes the connection", T, async () => {
      const s = client(url, { ...opts, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
      await connected(s);
      const firstId = s.id;
      const disconnected = once(s, "disconnect", 3000);
      const reconnected = once(s.io, "reconnect", 5000);
      // An invalid Socket.IO packet: the server must drop the whole connection.
      s.io.engine.write("abc");
      const [reason] = await disconnected;
      assert.notEqual(reason, "io client disconnect");
      await reconnected;
      await connected(s);
      assert.notEqual(s.id, firstId);
      s.emit("message", "back");
      assert.deepEqual(await once(s, "message-back"), ["back"]);
      s.close();
    });

    test("an over-limit message makes the server drop the connection", T, async () => {
      const s = await connect(url, opts);
      const other = await connect(url, opts);
      const disconnected = once(s, "disconnect", 8000);
      s.emit("message", "y".repeat(MAX_PAYLOAD + 100_000));
      const [reason] = await disconnected;
      assert.match(reason, /transport (close|error)/);
      // Nobody else noticed.
      other.emit("message", "neighbour");
      assert.deepEqual(await once(other, "message-back"), ["neighbour"]);
      closeAll(s, other);
    });

    test("a message just under the limit goes through", T, async () => {
      const s = await connect(url, opts);
      const text = "z".repeat(MAX_PAYLOAD - 1000);
      s.emit("message", text);
      const [back] = await once(s, "message-back", 8000);
      assert.equal(back.length, text.length);
      assert.ok(back === text);
      s.close();
    });

    test("client disconnect is clean", T, async () => {
      const s = await connect(url, opts);
      const d = once(s, "disconnect");
      s.disconnect();
      assert.equal((await d)[0], "io client disconnect");
    });
  });
}
