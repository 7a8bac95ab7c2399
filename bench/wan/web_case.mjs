// bench/wan/web_case.mjs: one web app -> web app transfer over bench/wan's
// emulated link, for bench.py's web-web cases. Chromium A (the sender, which
// creates the room) runs in namespace A, Chromium B (the receiver) in
// namespace B: every byte between them, signaling included, crosses the
// link. Each browser is started through `nsenter --net=<ns>` (playwright
// talks to it over a pipe, which a network namespace does not cut).
//   node web_case.mjs <url> <ns A path> <ns B path> <file> <lanes> <limit s>
// Prints one JSON line: {"mbps", "ttfb_ms", "lanes"} (lanes: open on B's session).
// WAN_WEB_TRACE=<file>: also appends, once a second during the transfer, one
// JSON line per page with every connection's bytes, round trip and send
// queues (web_trace.mjs), to see which lane or layer sets the pace.
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { chromium } = createRequire(join(ROOT, 'tests', 'e2e', 'package.json'))('playwright-core');
const { INIT } = await import(join(ROOT, 'tests', 'e2e', 'lib.mjs'));
const { TRACE_INIT, sample } = await import('./web_trace.mjs');
const traceFile = process.env.WAN_WEB_TRACE;
const [url, nsA, nsB, file, lanesArg, limitArg] = process.argv.slice(2);
const lanes = Number(lanesArg);
const limitMs = Number(limitArg) * 1000;
const size = statSync(file).size;
const tmp = mkdtempSync(join(process.env.TMPDIR ?? '/dev/shm', 'pd-wan-web-'));
// the flags of tests/e2e/lib.mjs (loopback ones harmless here)
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

async function browserIn(name, ns) {
  const wrapper = join(tmp, `chromium-${name}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${ns} ${process.env.CHROMIUM ?? '/usr/bin/chromium'} "$@"\n`);
  chmodSync(wrapper, 0o755);
  // the server is at 10.77.0.1, not localhost: a secure context only by this flag (WebCrypto, OPFS)
  const secure = `--unsafely-treat-insecure-origin-as-secure=${new URL(url).origin}`;
  const ctx = await chromium.launchPersistentContext(join(tmp, `profile-${name}`), { executablePath: wrapper, headless: true, args: [...ARGS, secure] });
  await ctx.addInitScript(INIT);
  if (traceFile) await ctx.addInitScript(TRACE_INIT);
  await ctx.addInitScript(`try { localStorage.setItem('peerdrop.lanes', '${lanes}'); } catch {}`);
  return { ctx, page: ctx.pages()[0] ?? (await ctx.newPage()) };
}

// the bound's timer must not keep node alive after the case (it did, for the whole limit)
const within = (p, ms, what) => Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error(`${what}: over ${ms} ms`)), ms).unref())]);
let a, b;
let tracing = null;
const tLaunch = Date.now();
// with WAN_WEB_TRACE, the phases of the case too (where its minutes go)
const phase = (what) => traceFile && appendFileSync(traceFile, JSON.stringify({ phase: what, since_launch_ms: Date.now() - tLaunch }) + '\n');
try {
  a = await browserIn('A', nsA);
  b = await browserIn('B', nsB);
  await a.page.goto(url);
  await a.page.getByTestId('options').locator('summary').click();
  await a.page.getByRole('button', { name: 'Create room' }).click();
  const link = await a.page.getByTestId('share-link').inputValue({ timeout: 30_000 });
  phase('room created');
  await b.page.goto(link);
  for (const p of [a.page, b.page]) await p.locator(`[data-testid=peer][data-state=CONNECTED][data-lanes="${lanes}"]`).first().waitFor({ timeout: 60_000 });
  phase('connected, lanes open');
  await a.page.getByTestId('file-input').setInputFiles(file);
  await b.page.getByTestId('accept').waitFor({ timeout: 30_000 });
  phase('offer shown');
  const t0 = Date.now();
  if (traceFile) {
    // bounded: stops with the transfer or at its time limit
    tracing = setInterval(async () => {
      const t = Date.now() - t0;
      if (t > limitMs) return clearInterval(tracing);
      for (const [side, p] of [['A', a.page], ['B', b.page]]) {
        const pcs = await sample(p).catch(() => null);
        if (pcs) appendFileSync(traceFile, JSON.stringify({ t_ms: t, side, lanes, pcs }) + '\n');
      }
    }, 1000);
  }
  await b.page.getByTestId('accept').click();
  await within(b.page.waitForFunction(() => (window.peerdrop.getSnapshot().transfers[0]?.bytes ?? 0) > 0, null, { timeout: limitMs, polling: 20 }), limitMs, 'first byte');
  const tFirst = Date.now();
  await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').first().waitFor({ timeout: limitMs });
  const tDone = Date.now();
  clearInterval(tracing);
  const open = await b.page.evaluate(() => window.peerdrop.getSnapshot().peers[0]?.lanes ?? 0);
  console.log(JSON.stringify({ mbps: size / 1e6 / ((tDone - t0) / 1000), ttfb_ms: tFirst - t0, lanes: open, seconds: (tDone - t0) / 1000 }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.message ?? e).slice(0, 200) }));
  process.exitCode = 1;
} finally {
  clearInterval(tracing);
  phase('done');
  await a?.ctx.close().catch(() => {});
  await b?.ctx.close().catch(() => {});
  phase('browsers closed');
  rmSync(tmp, { recursive: true, force: true });
}
