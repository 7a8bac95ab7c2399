// raw_page.js: the raw Chromium data-channel reference, no app code. Loaded
// into a blank page; bench.mjs drives it through page.evaluate. The same
// operations as ndc_peer.mjs: non-trickle offer/answer, one ordered reliable
// channel, 64 KiB binary messages, bufferedAmount backpressure with the
// watermarks of the peerdrop CLI and web app (4 MiB high, 1 MiB low).
window.raw = (() => {
  const HIGH = 4 << 20;
  const LOW = 1 << 20;
  const now = () => performance.timeOrigin + performance.now();
  let pc = null;
  let dc = null;
  let opened = null;
  let recv = null;

  // Chromium gathers 127.0.0.1 only once the page holds a (fake) media grant
  // (shared/notes/chromium-loopback-webrtc.md).
  async function newPeer() {
    try {
      (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks().forEach((t) => t.stop());
    } catch {}
    pc = new RTCPeerConnection({ iceServers: [] });
    pc.ondatachannel = (e) => attach(e.channel);
  }

  function attach(ch) {
    dc = ch;
    dc.binaryType = 'arraybuffer';
    opened = new Promise((resolve) => {
      if (dc.readyState === 'open') resolve();
      else dc.addEventListener('open', () => resolve(), { once: true });
    });
    dc.onmessage = (e) => {
      if (!recv || typeof e.data === 'string') return;
      if (!recv.got) recv.tFirst = now();
      recv.got += e.data.byteLength;
      if (recv.got >= recv.want) recv.resolve({ bytes: recv.got, tFirst: recv.tFirst, tLast: now() });
    };
  }

  async function gathered() {
    if (pc.iceGatheringState !== 'complete')
      await new Promise((resolve) => {
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      });
    return pc.localDescription.sdp;
  }

  return {
    async offer() {
      await newPeer();
      attach(pc.createDataChannel('bench'));
      await pc.setLocalDescription();
      return gathered();
    },
    async answer(sdp) {
      await newPeer();
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription();
      return gathered();
    },
    async remote(sdp) {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    },
    async waitOpen() {
      for (let i = 0; i < 300 && !dc; i++) await new Promise((r) => setTimeout(r, 50));
      if (!dc) throw new Error('no data channel');
      await opened;
    },
    /** Resolves once `bytes` have arrived: {bytes, tFirst, tLast} (wall clock, ms). */
    recv(bytes) {
      return new Promise((resolve) => {
        recv = { want: bytes, got: 0, tFirst: 0, resolve };
      });
    },
    /** Sends `bytes` in `msg`-byte messages; resolves when all are queued. */
    async send(bytes, msg) {
      const buf = new Uint8Array(msg).fill(0x5a);
      dc.bufferedAmountLowThreshold = LOW;
      const t0 = now();
      let sent = 0;
      while (sent < bytes) {
        if (dc.bufferedAmount > HIGH)
          await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
        const n = Math.min(msg, bytes - sent);
        dc.send(n === msg ? buf : buf.subarray(0, n));
        sent += n;
      }
      return { bytes: sent, t0, tEnd: now() };
    },
    close() {
      pc?.close();
    },
  };
})();
