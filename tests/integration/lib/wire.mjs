// Raw HTTP and WebSocket helpers for black-box protocol tests.
//
// node:http (not fetch) because some tests need bytes a URL parser would
// normalise away (/../ paths), exact control over one connection per request
// (agent: false, so a held long-poll never blocks the next request), and
// aborting a request mid-flight. Every call has a timeout.

import http from "node:http";
import https from "node:https";
import WebSocket from "ws";

export const RS = "\x1e"; // Engine.IO payload record separator

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with `what` unless `promise` settles within `ms`. */
export function within(ms, promise, what = "operation") {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One HTTP request on its own connection. `target` is a full URL, or a base
 * URL plus `rawPath` sent verbatim. Resolves {status, headers, body (Buffer),
 * text} when the response ended.
 */
export function request(target, { method = "GET", rawPath, body, headers = {}, timeout = 5000, signal, chunkDelayMs, localAddress } = {}) {
  const u = new URL(target);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = mod.request(
      {
        method,
        host: u.hostname,
        port: u.port,
        path: rawPath ?? u.pathname + u.search,
        headers: chunkDelayMs && body !== undefined ? { "content-length": Buffer.byteLength(body), ...headers } : headers,
        agent: false,
        signal,
        localAddress,
        rejectUnauthorized: false,
      },
      (res) => {
        responded = true;
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          clearTimeout(timer);
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString("utf8") });
        });
        res.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`timeout after ${timeout} ms: ${method} ${rawPath ?? u.pathname + u.search}`));
    }, timeout);
    req.on("error", (err) => {
      // A server may answer (413) and close before reading the whole body:
      // the answer counts, the write error after it does not.
      if (responded) return;
      clearTimeout(timer);
      reject(err);
    });
    if (body === undefined) req.end();
    else if (!chunkDelayMs) req.end(body);
    else {
      // Upload in 64 KiB pieces with a pause between them, as a slow client
      // would, and stop once the server has answered: a server that refuses
      // early (413) gets its answer read before it closes.
      const buf = Buffer.from(body);
      let off = 0;
      const pump = () => {
        if (responded || req.destroyed) return;
        const end = Math.min(off + 65536, buf.length);
        const last = end === buf.length;
        req.write(buf.subarray(off, end));
        off = end;
        if (last) req.end();
        else setTimeout(pump, chunkDelayMs);
      };
      pump();
    }
  });
}

/**
 * A WebSocket client that buffers every frame, so frames that arrive in
 * one TCP read are never lost between two awaits.
 */
export class WsClient {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.autoPong = false; // answer Engine.IO ping "2" with "3" and hide it
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`websocket closed (${code}) while waiting for a frame`));
      });
    });
    ws.on("error", () => {}); // surfaced as close
    ws.on("message", (data, isBinary) => {
      const frame = isBinary ? { type: "binary", data: Buffer.from(data) } : { type: "text", data: data.toString("utf8") };
      if (this.autoPong && frame.type === "text" && frame.data === "2") {
        ws.send("3");
        return;
      }
      const w = this.waiters.shift();
      if (w) w.resolve(frame);
      else this.queue.push(frame);
    });
  }

  /** Next frame {type: "text"|"binary", data}. */
  next(timeout = 2000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.reject(new Error(`websocket closed (${this.closeInfo.code}), no frame`));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no websocket frame within ${timeout} ms`));
      }, timeout);
      w.resolve = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      w.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.waiters.push(w);
    });
  }

  /** Next frame, which must be text; returns the string. */
  async nextText(timeout) {
    const f = await this.next(timeout);
    if (f.type !== "text") throw new Error(`expected a text frame, got binary ${f.data.toString("hex")}`);
    return f.data;
  }

  /** Next frame, which must be binary; returns the Buffer. */
  async nextBinary(timeout) {
    const f = await this.next(timeout);
    if (f.type !== "binary") throw new Error(`expected a binary frame, got text ${JSON.stringify(f.data)}`);
    return f.data;
  }

  send(data) {
    this.ws.send(data);
  }

  /** Resolves {code, reason} when closed; rejects after `timeout`. */
  waitClose(timeout = 2000) {
    return within(timeout, this.closed, "websocket close");
  }

  /** Resolves true if the socket is still open after `ms`. */
  async staysOpen(ms) {
    const r = await Promise.race([this.closed.then(() => false), sleep(ms).then(() => true)]);
    return r;
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/**
 * Opens a WebSocket. Resolves {client} once open, or {status} when the
 * server answered the upgrade with a non-101 status, or {error} when the
 * connection failed otherwise. Rejects after `timeout`.
 */
export function tryWs(url, { timeout = 3000, headers, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, localAddress, rejectUnauthorized: false, perMessageDeflate: false });
    // Attach the buffering client before "open": the first frame may arrive
    // in the same TCP segment as the 101.
    const client = new WsClient(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`websocket ${url} neither opened nor failed within ${timeout} ms`));
    }, timeout);
    ws.on("open", () => {
      clearTimeout(timer);
      resolve({ client });
    });
    ws.on("unexpected-response", (req, res) => {
      clearTimeout(timer);
      let body = "";
      const done = () => {
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, body });
      };
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", done);
      res.on("error", done);
      setTimeout(done, 500);
    });
    ws.on("error", (error) => {
      clearTimeout(timer);
      resolve({ error });
    });
  });
}

/** Opens a WebSocket that must succeed. */
export async function openWs(url, opts) {
  const r = await tryWs(url, opts);
  if (!r.client) throw new Error(`websocket ${url} failed: ${r.status ?? r.error?.message} ${r.body ?? ""}`);
  return r.client;
}

export function wsUrl(httpUrl) {
  return httpUrl.replace(/^http/, "ws");
}
