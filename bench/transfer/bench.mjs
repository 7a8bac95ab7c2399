// bench.mjs: the file-transfer benchmark (issue 4's and issue 3's Benchmark
// sections). Started by run.sh inside a network namespace whose only
// interface is lo; see README.md for what each figure means.
//
// Every case moves the same number of bytes on loopback and reports the
// throughput and the receiving process's peak memory; the references
// (raw Chromium, libdatachannel) run in the same invocation.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chmodSync } from 'node:fs';
import { createRoom, launch, ROOT, startServer } from '../../tests/e2e/lib.mjs';
import { admission } from '../../tests/integration/lib/admission.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MIB = 1 << 20;
const GIB = 1 << 30;
const SIZE = Math.round(Number(process.env.BENCH_SIZE_MB ?? 1024) * MIB);
const CLI = process.env.PEERDROP_CLI ?? join(ROOT, 'build', 'peerdrop');
const WORK = process.env.BENCH_WORK; // made by run.sh (tmpfs when it can)
const REPEAT = Math.max(1, Number(process.env.REPEAT ?? 1));
const QUIET_WAIT_S = Number(process.env.QUIET_WAIT ?? 20);
const MSG = 65536; // references: 64 KiB messages
const APP_CHUNKS = (process.env.BENCH_APP_CHUNKS ?? '16384,32768,65536').split(',').map(Number);
const ALL = ['ldc-ldc', 'raw-b2b', 'ldc-chromium', 'cli-cli', 'cli-chromium', 'cli-raw', 'chromium-cli', 'app-b2b'];
const CASES = (process.env.BENCH_CASES ?? ALL.join(',')).split(',').filter(Boolean);
// Loopback moves well over 10 MB/s, a shaped link (BENCH_LINK_MBIT) well
// over half its rate; anything slower than that is a failure.
const LINK_MBIT = Number(process.env.BENCH_LINK_MBIT) || 0;
const MIN_BYTES_PER_MS = LINK_MBIT ? Math.min(10e3, LINK_MBIT * 62.5) : 10e3;
// bench/wan sets its own bound (BENCH_TRANSFER_LIMIT_S): a long, lossy
// path moves under 1 MB/s, which is its figure, not a failure
const TRANSFER_TIMEOUT_MS = Number(process.env.BENCH_TRANSFER_LIMIT_S) * 1000 || 60_000 + SIZE / MIN_BYTES_PER_MS;

/* Over an emulated WAN link (bench/wan/bench.py): this process, the
 * server and every sending side run in namespace A, whose address is
 * BENCH_HOST; each receiving side (a browser through a wrapper script, the
 * CLI through nsenter) runs in namespace BENCH_NS_B, across the link. */
const NS_B = process.env.BENCH_NS_B;
const HOST = process.env.BENCH_HOST ?? '127.0.0.1';
const now = () => performance.timeOrigin + performance.now(); // wall clock, ms, shared with the pages
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('#', ...a);
if (!WORK) throw new Error('BENCH_WORK is not set: start through bench/transfer/run.sh');
process.env.TMPDIR = WORK; // Chromium profiles (and their OPFS) go there too

// ---- /proc ------------------------------------------------------------------

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) ?? [0, 0])[1]);
    return { hwm: kb('VmHWM') * 1024, rss: kb('VmRSS') * 1024 };
  } catch {
    return null; // gone
  }
}
/* One string: Chromium rewrites its argv, so NULs are not reliable separators. */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
/* Proportional set size: shared pages split between their users, so a sum
 * over a process tree counts each page once. */
function pss(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m)[1]) * 1024;
  } catch {
    return 0;
  }
}
function ppids() {
  const m = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      m.set(Number(d), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  return m;
}
function descendants(root) {
  const pp = ppids();
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of pp) if (ppid === out[i]) out.push(pid);
  return out;
}
function cpuBusy() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { busy: f.reduce((a, b) => a + b, 0) - idle, total: f.reduce((a, b) => a + b, 0) };
}
/* Waits (bounded) until the machine is under 15% busy, as bench/run.sh does. */
async function waitQuiet() {
  const end = Date.now() + QUIET_WAIT_S * 1000;
  for (;;) {
    const a = cpuBusy();
    await sleep(1000);
    const b = cpuBusy();
    const pct = (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
    if (pct < 15) return;
    if (Date.now() > end) {
      log(`machine still ${pct.toFixed(0)}% busy after ${QUIET_WAIT_S} s; measuring anyway`);
      return;
    }
  }
}

// ---- child processes with timestamped lines ------------------------------------

function run(cmd, args, name) {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  p.name = name;
  p.tSpawn = now();
  p.lines = [];
  p.waiters = new Set();
  p.tail = [];
  const onLine = (stream) => (line) => {
    const e = { t: now(), stream, line, j: null };
    if (line.startsWith('{')) {
      try {
        e.j = JSON.parse(line);
      } catch {}
    }
    if (!(e.j?.event === 'progress')) p.lines.push(e);
    p.tail.push(`${stream}: ${line}`);
    if (p.tail.length > 30) p.tail.shift();
    p.onLine?.(e);
    for (const w of p.waiters) w(e);
  };
  readline.createInterface({ input: p.stdout }).on('line', onLine('out'));
  readline.createInterface({ input: p.stderr }).on('line', onLine('err'));
  p.exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  p.exitInfo = null;
  p.exited.then((x) => (p.exitInfo = x));
  return p;
}

/** The first line (past or future) for which pred(e) holds. */
function waitLine(p, pred, ms, what) {
  const hit = p.lines.find(pred);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const done = (f, v) => {
      clearTimeout(t);
      p.waiters.delete(w);
      f(v);
    };
    const w = (e) => pred(e) && done(resolve, e);
    const t = setTimeout(() => done(reject, new Error(`${p.name}: no ${what} within ${ms} ms\n${p.tail.join('\n')}`)), ms);
    p.waiters.add(w);
    p.exited.then((x) => done(reject, new Error(`${p.name} exited (${x.code ?? x.signal}) before ${what}\n${p.tail.join('\n')}`)));
  });
}
/** Bounds any wait (page.evaluate has no timeout of its own). */
function within(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}
const step = (what) => process.env.BENCH_DEBUG && log(`  ${what}`);
const send = (p, o) => p.stdin.write(JSON.stringify(o) + '\n');

