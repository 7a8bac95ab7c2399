// The peerdrop CLI as a child process with --json: its events as they come,
// its stderr, its exit. Every wait is bounded.

import { spawn } from "node:child_process";
import readline from "node:readline";

/** Runs the CLI with --json; resolves events as they come, and the exit. */
export function runCli(cli, args) {
  const proc = spawn(cli, [...args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  const events = [];
  const waiters = [];
  let stderr = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d) => (stderr += d));
  readline.createInterface({ input: proc.stdout }).on("line", (line) => {
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    events.push(ev);
    for (const w of [...waiters]) if (w.pred(ev)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(ev);
    }
  });
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    proc,
    events,
    exited,
    stderr: () => stderr,
    waitFor(pred, ms = 60_000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`event not seen in ${ms} ms; stderr:\n${stderr}`)), ms).unref();
        exited.then(({ code }) => setTimeout(() => reject(new Error(`exited ${code} first; stderr:\n${stderr}`)), 200));
      });
    },
  };
}

