// Runs inside a user + network + mount namespace of its own (cluster.test.mjs
// starts it with `unshare -rnm`, /etc/resolv.conf bind-mounted to
// "nameserver 127.0.0.1", timeout 2 s): a DNS server on 127.0.0.1:53 that
// hears every query and answers none, so each lookup of the Redis host name
// takes the resolver's whole timeout. Starts a node with --redis naming that
// host and measures how long /healthz takes to answer meanwhile: a lookup on
// the event loop shows as a stall of ~2 s. Prints one JSON line.

import dgram from "node:dgram";
import { startServer, DEFAULT_ARGS } from "./server.mjs";

const PROBE_MS = 3000;

const dns = dgram.createSocket("udp4");
let queries = 0;
dns.on("message", () => queries++);
await new Promise((resolve, reject) => {
  dns.once("error", reject);
  dns.bind(53, "127.0.0.1", resolve);
});

const t0 = performance.now();
const srv = await startServer({ args: [...DEFAULT_ARGS, "--redis", "redis://redis.peerdrop.test:6379"] });
const startMs = performance.now() - t0;
let maxMs = 0;
let probes = 0;
const until = performance.now() + PROBE_MS;
while (performance.now() < until && probes < 1000) {
  const t = performance.now();
  try {
    const res = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
  } catch {} // no answer within 5 s: counted as a 5 s stall
  maxMs = Math.max(maxMs, performance.now() - t);
  probes++;
  await new Promise((r) => setTimeout(r, 50));
}
await srv.stop();
dns.close();
console.log(JSON.stringify({ queries, probes, maxMs: Math.round(maxMs), startMs: Math.round(startMs) }));
