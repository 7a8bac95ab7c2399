// --trust-proxy: behind a load balancer that sends the PROXY protocol v2
// header (HAProxy send-proxy-v2), the node takes connections from the
// balancer only, each starting with a well-formed header, and counts the
// header's source address for per-address limits (docs/security.md).
// Before, behind a balancer every client had the balancer's address: one
// client's connections, sessions and wrong passwords used up everyone's.
// The header's parser has its unit test (tests/unit/test_proxy_v2.c) and
// fuzz target; this drives the real server over loopback with raw sockets.

import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, DEFAULT_ARGS } from "./lib/server.mjs";
import { proxyHeader, exchange, proxiedGet } from "./lib/proxy.mjs";
import { sleep } from "./lib/wire.mjs";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";

const T = { timeout: 30_000 };
const servers = [];
after(() => servers.forEach((s) => s.kill()));

async function server(extraArgs) {
  const s = await startServer({ args: [...DEFAULT_ARGS, ...extraArgs] });
  servers.push(s);
  return s;
}

const GET = (path = "/healthz") => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);

function metric(text, name) {
  const m = new RegExp(`^peerdrop_refused_total\\{reason="${name}"\\} (\\d+)$`, "m").exec(text);
  assert.ok(m, `metric ${name} missing`);
  return Number(m[1]);
}