async function stop(p, ms = 10_000) {
  if (p.exitInfo) return p.exitInfo;
  p.stdin.end();
  const t = setTimeout(() => p.kill('SIGTERM'), ms);
  const x = await p.exited;
  clearTimeout(t);
  return x;
}

/** Polls memory: VmHWM (the kernel's own peak) of each process, and for a
 * process tree the largest sum of PSS seen (sampled, so a lower bound). */
function memWatch(pids, tree = false) {
  const w = { hwm: 0, pssSum: 0 };
  const tick = () => {
    let sum = 0;
    for (const pid of typeof pids === 'function' ? pids() : pids) {
      const s = procStatus(pid);
      if (!s) continue;
      w.hwm = Math.max(w.hwm, s.hwm);
      if (tree) sum += pss(pid);
    }
    w.pssSum = Math.max(w.pssSum, sum);
  };
  tick();
  const iv = setInterval(tick, tree ? 500 : 200);
  w.stop = () => {
    tick();
    clearInterval(iv);
    return w;
  };
  return w;
}

/* CPU seconds (user + system) used so far by the processes `pids` lists.
 * Steadier than MB/s on a shared VM: a neighbour's load slows a run down but
 * hardly changes what it costs. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of typeof pids === 'function' ? pids() : pids) {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / 100; // USER_HZ
}
/* Where a browser's CPU goes, by process and thread: "renderer/CrRendererMain"
 * (the page's JavaScript), "renderer/DedicatedWorker" (the app's storage
 * worker), "renderer/ThreadPoolForeg" (WebCrypto digests), "browser/..."
 * (file reads, IPC), "utility:network/..." (sockets) and so on. Thread names
 * ending in a number are one name. Values: CPU seconds (user + system). */
function cpuByThread(pids) {
  const out = {};
  for (const pid of typeof pids === 'function' ? pids() : pids) {
    const cmd = cmdline(pid);
    const type = cmd.match(/--type=(\S+)/)?.[1] ?? 'browser';
    const sub = cmd.match(/--utility-sub-type=(?:\w+\.mojom\.)?(\w+)/)?.[1];
    const proc = type === 'utility' && sub ? `utility:${sub}` : type;
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tasks) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/[\d/]+$/, '');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        const key = `${proc}/${comm}`;
        out[key] = (out[key] ?? 0) + (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        /* gone */
      }
    }
  }
  return out;
}
/* CPU seconds both browsers spend from now to stop(); split(): the same by
 * side ("A:" sender, "B:" receiver), process and thread (cpuByThread). */
function cpuWatch(...browsers) {
  const t0 = browsers.map((b) => cpuSeconds(b.all));
  const threads0 = browsers.map((b) => cpuByThread(b.all));
  let split = null;
  return {
    stop: () => {
      split = {};
      browsers.forEach((b, i) => {
        const now = cpuByThread(b.all);
        for (const [k, v] of Object.entries(now)) {
          const d = v - (threads0[i][k] ?? 0);
          if (d > 0) split[`${'AB'[i]}:${k}`] = d;
        }
      });
      return browsers.reduce((s, b, i) => s + cpuSeconds(b.all) - t0[i], 0);
    },
    split: () => split,
  };
}

// ---- inputs ----------------------------------------------------------------------

async function makeFile(path, size) {
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  const block = randomBytes(16 * MIB);
  for (let left = size, i = 0; left > 0; i++) {
    const b = block.subarray(0, Math.min(left, block.length));
    b.writeUInt32BE(i, 0); // every block differs
    writeSync(fd, b);
    h.update(b);
    left -= b.length;
  }
  closeSync(fd);
  return h.digest('hex');
}
async function sha256File(path) {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 * MIB })) h.update(c);
  return h.digest('hex');
}

// ---- Chromium ----------------------------------------------------------------

/* Launches one browser through tests/e2e/lib.mjs and finds its process
 * tree: the chromium processes this node process spawned meanwhile. */
