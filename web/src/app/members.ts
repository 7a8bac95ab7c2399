/* The other members of the room and the connection to each: one PeerLink
 * (RTCPeerConnection) and one ChannelDriver per member, and the policy
 * around them: who offers (the older member), retries after a failure, the
 * wait for a newer member's offer, reconnection after a drop, relay only,
 * and a failed authentication (no reconnection, no guess more). Transfers
 * and offers are the host's. */

import type { SessionEvent } from '../protocol/session';
import type { Hello } from '../protocol/types';
import { sdpFingerprint } from '../crypto/confirm';
import type { PakeConfig } from '../crypto/session';
import { ChannelDriver } from './channel';
import { PeerLink, type LinkOptions } from './peer';
import type { Sink } from './sinks';
import { peerLabel } from './transfers';
import { msg, type Msg } from '../i18n/catalog';
import type { PeerState, PeerView } from './types';

const NO_TURN = msg('peer.noTurn');
const NO_OFFER = msg('peer.noOffer');
/* The older member sends its offer as soon as it hears of us (well under a
 * second); a newer member that hears nothing for this long says so rather
 * than showing "Connecting…" for ever. A late offer still connects. */
const OFFER_WAIT_MS = 15_000;
const FATAL_RETRIES = 2;
const NOT_RECONNECTED = msg('peer.notReconnected');
/* docs/authentication.md §7: a wrong secret and an interception look the
 * same (a MAC that does not verify), so the message names both. */
export const AUTH_FAILED_MESSAGE = msg('peer.authFailed');
/** The same in a room joined with a short code (the CLI says "code" too). */
export const AUTH_FAILED_CODE_MESSAGE = msg('peer.authFailedCode');
/* The failed peer's connection is closed this long after the error was
 * queued, so that the error reaches it (the channel closes after 100 ms). */
const AUTH_CLOSE_MS = 250;
/* docs/protocol.md §5.10: a lane not open this long after its offer is
 * given up, and the session goes on without it. A lane is one more ICE,
 * DTLS and SCTP set-up over a path the session has just proven, done in
 * well under a second on loopback and a few round trips elsewhere. */
export const LANE_OPEN_MS = 10_000;

/* A lane description whose fingerprint is not the session's (§5.10). */
class LaneRefused extends Error {}
/* Why a lane could not be set up, for the log: never the SDP or the browser's message about it. */
function laneFailure(e: unknown): string {
  return e instanceof LaneRefused ? "refused: its DTLS fingerprint is not the session's" : 'its description could not be applied';
}

/** A lane of a member's session: its own peer connection (§5.10). */
interface Lane {
  link: PeerLink;
  /** Gives it up if it has not opened by then (LANE_OPEN_MS). */
  timer: ReturnType<typeof setTimeout>;
  open: boolean;
}

export function hasTurnServer(ice: RTCIceServer[]): boolean {
  return ice.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/i.test(u)));
}

export interface Member {
  id: string;
  link: PeerLink | null;
  driver: ChannelDriver | null;
  state: PeerState;
  error?: Msg;
  retries: number;
  initiator: boolean;
  /** Not the initiator: gives up waiting for the peer's offer (OFFER_WAIT_MS). */
  offerWait?: ReturnType<typeof setTimeout>;
  /** The session ended on a protocol error (§5.7): shown on the peer until a
   *  new connection forms; transfers may resume on it, but a peer that fails
   *  every time is not reconnected without end (FATAL_RETRIES). */
  fatal?: Msg;
  fatals?: number;
  /** The verification code of the current channel, once authenticated. */
  sas?: string;
  /** Authentication failed: no reconnection, no offer taken from this peer
   *  (a wrong secret would fail again, and each attempt is a guess at the
   *  secret), until either side reloads (a new socket id, a new member). */
  authFailed?: boolean;
  /** Left the room after its authentication failed: kept to show the failure. */
  left?: boolean;
  /** What its last hello said it is (§5.1; cleaned, shown as text). */
  name?: string;
  device?: string;
  /** The lanes of the current session by number (1 … L; §5.10). */
  lanes: (Lane | undefined)[];
  /** The DTLS fingerprints the current session's authentication ran over
   *  (docs/authentication.md §6): every lane must show the same. */
  fp?: { local: string; remote: string };
  /** A session with it ended while its lanes were being set up: its next
   *  sessions offer none (a signaling server that drops `lane` turns each
   *  lane offer into a new main offer, which replaces the session). */
  noLanes?: boolean;
}

