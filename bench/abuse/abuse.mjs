// bench/abuse/abuse.mjs: what legitimate users see while one attacker abuses
// the server. For each attack a fresh peerdrop-server (default settings) is
// started; the attacker (source address 127.0.0.1) runs the attack while
// legitimate users (127.0.0.2 and 127.0.0.3) create a room, join it and relay
// offers in a loop, and the server's RSS and CPU are sampled from /proc. The
// "none" case, measured in the same invocation, is the reference.
//
// The attacker runs in a child process of its own (this file with
// --attacker), so its work never delays the legitimate users' event loop:
// what they measure is the server. Run it through bench/abuse/run.sh (it
// raises the fd limit and installs the client). Every loop here is bounded
// by the attack window and a timeout.

import { fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import WebSocket from "ws";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const SERVER = process.env.PEERDROP_SERVER || path.join(ROOT, "build/peerdrop-server");
const SERVER_ARGS = (process.env.SERVER_ARGS || "").split(" ").filter(Boolean);
const WINDOW_S = Number(process.env.WINDOW || 10); // seconds of measurement per attack
const RAMP_S = Number(process.env.RAMP || 2); // attack running before measuring
const OP_TIMEOUT_MS = 10_000; // a legitimate operation slower than this is a failure
const ALL = ["none", "pipeline", "slow-reader", "guess", "hash-flood", "slowloris", "polling", "binary"];
const ATTACKS = (process.env.ATTACKS || ALL.join(",")).split(",");

const ATTACKER = "127.0.0.1";
const LEGIT_A = "127.0.0.2";
const LEGIT_B = "127.0.0.3";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const token = () => randomBytes(9).toString("base64url");

// ---------------------------------------------------------------- the server

async function startServer() {
  const args = ["--host", "127.0.0.1", "--port", "0", "--log-level", "warn", ...SERVER_ARGS];
  const proc = spawn(SERVER, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not listening in 10 s\n${log}`)), 10_000);
    const onData = (d) => {
      log += d;
      const m = /listening url=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.setEncoding("utf8").on("data", onData);
    proc.stderr.setEncoding("utf8").on("data", onData);
    proc.on("exit", (code) => reject(new Error(`server exited (${code})\n${log}`)));
  });
  // --log-level warn: the server logs at info only at start; keep draining.
  proc.stdout.resume();
  proc.stderr.resume();
  return { proc, url, port: Number(new URL(url).port) };
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.proc.exitCode !== null) return resolve();
    const timer = setTimeout(() => server.proc.kill("SIGKILL"), 5000);
    server.proc.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    server.proc.kill("SIGTERM");
  });
}

/** VmRSS (bytes), CPU seconds (user + system, all threads), open fds. */
function sample(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in ticks (USER_HZ 100)
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    return { rss, cpu, fds };
  } catch {
    return null;
  }
}

// ------------------------------------------------------ legitimate users

function connectClient(url, localAddress) {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, localAddress, timeout: OP_TIMEOUT_MS });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("connect timeout"));
    }, OP_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
  });
}

async function timedCall(socket, event, payload) {
  const t0 = performance.now();
  const ack = await socket.timeout(OP_TIMEOUT_MS).emitWithAck(event, payload);
  if (!ack.ok) throw new Error(`${event}: ${ack.error.code}`);
  return performance.now() - t0;
}

/** One round: A creates a room, B joins it, A relays 20 offers to B. */
async function legitRound(url, stats) {
  let a;
  let b;
  try {
    let t0 = performance.now();
    a = await connectClient(url, LEGIT_A);
    stats.connect.push(performance.now() - t0);
    const roomId = token();
    const password = token();
    stats.create.push(await timedCall(a, "create-room", { roomId, password }));
    t0 = performance.now();
    b = await connectClient(url, LEGIT_B);
    stats.connect.push(performance.now() - t0);
    stats.join.push(await timedCall(b, "join-room", { roomId, password }));
    const target = b.id;
    const OFFERS = 20;
    await new Promise((resolve, reject) => {
      let got = 0;
      const timer = setTimeout(() => reject(new Error("relay timeout")), OP_TIMEOUT_MS);
      b.on("offer", ({ sdp }) => {
        stats.relay.push(performance.now() - Number(sdp.slice(0, sdp.indexOf(" "))));
        if (++got === OFFERS) {
          clearTimeout(timer);
          resolve();
        }
      });
      (async () => {
        for (let i = 0; i < OFFERS; i++) {
          a.emit("offer", { sdp: `${performance.now()} v=0 ${"x".repeat(180)}`, targetSocketId: target });
          await sleep(10);
        }
      })();
    });
    stats.rounds++;
  } catch (err) {
    stats.failures.push(err.message);
  } finally {
    a?.close();
    b?.close();
  }
}

// -------------------------------------------------------------- attacks
// Each attack is start(server) -> { stop(), figures() }, from 127.0.0.1.

/** A raw Engine.IO + Socket.IO WebSocket client: the attacker's tool. */
function rawSocket(server, { onText } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`, {
    localAddress: ATTACKER,
    maxPayload: 16 << 20,
  });
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (text === "2") ws.send("3");
    onText?.(text, ws);
  });
  const opened = new Promise((resolve) => {
    ws.on("message", function first(data) {
      if (data.toString().startsWith("0{")) {
        ws.off("message", first);
        resolve(ws);
      }
    });
    ws.on("close", () => resolve(null));
  });
  return opened;
}

