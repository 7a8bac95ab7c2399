// proto_page.js: the raw Chromium receiver of the `cli-raw` case, no app
// code. Loaded into a blank page after socket.io-client (window.io, from
// web/node_modules); bench.mjs drives it through page.evaluate. It joins the
// room of a `peerdrop send` over the real server (docs/signaling.md: join-room,
// then answers the sender's offer, trickle ICE both ways) and speaks just
// enough of the transfer protocol (docs/protocol.md §3-§5) to receive the
// files as fast as the stack allows: it counts the bytes, checks every data
// header, acknowledges as the web app does, and neither hashes nor stores
// anything.
window.proto = (() => {
  // As the web app (web/src/protocol/types.ts): the default receive window,
  // so the sender's flow control is the one it meets in real use.
  const WIN = 16 << 20;
  const ACK_STEP = Math.min(1 << 20, Math.floor(WIN / 4)); // docs/protocol.md §5.4
  const now = () => performance.timeOrigin + performance.now();
  let sock = null;
  let pc = null;
  let dc = null;
  let peerId = null;
  let pendingCandidates = []; // {from, candidate} before the offer
  let opened = null;
  let st = null; // protocol state of the current channel
  let done = null; // {promise, resolve, reject}: the whole transfer

  function deferred() {
    const d = {};
    d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
    d.promise.catch(() => {}); // rejected before anyone waits: not unhandled
    return d;
  }
  done = deferred();

  const say = (m) => dc.send(JSON.stringify(m)); // object literals below keep the canonical member order (§3.1)

  /* A session error (§5.7): tell the peer, close, fail the wait. */
  function fail(code, message) {
    try {
      say({ t: 'error', code, message });
      dc.close();
    } catch {}
    done.reject(new Error(`${code}: ${message}`));
  }

  function attach(ch) {
    dc = ch;
    dc.binaryType = 'arraybuffer';
    st = { helloSent: false, peer: null, xfer: null, files: null, cur: -1, ended: true, size: 0, got: 0, lastAck: 0, total: 0, tFirst: 0, tLast: 0, left: 0, sha256: [] };
    opened = new Promise((resolve) => {
      if (dc.readyState === 'open') resolve();
      else dc.addEventListener('open', () => resolve(), { once: true });
    });
    // We accepted the channel: no hello from here (§5.1, Chromium loses a
    // message sent from ondatachannel now and then); it answers the
    // opener's first message, before that message is handled.
    dc.onmessage = (e) => {
      if (!st.helloSent) {
        st.helloSent = true;
        // maxMsg as the app: our SCTP max-message-size, capped at 256 KiB
        const maxMsg = Math.max(16384, Math.min(262144, pc.sctp?.maxMessageSize || 65536));
        say({ t: 'hello', v: 1, maxMsg, win: WIN, caps: [] });
      }
      if (typeof e.data === 'string') control(e.data);
      else data(e.data);
    };
    dc.onclose = () => done.reject(new Error('data channel closed before the transfer ended'));
  }

  /* One DATA message (§4): header checked, payload only counted. */
  function data(b) {
    const n = b.byteLength - 16;
    if (!st.peer || st.ended || n <= 0) return fail('PROTOCOL', 'data for no file being received');
    const v = new DataView(b, 0, 16);
    // type 0x01, flags 0, reserved 0; this file; exactly the next byte
    if (v.getUint32(0) !== 0x01000000 || v.getUint32(4) !== st.cur || v.getUint32(8) * 2 ** 32 + v.getUint32(12) !== st.got)
      return fail('PROTOCOL', 'data message out of place');
    if (st.got + n > st.size) return fail('PROTOCOL', 'data beyond file size');
    const t = now();
    if (!st.tFirst) st.tFirst = t;
    st.tLast = t;
    st.got += n;
    st.total += n;
    // "stored" = counted: ack at once, every ACK_STEP and at the end (§5.4)
    if (st.got - st.lastAck >= ACK_STEP || st.got === st.size) {
      st.lastAck = st.got;
      say({ t: 'ack', xfer: st.xfer, file: st.cur, bytes: st.got });
    }
  }

  function control(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return fail('PROTOCOL', 'not JSON');
    }
    if (!st.peer) {
      if (m.t === 'error') return done.reject(new Error(`peer error ${m.code}: ${m.message}`));
      if (m.t !== 'hello') return fail('PROTOCOL', 'first message must be hello');
      if (!(m.v >= 1)) return fail('VERSION', 'no common version');
      st.peer = m;
      return;
    }
    switch (m.t) {
      case 'offer':
        if (st.xfer) return say({ t: 'decline', xfer: m.xfer }); // one incoming transfer at a time
        st.xfer = m.xfer;
        st.files = m.files;
        st.left = m.files.length;
        // everything, from the start (we advertise no resume)
        return say({ t: 'accept', xfer: m.xfer, files: m.files.map((f) => ({ id: f.id, offset: 0 })) });
      case 'start':
        if (m.xfer !== st.xfer || !st.ended || m.file <= st.cur || m.file >= st.files.length || m.offset !== 0)
          return fail('PROTOCOL', 'start out of place');
        st.cur = m.file;
        st.size = st.files[m.file].size;
        st.got = st.lastAck = 0;
        st.ended = false;
        return;
      case 'end':
        if (m.xfer !== st.xfer || st.ended || m.file !== st.cur) return fail('PROTOCOL', 'end of a file not being received');
        if (st.got !== st.size) return fail('PROTOCOL', 'end before all bytes');
        // A benchmark stub: it trusts the sender's SHA-256 (m.sha256) instead
        // of hashing the bytes; the harness compares it with the source
        // file's. Then what a receiver answers once a file is stored and
        // verified (§5.3): the final ack if not sent yet, and verified.
        st.ended = true;
        if (st.lastAck < st.size) say({ t: 'ack', xfer: st.xfer, file: st.cur, bytes: st.size });
        st.lastAck = st.size;
        say({ t: 'verified', xfer: st.xfer, file: st.cur });
        st.sha256.push(m.sha256);
        if (--st.left === 0)
          done.resolve({ bytes: st.total, files: st.files.map((f) => ({ name: f.name, size: f.size })), sha256: st.sha256, tFirst: st.tFirst, tLast: st.tLast });
        return;
      case 'cancel':
        return done.reject(new Error('the sender cancelled'));
      case 'error':
        return done.reject(new Error(`peer error ${m.code}: ${m.message}`));
      default:
        return fail('PROTOCOL', `unexpected ${m.t}`);
    }
  }

  async function addCandidate(c) {
    try {
      await pc.addIceCandidate(c ?? undefined);
    } catch {} // one we cannot use is not fatal (as web/src/app/peer.ts)
  }

  /* The sender's offer (a retry after a failed connection replaces the peer). */
  async function onOffer({ sdp, from }) {
    if (dc) dc.onmessage = dc.onclose = null; // the old channel's end is no failure
    dc = null;
    pc?.close();
    peerId = from;
    pc = new RTCPeerConnection({ iceServers: [] });
    pc.onicecandidate = (e) => sock.emit('ice-candidate', { candidate: e.candidate ? e.candidate.toJSON() : null, targetSocketId: from });
    pc.ondatachannel = (e) => attach(e.channel);
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const early = pendingCandidates.filter((p) => p.from === from);
    pendingCandidates = [];
    for (const p of early) await addCandidate(p.candidate);
    await pc.setLocalDescription(); // lib.mjs delays it until the fake microphone grant: loopback candidates
    sock.emit('answer', { sdp: pc.localDescription.sdp, targetSocketId: from });
  }

  return {
    /** Connects to the signaling server at `url` and joins the room; resolves with the join ack. */
    async join(url, roomId, password) {
      // WebSocket only: this page's origin is not the server's, and the
      // server sends no CORS headers (long-polling would be refused).
      sock = io(url, { transports: ['websocket'], reconnection: false });
      sock.on('offer', (p) => onOffer(p).catch((e) => done.reject(e)));
      sock.on('ice-candidate', (p) => {
        if (pc?.remoteDescription && p.from === peerId) void addCandidate(p.candidate);
        else pendingCandidates.push(p);
      });
      sock.on('signaling-error', (p) => console.error('signaling-error', JSON.stringify(p)));
      const r = await sock.timeout(15_000).emitWithAck('join-room', { roomId, password });
      if (!r?.ok) throw new Error(`join-room refused: ${JSON.stringify(r?.error)}`);
      return r;
    },
    async waitOpen() {
      for (let i = 0; i < 1200 && !dc; i++) await new Promise((r) => setTimeout(r, 50));
      if (!dc) throw new Error('no data channel');
      await opened;
    },
    /** Resolves once every accepted file ended: {bytes, files, sha256 (the sender's), tFirst, tLast} (wall clock, ms). */
    received() {
      return done.promise;
    },
    close() {
      sock?.disconnect();
      pc?.close();
    },
  };
})();
