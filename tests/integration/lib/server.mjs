// Starts the real peerdrop-server as a child process for one test file.
//
// $PEERDROP_SERVER names the binary (ctest sets it to the built target). When
// it names a .mjs/.js file it is run with this node instead: that lets the
// same tests run against bench/reference/server.mjs, the Node oracle. Without
// the variable, ../../build/peerdrop-server is used.
//
// startServer({ conformance: "eio" | "sio" }) starts the test binary
// peerdrop-conformance-server instead ($PEERDROP_CONFORMANCE_SERVER, else
// next to the server binary): the same server with the official suites'
// fixtures in place of the signaling app (docs/server-cli.md).
//
// Readiness is the `listening url=...` line on stderr (docs/server-cli.md).
// stop() sends SIGTERM and asserts a clean exit (code 0) within 5 s, and that
// the log never contained a secret the test registered with secret(): the
// server runs at --log-level debug by default, so this is the "never log
// passwords, SDP bodies or TURN credentials" check (STYLE.md section 11).

import { spawn } from "node:child_process";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { randomBytes } from "node:crypto";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const DEFAULT_ARGS = ["--host", "127.0.0.1", "--port", "0", "--argon2", "min", "--log-level", "debug"];

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export function serverPath() {
  return process.env.PEERDROP_SERVER || path.resolve(HERE, "../../../build/peerdrop-server");
}

export function conformanceServerPath() {
  return (
    process.env.PEERDROP_CONFORMANCE_SERVER ||
    path.join(path.dirname(serverPath()), "peerdrop-conformance-server")
  );
}

/**
 * Start a server. `args` replaces the default arguments; `extraArgs` is
 * appended to them; `wrap` is a command prefix that execs the server;
 * `conformance` ("eio" or "sio") starts the conformance fixture binary
 * instead. Resolves once the readiness line was seen.
 */
export async function startServer(opts = {}) {
  // With --port 0 the kernel picks the port; when another process on this
  // machine has exhausted the ephemeral range (a load test), bind or listen
  // can fail with EADDRINUSE. That says nothing about the server: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(err.message)) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function startOnce({ args, extraArgs = [], env = {}, secrets = [], wrap = [], conformance } = {}) {
  const bin = conformance ? conformanceServerPath() : serverPath();
  const argv = [...(conformance ? [conformance] : []), ...(args ?? DEFAULT_ARGS), ...extraArgs];
  const isScript = /\.m?js$/.test(bin);
  // `wrap` runs the server under a command that execs it (e.g. prlimit
  // --nofile=N:N --), so the process and its signals stay the server's
  const cmd = [...wrap, ...(isScript ? [process.execPath, bin] : [bin]), ...argv];
  const proc = spawn(cmd[0], cmd.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });

  let stderr = "";
  let stdout = "";
  const secretList = [...secrets];
  const exited = new Promise((resolve) => {
    proc.on("exit", (code, signal) => resolve({ code, signal }));
  });
  let exitInfo = null;
  exited.then((info) => (exitInfo = info));
  proc.stdout.setEncoding("utf8");
  proc.stdout.on("data", (d) => (stdout += d));
  proc.stderr.setEncoding("utf8");

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`server did not print "listening url=" within ${START_TIMEOUT_MS} ms\n${stderr}`));
    }, START_TIMEOUT_MS);
    proc.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${err.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}):\n${stderr}`));
    });
    proc.stderr.on("data", (d) => {
      stderr += d;
      const m = /listening url=(https?:\/\/[^\s"]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ""));
      }
    });
  });

  const url = await ready;
  const port = Number(new URL(url).port);

  const server = {
    url,
    port,
    proc,
    /** Everything the server wrote to stderr so far. */
    get stderr() {
      return stderr;
    },
    get stdout() {
      return stdout;
    },
    /** Registers a value that must never appear in the log; returns it. */
    secret(value) {
      secretList.push(String(value));
      return value;
    },
    /** Asserts that no registered secret appeared in the log so far. */
    assertNoSecrets() {
      for (const s of secretList) {
        assert.ok(s.length >= 6, `secret too short to check: ${JSON.stringify(s)}`);
        assert.ok(!stderr.includes(s) && !stdout.includes(s), `server log contains a secret: ${JSON.stringify(s.slice(0, 40))}`);
      }
    },
    /** SIGTERM, then assert exit code 0 within 5 s and no secret in the log. */
    async stop() {
      if (exitInfo === null) proc.kill("SIGTERM");
      let timer;
      const result = await Promise.race([
        exited,
        new Promise((resolve) => {
          timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (result === null) {
        proc.kill("SIGKILL");
        await exited;
        assert.fail(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
      }
      assert.deepEqual(result, { code: 0, signal: null }, `server exit after SIGTERM\n${sanitizerReport(stderr) ?? stderr.slice(-2000)}`);
      server.assertNoSecrets();
    },
    /** Kill without checks (cleanup after a failure). */
    kill() {
      if (exitInfo === null) proc.kill("SIGKILL");
    },
  };
  return server;
}

/** The first sanitizer report in a log, trimmed to its useful head. */
function sanitizerReport(text) {
  const i = text.search(/==\d+==ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:/);
  if (i < 0) return null;
  return text.slice(Math.max(0, text.lastIndexOf("\n", i - 1)), i + 4000);
}

/** A random token, long enough to be found in a log without false hits. */
export function token(prefix = "") {
  return prefix + randomBytes(12).toString("hex");
}
