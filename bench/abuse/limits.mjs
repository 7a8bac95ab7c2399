#!/usr/bin/env node
// Abuse benchmark, issue 11 server items 1, 4, 5 and 6 (not CI): while one
// attacker on loopback runs each attack, legitimate users create rooms, join
// them and relay offers; prints their p50/p99 and the server's RSS growth and
// CPU per attack, as a Markdown table for bench/RESULTS.md.
//
//   node bench/abuse/limits.mjs [path/to/peerdrop-server]   # default build/peerdrop-server
//   ATTACK_MS=8000 ATTACKS=pipeline,slowreader node bench/abuse/limits.mjs
//
// The attacker connects from 127.0.0.9, the users from 127.0.0.1, so per-
// address limits meet the attacker only, as they would on a real network.
// The server runs with its defaults (Argon2 interactive included). Every
// loop is bounded in count and time. Uses the integration tests' packages
// (cd tests/integration && npm ci).

import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import net from "node:net";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const require = createRequire(path.join(ROOT, "tests/integration/package.json"));
const { io } = require("socket.io-client");
const WebSocket = require("ws");

const SERVER = process.argv[2] && process.argv[2] !== "--attacker" ? process.argv[2] : path.join(ROOT, "build/peerdrop-server");
const WEB_ROOT = path.join(ROOT, "web/dist");
const ATTACK_MS = Number(process.env.ATTACK_MS ?? 8000);
const ATTACKER = "127.0.0.9";
const ATTACKS = (process.env.ATTACKS ?? "none,pipeline,slowreader,slowloris,sessions,binary").split(",");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- server -----------------------------------------------------------------------

