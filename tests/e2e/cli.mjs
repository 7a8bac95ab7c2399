// Helpers for the terminal <-> browser tests: the real `peerdrop` CLI as a
// child process (--json events on stdout), streamed SHA-256 of files on
// disk, and a record of the browser's RTCPeerConnections so a test can tell
// which side offered and which DTLS role each side took.
//
// $PEERDROP_CLI names the binary; default build/peerdrop.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import readline from 'node:readline';
import { ROOT } from './lib.mjs';

export const CLI = process.env.PEERDROP_CLI ?? join(ROOT, 'build', 'peerdrop');

/** Runs `peerdrop ARGS --json`; collects events; waitFor(pred) resolves on the first match.
 * The debug log goes to stderr, which a failing test prints (summary()). */
export function cli(args) {
  const proc = spawn(CLI, [...args, '--log-level', 'debug', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events = [];
  const waiters = [];
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => (stderr += d));
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    events.push(ev);
    for (const w of [...waiters]) {
      if (w.pred(ev)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(ev);
      }
    }
  });
  let exitInfo = null;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve((exitInfo = { code, signal }))));
  const summary = () => `stderr:\n${stderr.slice(-3000)}\nevents: ${JSON.stringify(events.filter((e) => e.event !== 'progress')).slice(0, 3000)}`;
  return {
    proc,
    events,
    exited,
    summary,
    waitFor(pred, ms = 60_000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`CLI event not seen in ${ms} ms; ${summary()}`)), ms).unref();
        exited.then(({ code }) => setTimeout(() => reject(new Error(`CLI exited ${code} first; ${summary()}`)), 200).unref());
      });
    },
    /** Resolves the exit status; SIGKILLs the process after `ms`. */
    async exit(ms = 60_000) {
      const t = setTimeout(() => exitInfo === null && proc.kill('SIGKILL'), ms);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    kill() {
      if (exitInfo === null) proc.kill('SIGKILL');
    },
  };
}

export function sha256File(p) {
  const h = createHash('sha256');
  const fd = openSync(p, 'r');
  const buf = Buffer.alloc(1 << 20);
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
  }
  closeSync(fd);
  return h.digest('hex');
}

/** Writes `size` random bytes to `path` in 16 MiB blocks (each block differs); returns the SHA-256. */
export function generate(path, size) {
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  const block = randomBytes(Math.min(size, 16 << 20) || 1);
  for (let left = size, i = 0; left > 0; i++) {
    const b = block.subarray(0, Math.min(left, block.length));
    if (b.length >= 4) b.writeUInt32BE(i, 0);
    writeSync(fd, b);
    h.update(b);
    left -= b.length;
  }
  closeSync(fd);
  return h.digest('hex');
}

/** Relative path -> SHA-256 of every file under dir. */
export function hashTree(dir, base = dir, out = {}) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) hashTree(p, base, out);
    else out[relative(base, p)] = sha256File(p);
  }
  return out;
}

/* Keeps every RTCPeerConnection the page makes in window.__pcs. */
export const TRACK_PCS = `
  (() => {
    const Orig = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Orig {
      constructor(...a) {
        super(...a);
        window.__pcs.push(this);
      }
    };
  })();
`;

export async function trackPeerConnections(ctx) {
  await ctx.addInitScript(TRACK_PCS);
}

/** For each connected peer connection: who offered, the a=setup of both sides, the selected pair's candidate types. */
export async function roles(page) {
  return page.evaluate(async () => {
    const setup = (d) => /a=setup:(\w+)/.exec(d?.sdp ?? '')?.[1];
    const out = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      let pair = null;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      });
      out.push({
        browserDescription: pc.localDescription?.type,
        browserSetup: setup(pc.localDescription),
        remoteSetup: setup(pc.remoteDescription),
        local: pair && stats.get(pair.localCandidateId)?.candidateType,
        remote: pair && stats.get(pair.remoteCandidateId)?.candidateType,
      });
    }
    return out;
  });
}
