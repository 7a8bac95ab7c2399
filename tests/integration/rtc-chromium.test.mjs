// rtc-chromium.test.mjs: interop between our native WebRTC peer (src/rtc,
// through the rtc-echo helper) and real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core). Signaling is JSON lines on
// rtc-echo's stdin/stdout, relayed through page.exposeFunction. Chromium
// is offerer in some cases and answerer in others; every message sent
// from the page must come back byte for byte, in order.
//
// Flags per notes/chromium-loopback-webrtc.md: loopback candidates need
// --allow-loopback-in-peer-connection, mDNS hiding off and one (fake)
// getUserMedia call. The "mdns" case keeps Chromium's default (.local host
// candidates) and relies on our side answering its checks (prflx pairs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ECHO = process.env.PEERDROP_RTC_ECHO;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  chromium = null;
}
const skip = !ECHO || !fs.existsSync(ECHO) || !fs.existsSync(CHROMIUM) || !chromium
  ? 'needs PEERDROP_RTC_ECHO, /usr/bin/chromium and playwright-core'
  : false;

const CASE_TIMEOUT_MS = 60000;
// With mDNS hiding on, Chromium gathers nothing on a lo-only host (a test
// network namespace): that case needs a real interface.
const hasNonLoopback = Object.values(os.networkInterfaces()).flat()
  .some((a) => a && !a.internal);
const skipMdns = skip || (hasNonLoopback ? false : 'needs a non-loopback interface');
const BASE_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--disable-features=LocalNetworkAccessChecks'];
const LOOPBACK_ARGS = ['--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks'];