async function browser(side = 'A') {
  const before = new Set([...ppids().entries()].filter(([, pp]) => pp === process.pid).map(([p]) => p));
  const b = await launch(browserOpts(side));
  b.root = [...ppids().entries()]
    .filter(([p, pp]) => pp === process.pid && !before.has(p) && /chrom/.test(cmdline(p).split(' ')[0]))
    .map(([p]) => p)[0];
  if (!b.root) {
    await b.close();
    throw new Error('cannot find the Chromium process');
  }
  // page renderers; headless also runs a WebUI renderer of its own
  b.renderers = () => descendants(b.root).filter((p) => /--type=renderer/.test(cmdline(p)) && !/--top-chrome-webui/.test(cmdline(p)));
  b.all = () => descendants(b.root);
  return b;
}

/* Launch options for a browser on `side`. Off loopback, http://HOST is not
 * a secure context (no crypto.subtle): the flag makes the bench's own
 * origins count as one. A wrapper script enters namespace B and execs
 * Chromium, so its process is still this process's child. */
let chromiumInB = null;
let secureOrigins = [];
function browserOpts(side) {
  const extraArgs = secureOrigins.length ? [`--unsafely-treat-insecure-origin-as-secure=${secureOrigins.join(',')}`] : [];
  if (side !== 'B' || !NS_B) return { extraArgs };
  if (!chromiumInB) {
    chromiumInB = join(WORK, 'chromium-in-b');
    writeFileSync(chromiumInB, `#!/bin/sh\nexec nsenter --net=${NS_B} ${process.env.CHROMIUM ?? '/usr/bin/chromium'} "$@"\n`);
    chmodSync(chromiumInB, 0o755);
  }
  return { extraArgs, executablePath: chromiumInB };
}

function rendererPeak(b) {
  const r = b.renderers().map((p) => procStatus(p)?.hwm ?? 0);
  return r.length ? Math.max(...r) : null;
}

let blankUrl = null;
async function blankServer() {
  const srv = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><meta charset="utf-8"><title>raw data channel</title>');
  });
  await new Promise((r) => srv.listen(0, HOST, r));
  blankUrl = `http://${HOST}:${srv.address().port}/`;
  return srv;
}
async function rawPage(side) {
  const b = await browser(side);
  await b.page.goto(blankUrl);
  await b.page.addScriptTag({ path: join(HERE, 'raw_page.js') });
  return b;
}
/* The protocol stub of cli-raw: a blank page with socket.io-client (the
 * build the web app depends on, from web/node_modules) and proto_page.js. */
const SIO_CLIENT = join(ROOT, 'web', 'node_modules', 'socket.io-client', 'dist', 'socket.io.min.js');
async function protoPage() {
  if (!existsSync(SIO_CLIENT)) throw new Error(`no ${SIO_CLIENT}: cd web && npm ci`);
  const b = await browser('B');
  await b.page.goto(blankUrl);
  await b.page.addScriptTag({ path: SIO_CLIENT });
  await b.page.addScriptTag({ path: join(HERE, 'proto_page.js') });
  return b;
}

/* Web app pages: record the largest binary message each side sends, and on
 * the receiver optionally advertise a smaller maxMsg in the protocol's hello,
 * which makes the sending app cut its data messages to that size
 * (docs/protocol.md: msgSize = min(sender's preference, receiver's maxMsg)).
 * The app has no setting for its chunk size; this is the only knob. */
const APP_SHIM = `
  (() => {
    window.__benchMaxBin = 0;
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (d) {
      if (typeof d === 'string') {
        if (window.__benchMaxMsg && d.startsWith('{"t":"hello"')) d = d.replace(/"maxMsg":\\d+/, '"maxMsg":' + window.__benchMaxMsg);
      } else {
        const n = d.byteLength ?? d.size;
        if (n > window.__benchMaxBin) window.__benchMaxBin = n;
      }
      return send.call(this, d);
    };
  })();
`;
async function appPage(chunk) {
  const b = await browser('B');
  await b.ctx.addInitScript(APP_SHIM);
  if (chunk) await b.ctx.addInitScript(`window.__benchMaxMsg = ${chunk};`);
  return b;
}
/* Above the app's default of 64 KiB, the sender is asked to prefer larger
 * messages instead (window.__peerdropMsgSize, read by web/src/app/channel.ts);
 * the receiving app advertises 262144. */
async function appSender(chunk) {
  const b = await browser('A');
  await b.ctx.addInitScript(APP_SHIM);
  if (chunk > 65536) await b.ctx.addInitScript(`window.__peerdropMsgSize = ${chunk};`);
  return b;
}
const peerConnected = (page) => page.locator('[data-testid=peer][data-state=CONNECTED]').first().waitFor({ timeout: 30_000 });
/** Waits until the page's incoming transfer ends; returns its snapshot. */
async function appReceived(page) {
  const h = await page.waitForFunction(
    () => {
      const t = window.peerdrop.getSnapshot().transfers.find((x) => x.dir === 'in');
      return t && ['COMPLETED', 'ERROR', 'CANCELLED', 'INTERRUPTED'].includes(t.state) ? { state: t.state, bytes: t.bytes, error: t.error ?? null } : null;
    },
    null,
    { timeout: TRANSFER_TIMEOUT_MS, polling: 50 },
  );
  const r = await h.jsonValue();
  if (r.state !== 'COMPLETED') throw new Error(`web app transfer ended ${r.state}: ${r.error}`);
  return r;
}
async function opfsSize(page, name) {
  const size = page.evaluate(async (n) => {
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('received', { create: true });
    return (await (await d.getFileHandle(n)).getFile()).size;
  }, name);
  return within(size, 20_000, 'OPFS file size');
}
async function closeBrowser(b) {
  if (!b) return;
  try {
    await within(b.page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry('received', { recursive: true }).catch(() => {})), 20_000, 'OPFS clean-up');
  } catch {}
  await within(b.close(), 30_000, 'browser close').catch((e) => {
    log(e.message);
    try {
      process.kill(b.root, 'SIGKILL');
    } catch {}
  });
}