/** What the members need from the room. */
export interface MemberHost {
  relay(kind: 'offer' | 'answer' | 'ice-candidate', payload: unknown): void;
  ice(): RTCIceServer[];
  relayOnly(): boolean;
  /** The page's one DTLS certificate (every connection uses it), if one could be made. */
  certificate(): RTCCertificate | undefined;
  /** The lanes we offer each new session (hello.lanes, §5.10); 0 without a certificate. */
  lanes(): number;
  /** Who we are for peers: sent in each new channel's hello. */
  who(): { name: string; device: string };
  /** Our socket id, the room id and its PRS; null once out of the room. */
  authBase(): { self: string; room: string; prs: Uint8Array } | null;
  /** Joined with a short code (its words, and a failure leaves the room). */
  codeRoom(): boolean;
  /** A code room's peer failed authentication: leave the room after `ms`
   *  (once its connection is closed), saying why, unless left meanwhile. */
  leaveAfterAuthFailure(ms: number): void;
  changed(): void;
  /** Transfers with the peer wait for a reconnection. */
  interrupt(peerId: string): void;
  /** The peer left: its transfers and offer end. */
  peerLeft(peerId: string): void;
  /** Every transfer with the peer has ended. */
  finishedWith(peerId: string): boolean;
  /** Its offer to us cannot be accepted any more. */
  dropOffer(peerId: string): void;
  /** The channel to m is ready (hello exchanged). */
  onReady(m: Member, d: ChannelDriver): void;
  onEvent(m: Member, d: ChannelDriver, e: SessionEvent): void;
  source(xfer: string): File[] | null;
  sink(xfer: string): Sink | null;
}

export class Members {
  /** By socket id; read by tests (window.peerdrop.members). */
  readonly map = new Map<string, Member>();

  constructor(private readonly host: MemberHost) {}

  /** What to call the peer: its name, else a short form of its socket id. */
  label(id: string): Msg {
    const name = this.map.get(id)?.name;
    return name !== undefined ? msg('peer.named', { name }) : peerLabel(id);
  }

  get(id: string): Member | undefined {
    return this.map.get(id);
  }
  values(): IterableIterator<Member> {
    return this.map.values();
  }
  views(): PeerView[] {
    return [...this.map.values()].map((m) => ({ id: m.id, label: this.label(m.id), name: m.name, device: m.device, state: m.state, error: m.error, sas: m.sas, authFailed: m.authFailed, left: m.left, lanes: m.driver?.openLanes ?? 0 }));
  }

  /** Closes every connection and forgets every member. */
  clear(): void {
    for (const m of this.map.values()) {
      clearTimeout(m.offerWait);
      this.closeLanes(m);
      m.driver?.close();
      m.link?.close();
    }
    this.map.clear();
  }

  /** Closes every data channel, as a network drop would. */
  dropConnections(): void {
    for (const m of this.map.values()) m.driver?.close();
  }

  /** A member already in the room when we joined: it offers, we wait. */
  add(id: string, initiator: boolean): Member {
    let m = this.map.get(id);
    if (!m) {
      m = { id, link: null, driver: null, state: 'CONNECTING', retries: 0, initiator, lanes: [] };
      this.map.set(id, m);
      if (!initiator) this.awaitOffer(m);
    }
    return m;
  }

  private awaitOffer(m: Member, why = NO_OFFER): void {
    clearTimeout(m.offerWait);
    m.offerWait = setTimeout(() => {
      if (this.map.get(m.id) !== m || m.link || m.state !== 'CONNECTING') return;
      m.state = 'FAILED';
      m.error = why;
      this.host.changed();
    }, OFFER_WAIT_MS);
  }

  /** A newer member joined: we are the older one, we offer. */
  onUserJoined(id: string): void {
    const m = this.add(id, true);
    m.initiator = true;
    this.connect(m);
    this.host.changed();
  }

  /** Relay only changed: every peer is connected again with the new policy;
   *  a transfer under way resumes where it stopped. */
  reconnectAll(): void {
    for (const m of this.map.values()) {
      if (m.authFailed) continue;
      m.retries = 0;
      this.host.interrupt(m.id);
      // the offering side connects again; the other waits for its new offer
      if (m.initiator) this.connect(m);
      else {
        this.closeLanes(m);
        m.driver?.close();
        m.link?.close();
        m.link = m.driver = null;
        m.state = 'CONNECTING';
        m.error = undefined;
        this.awaitOffer(m);
      }
    }
  }

