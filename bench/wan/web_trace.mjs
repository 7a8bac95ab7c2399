// bench/wan/web_trace.mjs: what each peer connection of a page does during
// a web-web case, sampled once a second, for finding which layer sets the
// pace (web_case.mjs with WAN_WEB_TRACE=<file>). TRACE_INIT runs in the page
// before the app and keeps every RTCPeerConnection and data channel it
// makes; sample() reads, per connection: bytes sent and received by the
// transport, the selected pair's round trip, and the data channels'
// bufferedAmount (the browser's send queue above SCTP).

export const TRACE_INIT = `(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__pdTrace) return;
  const trace = (window.__pdTrace = { pcs: [] });
  class Traced extends Native {
    constructor(...args) {
      super(...args);
      const rec = { pc: this, channels: [] };
      trace.pcs.push(rec);
      this.addEventListener('datachannel', (e) => rec.channels.push(e.channel));
      const create = this.createDataChannel.bind(this);
      this.createDataChannel = (...a) => {
        const ch = create(...a);
        rec.channels.push(ch);
        return ch;
      };
    }
  }
  window.RTCPeerConnection = Traced;
})();`;

/** One sample of every connection the page made: [{ i, state, sent, recv, rtt_ms, buffered }]. */
export async function sample(page) {
  return page.evaluate(async () => {
    const out = [];
    const pcs = window.__pdTrace?.pcs ?? [];
    for (let i = 0; i < pcs.length; i++) {
      const { pc, channels } = pcs[i];
      if (pc.connectionState === 'closed') continue;
      let sent = 0, recv = 0, rtt = null;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'transport') {
          sent += s.bytesSent ?? 0;
          recv += s.bytesReceived ?? 0;
        }
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime != null)
          rtt = Math.round(s.currentRoundTripTime * 1000);
      });
      const buffered = channels.filter((c) => c.readyState === 'open').map((c) => c.bufferedAmount);
      out.push({ i, state: pc.connectionState, sent, recv, rtt_ms: rtt, buffered });
    }
    return out;
  });
}
