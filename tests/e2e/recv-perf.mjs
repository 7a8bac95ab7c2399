// Receive-throughput probe (not part of the suite). Two headless Chromium
// against the real peerdrop-server in a lo-only namespace:
//   tests/e2e/run-perf.sh raw [MB] [msgKiB]     raw RTCDataChannel, no app code
//   tests/e2e/run-perf.sh app [MB] [--profile|--profile-sender]
//                                  the app, one file; optional CPU profile of
//                                  the receiving (or sending) page
// Prints MB/s (first byte to the receiver's completion) and the receiving
// renderer's peak RSS. NOCHECK=1 skips the final SHA-256 check of the
// received file, for throw-away builds that do not store it
// (PEERDROP_WEB_ROOT=/their/dist).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoom, launch, receivedHashes, startServer } from './lib.mjs';

const [mode = 'app', mbArg = '256', third] = process.argv.slice(2);
const SIZE = Number(mbArg) * 2 ** 20;
const PROFILE = process.argv.includes('--profile') || process.argv.includes('--profile-sender');
const PROFILED = process.argv.includes('--profile-sender') ? 'a' : 'b';

/* Largest RSS among the renderer processes of the browser using `profile`. */
function rendererRss(profile) {
  let max = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer') || !cmd.includes(profile)) continue;
      const st = readFileSync(`/proc/${p}/status`, 'utf8');
      max = Math.max(max, Number(st.match(/VmRSS:\s+(\d+)/)[1]) * 1024);
    } catch { /* gone */ }
  }
  return max;
}

/* CPU seconds used so far by each process of the browser using `profile`, by
 * process type (browser, renderer, utility = network service, ...). */
function cpuByType(profile) {
  const out = {};
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes(profile)) continue;
      const type = (cmd.match(/--type=([a-z-]+)/) ?? [, 'browser'])[1] + (cmd.includes('NetworkService') ? '(net)' : '');
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const st = readFileSync(`/proc/${p}/task/${t}/stat`, 'utf8');
        const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/[0-9]+$/, '');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        const k = process.env.THREADS && type === 'renderer' ? `${type}/${comm}` : type;
        out[k] = (out[k] ?? 0) + (Number(f[11]) + Number(f[12])) / 100;
      }
    } catch { /* gone */ }
  }
  return out;
}
function cpuDiff(a, b) {
  return Object.entries(b).filter(([k, v]) => v - (a[k] ?? 0) >= 0.1).map(([k, v]) => `${k} ${(v - (a[k] ?? 0)).toFixed(1)}`).join(', ');
}