const sendIfOpen = (ws, data) => ws.readyState === WebSocket.OPEN && ws.send(data);

/** 30 connections pipeline 300 GETs of the largest served file, never read. */
async function pipelineAttack(server) {
  const largest = largestWebFile();
  const sockets = [];
  for (let i = 0; i < 30; i++) {
    const s = net.connect({ host: "127.0.0.1", port: server.port, localAddress: ATTACKER });
    s.on("error", () => {});
    s.pause();
    s.write(`GET /${largest} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(300));
    sockets.push(s);
  }
  return {
    figures: () => `30 conns x 300 pipelined GET /${largest} (${(fs.statSync(path.join(ROOT, "web/dist", largest)).size / 1024) | 0} KiB), never read`,
    stop: () => sockets.forEach((s) => s.destroy()),
  };
}

function largestWebFile() {
  let best = { size: -1, rel: "index.html" };
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith(".map")) {
        const size = fs.statSync(p).size;
        if (size > best.size) best = { size, rel: path.relative(path.join(ROOT, "web/dist"), p) };
      }
    }
  };
  walk(path.join(ROOT, "web/dist"));
  return best.rel;
}

/** A member that stops reading while another member sends it 60 KB offers. */
async function slowReaderAttack(server) {
  const roomId = token();
  const password = token();
  let joined;
  const reader = await rawSocket(server, {
    onText: (t, ws) => {
      if (t.startsWith("40{")) ws.send(`420["create-room",{"roomId":"${roomId}","password":"${password}"}]`);
      if (t.startsWith("430")) joined?.();
    },
  });
  reader.send("40");
  await new Promise((r) => {
    joined = r;
    setTimeout(r, 5000);
  });
  reader._socket.pause(); // from now on, nothing is read
  const readerId = await new Promise((resolve) => {
    const sender = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, localAddress: ATTACKER });
    sender.emit("join-room", { roomId, password }, (ack) => resolve({ sender, peer: ack.peers?.[0] }));
  });
  const sdp = "x".repeat(60_000);
  let sent = 0;
  const timer = setInterval(() => {
    if (!readerId.peer) return;
    readerId.sender.emit("offer", { sdp, targetSocketId: readerId.peer });
    sent++;
  }, 11); // under the default 100 events/s
  return {
    figures: () => `${sent} offers of 60 KB sent to a member that reads nothing`,
    stop: () => {
      clearInterval(timer);
      readerId.sender.close();
      reader.terminate();
    },
  };
}

/** Wrong passwords against one room, renewing the namespace after each. */
async function guessAttack(server) {
  const victim = await connectClient(server.url, "127.0.0.4");
  const roomId = token();
  await timedCall(victim, "create-room", { roomId, password: token() });
  const codes = {};
  const conns = [];
  for (let c = 0; c < 4; c++) {
    let n = 0;
    const ws = await rawSocket(server, {
      onText: (t, w) => {
        if (t.startsWith("40{")) w.send(`42${++n}["join-room",{"roomId":"${roomId}","password":"guess${c}-${n}"}]`);
        const ack = /^43\d+\[.*"code":"([A-Z_]+)"/.exec(t);
        if (ack) {
          codes[ack[1]] = (codes[ack[1]] || 0) + 1;
          w.send("41");
          w.send("40");
        }
      },
    });
    if (ws) {
      ws.send("40");
      conns.push(ws);
    }
  }
  const started = Date.now();
  return {
    // Issue 11: at most 10 checked wrong passwords per room per minute.
    check: () => (codes.BAD_PASSWORD || 0) <= 10 * Math.ceil((Date.now() - started) / 60_000),
    figures: () => `4 conns, answers: ${JSON.stringify(codes)} (BAD_PASSWORD = a password checked)`,
    stop: () => {
      conns.forEach((w) => w.terminate());
      victim.close();
    },
  };
}

/** create-room jobs pipelined over renewed namespaces on 10 connections. */
async function hashFloodAttack(server) {
  const conns = [];
  let sent = 0;
  const answers = {};
  for (let c = 0; c < 10; c++) {
    const ws = await rawSocket(server, {
      onText: (t) => {
        const m = /^43\d+\[\{"ok":(true|false)(?:.*"code":"([A-Z_]+)")?/.exec(t);
        if (m) answers[m[2] || "ok"] = (answers[m[2] || "ok"] || 0) + 1;
      },
    });
    if (ws) conns.push(ws);
  }
  const timer = setInterval(() => {
    for (const ws of conns) {
      for (let i = 0; i < 10; i++) {
        sendIfOpen(ws, "40");
        sendIfOpen(ws, `42${++sent}["create-room",{"roomId":"${token()}","password":"${token()}"}]`);
        sendIfOpen(ws, "41");
      }
    }
  }, 200);
  return {
    figures: () => `${sent} create-room sent, answers ${JSON.stringify(answers)}, ${conns.filter((w) => w.readyState === WebSocket.OPEN).length}/10 conns open`,
    stop: () => {
      clearInterval(timer);
      conns.forEach((w) => w.terminate());
    },
  };
}

/** As many connections as the fd limit allows, each a byte of request head every 5 s. */
async function slowlorisAttack(server) {
  const MAX = Number(process.env.SLOWLORIS_CONNS || 18_000);
  const sockets = [];
  let refused = 0;
  let closed = 0;
  let stopped = false;
  const open = () =>
    new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port: server.port, localAddress: ATTACKER });
      s.on("connect", () => {
        s.write("GET / HTTP/1.1\r\n");
        sockets.push(s);
        resolve();
      });
      s.on("error", () => {
        refused++;
        resolve();
      });
      s.on("close", () => closed++);
      s.resume();
    });
  const opening = (async () => {
    for (let i = 0; i < MAX && !stopped; i += 200) await Promise.all(Array.from({ length: 200 }, open));
  })();
  const drip = setInterval(() => sockets.forEach((s) => !s.destroyed && s.write("X")), 5000);
  await Promise.race([opening, sleep(RAMP_S * 1000)]);
  return {
    figures: () => `${sockets.length} conns opened, ${closed} closed by the server, ${refused} refused`,
    stop: async () => {
      stopped = true;
      clearInterval(drip);
      await opening;
      sockets.forEach((s) => s.destroy());
    },
  };
}

/** Engine.IO polling handshakes as fast as 20 keep-alive connections go. */
async function pollingAttack(server) {
  let opened = 0;
  let refused = 0;
  let stopped = false;
  const conns = [];
  for (let c = 0; c < 20; c++) {
    const s = net.connect({ host: "127.0.0.1", port: server.port, localAddress: ATTACKER });
    s.on("error", () => {});
    let buf = "";
    const ask = () => !stopped && !s.destroyed && s.write("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n".repeat(10));
    s.on("connect", ask);
    s.setEncoding("latin1");
    s.on("data", (d) => {
      buf += d;
      let n = 0;
      for (;;) {
        const head = buf.indexOf("\r\n\r\n");
        if (head < 0) break;
        const len = Number(/content-length: *(\d+)/i.exec(buf.slice(0, head))?.[1] || 0);
        if (buf.length < head + 4 + len) break;
        if (buf.startsWith("HTTP/1.1 200")) opened++;
        else refused++;
        buf = buf.slice(head + 4 + len);
        n++;
      }
      if (n > 0 && n % 10 === 0) ask();
    });
    conns.push(s);
  }
  return {
    figures: () => `${opened} sessions opened, ${refused} refused`,
    stop: () => {
      stopped = true;
      conns.forEach((s) => s.destroy());
    },
  };
}

/** Binary events that announce 10 attachments and send 9 of ~1 MB. */
async function binaryAttack(server) {
  const conns = [];
  let stopped = false;
  const frame = Buffer.alloc(999_000, 7);
  const placeholders = Array.from({ length: 10 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(",");
  const one = async () => {
    const ws = await rawSocket(server, {
      onText: (t, w) => {
        if (!t.startsWith("40{")) return;
        w.send(`4510-["x",${placeholders}]`);
        for (let i = 0; i < 9; i++) w.send(frame);
      },
    });
    if (ws) {
      ws.send("40");
      conns.push(ws);
    }
  };
  const opening = (async () => {
    for (let i = 0; i < 200 && !stopped; i++) {
      await one();
      await sleep(20);
    }
  })();
  return {
    figures: () => `${conns.length} conns, ${conns.filter((w) => w.readyState === WebSocket.OPEN).length} still open`,
    stop: async () => {
      stopped = true;
      await opening;
      conns.forEach((w) => w.terminate());
    },
  };
}

const ATTACK_IMPL = {
  none: async () => ({ figures: () => "no attack (the reference)", stop: () => {} }),
  pipeline: pipelineAttack,
  "slow-reader": slowReaderAttack,
  guess: guessAttack,
  "hash-flood": hashFloodAttack,
  slowloris: slowlorisAttack,
  polling: pollingAttack,
  binary: binaryAttack,
};

// ------------------------------------------------------------------ driver

function pct(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const ms = (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(1) : x.toFixed(0)) : "-");

async function runCase(name) {
  const server = await startServer();
  const pid = server.proc.pid;
  await sleep(300);
  const base = sample(pid);
  const samples = [];
  const sampler = setInterval(() => {
    const s = sample(pid);
    if (s) samples.push(s);
  }, 250);
  let attack;
  let error = "";
  const stats = { connect: [], create: [], join: [], relay: [], failures: [], rounds: 0 };
  try {
    attack = await startAttacker(name, server);
    await sleep(RAMP_S * 1000);
    const cpu0 = sample(pid)?.cpu ?? base.cpu;
    const end = Date.now() + WINDOW_S * 1000;
    while (Date.now() < end) await legitRound(server.url, stats);
    const cpu1 = sample(pid)?.cpu ?? cpu0;
    stats.cpuPct = ((cpu1 - cpu0) / WINDOW_S) * 100;
  } catch (err) {
    error = err.message;
  }
  clearInterval(sampler);
  const { figures, check: attackCheck } = attack ? await attack.stop() : { figures: "", check: true };
  const alive = server.proc.exitCode === null;
  await stopServer(server);
  const peakRss = Math.max(base.rss, ...samples.map((s) => s.rss));
  const peakFds = Math.max(base.fds, ...samples.map((s) => s.fds));
  const createJoin = [...stats.create, ...stats.join];
  const row = {
    attack: name,
    rounds: stats.rounds,
    failed: stats.failures.length,
    connect_p99: pct(stats.connect, 99),
    createjoin_p50: pct(createJoin, 50),
    createjoin_p99: pct(createJoin, 99),
    createjoin_max: createJoin.length ? Math.max(...createJoin) : NaN,
    relay_p50: pct(stats.relay, 50),
    relay_p99: pct(stats.relay, 99),
    rss_growth_mib: (peakRss - base.rss) / 2 ** 20,
    peak_rss: peakRss,
    cpu_pct: stats.cpuPct,
    fds: peakFds,
    alive,
    attackCheck,
    figures,
    error: error || [...new Set(stats.failures)].slice(0, 3).join("; "),
  };
  return row;
}

/** The verdict; memory is judged on what the attack adds to the reference's peak (Argon2id's 64 MiB per hashing thread is there without an attacker). */
function judge(row, reference) {
  row.over_reference_mib = (row.peak_rss - (reference?.peak_rss ?? row.peak_rss - row.rss_growth_mib * 2 ** 20)) / 2 ** 20;
  const pass =
    row.alive &&
    row.attackCheck &&
    row.rounds > 0 &&
    row.createjoin_max < 1000 &&
    row.relay_p99 < 50 &&
    row.over_reference_mib < 128 &&
    row.failed === 0;
  row.verdict = pass ? "meets" : "MISSES";
}

/** The attack in a child process: resolves once it runs; stop() ends it and returns its figures. */
function startAttacker(name, server) {
  const child = fork(fileURLToPath(import.meta.url), ["--attacker", name, server.url], { stdio: "inherit" });
  const reply = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`attacker ${name} did not answer in 30 s`));
      }, 30_000);
      child.once("message", (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.once("exit", (code) => reject(new Error(`attacker ${name} exited (${code})`)));
    });
  return reply().then(() => ({
    stop: async () => {
      const done = reply();
      child.send("stop");
      const m = await done;
      return { figures: m.figures, check: m.check };
    },
  }));
}

async function attackerMain(name, url) {
  const attack = await ATTACK_IMPL[name]({ url, port: Number(new URL(url).port) });
  process.send({ ready: true });
  process.once("message", async () => {
    const figures = attack.figures();
    const check = attack.check ? attack.check() : true;
    await attack.stop();
    process.send({ figures, check }, () => process.exit(0));
  });
}

if (process.argv[2] === "--attacker") {
  await attackerMain(process.argv[3], process.argv[4]);
} else {
  await main();
}

async function main() {
  const rows = [];
  console.log(`# abuse bench: ${new Date().toISOString()}, server ${path.relative(ROOT, SERVER)} ${SERVER_ARGS.join(" ")}`);
  console.log(`# window ${WINDOW_S} s per attack after ${RAMP_S} s ramp; targets: create/join < 1000 ms (max), relay p99 < 50 ms, RSS growth over the reference's peak < 128 MiB, no failed round`);
  console.log("| attack | rounds | failed | create/join p50 / p99 / max ms | relay p50 / p99 ms | connect p99 ms | RSS growth MiB (over reference) | server CPU % | peak fds | verdict | attacker |");
  console.log("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|");
  for (const name of ATTACKS) {
    if (!ATTACK_IMPL[name]) throw new Error(`unknown attack ${name}; known: ${ALL.join(",")}`);
    const r = await runCase(name);
    judge(r, rows.find((x) => x.attack === "none"));
    rows.push(r);
    console.log(
      `| ${r.attack} | ${r.rounds} | ${r.failed} | ${ms(r.createjoin_p50)} / ${ms(r.createjoin_p99)} / ${ms(r.createjoin_max)} | ${ms(r.relay_p50)} / ${ms(r.relay_p99)} | ${ms(r.connect_p99)} | ${r.rss_growth_mib.toFixed(1)} (${r.over_reference_mib.toFixed(1)}) | ${r.cpu_pct?.toFixed(0) ?? "-"} | ${r.fds} | ${r.verdict}${r.alive ? "" : " (server died)"} | ${r.figures}${r.error ? `; legit errors: ${r.error}` : ""} |`,
    );
  }
  process.exit(rows.every((r) => r.verdict === "meets") ? 0 : 1);
}