  private connect(m: Member): void {
    if (m.authFailed) return;
    clearTimeout(m.offerWait);
    m.fatal = undefined;
    m.sas = undefined;
    this.closeLanes(m); // a new main connection replaces the session and its lanes
    m.link?.close();
    m.driver = null;
    m.state = 'CONNECTING';
    m.error = undefined;
    const relayOnly = this.host.relayOnly();
    if (relayOnly && !hasTurnServer(this.host.ice())) {
      m.link = null;
      m.state = 'FAILED';
      m.error = NO_TURN;
      this.host.interrupt(m.id);
      return;
    }
    const link = new PeerLink(m.id, m.initiator, this.host.ice(), {
      sendSignal: (kind, payload) => this.host.relay(kind, payload),
      onChannel: (dc, opened) => {
        if (m.link !== link) return;
        m.driver = new ChannelDriver(m.id, dc, () => link.maxMessageSize, this.channelHost(m), opened, () => this.authConfig(m, link, opened), { ...this.host.who(), lanes: m.noLanes ? 0 : this.host.lanes() });
      },
      onState: (s) => {
        if (m.link !== link) return;
        if (s === 'failed')
          this.linkFailed(m, msg(relayOnly ? 'peer.noRelayPath' : 'peer.noPath'));
      },
    }, this.linkOptions(0));
    m.link = link;
    if (m.initiator) link.start().catch(() => this.linkFailed(m, msg('peer.startFailed')));
  }

  /** This side's view of the connection to m for the PAKE
   *  (docs/authentication.md §4, §6): the side that created the channel is
   *  the offerer; socket ids as signaling gave them, the offerer's first;
   *  each fingerprint from the SDP that carried it (ours set locally, the
   *  peer's applied remotely). Throws when something is missing. */
  private authConfig(m: Member, link: PeerLink, opened: boolean): PakeConfig {
    const base = this.host.authBase();
    if (!base) throw new Error('not in a room');
    const local = sdpFingerprint(link.pc.localDescription?.sdp ?? '');
    const remote = sdpFingerprint(link.pc.remoteDescription?.sdp ?? '');
    if (!local || !remote) throw new Error('not exactly one DTLS fingerprint in an SDP');
    m.fp = { local, remote };
    const common = { prs: base.prs, room: base.room };
    return opened
      ? { ...common, role: 'offerer', offererId: base.self, answererId: m.id, fpOfferer: local, fpAnswerer: remote }
      : { ...common, role: 'answerer', offererId: m.id, answererId: base.self, fpOfferer: remote, fpAnswerer: local };
  }

  private linkOptions(lane: number, check?: LinkOptions['check']): LinkOptions {
    const cert = this.host.certificate();
    return { iceTransportPolicy: this.host.relayOnly() ? 'relay' : 'all', certificates: cert ? [cert] : undefined, lane, check };
  }

  /* ---- lanes (docs/protocol.md §5.10) ---- */

  /** The offerer of the session on d, once both hellos are in: opens lanes 1 … L. */
  private openLanes(m: Member, d: ChannelDriver): void {
    if (!m.initiator || m.driver !== d) return;
    for (let k = 1; k <= d.session.lanes; k++) this.openLane(m, d, k);
  }

  /** Sets up lane k of the session on d: as its offerer (no `sdp`), or answering the peer's offer `sdp`. */
  private openLane(m: Member, d: ChannelDriver, k: number, sdp?: string): void {
    const link: PeerLink = new PeerLink(m.id, sdp === undefined, this.host.ice(), {
      sendSignal: (kind, payload) => this.host.relay(kind, payload),
      onChannel: (dc) => {
        if (m.lanes[k]?.link !== link || m.driver !== d) return dc.close();
        dc.onopen = () => {
          const lane = m.lanes[k];
          if (lane?.link !== link || m.driver !== d) return;
          lane.open = true;
          clearTimeout(lane.timer);
          d.addLane(k, dc, () => this.laneLost(m, d, k, link));
        };
        if (dc.readyState === 'open') dc.onopen(new Event('open'));
      },
      onState: (s) => {
        const lane = m.lanes[k];
        if (lane?.link !== link) return;
        if (s !== 'failed' && s !== 'closed') return;
        if (lane.open) this.laneLost(m, d, k, link);
        else this.dropLane(m, k, 'did not connect');
      },
    }, this.linkOptions(k, (which, desc) => this.checkLane(m, which, desc)));
    m.lanes[k] = {
      link,
      open: false,
      timer: setTimeout(() => {
        if (m.lanes[k]?.link === link && !m.lanes[k]?.open) this.dropLane(m, k, `not open within ${LANE_OPEN_MS / 1000} s`);
      }, LANE_OPEN_MS),
    };
    const refused = (e: unknown) => m.lanes[k]?.link === link && this.dropLane(m, k, laneFailure(e));
    if (sdp === undefined) link.start().catch(refused);
    else link.onOffer(sdp).catch(refused);
  }

