// The peerdrop CLI takes its STUN/TURN servers from the server's GET
// /config (issue 4), like the web app, and its TURN credential from the
// room's ack (issue 11 item 9). The server is started with a STUN
// and a TURN URL on loopback, each naming a UDP socket of this test; the
// CLI must send a STUN Binding request to the first and a TURN Allocate
// request to the second while it connects, finish the transfer anyway
// (host candidates work on loopback; nobody answers those requests), and
// never log the TURN credentials.
//
// $PEERDROP_CLI names the binary; without it the test is skipped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { startServer, token } from "./lib/server.mjs";

const CLI = process.env.PEERDROP_CLI;
// libnice asks a STUN/TURN server from its host candidates' sockets. With a
// real interface up those are bound to its address, and Linux does not
// deliver their packets to 127.0.0.1; so the fake servers live on this
// machine's own address (still local delivery, nothing leaves the host), or
// on 127.0.0.1 in a lo-only namespace (tests/e2e/run.sh style).
const HOST =
  Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a.family === "IPv4" && !a.internal)?.address ?? "127.0.0.1";

function udpListener() {
  const sock = dgram.createSocket("udp4");
  const types = [];
  sock.on("message", (msg) => {
    // STUN header (RFC 5389 §6): type, length, magic cookie 0x2112A442
    if (msg.length >= 20 && msg.readUInt32BE(4) === 0x2112a442) types.push(msg.readUInt16BE(0));
  });
  return new Promise((resolve) => sock.bind(0, HOST, () => resolve({ sock, port: sock.address().port, types })));
}

function run(args) {
  const proc = spawn(CLI, [...args, "--json", "--log-level", "debug"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const events = [];
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d) => (stderr += d));
  const lines = readline.createInterface({ input: proc.stdout });
  const room = new Promise((resolve) =>
    lines.on("line", (l) => {
      try {
        const e = JSON.parse(l);
        events.push(e);
        if (e.event === "room") resolve(e);
      } catch {}
    }),
  );
  const exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, room, exited, events, stderr: () => stderr };
}

test("STUN and TURN servers from /config are used, credentials never logged", { skip: !CLI && "PEERDROP_CLI not set", timeout: 60_000 }, async () => {
  const stun = await udpListener();
  const turn = await udpListener();
  const secret = token("turn-secret-");
  const server = await startServer({
    extraArgs: ["--stun", `stun:${HOST}:${stun.port}`, "--turn", `turn:${HOST}:${turn.port}?transport=udp`, "--turn-secret", secret],
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-cli-config-"));
  let sender, receiver;
  try {
    const cfg = await (await fetch(`${server.url}/config`)).json();
    const t = cfg.iceServers.find((s) => [].concat(s.urls).some((u) => u.startsWith("turn:")));
    // the URL is public, the credential comes with the room (issue 11 item 9)
    assert.ok(t && t.credential === undefined, JSON.stringify(cfg));
    fs.writeFileSync(path.join(tmp, "a.txt"), "through host candidates\n");
    sender = run(["send", path.join(tmp, "a.txt"), "--server", server.url, "--count", "1"]);
    const room = await sender.room;
    receiver = run(["receive", room.link, "--yes", "-o", path.join(tmp, "out")]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(r, 0, receiver.stderr());
    assert.equal(s, 0, sender.stderr());
    assert.equal(fs.readFileSync(path.join(tmp, "out", "a.txt"), "utf8"), "through host candidates\n");
    for (const p of [sender, receiver]) {
      assert.match(p.stderr(), /ICE servers from \/config: 1 STUN, 1 TURN/);
      assert.match(p.stderr(), /ICE servers from the room: 1 STUN, 1 TURN/);
      assert.ok(!p.stderr().includes(secret) && !JSON.stringify(p.events).includes(secret), "the TURN secret was logged");
      // a credential is base64(HMAC-SHA1): 27 characters and "="
      assert.doesNotMatch(p.stderr() + JSON.stringify(p.events), /[A-Za-z0-9+\/]{27}=/, "a TURN credential was logged");
    }
    // the requests may still be in flight when a loopback transfer is over
    for (let i = 0; i < 40 && !(stun.types.includes(0x0001) && turn.types.includes(0x0003)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(stun.types.includes(0x0001), `STUN Binding request expected, saw ${stun.types}`);
    assert.ok(turn.types.includes(0x0003), `TURN Allocate request expected, saw ${turn.types}`);
  } finally {
    sender?.proc.kill("SIGKILL");
    receiver?.proc.kill("SIGKILL");
    stun.sock.close();
    turn.sock.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    await server.stop();
  }
});

// issue 13: the link is read by src/cli/link.c with src/http's
// percent-decoder; a value the web app cannot have written (a malformed
// escape, a NUL, a password longer than the CLI holds: over the 1024 bytes
// of the signaling contract) is refused at once (exit 1) instead of being
// cut or passed on as is (the old url_decode).
test("a link with a malformed or oversized value is refused before connecting", { skip: !CLI && "PEERDROP_CLI not set", timeout: 30_000 }, async () => {
  const { spawnSync } = await import("node:child_process");
  for (const key of ["%zz", "a%00b", "%FF", "k".repeat(1025)]) {
    // port 9 (discard): nothing listens; the old CLI went on to connect there
    const r = spawnSync(CLI, ["receive", `http://127.0.0.1:9/#room=abc&key=${key}`, "--yes"], { encoding: "utf8", timeout: 8000 });
    assert.equal(r.status, 1, `key=${key.slice(0, 12)}: status ${r.status} signal ${r.signal}\n${r.stderr}`);
    // a damaged key is named as such (docs/signaling.md "The room link"); an overlong one gets the usage
    assert.match(r.stderr, key.length > 1000 ? /give one link/ : /the link is damaged .*copy the whole link again/);
  }
  // the same link with a well-formed key gets past parsing (and then fails
  // to reach the server: exit 2, not 1)
  const ok = spawnSync(CLI, ["receive", "http://127.0.0.1:9/#room=abc&key=a%20b+c", "--yes", "--json"], { encoding: "utf8", timeout: 20_000 });
  assert.notEqual(ok.status, 1, ok.stderr);
});
