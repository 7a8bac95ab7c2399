/* One RTCPeerConnection to one other member of the room, with one ordered,
 * reliable data channel "peerdrop" and trickle ICE (seed §4.1). The older
 * member (the one that received user-joined) makes the offer. */

const CONNECT_TIMEOUT_MS = 20_000;

export interface PeerCallbacks {
  sendSignal(kind: 'offer' | 'answer' | 'ice-candidate', payload: unknown): void;
  /** `opened`: we created the channel (true) or the peer did (false). */
  onChannel(dc: RTCDataChannel, opened: boolean): void;
  onState(state: RTCPeerConnectionState): void;
}

export class PeerLink {
  readonly pc: RTCPeerConnection;
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private closed = false;
  private timer: ReturnType<typeof setTimeout>;

  constructor(
    readonly peerId: string,
    readonly initiator: boolean,
    iceServers: RTCIceServer[],
    private cb: PeerCallbacks,
    /** "relay": TURN-relayed candidates only, so the peer never learns our addresses. */
    iceTransportPolicy: RTCIceTransportPolicy = 'all',
  ) {
    this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy });
    this.pc.onicecandidate = (e) => {
      cb.sendSignal('ice-candidate', { candidate: e.candidate ? e.candidate.toJSON() : null, targetSocketId: peerId });
    };
    this.pc.onconnectionstatechange = () => {
      if (this.closed) return;
      if (this.pc.connectionState === 'connected') clearTimeout(this.timer);
      cb.onState(this.pc.connectionState);
    };
    // Chromium takes ~30 s to declare "failed" when no candidate pair ever
    // works; give up sooner so that the user hears about it (and we retry).
    this.timer = setTimeout(() => {
      if (!this.closed && this.pc.connectionState !== 'connected') cb.onState('failed');
    }, CONNECT_TIMEOUT_MS);
    if (!initiator) this.pc.ondatachannel = (e) => cb.onChannel(e.channel, false);
  }

  /** Initiator only: creates the data channel and sends the offer. */
  async start(): Promise<void> {
    this.cb.onChannel(this.pc.createDataChannel('peerdrop', { ordered: true }), true);
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.cb.sendSignal('offer', { sdp: this.pc.localDescription!.sdp, targetSocketId: this.peerId });
  }

  async onOffer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.cb.sendSignal('answer', { sdp: this.pc.localDescription!.sdp, targetSocketId: this.peerId });
  }

  async onAnswer(sdp: string): Promise<void> {
    if (this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.flushCandidates();
  }

  async onCandidate(c: RTCIceCandidateInit | null): Promise<void> {
    if (!this.pc.remoteDescription) {
      if (c) this.pendingCandidates.push(c);
      return;
    }
    try {
      await this.pc.addIceCandidate(c ?? undefined);
    } catch {
      /* a candidate we cannot use (e.g. an unresolvable .local name) is not fatal */
    }
  }

  private async flushCandidates(): Promise<void> {
    const list = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of list) await this.onCandidate(c);
  }

  /** What this side may send in one message (RFC 8841 max-message-size), or 0 if unknown. */
  get maxMessageSize(): number {
    return this.pc.sctp?.maxMessageSize ?? 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pc.close();
  }
}