  /* §5.10: a lane's descriptions show the fingerprints the session's authentication confirmed, or it is not set up. */
  private checkLane(m: Member, which: 'local' | 'remote', sdp: string): void {
    const want = which === 'local' ? m.fp?.local : m.fp?.remote;
    if (!want || sdpFingerprint(sdp) !== want) throw new LaneRefused();
  }

  /** Gives lane k up (never set up, refused, not open in time): the session goes on without it. */
  private dropLane(m: Member, k: number, why: string): void {
    const lane = m.lanes[k];
    if (!lane) return;
    m.lanes[k] = undefined;
    clearTimeout(lane.timer);
    lane.link.close();
    // never the SDP: only which lane and why
    console.warn(`peerdrop: lane ${k} given up: ${why}`);
  }

  /* An open lane failed or closed. Under lane-resend (§5.11) the session
   * goes on without it (its unacknowledged data is sent again on the other
   * channels); otherwise the session ends like a dropped channel (its
   * reconnection resumes). */
  private laneLost(m: Member, d: ChannelDriver, k: number, link: PeerLink): void {
    if (m.lanes[k]?.link !== link) return;
    m.lanes[k] = undefined;
    link.close();
    if (m.driver !== d) return;
    if (!d.loseLane(k)) return d.close();
    console.warn(`peerdrop: lane ${k} lost; the session goes on without it`);
    this.host.changed();
  }

  private closeLanes(m: Member): void {
    for (const lane of m.lanes) {
      if (!lane) continue;
      clearTimeout(lane.timer);
      lane.link.close();
    }
    m.lanes = [];
  }

  /** A lane offer: taken only on a session that agreed on at least k lanes and has no lane k (§5.10). */
  private onLaneOffer(from: string, sdp: string, k: number): void {
    const m = this.map.get(from);
    const d = m?.driver;
    if (!m || !d || m.initiator || m.authFailed || !d.authenticated || !d.session.ready || k > d.session.lanes || m.lanes[k]) {
      console.warn(`peerdrop: lane ${k} offer ignored: no session with that lane`);
      return;
    }
    this.openLane(m, d, k, sdp);
  }

  async onOffer(from: string, sdp: string, lane = 0): Promise<void> {
    if (lane > 0) return this.onLaneOffer(from, sdp, lane); // never a new main connection
    if (this.map.get(from)?.authFailed) return; // refused until a reload: no new guess
    const m = this.add(from, false);
    m.initiator = false;
    this.connect(m);
    this.host.changed();
    if (!m.link) return; // relay only without a TURN server: said on the peer
    try {
      await m.link!.onOffer(sdp);
    } catch {
      this.linkFailed(m, msg('peer.answerFailed'));
    }
  }

  onAnswer(from: string, sdp: string, lane = 0): void {
    const m = this.map.get(from);
    if (lane === 0) return void m?.link?.onAnswer(sdp).catch(() => {});
    const link = m?.lanes[lane]?.link;
    if (m && link) void link.onAnswer(sdp).catch((e: unknown) => m.lanes[lane]?.link === link && this.dropLane(m, lane, laneFailure(e)));
  }
  onCandidate(from: string, c: RTCIceCandidateInit | null, lane = 0): void {
    const m = this.map.get(from);
    void (lane === 0 ? m?.link : m?.lanes[lane]?.link)?.onCandidate(c);
  }

  private linkFailed(m: Member, why: Msg): void {
    if (!this.map.has(m.id) || m.authFailed) return;
    m.state = 'FAILED';
    m.error = why;
    this.host.interrupt(m.id);
    // The offering side retries a few times; the other side waits for a new offer.
    if (m.initiator && m.retries < 3) {
      m.retries++;
      setTimeout(() => this.map.get(m.id) === m && m.state === 'FAILED' && this.connect(m), 1000 * m.retries);
    }
    this.host.changed();
  }