async function startServer() {
  const proc = spawn(SERVER, ["--host", "127.0.0.1", "--port", "0", "--web-root", WEB_ROOT, "--log-level", "warn"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listening line: ${err}`)), 10_000);
    proc.stderr.on("data", (d) => {
      err += d;
      const m = /listening url=(http:\/\/[^\s"]+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
  });
  proc.stderr.on("data", () => {}); // keep draining
  return { proc, url, port: Number(new URL(url).port) };
}

function rss(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
}

/** utime + stime of the whole process, in seconds. */
function cpu(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

// ---- legitimate users ---------------------------------------------------------------

function connectUser(url) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 10_000 });
    s.once("connect", () => resolve(s));
    s.once("connect_error", (e) => {
      s.close();
      reject(e);
    });
  });
}

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Pairs of users, one after another until `until`: create, join, 10 relays each. */
async function legitimate(url, until) {
  const m = { create: [], join: [], relay: [], failures: 0 };
  let n = 0;
  while (Date.now() < until && n < 200) {
    n++;
    let a, b;
    try {
      [a, b] = await Promise.all([connectUser(url), connectUser(url)]);
      const roomId = `bench-${process.pid}-${n}`;
      const password = `pw-${Math.random()}`;
      let t = performance.now();
      const c = await a.timeout(10_000).emitWithAck("create-room", { roomId, password });
      m.create.push(performance.now() - t);
      if (!c.ok) throw new Error(JSON.stringify(c));
      t = performance.now();
      const j = await b.timeout(10_000).emitWithAck("join-room", { roomId, password });
      m.join.push(performance.now() - t);
      if (!j.ok) throw new Error(JSON.stringify(j));
      const sdp = "v=0\r\n" + "a".repeat(2000);
      for (let i = 0; i < 10; i++) {
        const got = new Promise((r) => b.once("offer", r));
        t = performance.now();
        a.emit("offer", { sdp, targetSocketId: b.id });
        await Promise.race([got, sleep(5000)]);
        m.relay.push(performance.now() - t);
      }
    } catch {
      m.failures++;
    } finally {
      a?.close();
      b?.close();
    }
    await sleep(100);
  }
  return m;
}

// ---- attacks ------------------------------------------------------------------------

function raw(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress: ATTACKER });
    s.on("error", () => {});
    s.once("connect", () => resolve(s));
    s.once("close", () => resolve(null));
  });
}

function biggestFile() {
  const dir = path.join(WEB_ROOT, "assets");
  const files = fs.readdirSync(dir).map((f) => [f, fs.statSync(path.join(dir, f)).size]);
  files.sort((x, y) => y[1] - x[1]);
  return `/assets/${files[0][0]}`;
}

const attacks = {
  none: async () => () => {},
  // item 1: 30 clients pipeline 300 GETs of the biggest file, never read
  pipeline: async (srv) => {
    const socks = [];
    const req = `GET ${biggestFile()} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(300);
    for (let i = 0; i < 30; i++) {
      const s = await raw(srv.port);
      if (!s) continue;
      s.pause();
      s.write(req);
      socks.push(s);
    }
    return () => socks.forEach((s) => s.destroy());
  },
  // item 1: a room member that stops reading while another sends it 60 KB offers
  slowreader: async (srv) => {
    const mk = () =>
      new Promise((resolve, reject) => {
        const s = io(srv.url, { transports: ["websocket"], forceNew: true, reconnection: false, localAddress: ATTACKER });
        s.once("connect", () => resolve(s));
        s.once("connect_error", reject);
      });
    const pairs = [];
    for (let i = 0; i < 4; i++) {
      const [victim, sender] = await Promise.all([mk(), mk()]);
      const roomId = `slow-${i}-${process.pid}`;
      await victim.emitWithAck("create-room", { roomId, password: "x" });
      await sender.emitWithAck("join-room", { roomId, password: "x" });
      victim.io.engine.transport.ws._socket.pause();
      pairs.push([victim, sender, victim.id]);
    }
    const sdp = "v=0\r\n" + "a".repeat(60_000);
    let stop = false;
    (async () => {
      while (!stop) {
        for (const [, sender, id] of pairs) if (sender.connected) sender.emit("offer", { sdp, targetSocketId: id });
        await sleep(10);
      }
    })();
    return () => {
      stop = true;
      pairs.flat().forEach((s) => s?.close?.());
    };
  },
  // item 4: as many connections as the server gives, each sending a byte a second
  slowloris: async (srv) => {
    const socks = [];
    for (let i = 0; i < 2000; i++) {
      const s = await raw(srv.port);
      if (!s) continue;
      s.write("GET / HTTP/1.1\r\n");
      socks.push(s);
    }
    const timer = setInterval(() => socks.forEach((s) => !s.destroyed && s.write("X")), 1000);
    return () => {
      clearInterval(timer);
      socks.forEach((s) => s.destroy());
    };
  },
  // item 5: polling handshakes in a loop over keep-alive connections
  sessions: async (srv) => {
    let stop = false;
    const loops = [];
    for (let k = 0; k < 4; k++) {
      loops.push(
        (async () => {
          let s = await raw(srv.port);
          for (let i = 0; i < 100_000 && !stop && s; i++) {
            s.write("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
            await new Promise((r) => {
              const done = () => {
                s.off("data", done);
                s.off("close", done);
                r();
              };
              s.on("data", done);
              s.on("close", done);
            });
            if (s.destroyed) s = await raw(srv.port);
          }
          s?.destroy();
        })(),
      );
    }
    return async () => {
      stop = true;
      await Promise.race([Promise.all(loops), sleep(2000)]);
    };
  },
  // item 6: 4510-[...] then 9 of 10 attachments of ~1 MB, 50 connections
  binary: async (srv) => {
    const clients = [];
    for (let i = 0; i < 50; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/socket.io/?EIO=4&transport=websocket`, { localAddress: ATTACKER });
      ws.on("error", () => {});
      await new Promise((r) => {
        ws.once("open", r);
        ws.once("close", r);
      });
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.on("message", (d) => String(d) === "2" && ws.send("3"));
      ws.send("40");
      await sleep(5);
      ws.send('4510-["offer",{"_placeholder":true,"num":0}]');
      for (let k = 0; k < 9; k++) ws.send(Buffer.alloc(900_000, k));
      clients.push(ws);
    }
    return () => clients.forEach((ws) => ws.terminate());
  },
};

// ---- run ----------------------------------------------------------------------------

// The attacker runs in its own process (`--attacker NAME URL`), so its work
// never delays the users' measurements in this one.
if (process.argv[2] === "--attacker") {
  const url = process.argv[4];
  await attacks[process.argv[3]]({ url, port: Number(new URL(url).port) });
  process.send?.("ready");
  await sleep(10 * 60_000); // until killed
  process.exit(0);
}

function startAttacker(name, srv) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--attacker", name, srv.url], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(child), 30_000); // an attack still setting up is still an attack
    child.once("message", () => {
      clearTimeout(t);
      resolve(child);
    });
  });
}

const rows = [];
for (const name of ATTACKS) {
  const srv = await startServer();
  try {
    await legitimate(srv.url, Date.now() + 1500); // warm-up: pools, allocator, Argon2 memory
    await sleep(500);
    const rss0 = rss(srv.proc.pid);
    const cpu0 = cpu(srv.proc.pid);
    const t0 = Date.now();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(srv.proc.pid) - rss0)), 100);
    const attacker = await startAttacker(name, srv);
    const m = await legitimate(srv.url, t0 + ATTACK_MS);
    const secs = (Date.now() - t0) / 1000;
    const cpuPct = ((cpu(srv.proc.pid) - cpu0) / secs) * 100;
    peak = Math.max(peak, rss(srv.proc.pid) - rss0);
    clearInterval(sampler);
    attacker.kill("SIGKILL");
    const f = (x) => (Number.isNaN(x) ? "-" : x.toFixed(1));
    rows.push(
      `| ${name} | ${m.create.length} | ${f(pct(m.create, 50))} / ${f(pct(m.create, 99))} | ${f(pct(m.join, 50))} / ${f(pct(m.join, 99))} | ` +
        `${f(pct(m.relay, 50))} / ${f(pct(m.relay, 99))} | ${m.failures} | ${(peak / 1048576).toFixed(1)} | ${cpuPct.toFixed(0)} |`,
    );
    console.error(rows.at(-1));
  } finally {
    srv.proc.kill("SIGKILL");
    await sleep(300);
  }
}
console.log(
  "| attack | pairs | create p50 / p99 (ms) | join p50 / p99 (ms) | relay p50 / p99 (ms) | failed pairs | server RSS growth, peak (MiB) | server CPU (% of a core) |\n" +
    "|---|---:|---:|---:|---:|---:|---:|---:|\n" +
    rows.join("\n"),
);
process.exit(0);