// ---- the peerdrop CLI --------------------------------------------------------

const OPEN_RE = /rtc: channel open on stream \d+ after ([\d.]+) ms/;
const STEP_RE = /rtc: (ICE connected|DTLS up|SCTP up) after ([\d.]+) ms/;
function rtcSteps(p) {
  const o = {};
  for (const e of p.lines) {
    const m = e.line.match(STEP_RE);
    if (m) o[m[1].split(' ')[0].toLowerCase()] = Number(m[2]);
    const c = e.line.match(OPEN_RE);
    if (c) o.open = Number(c[1]);
  }
  return o;
}
function cliSend(server, file) {
  return run(CLI, ['send', file, '--server', server, '--count', '1', '--json', '--log-level', 'debug'], 'peerdrop send');
}
/* The receiver's figures, all from the outside: the --json events and the
 * debug log lines, timestamped as they arrive here. */
function cliReceive(link, outDir) {
  mkdirSync(outDir, { recursive: true });
  const argv = [CLI, 'receive', link, '--yes', '-o', outDir, '--json', '--log-level', 'debug'];
  const p = NS_B ? run('nsenter', [`--net=${NS_B}`, ...argv], 'peerdrop receive') : run(argv[0], argv.slice(1), 'peerdrop receive');
  p.mem = memWatch([p.pid]);
  p.onLine = (e) => {
    // VmHWM right at "done", before the process starts tearing down
    if (e.j?.event === 'done') p.mem.stop();
  };
  return p;
}
async function cliReceiverResult(r, outDir, name, digest) {
  const opened = await waitLine(r, (e) => e.stream === 'err' && /data channel open/.test(e.line), 60_000, 'open data channel');
  const offer = await waitLine(r, (e) => e.j?.event === 'offer', 60_000, 'offer event');
  const done = await waitLine(r, (e) => e.j?.event === 'done' || e.j?.event === 'error' || e.j?.event === 'cancelled', TRANSFER_TIMEOUT_MS, 'done event');
  if (done.j.event !== 'done') throw new Error(`receiver: ${done.line}`);
  const x = await r.exited;
  r.mem.stop();
  if (x.code !== 0) throw new Error(`peerdrop receive exited ${x.code ?? x.signal}\n${r.tail.join('\n')}`);
  const out = join(outDir, name);
  const size = statSync(out).size;
  const ok = size === SIZE && (await sha256File(out)) === digest;
  rmSync(outDir, { recursive: true, force: true });
  if (!ok) throw new Error(`received file differs (size ${size})`);
  return {
    mbps: SIZE / 1e6 / ((done.t - offer.t) / 1000),
    recvPeak: r.mem.hwm,
    openSpawnMs: opened.t - r.tSpawn,
    recvSteps: rtcSteps(r),
  };
}

// ---- cases ---------------------------------------------------------------------

const cases = {};

// libdatachannel <-> libdatachannel: two node processes.
cases['ldc-ldc'] = async () => {
  const a = run(process.execPath, [join(HERE, 'ndc_peer.mjs')], 'ndc sender');
  const b = run(process.execPath, [join(HERE, 'ndc_peer.mjs')], 'ndc receiver');
  const mem = memWatch([b.pid]);
  try {
    send(a, { cmd: 'offer' });
    const offer = await waitLine(a, (e) => e.j?.type === 'offer', 20_000, 'offer');
    send(b, { cmd: 'answer', sdp: offer.j.sdp });
    const answer = await waitLine(b, (e) => e.j?.type === 'answer', 20_000, 'answer');
    send(a, { cmd: 'remote', sdp: answer.j.sdp });
    const open = await waitLine(a, (e) => e.j?.type === 'open', 20_000, 'open');
    send(b, { cmd: 'recv', bytes: SIZE });
    send(a, { cmd: 'send', bytes: SIZE, msg: MSG });
    const r = await waitLine(b, (e) => e.j?.type === 'recv', TRANSFER_TIMEOUT_MS, 'all bytes');
    const s = await waitLine(a, (e) => e.j?.type === 'sent', 10_000, 'sent');
    mem.stop();
    return { mbps: SIZE / 1e6 / ((r.j.tLast - s.j.t0) / 1000), recvPeak: mem.hwm, openMs: open.j.ms };
  } finally {
    mem.stop();
    await Promise.all([stop(a), stop(b)]);
  }
};