  onUserLeft(id: string): void {
    const m = this.map.get(id);
    if (!m) return;
    if (m.authFailed) {
      // The warning stays: a refusing peer (a CLI exits 6) leaves at once,
      // and a row that vanished would tell the user under attack nothing.
      m.left = true;
      this.host.changed();
      return;
    }
    this.map.delete(id);
    clearTimeout(m.offerWait);
    this.closeLanes(m);
    m.driver?.close();
    m.link?.close();
    this.host.peerLeft(id);
    this.host.changed();
  }

  /** The session with m ended on a protocol error: said on the peer too
   *  (the only place when no transfer shows it, e.g. during the hello). */
  fatal(m: Member, why: Msg): void {
    m.fatal = why;
    m.state = 'FAILED';
    m.error = why;
  }

  /** Authentication with m failed on d (ours, or the peer refused our tag
   *  after we were done): the failure on its row, its connection closed,
   *  no reconnection, nothing offered to or taken from it. */
  authFailed(m: Member, d: ChannelDriver): void {
    if (m.driver !== d || !this.map.has(m.id)) return;
    const code = this.host.codeRoom();
    m.authFailed = true;
    m.sas = undefined;
    m.state = 'FAILED';
    m.error = code ? AUTH_FAILED_CODE_MESSAGE : AUTH_FAILED_MESSAGE;
    clearTimeout(m.offerWait);
    m.driver = null;
    this.closeLanes(m);
    this.host.interrupt(m.id);
    this.host.dropOffer(m.id);
    const link = m.link;
    m.link = null;
    setTimeout(() => link?.close(), AUTH_CLOSE_MS);
    this.host.changed();
    // A code room holds its sender and one receiver: staying would keep the
    // sender from the right receiver, and there is nobody else to talk to.
    // Leave once the connection is closed, as the CLI exits 6, and say why.
    if (code) this.host.leaveAfterAuthFailure(AUTH_CLOSE_MS + 50);
  }

  private channelHost(m: Member) {
    return {
      onAuth: (d: ChannelDriver, sas: string) => {
        if (m.driver !== d || !this.map.has(m.id)) return;
        m.sas = sas;
        this.host.changed();
      },
      onAuthFailed: (d: ChannelDriver) => this.authFailed(m, d),
      onReady: (d: ChannelDriver, peer: Hello) => {
        m.name = peer.name;
        m.device = peer.device;
        m.state = 'CONNECTED';
        m.error = undefined;
        m.retries = 0;
        this.host.changed();
        this.host.onReady(m, d);
        this.openLanes(m, d);
      },
      onLane: () => this.host.changed(),
      onClosed: (d: ChannelDriver) => {
        if (m.driver !== d || !this.map.has(m.id)) return;
        // Both stay in the room: the offering side connects again, the other
        // waits for its offer (and says so if none comes), so neither shows a
        // failure for what is a reconnection.
        m.driver = null;
        if (m.lanes.some((l) => l && !l.open)) {
          m.noLanes = true;
          console.warn('peerdrop: the session ended while its lanes were being set up; the next ones go without lanes');
        }
        this.closeLanes(m); // lanes live and die with their session
        m.sas = undefined; // the code belongs to that channel; the next one gets its own
        const finished = this.host.finishedWith(m.id);
        this.host.interrupt(m.id);
        if (m.fatal) {
          m.state = 'FAILED';
          m.error = m.fatal;
          const n = (m.fatals = (m.fatals ?? 0) + 1);
          if (m.initiator && n <= FATAL_RETRIES) setTimeout(() => this.map.get(m.id) === m && !m.driver && this.connect(m), 1000 * n);
          this.host.changed();
          return;
        }
        m.state = 'CONNECTING';
        m.error = undefined;
        if (m.initiator) setTimeout(() => this.map.get(m.id) === m && !m.driver && this.connect(m), 500);
        else {
          m.link?.close();
          m.link = null;
          // A peer that closes once it is done (a CLI sender that stays for other
          // receivers) will not offer again: not a drop, no error. A later offer still connects.
          if (finished) {
            clearTimeout(m.offerWait);
            m.state = 'FINISHED';
          } else this.awaitOffer(m, NOT_RECONNECTED);
        }
        this.host.changed();
      },
      onEvent: (d: ChannelDriver, e: SessionEvent) => this.host.onEvent(m, d, e),
      source: (xfer: string) => this.host.source(xfer),
      sink: (xfer: string) => this.host.sink(xfer),
    };
  }
}
