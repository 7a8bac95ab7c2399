// `peerdrop send` losing its signaling connection (docs/signaling.md "A
// sender that reconnects"): the real server, the real CLI, and a small TCP
// proxy in this test between the sender and the server, whose connections
// the test cuts (the server sees the sender's socket close, as on a network
// drop) and whose new connections it refuses for a while.
//
// 1. Alone in its room: the room is destroyed with the sender's socket; the
//    sender creates it again, and a receiver that joins later gets the file.
// 2. Receivers held the room meanwhile (one of them joined while the sender
//    was away, and waits for an offer; `peerdrop receive` never offers):
//    create-room says ROOM_EXISTS, the sender joins its room again with the
//    same secret and offers to the members there; the receiver gets the file.
//
// $PEERDROP_CLI names the binary; without it the tests are skipped.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { runCli } from "./lib/cli.mjs";
import { connect, call, closeAll, once } from "./lib/client.mjs";
import { admission } from "./lib/admission.mjs";

const CLI = process.env.PEERDROP_CLI;
const T = { timeout: 90_000 };
const procs = [];
const run = (args) => {
  const r = runCli(CLI, args);
  procs.push(r);
  return r;
};
const sha = (p) => createHash("sha256").update(fs.readFileSync(p)).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy to `port`: cut() closes every connection through it; while
 *  refusing, new connections are closed at once (the server is unreachable). */
async function tcpProxy(port) {
  const pairs = new Set();
  let refusing = false;
  const srv = net.createServer((down) => {
    if (refusing) return down.destroy();
    const up = net.connect({ port, host: "127.0.0.1" });
    const pair = { down, up };
    pairs.add(pair);
    const end = () => {
      down.destroy();
      up.destroy();
      pairs.delete(pair);
    };
    down.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    connections: () => pairs.size,
    cut({ refuse }) {
      refusing = refuse;
      for (const { down, up } of pairs) {
        down.destroy();
        up.destroy();
      }
      pairs.clear();
    },
    accept() {
      refusing = false;
    },
    close: () => new Promise((r) => srv.close(r)),
  };
}

/** Resolves once `pred()` holds; polls every 50 ms for at most `ms`. */
async function until(pred, ms, what) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (pred()) return;
  throw new Error(`not within ${ms} ms: ${what}`);
}

describe("peerdrop send: a lost signaling connection", { skip: !CLI && "PEERDROP_CLI not set" }, () => {
  let server;
  let proxy;
  let tmp;
  let file;

  before(async () => {
    server = await startServer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-reconnect-"));
    file = path.join(tmp, "payload.bin");
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff)));
  });
  after(async () => {
    for (const { proc } of procs) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await proxy?.close();
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The sender, through a fresh proxy; resolves it with its room. */
  async function sender() {
    await proxy?.close();
    proxy = await tcpProxy(Number(new URL(server.url).port));
    const s = run(["send", file, "--server", proxy.url, "--count", "1", "--log-level", "debug"]);
    const room = await s.waitFor((e) => e.event === "room", 15_000);
    await until(() => proxy.connections() > 0, 5_000, "the sender's signaling through the proxy");
    return { s, room };
  }

  /** Waits for the sender to be connected again (a new connection through the proxy;
   *  its backoff after one failure is at most 2 s, src/cli/signal_client.c). */
  async function reconnected(s) {
    await until(() => proxy.connections() > 0, 30_000, `the sender reconnected; stderr:\n${s.stderr()}`);
  }

  /** Both exit 0 (bounded: 45 s; the file is 300 kB) and the file arrived intact. */
  async function receivedBy(receiver, out, s) {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no transfer within 45 s\nsender:\n${s.stderr()}\nreceiver:\n${receiver.stderr()}`)), 45_000);
    });
    const [r, x] = await Promise.race([Promise.all([receiver.exited, s.exited]), limit]).finally(() => clearTimeout(timer));
    assert.equal(r.code, 0, receiver.stderr());
    assert.equal(x.code, 0, s.stderr());
    assert.equal(sha(path.join(out, "payload.bin")), sha(file));
  }

  test("alone in its room: it creates the room again, and a receiver that joins then gets the file", T, async () => {
    const { s, room } = await sender();
    proxy.cut({ refuse: false });
    await reconnected(s);
    const out = path.join(tmp, "out-alone");
    await until(() => /room created again/.test(s.stderr()), 15_000, `the room created again; stderr:\n${s.stderr()}`);
    const receiver = run(["receive", room.link, "--server", server.url, "--yes", "-o", out]);
    await receivedBy(receiver, out, s);
  });

  test("receivers held its room: it joins it again and offers to them; a receiver that joined meanwhile gets the file", T, async () => {
    const { s, room } = await sender();
    const link = new URL(room.link);
    const params = new URLSearchParams(link.hash.slice(1));
    const roomId = params.get("room");
    // a member that keeps the room alive and never answers (the sender's offer to it goes nowhere)
    const holder = await connect(server.url);
    try {
      const joined = await call(holder, "join-room", { roomId, password: await admission(params.get("key"), roomId) });
      assert.equal(joined.ok, true, JSON.stringify(joined));
      await s.waitFor((e) => e.event === "peer-joined", 10_000);
      const left = once(holder, "user-left", 10_000);
      proxy.cut({ refuse: true }); // the sender's socket closes; it cannot reconnect yet
      await left;
      // a receiver joins while the sender is away: it waits for an offer
      const out = path.join(tmp, "out-held");
      const receiver = run(["receive", room.link, "--server", server.url, "--yes", "-o", out]);
      await receiver.waitFor((e) => e.event === "joined", 15_000);
      proxy.accept();
      await reconnected(s);
      await receivedBy(receiver, out, s);
      assert.match(s.stderr(), /back in the room/); // by join-room, not a new room
    } finally {
      closeAll(holder);
    }
  });
});
