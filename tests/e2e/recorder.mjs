// A recording TCP proxy in front of the real peerdrop-server (issue 14):
// browsers and CLIs connect to it as if it were the server, it forwards
// every byte both ways unchanged, and it keeps what the clients sent, so a
// test can look at every payload the server received.
//
// HTTP requests (page loads, /config, Engine.IO polling POSTs) are kept as
// their raw bytes. After a WebSocket upgrade request the client's bytes are
// RFC 6455 frames, masked with a random key per frame (§5.3), so a plain
// grep of the TCP stream would never find anything in them: each frame is
// parsed and unmasked, and the messages (fragments joined) are kept. What
// the recorder cannot read it reports in `problems` instead of passing it
// over: a compressed frame (RSV1, permessage-deflate: the server offers no
// extension today), a chunked request body, a malformed frame.

import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

export async function startRecorder(upstreamUrl) {
  const up = new URL(upstreamUrl);
  const payloads = []; // Buffer: one HTTP request's bytes, or one WebSocket message
  const problems = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(up.port), up.hostname);
    sockets.add(client).add(upstream);
    const st = { ws: false, buf: Buffer.alloc(0), msg: [] };
    client.on('data', (d) => {
      try {
        feed(st, d);
      } catch (e) {
        problems.push(e.message);
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      // a request cut short is still something the server received
      if (!st.ws && st.buf.length) payloads.push(st.buf);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });

  function feed(st, d) {
    st.buf = Buffer.concat([st.buf, d]);
    for (;;) {
      if (st.ws) {
        if (!frame(st)) return;
        continue;
      }
      const end = st.buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = st.buf.subarray(0, end).toString('latin1');
      if (/^upgrade:\s*websocket\s*$/im.test(head)) {
        payloads.push(st.buf.subarray(0, end + 4));
        st.buf = st.buf.subarray(end + 4);
        st.ws = true; // a client sends no frame before the 101 (RFC 6455 §4.1)
        continue;
      }
      if (/^transfer-encoding:/im.test(head)) throw new Error('recorder: a chunked request body, not parsed');
      const len = Number(/^content-length:\s*(\d+)\s*$/im.exec(head)?.[1] ?? 0);
      if (st.buf.length < end + 4 + len) return;
      payloads.push(st.buf.subarray(0, end + 4 + len));
      st.buf = st.buf.subarray(end + 4 + len);
    }
  }

  /** One client frame off st.buf, unmasked; false when it is not all there. */
  function frame(st) {
    const b = st.buf;
    if (b.length < 2) return false;
    if (b[0] & 0x70) throw new Error('recorder: a WebSocket frame with RSV bits (compressed?), not readable');
    const op = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return false;
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      const big = b.readBigUInt64BE(2);
      if (big > 1n << 32n) throw new Error('recorder: a WebSocket frame over 4 GiB');
      len = Number(big);
      at = 10;
    }
    const key = masked ? b.subarray(at, at + 4) : null;
    if (masked) at += 4;
    if (b.length < at + len) return false;
    const data = Buffer.from(b.subarray(at, at + len));
    if (key) for (let i = 0; i < data.length; i++) data[i] ^= key[i & 3];
    st.buf = b.subarray(at + len);
    if (op === 0 || op === 1 || op === 2) {
      st.msg.push(data);
      if (b[0] & 0x80) {
        payloads.push(Buffer.concat(st.msg));
        st.msg = [];
      }
    } else {
      payloads.push(data); // close, ping, pong: received all the same
    }
    return true;
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return {
    url,
    payloads,
    problems,
    /** The create-room / join-room events the clients sent, with their `password`. */
    roomRequests() {
      const out = [];
      const re = /\["(create-room|join-room)",(\{[^{}]*\})/g;
      for (const p of payloads)
        for (const m of p.toString('utf8').matchAll(re)) {
          let body = null;
          try {
            body = JSON.parse(m[2]);
          } catch {
            problems.push(`recorder: an unreadable ${m[1]}: ${m[2].slice(0, 200)}`);
          }
          if (body) out.push({ event: m[1], roomId: body.roomId, password: body.password });
        }
      return out;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The ways a client could put `secret` on the wire: its UTF-8 bytes in
 * NFC and NFD, JSON-escaped (\uXXXX, as a JSON encoder that keeps to
 * ASCII writes it), and URL-encoded. */
export function secretForms(secret) {
  const forms = new Set();
  for (const s of [secret, secret.normalize('NFC'), secret.normalize('NFD')]) {
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    const esc = s.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    forms.add(esc);
    forms.add(esc.replace(/\\u([0-9a-f]{4})/g, (_, h) => '\\u' + h.toUpperCase()));
    forms.add(encodeURIComponent(s));
  }
  return [...forms].map((f) => Buffer.from(f, 'utf8'));
}