// Raw Chromium <-> raw Chromium: two browsers, no app code.
cases['raw-b2b'] = async () => {
  let a, b;
  try {
    a = await rawPage('A');
    b = await rawPage('B');
    step('browsers up');
    const offer = await within(a.page.evaluate(() => raw.offer()), 20_000, 'offer');
    const answer = await within(b.page.evaluate((sdp) => raw.answer(sdp), offer), 20_000, 'answer');
    await within(a.page.evaluate((sdp) => raw.remote(sdp), answer), 20_000, 'remote description');
    await within(Promise.all([a.page.evaluate(() => raw.waitOpen()), b.page.evaluate(() => raw.waitOpen())]), 20_000, 'open channel');
    step('open');
    const mem = memWatch(b.all, true);
    const cpu = cpuWatch(a, b);
    const recv = within(b.page.evaluate((n) => raw.recv(n), SIZE), TRANSFER_TIMEOUT_MS, 'all bytes');
    const s = await within(a.page.evaluate(([n, m]) => raw.send(n, m), [SIZE, MSG]), TRANSFER_TIMEOUT_MS, 'send');
    step('sent');
    const r = await recv;
    const cpuS = cpu.stop();
    mem.stop();
    return { mbps: SIZE / 1e6 / ((r.tLast - s.t0) / 1000), recvPeak: rendererPeak(b), treePeak: mem.pssSum, cpuS, cpuSplit: cpu.split() };
  } finally {
    await closeBrowser(a);
    await closeBrowser(b);
  }
};

// libdatachannel -> raw Chromium.
cases['ldc-chromium'] = async () => {
  let b;
  const a = run(process.execPath, [join(HERE, 'ndc_peer.mjs')], 'ndc sender');
  try {
    b = await rawPage('B');
    send(a, { cmd: 'offer' });
    const offer = await waitLine(a, (e) => e.j?.type === 'offer', 20_000, 'offer');
    const answer = await within(b.page.evaluate((sdp) => raw.answer(sdp), offer.j.sdp), 20_000, 'answer');
    send(a, { cmd: 'remote', sdp: answer });
    await waitLine(a, (e) => e.j?.type === 'open', 20_000, 'open');
    await within(b.page.evaluate(() => raw.waitOpen()), 20_000, 'open channel');
    const mem = memWatch(b.all, true);
    const recv = within(b.page.evaluate((n) => raw.recv(n), SIZE), TRANSFER_TIMEOUT_MS, 'all bytes');
    send(a, { cmd: 'send', bytes: SIZE, msg: MSG });
    const r = await recv;
    const s = await waitLine(a, (e) => e.j?.type === 'sent', 10_000, 'sent');
    mem.stop();
    return { mbps: SIZE / 1e6 / ((r.tLast - s.j.t0) / 1000), recvPeak: rendererPeak(b), treePeak: mem.pssSum };
  } finally {
    await stop(a);
    await closeBrowser(b);
  }
};

let server = null;
let FILE = null;
let DIGEST = null;

cases['cli-cli'] = async () => {
  const s = cliSend(server.url, FILE);
  let r;
  try {
    const room = await waitLine(s, (e) => e.j?.event === 'room', 20_000, 'room event');
    const outDir = join(WORK, 'out-cli');
    r = cliReceive(room.j.link, outDir);
    const res = await cliReceiverResult(r, outDir, 'big.bin', DIGEST);
    const x = await s.exited;
    if (x.code !== 0) throw new Error(`peerdrop send exited ${x.code ?? x.signal}\n${s.tail.join('\n')}`);
    return { ...res, sendSteps: rtcSteps(s) };
  } finally {
    if (r) await stop(r);
    await stop(s);
  }
};

cases['cli-chromium'] = async () => {
  const s = cliSend(server.url, FILE);
  let b;
  try {
    const room = await waitLine(s, (e) => e.j?.event === 'room', 20_000, 'room event');
    b = await appPage(0);
    await b.page.goto(room.j.link);
    await peerConnected(b.page);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    const t0 = now();
    const mem = memWatch(b.all, true);
    const got = await appReceived(b.page);
    const t1 = now();
    mem.stop();
    const recvPeak = rendererPeak(b);
    const size = await opfsSize(b.page, 'big.bin');
    if (size !== SIZE || got.bytes !== SIZE) throw new Error(`Chromium holds ${size} bytes`);
    const x = await s.exited;
    if (x.code !== 0) throw new Error(`peerdrop send exited ${x.code ?? x.signal}\n${s.tail.join('\n')}`);
    const sendSteps = rtcSteps(s);
    return { mbps: SIZE / 1e6 / ((t1 - t0) / 1000), recvPeak, treePeak: mem.pssSum, openMs: sendSteps.open, sendSteps };
  } finally {
    await stop(s);
    await closeBrowser(b);
  }
};

