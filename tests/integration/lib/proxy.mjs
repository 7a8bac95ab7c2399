// PROXY protocol v2 (haproxy doc/proxy-protocol.txt 2.2) from the test's
// side: the header a load balancer sends first, and a raw HTTP exchange
// behind one, for nodes started with --trust-proxy. Every wait is bounded.

import net from "node:net";

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** The header for a TCP client `src` (IPv4 or IPv6 text) to `dst`; `local`:
 *  the LOCAL command (a balancer's own health check), no addresses. */
export function proxyHeader({ src = "203.0.113.7", dst = "127.0.0.1", srcPort = 40000, dstPort = 80, local = false } = {}) {
  if (local) return Buffer.concat([SIG, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const v6 = net.isIPv6(src);
  const addr = (ip) => (v6 ? ipv6Bytes(ip) : Buffer.from(ip.split(".").map(Number)));
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(srcPort, 0);
  ports.writeUInt16BE(dstPort, 2);
  const body = Buffer.concat([addr(src), addr(v6 ? (net.isIPv6(dst) ? dst : "::1") : dst), ports]);
  const head = Buffer.from([0x21, v6 ? 0x21 : 0x11, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

function ipv6Bytes(ip) {
  const [l, r = ""] = ip.split("::");
  const left = l ? l.split(":") : [];
  const right = ip.includes("::") && r ? r.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

/** Connects to 127.0.0.1:port (from `localAddress`), writes `chunks` in
 *  order (a pause of `gapMs` between them) and resolves everything the
 *  server sent until it closed, with whether it closed within `timeout`. */
export function exchange(port, chunks, { localAddress = "127.0.0.1", gapMs = 0, timeout = 5000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1", localAddress });
    const got = [];
    const t0 = Date.now();
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ text: Buffer.concat(got).toString("latin1"), closed: false, ms: Date.now() - t0 });
    }, timeout);
    sock.on("data", (d) => got.push(d));
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(got).toString("latin1"), closed: true, ms: Date.now() - t0 });
    });
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** One GET behind a balancer: the PROXY header for `src`, then the request. */
export async function proxiedGet(port, path, { src = "127.0.0.1", localAddress } = {}) {
  const req = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
  const r = await exchange(port, [Buffer.concat([proxyHeader({ src }), Buffer.from(req)])], { localAddress });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1] ?? 0);
  return { status, body: r.text.slice(r.text.indexOf("\r\n\r\n") + 4), text: r.text };
}
