/* One RTCPeerConnection to one other member of the room, with one ordered,
 * reliable data channel "peerdrop" and trickle ICE (seed §4.1). The older
 * member (the one that received user-joined) makes the offer. A lane
 * (docs/protocol.md §5.10) is a PeerLink too: its signals carry `lane`, its
 * channel is "peerdrop-lane", and each description is checked (`check`)
 * before it is applied or sent. */

const CONNECT_TIMEOUT_MS = 20_000;

export interface LinkOptions {
  /** "relay": TURN-relayed candidates only, so the peer never learns our addresses. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** The page's one certificate: the session and its lanes show the same DTLS fingerprint. */
  certificates?: RTCCertificate[];
  /** 0: the main connection; 1 … 7: a lane of it (sent as `lane` with each signal). */
  lane?: number;
  /** Throws to refuse a description: the peer's (`remote`, before it is
   *  applied) or ours (`local`, before it is applied and sent). */
  check?: (which: 'local' | 'remote', sdp: string) => void;
}

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
    private readonly opts: LinkOptions = {},
  ) {
    const config: RTCConfiguration = { iceServers, iceTransportPolicy: opts.iceTransportPolicy ?? 'all' };
    if (opts.certificates) config.certificates = opts.certificates;
    this.pc = new RTCPeerConnection(config);
    this.pc.onicecandidate = (e) => {
      cb.sendSignal('ice-candidate', this.withLane({ candidate: e.candidate ? e.candidate.toJSON() : null, targetSocketId: peerId }));
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

  private withLane<T extends object>(payload: T): T | (T & { lane: number }) {
    return this.opts.lane ? { ...payload, lane: this.opts.lane } : payload;
  }

  /** Initiator only: creates the data channel and sends the offer. */
  async start(): Promise<void> {
    this.cb.onChannel(this.pc.createDataChannel(this.opts.lane ? 'peerdrop-lane' : 'peerdrop', { ordered: true }), true);
    const offer = await this.pc.createOffer();
    this.opts.check?.('local', offer.sdp ?? '');
    await this.pc.setLocalDescription(offer);
    if (this.closed) return;
    this.cb.sendSignal('offer', this.withLane({ sdp: this.pc.localDescription!.sdp, targetSocketId: this.peerId }));
  }

  async onOffer(sdp: string): Promise<void> {
    this.opts.check?.('remote', sdp);
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    this.opts.check?.('local', answer.sdp ?? '');
    await this.pc.setLocalDescription(answer);
    if (this.closed) return;
    this.cb.sendSignal('answer', this.withLane({ sdp: this.pc.localDescription!.sdp, targetSocketId: this.peerId }));
  }

  async onAnswer(sdp: string): Promise<void> {
    if (this.pc.signalingState !== 'have-local-offer') return;
    this.opts.check?.('remote', sdp);
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
