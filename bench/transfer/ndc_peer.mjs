// ndc_peer.mjs: one libdatachannel peer (npm node-datachannel, prebuilt) for
// the transfer benchmark's references. Its own process, so that each peer has
// a core of its own, as the two peerdrop CLIs do.
//
// Signaling is non-trickle, as JSON lines:
//   stdin  {"cmd":"offer"}                      -> {"type":"offer","sdp":...}
//          {"cmd":"answer","sdp":...}           -> {"type":"answer","sdp":...}
//          {"cmd":"remote","sdp":...}           (the answer to our offer)
//          {"cmd":"recv","bytes":N}             count N bytes, then report
//          {"cmd":"send","bytes":N,"msg":M}     N bytes in M-byte binary messages
//   stdout {"type":"open","ms":...}             (ms since the first command)
//          {"type":"recv","bytes":N,"tFirst":..,"tLast":..}   wall clock, ms
//          {"type":"sent","bytes":N,"t0":..,"tEnd":..}        wall clock, ms
// Backpressure as the peerdrop CLI and the web app do it: stop above 4 MiB
// buffered, go on when the buffer has drained to 1 MiB.
import readline from 'node:readline';
import nodeDataChannel from 'node-datachannel';

const HIGH = 4 << 20;
const LOW = 1 << 20;
const now = () => performance.timeOrigin + performance.now();
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

let pc = null;
let dc = null;
let t0 = 0;
let recvWant = 0;
let recvGot = 0;
let tFirst = 0;
let pendingSend = null;

function newPeer() {
  t0 = now();
  pc = new nodeDataChannel.PeerConnection('bench', { iceServers: [], bindAddress: '127.0.0.1' });
  pc.onStateChange((s) => (s === 'failed' || s === 'closed') && console.error('ndc: state', s));
  pc.onDataChannel((ch) => attach(ch));
  // Non-trickle: the description goes out once gathering is complete, with
  // every candidate in it.
  pc.onGatheringStateChange((s) => {
    if (s !== 'complete') return;
    const d = pc.localDescription();
    out({ type: d.type, sdp: d.sdp });
  });
}

function attach(ch) {
  dc = ch;
  let opened = false;
  const onOpen = () => {
    if (opened) return;
    opened = true;
    out({ type: 'open', ms: now() - t0 });
    if (pendingSend) pendingSend();
  };
  dc.onOpen(onOpen);
  dc.onMessage((m) => {
    if (typeof m === 'string') return;
    if (!recvGot) tFirst = now();
    recvGot += m.byteLength;
    if (recvWant && recvGot >= recvWant) {
      out({ type: 'recv', bytes: recvGot, tFirst, tLast: now() });
      recvWant = 0;
    }
  });
  if (dc.isOpen()) onOpen();
}

function send(total, msg) {
  const buf = Buffer.alloc(msg, 0x5a);
  let sent = 0;
  let done = false;
  const start = now();
  dc.setBufferedAmountLowThreshold(LOW);
  const pump = () => {
    while (sent < total && dc.bufferedAmount() < HIGH) {
      const n = Math.min(msg, total - sent);
      // false means "queued, not sent yet", not an error
      dc.sendMessageBinary(n === msg ? buf : buf.subarray(0, n));
      sent += n;
    }
    if (sent >= total && !done) {
      done = true;
      out({ type: 'sent', bytes: sent, t0: start, tEnd: now() });
    }
  };
  dc.onBufferedAmountLow(pump);
  pump();
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line);
  switch (m.cmd) {
    case 'offer':
      newPeer();
      attach(pc.createDataChannel('bench'));
      break;
    case 'answer':
      newPeer();
      pc.setRemoteDescription(m.sdp, 'offer');
      break;
    case 'remote':
      try {
        pc.setRemoteDescription(m.sdp, 'answer');
      } catch (e) {
        // Seen now and then on a loaded machine: "Got a remote candidate
        // without ICE transport". The description itself was applied (the
        // signaling state is stable); hand the candidates over one by one.
        console.error('ndc: adding the answer\'s candidates one by one after:', e.message);
        for (const l of m.sdp.split('\r\n')) if (l.startsWith('a=candidate:')) pc.addRemoteCandidate(l.slice(2), '0');
      }
      break;
    case 'recv':
      recvWant = m.bytes;
      break;
    case 'send':
      if (dc?.isOpen()) send(m.bytes, m.msg);
      else pendingSend = () => send(m.bytes, m.msg);
      break;
  }
});
rl.on('close', () => {
  try {
    dc?.close();
    pc?.close();
  } catch {}
  nodeDataChannel.cleanup();
  process.exit(0);
});