let server, origin;
before(async () => {
  if (skip) return;
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>rtc</title>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}/`;
});
after(() => server?.close());

// One rtc-echo process: a line reader plus a tiny event waiter.
// Its debug log (every layer's events, each message's size and first
// bytes) is kept, bounded, and printed only when the case fails: a rare
// failure then says what the native side saw.
const ECHO_LOG_LINES = 3000;
function startEcho() {
  const proc = spawn(ECHO, [], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PD_LOG_DEBUG: '1' },
  });
  const log = [];
  readline.createInterface({ input: proc.stderr }).on('line', (line) => {
    log.push(line);
    if (log.length > ECHO_LOG_LINES) log.shift();
  });
  const listeners = [];
  const seen = [];
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    let msg;
    try { msg = JSON.parse(line); } catch { return; }
    seen.push(msg);
    for (const l of [...listeners]) l(msg);
  });
  return {
    proc,
    seen,
    printLog: (why) => console.log(`--- rtc-echo log (${why}) ---\n${log.join('\n')}\n--- end of rtc-echo log ---`),
    send: (obj) => proc.stdin.write(JSON.stringify(obj) + '\n'),
    on: (fn) => listeners.push(fn),
    wait: (pred, what) => new Promise((resolve, reject) => {
      const hit = seen.find(pred);
      if (hit) return resolve(hit);
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), CASE_TIMEOUT_MS);
      listeners.push((m) => { if (pred(m)) { clearTimeout(t); resolve(m); } });
    }),
    // resolves with the exit code: non-zero means a sanitizer report or a crash
    stop: () => new Promise((r) => {
      if (proc.exitCode !== null) return r(proc.exitCode);
      const t = setTimeout(() => proc.kill(), 10000);
      proc.on('exit', (code, sig) => { clearTimeout(t); r(sig ? sig : code); });
      proc.stdin.end();
    }),
  };
}

async function startBrowser(mdns) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-rtc-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: mdns ? BASE_ARGS : [...BASE_ARGS, ...LOOPBACK_ARGS],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(origin);
  if (!mdns) {
    await page.evaluate(async () => {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      s.getTracks().forEach((t) => t.stop());
    });
  }
  return { ctx, page, dir, close: async () => { await ctx.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

// A non-zero exit is a sanitizer report or a crash: show its log.
async function stopEcho(echo) {
  const code = await echo.stop();
  if (code !== 0) echo.printLog(`exit status ${code}`);
  assert.equal(code, 0, 'rtc-echo exit status');
}

// Page-side helpers, installed once per page.
const PAGE_LIB = () => {
  window.makePc = () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.onicecandidate = (e) => window.toNative({
      type: 'candidate',
      candidate: e.candidate ? e.candidate.candidate : '',
      mid: e.candidate?.sdpMid ?? '0',
    });
    window.pc = pc;
    return pc;
  };
  window.fromNative = async (m) => {
    const pc = window.pc;
    if (m.type === 'offer') {
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      const a = await pc.createAnswer();
      await pc.setLocalDescription(a);
      window.toNative({ type: 'answer', sdp: pc.localDescription.sdp });
    } else if (m.type === 'answer') {
      await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
    } else if (m.type === 'candidate') {
      if (m.candidate) await pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.mid ?? '0' });
      else await pc.addIceCandidate({ candidate: '', sdpMid: m.mid ?? '0' }).catch(() => {});
    }
  };
  // Sends each payload and checks the echo; resolves with timings.
  window.exercise = (dc, sizes) => new Promise((resolve, reject) => {
    dc.binaryType = 'arraybuffer';
    const pattern = (n, seed) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255; return b; };
    let next = 0;
    const t0 = performance.now();
    dc.onmessage = (e) => {
      const i = next++;
      const want = sizes[i];
      if (typeof want === 'string') {
        if (e.data !== want) return reject(new Error(`text echo ${i} differs: got ${typeof e.data === 'string' ? `text of ${e.data.length} chars` : `binary of ${e.data.byteLength} bytes`}, want text of ${want.length}`));
      } else {
        if (!(e.data instanceof ArrayBuffer)) return reject(new Error(`echo ${i} not binary`));
        const got = new Uint8Array(e.data), exp = pattern(want, i);
        if (got.length !== exp.length) return reject(new Error(`echo ${i}: ${got.length} != ${exp.length} bytes`));
        for (let k = 0; k < got.length; k++) if (got[k] !== exp[k]) return reject(new Error(`echo ${i} differs at ${k}`));
      }
      if (next === sizes.length) resolve({ ms: performance.now() - t0 });
    };
    sizes.forEach((s, i) => dc.send(typeof s === 'string' ? s : pattern(s, i)));
  });
  // The selected pair: the transport's selectedCandidatePairId, else a
  // nominated succeeded pair. Stats can lag the open channel by a moment,
  // so look a few times (bounded: 20 x 100 ms).
  window.selectedPairTypes = async () => {
    for (let i = 0; i < 20; i++) {
      const stats = await window.pc.getStats();
      let pair;
      stats.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId); });
      if (!pair) stats.forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
      if (pair) return { local: stats.get(pair.localCandidateId)?.candidateType, remote: stats.get(pair.remoteCandidateId)?.candidateType };
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return null;
  };
};

const SIZES = ['hello', 0, 1, 65536, 262144, 'a'.repeat(1000), 12345];

async function wire(page, echo) {
  await page.exposeFunction('toNative', (m) => echo.send(m));
  await page.evaluate(PAGE_LIB);
  echo.on((m) => {
    if (['offer', 'answer', 'candidate'].includes(m.type)) {
      page.evaluate((x) => window.fromNative(x), m).catch(() => {});
    }
  });
}

async function chromiumOffers(mdns) {
  const echo = startEcho();
  const b = await startBrowser(mdns);
  try {
    await wire(b.page, echo);
    const result = await b.page.evaluate(async (sizes) => {
      const pc = window.makePc();
      const dc = pc.createDataChannel('echo');
      const t0 = performance.now();
      const opened = new Promise((r, j) => { dc.onopen = r; dc.onerror = j; });
      await pc.setLocalDescription(await pc.createOffer());
      window.toNative({ type: 'offer', sdp: pc.localDescription.sdp });
      // bounded, so a connection that never forms fails with its state, not the test's timeout
      await Promise.race([opened, new Promise((_, j) => setTimeout(() => j(new Error(`channel not open after 45 s: ice ${pc.iceConnectionState}, connection ${pc.connectionState}`)), 45000))]);
      const openMs = performance.now() - t0;
      const ex = await window.exercise(dc, sizes);
      const pair = await window.selectedPairTypes();
      // close from the browser: our side must see the stream reset
      dc.close();
      return { openMs, echoMs: ex.ms, pair };
    }, SIZES);
    await echo.wait((m) => m.type === 'closed', 'rtc-echo closed event');
    return result;
  } catch (e) {
    echo.printLog(e.message);
    throw e;
  } finally {
    await b.close();
    await stopEcho(echo);
  }
}

async function nativeOffers() {
  const echo = startEcho();
  const b = await startBrowser(false);
  try {
    await wire(b.page, echo);
    const got = b.page.evaluate(async (sizes) => {
      const pc = window.makePc();
      // The page is the accepting side: it sends only once the opener's
      // first message has arrived. Chromium 156 now and then loses a message
      // its accepting side sends right after ondatachannel (docs/protocol.md
      // §5.1, where the app and the CLI follow the same rule); this case
      // failed that way once in CI. The handler is set inside the event, so
      // no message can come before it.
      let dc;
      const ready = new Promise((r) => {
        pc.ondatachannel = (e) => {
          dc = e.channel;
          dc.onmessage = (m) => r(m.data);
        };
      });
      const first = await Promise.race([ready, new Promise((_, j) => setTimeout(() => j(new Error(`no first message after 45 s: ice ${pc.iceConnectionState}, connection ${pc.connectionState}`)), 45000))]);
      if (first !== 'ready') throw new Error(`first message is not "ready": ${String(first).slice(0, 40)}`);
      window.dcClosed = new Promise((r) => { dc.onclose = r; });
      const ex = await window.exercise(dc, sizes);
      const pair = await window.selectedPairTypes();
      return { label: dc.label, echoMs: ex.ms, pair };
    }, SIZES);
    echo.send({ type: 'create-offer', label: 'from-native' });
    const open = await echo.wait((m) => m.type === 'open', 'native channel open');
    echo.send({ type: 'send', text: 'ready' });
    const result = await got;
    // close from our side: Chromium's channel must close
    echo.send({ type: 'close-channels' });
    await b.page.evaluate(() => window.dcClosed);
    await echo.wait((m) => m.type === 'closed', 'rtc-echo closed event');
    return { ...result, openMs: open.ms };
  } catch (e) {
    echo.printLog(e.message);
    throw e;
  } finally {
    await b.close();
    await stopEcho(echo);
  }
}

test('Chromium offers, native answers: echo of text and binary up to 256 KiB', { skip, timeout: 120000 }, async () => {
  const r = await chromiumOffers(false);
  console.log(`chromium offerer: channel open ${r.openMs.toFixed(1)} ms, echoes ${r.echoMs.toFixed(1)} ms, pair ${JSON.stringify(r.pair)}`);
  assert.ok(r.openMs > 0);
});

test('native offers, Chromium answers: echo of text and binary up to 256 KiB', { skip, timeout: 120000 }, async () => {
  const r = await nativeOffers();
  console.log(`native offerer: channel open ${r.openMs.toFixed(1)} ms (native clock), echoes ${r.echoMs.toFixed(1)} ms, pair ${JSON.stringify(r.pair)}`);
  assert.equal(r.label, 'from-native');
});

test('Chromium with default mDNS host candidates offers: still connects', { skip: skipMdns, timeout: 200000 }, async () => {
  // Seen once (2026-12-01) to hang under ASan with ctest -j2 on 2 loaded cores,
  // never alone: one loud retry, as scripts/test does for the browser suites.
  // A RETRY line in a log is a finding.
  let r;
  try {
    r = await chromiumOffers(true);
  } catch (e) {
    console.log(`RETRY mdns case after: ${e.message}`);
    r = await chromiumOffers(true);
  }
  console.log(`mdns chromium offerer: channel open ${r.openMs.toFixed(1)} ms, pair ${JSON.stringify(r.pair)}`);
  assert.ok(r.pair);
});