// peerdrop send -> a raw Chromium page that speaks the transfer protocol
// (proto_page.js): the CLI sender against a receiver that neither hashes nor
// stores, i.e. cli-chromium without the web app's work.
cases['cli-raw'] = async () => {
  const s = cliSend(server.url, FILE);
  let b, mem;
  try {
    const room = await waitLine(s, (e) => e.j?.event === 'room', 20_000, 'room event');
    b = await protoPage();
    mem = memWatch(b.all, true);
    // the server takes the admission value, never the link's key (issue 14)
    const pw = await admission(room.j.password, room.j.roomId);
    await within(b.page.evaluate(([u, id, p]) => proto.join(u, id, p), [server.url, room.j.roomId, pw]), 20_000, 'join-room');
    step('joined');
    await within(b.page.evaluate(() => proto.waitOpen()), 60_000, 'open channel');
    step('open');
    const r = await within(b.page.evaluate(() => proto.received()), TRANSFER_TIMEOUT_MS, 'whole file');
    mem.stop();
    const recvPeak = rendererPeak(b);
    if (r.bytes !== SIZE || r.files.length !== 1 || r.files[0].size !== SIZE) throw new Error(`Chromium counted ${r.bytes} bytes in ${r.files.length} file(s)`);
    // the stub trusts the sender's hash; at least it must be the source file's
    if (r.sha256[0] !== DIGEST) throw new Error(`sender's end.sha256 ${r.sha256[0]} is not the file's`);
    const x = await within(s.exited, 30_000, 'peerdrop send exit');
    if (x.code !== 0) throw new Error(`peerdrop send exited ${x.code ?? x.signal}\n${s.tail.join('\n')}`);
    const sendSteps = rtcSteps(s);
    return { mbps: SIZE / 1e6 / ((r.tLast - r.tFirst) / 1000), recvPeak, treePeak: mem.pssSum, openMs: sendSteps.open, sendSteps };
  } finally {
    mem?.stop();
    await stop(s);
    await closeBrowser(b);
  }
};

cases['chromium-cli'] = async () => {
  let a, r;
  try {
    a = await appSender(0);
    const link = await createRoom(a.page, server.url);
    const outDir = join(WORK, 'out-chromium');
    r = cliReceive(link, outDir);
    await peerConnected(a.page);
    await a.page.getByTestId('file-input').setInputFiles(FILE);
    const res = await cliReceiverResult(r, outDir, 'big.bin', DIGEST);
    return { ...res, chunk: await within(a.page.evaluate(() => window.__benchMaxBin), 10_000, 'chunk size') };
  } finally {
    if (r) await stop(r);
    await closeBrowser(a);
  }
};

/* BENCH_JS_PROFILE=1: the V8 CPU profile of both pages during the app's
 * transfer (DevTools protocol), printed as self time per function, the
 * busiest first: what the app's JavaScript spends beyond raw Chromium. */
async function jsProfile(pages) {
  if (process.env.BENCH_JS_PROFILE !== '1') return null;
  const sessions = [];
  for (const p of pages) {
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
    sessions.push(cdp);
  }
  return async () => {
    const out = [];
    for (const cdp of sessions) {
      const { profile } = await cdp.send('Profiler.stop');
      // self time per node: its samples × the mean interval
      const dt = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length); // ms
      const hits = new Map();
      for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
      const self = new Map();
      for (const n of profile.nodes) {
        const f = n.callFrame;
        const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) ?? 0) + (hits.get(n.id) ?? 0) * dt);
      }
      out.push([...self].sort((x, y) => y[1] - x[1]).slice(0, 25));
      await cdp.detach();
    }
    return out;
  };
}

async function appB2b(chunk) {
  let a, b;
  try {
    a = await appSender(chunk);
    b = await appPage(chunk > 65536 ? 0 : chunk);
    const link = await createRoom(a.page, server.url);
    await b.page.goto(link);
    await peerConnected(a.page);
    await peerConnected(b.page);
    await a.page.getByTestId('file-input').setInputFiles(FILE);
    await b.page.getByTestId('accept').click({ timeout: 30_000 });
    const t0 = now();
    const mem = memWatch(b.all, true);
    const cpu = cpuWatch(a, b);
    const profiling = await jsProfile([a.page, b.page]);
    const got = await appReceived(b.page);
    const t1 = now();
    const cpuS = cpu.stop();
    mem.stop();
    if (profiling) {
      const [pa, pb] = await profiling();
      for (const [side, top] of [['A (sender)', pa], ['B (receiver)', pb]]) {
        console.error(`# JS self time, ${side}, ms per GiB:`);
        for (const [k, ms] of top) console.error(`#   ${((ms * GIB) / SIZE).toFixed(0).padStart(7)}  ${k}`);
      }
    }
    const recvPeak = rendererPeak(b);
    const size = await opfsSize(b.page, 'big.bin');
    if (size !== SIZE || got.bytes !== SIZE) throw new Error(`receiver holds ${size} bytes`);
    return { mbps: SIZE / 1e6 / ((t1 - t0) / 1000), recvPeak, treePeak: mem.pssSum, cpuS, cpuSplit: cpu.split(), chunk: await within(a.page.evaluate(() => window.__benchMaxBin), 10_000, 'chunk size') };
  } finally {
    await closeBrowser(a);
    await closeBrowser(b);
  }
}

// ---- driver and report -------------------------------------------------------------

const median = (xs) => {
  const s = xs.filter((x) => x != null && !Number.isNaN(x)).sort((p, q) => p - q);
  return s.length ? s[(s.length - 1) >> 1] : null;
};

/* Runs every case REPEAT times, round robin (each case once, then again):
 * this VM's speed drifts from minute to minute (neighbours' load), so a case
 * and its reference compare best within one round. A reference that fails
 * is retried once (said in the log); a failure of peerdrop is a finding,
 * reported as it is, and that case runs no more. */
