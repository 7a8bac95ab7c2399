// Engine.IO v4 client-side steps, written from the protocol notes
// (shared/notes/socketio-protocol.md section 2), for black-box tests.

import assert from "node:assert/strict";
import { request, openWs, wsUrl, RS } from "./wire.mjs";

export function eioUrl(base, path, query) {
  return `${base}${path}?EIO=4&${query}`;
}

/** Polling handshake: GET without sid. Returns {sid, open, res}. */
export async function pollingOpen(base, path) {
  const res = await request(eioUrl(base, path, "transport=polling"));
  assert.equal(res.status, 200, `handshake status, body ${res.text}`);
  assert.equal(res.text[0], "0", `handshake body must be an open packet: ${res.text}`);
  const open = JSON.parse(res.text.slice(1));
  return { sid: open.sid, open, res };
}

export function pollGet(base, path, sid, opts = {}) {
  return request(eioUrl(base, path, `transport=polling&sid=${encodeURIComponent(sid)}`), opts);
}

export function pollPost(base, path, sid, body, opts = {}) {
  return request(eioUrl(base, path, `transport=polling&sid=${encodeURIComponent(sid)}`), {
    method: "POST",
    body,
    headers: { "content-type": "text/plain;charset=UTF-8", ...(opts.headers ?? {}) },
    ...opts,
  });
}

/** POST that must be accepted with 200 "ok". */
export async function pollSend(base, path, sid, body) {
  const res = await pollPost(base, path, sid, body);
  assert.equal(res.status, 200, `POST ${JSON.stringify(body.slice?.(0, 60))} -> ${res.status} ${res.text}`);
  assert.equal(res.text, "ok");
  return res;
}

/**
 * GETs until `count` packets arrived (a server may split them over
 * responses); answers pings with pongs unless told otherwise.
 */
export async function pollPackets(base, path, sid, count, { pong = true, timeout = 3000 } = {}) {
  const deadline = Date.now() + timeout;
  const got = [];
  while (got.length < count) {
    const left = deadline - Date.now();
    assert.ok(left > 0, `only ${got.length} of ${count} packets within ${timeout} ms: ${JSON.stringify(got)}`);
    const res = await pollGet(base, path, sid, { timeout: left });
    assert.equal(res.status, 200, `poll status ${res.status} ${res.text}`);
    for (const p of res.text.split(RS)) {
      if (pong && p === "2") {
        await pollSend(base, path, sid, "3");
        continue;
      }
      if (p === "6") continue; // noop
      got.push(p);
    }
  }
  return got;
}

/** WebSocket-only handshake. Returns {ws, sid, open}. */
export async function wsOpen(base, path, query = "") {
  const ws = await openWs(eioUrl(wsUrl(base), path, "transport=websocket" + query));
  const first = await ws.nextText();
  assert.equal(first[0], "0", `first frame must be an open packet: ${first}`);
  const open = JSON.parse(first.slice(1));
  return { ws, sid: open.sid, open };
}

/** Asserts an HTTP error answer of the Engine.IO error table. */
export function assertEioError(res, code, message, status = 400) {
  assert.equal(res.status, status, `status for code ${code}, body ${res.text}`);
  assert.match(String(res.headers["content-type"]), /^application\/json/i);
  assert.equal(res.text, JSON.stringify({ code, message }));
}