describe("--trust-proxy (PROXY protocol v2)", () => {
  test("a header from a trusted address: served, whole or in pieces; LOCAL too", T, async () => {
    const srv = await server(["--trust-proxy", "127.0.0.1/32,::1"]);
    const whole = await exchange(srv.port, [Buffer.concat([proxyHeader(), GET()])]);
    assert.match(whole.text, /^HTTP\/1\.1 200 /);
    // a byte at a time, then the request in its own write
    const h = proxyHeader({ src: "2001:db8:1:2::7" });
    const pieces = [...h].map((b) => Buffer.from([b]));
    const slow = await exchange(srv.port, [...pieces, GET()], { gapMs: 2 });
    assert.match(slow.text, /^HTTP\/1\.1 200 /);
    // the header's first bytes alone, then its rest with a request longer
    // than the header cap (1024 bytes) in one write: the request is the
    // client's, not part of the header
    const big = Buffer.from(`GET /healthz?${"x".repeat(3000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const h4 = proxyHeader();
    const split = await exchange(srv.port, [h4.subarray(0, 10), Buffer.concat([h4.subarray(10), big])], { gapMs: 50 });
    assert.match(split.text, /^HTTP\/1\.1 200 /);
    // LOCAL (the balancer's own health check)
    const local = await exchange(srv.port, [Buffer.concat([proxyHeader({ local: true }), GET()])]);
    assert.match(local.text, /^HTTP\/1\.1 200 /);
    await srv.stop();
  });

  test("refused: an address not trusted, no header, a malformed or v1 header, a header that never comes", T, async () => {
    const srv = await server(["--trust-proxy", "127.0.0.1"]);
    const untrusted = await exchange(srv.port, [Buffer.concat([proxyHeader(), GET()])], { localAddress: "127.0.0.2" });
    assert.equal(untrusted.text, "");
    assert.ok(untrusted.closed);
    const plain = await exchange(srv.port, [GET()]);
    assert.equal(plain.text, "");
    assert.ok(plain.closed);
    const v1 = await exchange(srv.port, [Buffer.from("PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n"), GET()]);
    assert.equal(v1.text, "");
    const bad = proxyHeader();
    bad[13] = 0x12; // UDP
    assert.equal((await exchange(srv.port, [Buffer.concat([bad, GET()])])).text, "");
    const short = proxyHeader();
    short.writeUInt16BE(8, 14); // too short for two IPv4 addresses and ports
    assert.equal((await exchange(srv.port, [Buffer.concat([short, GET()])])).text, "");
    // a trusted peer that sends half a header and stops: closed by the
    // header deadline (5 s, checked each second)
    const stuck = await exchange(srv.port, [proxyHeader().subarray(0, 10)], { timeout: 9000 });
    assert.ok(stuck.closed && stuck.ms >= 4000 && stuck.ms < 8000, JSON.stringify(stuck));
    const m = (await proxiedGet(srv.port, "/metrics")).body;
    assert.equal(metric(m, "proxy_untrusted"), 1);
    assert.equal(metric(m, "proxy_header"), 5);
    // the node is fine
    assert.equal((await proxiedGet(srv.port, "/healthz")).status, 200);
    await srv.stop();
  });

  test("per-address limits count the header's source: connections, sessions, /metrics", T, async () => {
    const srv = await server(["--trust-proxy", "127.0.0.1", "--max-conns-per-ip", "2", "--max-sessions-per-ip", "1"]);
    // two connections held open for client 198.51.100.1: a third is refused,
    // while 198.51.100.2 (the same balancer) gets in
    const held = [];
    for (let i = 0; i < 2; i++)
      held.push(exchange(srv.port, [proxyHeader({ src: "198.51.100.1", srcPort: 40000 + i })], { timeout: 3000 }));
    await sleep(300);
    const third = await proxiedGet(srv.port, "/healthz", { src: "198.51.100.1" });
    assert.equal(third.status, 503, third.text);
    const other = await proxiedGet(srv.port, "/healthz", { src: "198.51.100.2" });
    assert.equal(other.status, 200, other.text);
    await Promise.all(held);
    // Engine.IO sessions per address: one each
    const hs = (src) => proxiedGet(srv.port, "/socket.io/?EIO=4&transport=polling", { src });
    assert.equal((await hs("198.51.100.3")).status, 200);
    const again = await hs("198.51.100.3");
    assert.equal(again.status, 403, again.text);
    assert.equal((await hs("2001:db8:5::1")).status, 200);
    assert.equal((await hs("2001:db8:5::2")).status, 403); // the same /64
    assert.equal((await hs("2001:db8:6::1")).status, 200);
    // /metrics: --metrics-allow (loopback) is checked against the client
    assert.equal((await proxiedGet(srv.port, "/metrics", { src: "203.0.113.9" })).status, 403);
    assert.equal((await proxiedGet(srv.port, "/metrics", { src: "127.0.0.1" })).status, 200);
    await srv.stop();
  });

  test("with TLS (--cert): the header comes first, then the TLS handshake", T, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pd-proxy-tls-"));
    try {
      const key = path.join(tmp, "key.pem");
      const cert = path.join(tmp, "cert.pem");
      const gen = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"], { encoding: "utf8", timeout: 10_000 });
      assert.equal(gen.status, 0, gen.stderr);
      const srv = await server(["--trust-proxy", "127.0.0.1", "--cert", cert, "--key", key, "--max-sessions-per-ip", "1"]);
      const handshake = (src) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no answer within 5 s")), 5000);
          const raw = net.connect({ port: srv.port, host: "127.0.0.1" }, () => {
            raw.write(proxyHeader({ src }));
            const t = tls.connect({ socket: raw, rejectUnauthorized: false }, () => t.write(GET("/socket.io/?EIO=4&transport=polling")));
            let got = "";
            t.on("data", (d) => (got += d));
            t.on("end", () => {
              clearTimeout(timer);
              resolve(got);
            });
            t.on("error", reject);
          });
          raw.on("error", reject);
        });
      assert.match(await handshake("198.51.100.77"), /^HTTP\/1\.1 200 /);
      // the session counts for the header's client: its second is refused,
      // another client's is not
      assert.match(await handshake("198.51.100.77"), /^HTTP\/1\.1 403 /);
      assert.match(await handshake("198.51.100.78"), /^HTTP\/1\.1 200 /);
      await srv.stop();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("--trust-proxy / PEERDROP_TRUST_PROXY: a bad list stops the start", T, async () => {
    const { spawnSync } = await import("node:child_process");
    const { serverPath } = await import("./lib/server.mjs");
    const r = spawnSync(serverPath(), ["--port", "0", "--trust-proxy", "example.com"], { encoding: "utf8", timeout: 5000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--trust-proxy: not a list of addresses/);
    const e = spawnSync(serverPath(), ["--port", "0"], { encoding: "utf8", timeout: 5000, env: { ...process.env, PEERDROP_TRUST_PROXY: "10.0.0.0/33" } });
    assert.equal(e.status, 2, e.stderr);
  });
});