async function measureAll(jobs) {
  const st = jobs.map((j) => ({ ...j, runs: [], retried: false, error: null }));
  for (let i = 0; i < REPEAT; i++) {
    for (const j of st) {
      while (!j.error) {
        await waitQuiet();
        const t = Date.now();
        try {
          const r = await j.fn();
          j.runs.push({ round: i + 1, ...r });
          log(`${j.label} [${i + 1}/${REPEAT}] ${JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
          break;
        } catch (e) {
          log(`${j.label} [${i + 1}/${REPEAT}] FAILED: ${e.message}`);
          if (/\(ref\)/.test(j.label) && !j.retried) {
            j.retried = true;
            continue;
          }
          j.error = e.message.split('\n')[0];
        }
      }
    }
  }
  return st.map(summarize);
}

// the CPU split of each run averaged per key (a key missing from a run is 0 there)
function meanSplit(splits) {
  if (!splits.length) return null;
  const sum = {};
  for (const sp of splits) for (const [k, v] of Object.entries(sp)) sum[k] = (sum[k] ?? 0) + v;
  for (const k of Object.keys(sum)) sum[k] /= splits.length;
  return sum;
}

// median throughput, open time and CPU; the largest memory peak
function summarize({ key, label, runs, error }) {
  const pick = (k, f) => f(runs.map((r) => r[k]));
  const max = (xs) => (xs.some((x) => x != null) ? Math.max(...xs.filter((x) => x != null)) : null);
  const out = {
    key,
    label,
    runs,
    mbps: pick('mbps', median),
    recvPeak: pick('recvPeak', max),
    treePeak: pick('treePeak', max),
    openSpawnMs: pick('openSpawnMs', median),
    openMs: pick('openMs', median),
    cpuS: pick('cpuS', median),
    cpuSplit: meanSplit(runs.map((r) => r.cpuSplit).filter(Boolean)),
    chunk: runs[0]?.chunk,
    recvSteps: runs[0]?.recvSteps,
    sendSteps: runs[0]?.sendSteps,
  };
  return error ? { ...out, error } : out;
}

/* MB/s of `r` over `ref`'s in the same round, for every round both ran. */
function roundRatios(r, ref) {
  const out = [];
  for (const x of r?.runs ?? []) {
    const y = ref?.runs.find((q) => q.round === x.round);
    if (x.mbps && y?.mbps) out.push(x.mbps / y.mbps);
  }
  return out;
}

const fmt = (x, d = 1) => (x == null ? '-' : x.toFixed(d));
const mib = (x) => (x ? (x / MIB).toFixed(1) : '-');

function report(res) {
  const get = (k) => res.find((r) => r.key === k);
  const ldc = get('ldc-ldc');
  const ldcChr = get('ldc-chromium');
  const raw = get('raw-b2b');
  const ratio = (a, b) => (a?.mbps && b?.mbps ? (a.mbps / b.mbps).toFixed(2) : '-');
  const verdict = (ok) => (ok == null ? '' : ok ? 'ok' : 'MISSED');
  const rows = [];
  const row = (r, target, ok) =>
    rows.push([r.label, r.error ? 'FAILED' : fmt(r.mbps), mib(r.recvPeak), r.openSpawnMs != null ? fmt(r.openSpawnMs, 0) : r.openMs != null ? fmt(r.openMs, 0) : '-', target, r.error ? 'FAILED' : verdict(ok)]);
  for (const r of res) {
    if (r.error) {
      row(r, '', null);
      continue;
    }
    switch (r.key) {
      case 'cli-cli': {
        const floor = Math.max(100, ldc?.mbps ?? 0);
        row(r, `>= max(100, ldc<->ldc ${fmt(ldc?.mbps)}) MB/s: x${ratio(r, ldc)}; RSS < 64 MiB; open < 300 ms`, r.mbps >= floor && r.recvPeak < 64 * MIB && r.openSpawnMs < 300);
        break;
      }
      case 'cli-chromium':
      case 'cli-raw':
        row(r, `>= ldc->Chromium ${fmt(ldcChr?.mbps)} MB/s: x${ratio(r, ldcChr)}`, ldcChr?.mbps ? r.mbps >= ldcChr.mbps : null);
        break;
      case 'chromium-cli':
        row(r, `>= ldc->Chromium ${fmt(ldcChr?.mbps)} MB/s: x${ratio(r, ldcChr)}; RSS < 64 MiB; open < 300 ms`, (ldcChr?.mbps ? r.mbps >= ldcChr.mbps : true) && r.recvPeak < 64 * MIB && r.openSpawnMs < 300);
        break;
      default:
        if (r.key.startsWith('app-b2b')) {
          // judged on the median of the per-round ratios (see measureAll)
          const rr = roundRatios(r, raw);
          const m = median(rr);
          const each = rr.length > 1 ? ` (rounds: ${rr.map((x) => 'x' + x.toFixed(2)).join(', ')})` : '';
          row(r, `>= raw Chromium ${fmt(raw?.mbps)} MB/s: x${m == null ? ratio(r, raw) : m.toFixed(2)}${each}`, m == null ? (raw?.mbps ? r.mbps >= raw.mbps : null) : m >= 1);
        }
        else row(r, 'reference', null);
    }
  }
  const head = ['case', 'MB/s', 'recv peak MiB', 'open ms', 'target (issues 3, 4)', ''];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => '| ' + r.map((c, i) => String(c).padEnd(w[i])).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const r of res) {
    const extra = [];
    if (r.chunk) extra.push(`data message ${r.chunk} B`);
    if (r.cpuS) extra.push(`both browsers ${fmt((r.cpuS * GIB) / SIZE)} CPU s per GiB`);
    if (r.treePeak) extra.push(`whole browser peak PSS ${mib(r.treePeak)} MiB`);
    if (r.recvSteps && Object.keys(r.recvSteps).length) extra.push(`receiver rtc ms since its peer was created ${JSON.stringify(r.recvSteps)}`);
    if (r.sendSteps && Object.keys(r.sendSteps).length) extra.push(`sender rtc ms ${JSON.stringify(r.sendSteps)}`);
    if (r.error) extra.push(`error: ${r.error}`);
    if (extra.length) console.log(`  ${r.label}: ${extra.join('; ')}`);
  }
  printCpuSplit(res);
}

/* BENCH_CPU_SPLIT=1: CPU s per GiB by side, process and thread, one column
 * per case, the busiest first (what the app spends beyond raw Chromium, and
 * where). */
function printCpuSplit(res) {
  if (process.env.BENCH_CPU_SPLIT !== '1') return;
  const cases = res.filter((r) => r.cpuSplit);
  if (!cases.length) return;
  const perGib = (r, k) => ((r.cpuSplit[k] ?? 0) * GIB) / SIZE;
  const keys = [...new Set(cases.flatMap((r) => Object.keys(r.cpuSplit)))]
    .filter((k) => cases.some((r) => perGib(r, k) >= 0.5))
    .sort((x, y) => Math.max(...cases.map((r) => perGib(r, y))) - Math.max(...cases.map((r) => perGib(r, x))));
  console.log('');
  console.log(`CPU s per GiB by side (A sender, B receiver), process and thread (mean of rounds; >= 0.5 in a case):`);
  console.log(`| thread | ${cases.map((r) => r.label).join(' | ')} |`);
  console.log(`|---|${cases.map(() => '---:').join('|')}|`);
  for (const k of keys) console.log(`| ${k} | ${cases.map((r) => fmt(perGib(r, k))).join(' | ')} |`);
  const total = (r) => Object.keys(r.cpuSplit).reduce((s, k) => s + perGib(r, k), 0);
  console.log(`| all | ${cases.map((r) => fmt(total(r))).join(' | ')} |`);
}

async function main() {
  const res = [];
  const labels = {
    'ldc-ldc': 'libdatachannel -> libdatachannel (ref)',
    'raw-b2b': 'raw Chromium -> raw Chromium (ref)',
    'ldc-chromium': 'libdatachannel -> raw Chromium (ref)',
    'cli-cli': 'peerdrop CLI -> peerdrop CLI',
    'cli-chromium': 'peerdrop CLI -> web app (Chromium)',
    'cli-raw': 'peerdrop CLI -> raw Chromium (protocol stub)',
    'chromium-cli': 'web app (Chromium) -> peerdrop CLI',
  };
  const needServer = CASES.some((c) => c.startsWith('cli') || c.startsWith('chromium') || c.startsWith('app'));
  const needFile = needServer;
  log(`size ${SIZE} bytes (${(SIZE / MIB).toFixed(0)} MiB), cases ${CASES.join(',')}, repeat ${REPEAT}, work dir ${WORK}`);
  const blank = await blankServer();
  try {
    if (needFile) {
      FILE = join(WORK, 'big.bin');
      DIGEST = await makeFile(FILE, SIZE);
    }
    // lib.mjs serves ROOT/web/dist; a later --web-root wins (BENCH_WEB_ROOT).
    if (needServer) server = await startServer([...(process.env.BENCH_WEB_ROOT ? ['--web-root', process.env.BENCH_WEB_ROOT] : []), '--host', HOST]);
    if (HOST !== '127.0.0.1') secureOrigins = [new URL(server?.url ?? blankUrl).origin, new URL(blankUrl).origin];
    const jobs = [];
    for (const key of CASES) {
      if (key === 'app-b2b') {
        for (const c of APP_CHUNKS) jobs.push({ key: `app-b2b-${c}`, label: `web app -> web app, ${c / 1024} KiB`, fn: () => appB2b(c === 65536 ? 0 : c) });
        continue;
      }
      if (!cases[key]) throw new Error(`unknown case ${key} (known: ${ALL.join(', ')})`);
      jobs.push({ key, label: labels[key], fn: cases[key] });
    }
    res.push(...(await measureAll(jobs)));
  } finally {
    server?.stop();
    blank.close();
  }
  console.log('');
  console.log(`File transfer on loopback${LINK_MBIT ? ` shaped to ${LINK_MBIT} Mbit/s` : ''}, ${(SIZE / MIB).toFixed(0)} MiB per case, ${REPEAT} run(s) each, round robin (median MB/s, largest peak)`);
  console.log('');
  report(res);
  writeFileSync(join(WORK, 'results.json'), JSON.stringify(res, null, 1));
  for (const r of res) console.log(`raw ${r.key} ${JSON.stringify(r.runs)}`);
  return res.some((r) => r.error) ? 1 : 0;
}

// Exit explicitly: a browser or child left behind by a failed case must not
// keep this process (and run.sh) alive.
process.exit(await main().catch((e) => (console.error(e), 2)));