async function raw(a, b, url) {
  const msg = Number(third ?? 64) * 1024;
  for (const p of [a.page, b.page]) {
    await p.goto(url);
    await p.evaluate(() => window.__gum);
  }
  const setup = () => {
    window.pc = new RTCPeerConnection({ iceServers: [] });
    window.gathered = () => new Promise((r) => {
      if (pc.iceGatheringState === 'complete') r();
      else pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
    });
  };
  await a.page.evaluate(setup);
  await b.page.evaluate(setup);
  const offer = await a.page.evaluate(async () => {
    window.dc = pc.createDataChannel('raw', { ordered: true });
    await pc.setLocalDescription();
    await gathered();
    return pc.localDescription.sdp;
  });
  const answer = await b.page.evaluate(async ({ offer, size }) => {
    window.done = new Promise((resolve) => {
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        dc.binaryType = 'arraybuffer';
        let got = 0;
        dc.onmessage = (m) => {
          got += m.data.byteLength;
          if (got >= size) {
            dc.send('done');
            resolve(got);
          }
        };
      };
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription();
    await gathered();
    return pc.localDescription.sdp;
  }, { offer, size: SIZE });
  const res = b.page.evaluate(() => window.done);
  const ms = await a.page.evaluate(async ({ answer, size, msg }) => {
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    if (dc.readyState !== 'open') await new Promise((r) => (dc.onopen = r));
    const done = new Promise((r) => (dc.onmessage = r));
    dc.bufferedAmountLowThreshold = 1 << 20;
    const buf = new Uint8Array(msg).fill(0x5a);
    const t0 = performance.now();
    for (let sent = 0; sent < size; ) {
      if (dc.bufferedAmount > 4 << 20) await new Promise((r) => (dc.onbufferedamountlow = r));
      const n = Math.min(msg, size - sent);
      dc.send(n === msg ? buf : buf.subarray(0, n));
      sent += n;
    }
    await done;
    return performance.now() - t0;
  }, { answer, size: SIZE, msg });
  await res;
  return { ms, label: `raw ${msg / 1024} KiB` };
}

async function app(a, b, url, tmp) {
  const path = join(tmp, 'big.bin');
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  const block = randomBytes(16 << 20);
  for (let left = SIZE, i = 0; left > 0; i++) {
    const blk = block.subarray(0, Math.min(left, block.length));
    blk.writeUInt32BE(i, 0);
    writeSync(fd, blk);
    h.update(blk);
    left -= blk.length;
  }
  closeSync(fd);
  const digest = h.digest('hex');
  const link = await createRoom(a.page, url);
  await b.page.goto(link);
  for (const p of [a.page, b.page]) await p.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: 30_000 });
  let cdp = null;
  if (PROFILE) {
    const x = PROFILED === 'a' ? a : b;
    cdp = await x.ctx.newCDPSession(x.page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  await a.page.getByTestId('file-input').setInputFiles(path);
  await b.page.getByTestId('accept').click({ timeout: 30_000 });
  await b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 0, null, { timeout: 60_000, polling: 20 });
  const t0 = Date.now();
  // Where the pipeline waits: sampled every 100 ms in both pages.
  const probe = () => {
    window.__samples = [];
    window.__probe = setInterval(() => {
      const m = [...window.peerdrop.members.values()][0];
      const d = m?.driver;
      if (!d) return;
      const o = d.session.out;
      window.__samples.push([d.dc.bufferedAmount, o?.inflight ?? -1, o?.pending ? 1 : 0, d.ops.length, d.storing ? 1 : 0]);
    }, 100);
  };
  if (process.env.PROBE) for (const p of [a.page, b.page]) await p.evaluate(probe);
  await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 840_000 });
  const ms = Date.now() - t0;
  measuring = false; // the check below reads the whole file into memory
  if (process.env.PROBE) {
    const avg = (xs, i) => (xs.reduce((s, x) => s + x[i], 0) / xs.length);
    const sa = await a.page.evaluate(() => (clearInterval(window.__probe), window.__samples));
    const sb = await b.page.evaluate(() => (clearInterval(window.__probe), window.__samples));
    console.log(`# sender: bufferedAmount avg ${(avg(sa, 0) / 2 ** 20).toFixed(2)} MiB, zero in ${(100 * sa.filter((x) => x[0] < 65536).length / sa.length).toFixed(0)}% of samples; inflight avg ${(avg(sa, 1) / 2 ** 20).toFixed(1)} MiB; read pending ${(100 * avg(sa, 2)).toFixed(0)}%`);
    console.log(`# receiver: storage queue avg ${avg(sb, 3).toFixed(1)} ops, storing ${(100 * avg(sb, 4)).toFixed(0)}%`);
  }
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(join(tmpdir(), 'recv.cpuprofile'), JSON.stringify(profile));
    summarize(profile);
  }
  const got = (await receivedHashes(b.page))['big.bin'];
  if (got !== digest && !process.env.NOCHECK) throw new Error(`hash mismatch: ${got} != ${digest}`);
  return { ms, label: 'app' };
}

function summarize(profile) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  let total = 0;
  for (const [id, us] of dt) {
    const n = byId.get(id);
    const f = n.callFrame;
    const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  console.log(`# profile: ${(total / 1e6).toFixed(1)} s sampled`);
  for (const [k, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`#  ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);
}

const server = await startServer();
const tmp = mkdtempSync(join(tmpdir(), 'pd-perf-'));
const a = await launch();
const b = await launch();
let peak = 0;
let measuring = true;
const trace = [];
const timer = setInterval(() => {
  if (!measuring) return;
  const r = rendererRss(b.profile);
  peak = Math.max(peak, r);
  trace.push(r);
}, 250);
const cpu0 = [cpuByType(a.profile), cpuByType(b.profile)];
const wall0 = Date.now();
try {
  const r = mode === 'raw' ? await raw(a, b, server.url) : await app(a, b, server.url, tmp);
  console.log(`# ${r.label}: ${SIZE / 2 ** 20} MiB in ${(r.ms / 1000).toFixed(1)} s: ${(SIZE / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s; receiving renderer peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  if (process.env.RSS) console.log(`# receiver RSS every 2 s (MiB): ${trace.filter((_, i) => i % 8 === 0).map((x) => (x / 2 ** 20).toFixed(0)).join(' ')}`);
  const tot = (c0, c1) => Object.entries(c1).reduce((s, [k, v]) => s + v - (c0[k] ?? 0), 0);
  console.log(`# CPU s total: sender ${tot(cpu0[0], cpuByType(a.profile)).toFixed(1)}, receiver ${tot(cpu0[1], cpuByType(b.profile)).toFixed(1)}`);
  console.log(`# CPU s over ${((Date.now() - wall0) / 1000).toFixed(1)} s wall (incl. setup): sender: ${cpuDiff(cpu0[0], cpuByType(a.profile))}; receiver: ${cpuDiff(cpu0[1], cpuByType(b.profile))}`);
} finally {
  clearInterval(timer);
  await a.close();
  await b.close();
  server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
