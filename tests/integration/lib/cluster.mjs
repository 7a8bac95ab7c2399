// Many nodes (issue 15): a real redis-server on a free loopback port, its
// own directory and no persistence; several real peerdrop-server nodes
// with --redis; HAProxy in front with deploy/haproxy.cfg. Every wait is
// bounded.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, DEFAULT_ARGS } from "./server.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const HAPROXY_CFG = path.resolve(HERE, "../../../deploy/haproxy.cfg");

/** The path of a program, or null when it is not installed. */
export function which(name) {
  for (const dir of ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", ...(process.env.PATH ?? "").split(":")]) {
    const p = path.join(dir, name);
    if (spawnSync("test", ["-x", p]).status === 0) return p;
  }
  return null;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Sends one command to Redis (a string: inline; an array: its arguments,
 *  binary-safe); resolves the reply's text once a line has come. */
export function redisCommand(port, line, timeout = 2000) {
  const wire = Array.isArray(line)
    ? `*${line.length}\r\n` + line.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")
    : line + "\r\n";
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis: no answer to ${line} within ${timeout} ms`));
    }, timeout);
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("data", (d) => {
      buf += d;
      // an array reply (KEYS) has one line per element: wait a moment for all
      if (buf.includes("\r\n") && (!buf.startsWith("*") || buf.split("\r\n").length > 2 * Number(buf.slice(1, buf.indexOf("\r"))))) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf);
      }
    });
    sock.write(wire);
  });
}

async function waitFor(fn, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A redis-server of its own; restart() keeps the port and loses the data. */
export async function startRedis() {
  const bin = which("redis-server");
  const dir = mkdtempSync(path.join(os.tmpdir(), "pd-redis-"));
  const port = await freePort();
  let proc;
  const up = async () => {
    proc = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", dir, "--daemonize", "no", "--loglevel", "warning"], { stdio: "ignore" });
    await waitFor(async () => (await redisCommand(port, "PING", 500)).startsWith("+PONG"), 10_000, "redis-server PING");
  };
  const down = async () => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await gone;
  };
  await up();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (line) => redisCommand(port, line),
    stop: down,
    start: up,
    async restart() {
      await down();
      await up();
    },
    async close() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A peerdrop-server node of the cluster. */
export function startNode(redisUrl, extraArgs = []) {
  return startServer({ args: [...DEFAULT_ARGS, "--redis", redisUrl, ...extraArgs] });
}

/** HAProxy with deploy/haproxy.cfg in front of the nodes' ports. */
export async function startHaproxy(nodePorts) {
  const port = await freePort();
  const env = { ...process.env, PD_LB_BIND: `127.0.0.1:${port}` };
  nodePorts.forEach((p, i) => (env[`PD_NODE${i + 1}`] = `127.0.0.1:${p}`));
  const proc = spawn(which("haproxy"), ["-db", "-f", HAPROXY_CFG], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 10_000, `haproxy up (${stderr})`);
  return {
    url,
    get stderr() {
      return stderr;
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await gone;
    },
  };
}
