/* The room controller: signaling, one PeerLink + ChannelDriver per other
 * member, and the transfers, exposed to React as an immutable snapshot.
 * The password is kept only in memory and the URL fragment; never logged,
 * never sent: the server gets its admission value (issue 14). */

import { ALL_HIDDEN, IncomingTransfer, type SessionEvent } from '../protocol/session';
import { TextStore } from './texts';
import type { ErrorCode, FileEntry } from '../protocol/types';
import { nameProblem, dirProblem, entryHidden, entryPath } from '../protocol/paths';
import { ChannelDriver } from './channel';
import { sdpFingerprint } from '../crypto/confirm';
import type { PakeConfig } from '../crypto/session';
import { PeerLink } from './peer';
import { Signaling, SignalingError, codeRequest, fetchIceServers, parseIceServers, roomRequest, SIGNALING_MESSAGES, codeErrorMessage, type RoomRequest } from './signaling';
import type { Code } from '../lib/code';
import { claim, forget, recall, remember, type RememberedTransfer, type VerifiedFile } from './remembered';
import { adoptSink, createSink, detectStorage, FsSink, probeStorage, reopenSink, type SavedFile, type Sink, type StorageKind } from './sinks';

export type Status = 'IDLE' | 'CONNECTING' | 'TRANSFERRING' | 'COMPLETED' | 'ERROR';
export type Phase = 'IDLE' | 'CONNECTING' | 'IN_ROOM';
/* FINISHED: the peer closed the channel once every transfer on it had ended
 * (the CLI does, docs/protocol.md §5.2): done with us, not a dropped connection. */
export type PeerState = 'CONNECTING' | 'CONNECTED' | 'FAILED' | 'FINISHED';
export type TransferState = 'OFFERED' | 'WAITING' | 'TRANSFERRING' | 'INTERRUPTED' | 'COMPLETED' | 'ERROR' | 'CANCELLED' | 'DECLINED';

export interface PeerView {
  id: string;
  label: string;
  state: PeerState;
  error?: string;
  /** The verification code of the current connection (six digits), once authenticated. */
  sas?: string;
  /** Authentication with this peer failed: nothing is sent to or accepted from it. */
  authFailed?: boolean;
  /** It left the room since (its row stays, to show the failure). */
  left?: boolean;
}
export interface FileView {
  entry: FileEntry;
  bytes: number;
  state: 'waiting' | 'active' | 'done' | 'failed' | 'skipped';
  error?: string;
  /** Its name or folder starts with '.': a receiver leaves it out (docs/protocol.md §7). */
  hidden: boolean;
}
export interface TransferView {
  key: string;
  dir: 'in' | 'out';
  peerId: string;
  peerLabel: string;
  xfer: string;
  files: FileView[];
  total: number;
  bytes: number;
  state: TransferState;
  error?: string;
  speed: number; // bytes/s
  eta: number; // s
  where?: string;
  saved: SavedFile[];
  /** Bytes already held when this transfer last resumed after a drop. */
  resumedFrom?: number;
  /** Set when an earlier page of ours had begun this transfer (it can be
   *  continued): how many of its files that page verified (0 or more). */
  earlierVerified?: number;
  /** Incoming: the paths of the offered files with hidden names, which this
   *  app leaves out (never saved); `total` does not count them. */
  leftOut: string[];
}
export interface RoomSnapshot {
  phase: Phase;
  status: Status;
  roomId: string;
  password: string;
  /** Joined with a short code (a code room: two members, no link to share). */
  code: boolean;
  creator: boolean;
  selfId: string;
  peers: PeerView[];
  transfers: TransferView[];
  error: string | null;
  notice: string | null;
  storage: StorageKind;
  storageFree?: number;
  sending: boolean;
  /** Connect through the TURN relay only (the peers never see our addresses). */
  relayOnly: boolean;
  /** The server's /config lists a TURN server (relayOnly can work). */
  hasTurn: boolean;
}

const RELAY_KEY = 'peerdrop.relayOnly';
const NO_TURN = 'Relay only is on, but this server offers no TURN relay: turn it off to connect.';
const NO_OFFER = 'This peer has not started a connection. It may have “Relay only” on while this server offers no TURN relay.';
/* The older member sends its offer as soon as it hears of us (well under a
 * second); a newer member that hears nothing for this long says so rather
 * than showing "Connecting…" for ever. A late offer still connects. */
const OFFER_WAIT_MS = 15_000;
const FATAL_RETRIES = 2;
const NOT_RECONNECTED = 'The connection to this peer dropped and it has not connected again.';
/* docs/authentication.md §7: a wrong secret and an interception look the
 * same (a MAC that does not verify), so the message names both. */
export const AUTH_FAILED_MESSAGE = 'This connection may be intercepted, or the other side used a different password. Nothing was sent.';
/** The same in a room joined with a short code (the CLI says "code" too). */
export const AUTH_FAILED_CODE_MESSAGE = 'This connection may be intercepted, or the other side used a different code. Nothing was sent.';
/* The failed peer's connection is closed this long after the error was
 * queued, so that the error reaches it (the channel closes after 100 ms). */
const AUTH_CLOSE_MS = 250;

/** What create-room, join-room and ice-servers acks carry besides ok. */
interface IceAck {
  iceServers?: unknown;
  iceServersTtl?: unknown;
}

function hasTurnServer(ice: RTCIceServer[]): boolean {
  return ice.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/i.test(u)));
}

function storedRelayOnly(): boolean {
  try {
    return globalThis.localStorage?.getItem(RELAY_KEY) === '1';
  } catch {
    return false; // storage blocked: the default
  }
}

export interface PickedFile {
  file: File;
  dir: string; // relative directory, '/'-separated, '' for none
}

/* The session's message when it refuses an offer of hidden names only. */
const HIDDEN_ONLY = `unsafe path: ${ALL_HIDDEN}`;

const FILE_ERRORS: Partial<Record<ErrorCode, string>> = {
  HASH_MISMATCH: 'Integrity check failed (SHA-256 mismatch); the file was discarded.',
  READ_ERROR: 'The sender could not read this file.',
  WRITE_ERROR: 'The file could not be saved.',
  UNSAFE_PATH: 'Refused: a file name or folder is unsafe.',
  PROTOCOL: 'Protocol error between the two apps.',
};

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Makes a local name acceptable to the protocol's path rules. */
export function safeComponent(s: string): string {
  // controls, separators and (rule 8) bidi, zero-width and line-separator characters
  let t = s.replace(/[\u0000-\u001f\u007f-\u009f/\\:\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '_').replace(/[. ]+$/, '');
  if (t === '' || t === '.' || t === '..') t = '_';
  if (nameProblem(t)) t = `_${t}`;
  while (new TextEncoder().encode(t).length > 255) t = t.slice(0, -1);
  return t;
}

interface Member {
  id: string;
  link: PeerLink | null;
  driver: ChannelDriver | null;
  state: PeerState;
  error?: string;
  retries: number;
  initiator: boolean;
  /** Not the initiator: gives up waiting for the peer's offer (OFFER_WAIT_MS). */
  offerWait?: ReturnType<typeof setTimeout>;
  /** The session ended on a protocol error (§5.7): shown on the peer until a
   *  new connection forms; transfers may resume on it, but a peer that fails
   *  every time is not reconnected without end (FATAL_RETRIES). */
  fatal?: string;
  fatals?: number;
  /** The verification code of the current channel, once authenticated. */
  sas?: string;
  /** Authentication failed: no reconnection, no offer taken from this peer
   *  (a wrong secret would fail again, and each attempt is a guess at the
   *  secret), until either side reloads (a new socket id, a new member). */
  authFailed?: boolean;
  /** Left the room after its authentication failed: kept to show the failure. */
  left?: boolean;
}

interface PendingOffer {
  driver: ChannelDriver;
  files: FileEntry[];
  /** The same transfer, begun by an earlier page of ours (remembered.ts). */
  remembered?: RememberedTransfer;
  /** Such a transfer whose folder was refused: continued after all if the picker gives the same one. */
  refused?: RememberedTransfer;
}

interface Transfer extends TransferView {
  samples: [number, number][];
}

export class RoomController {
  /** Text snippets (issue 17): their own store, read by TextPanel. */
  readonly texts = new TextStore();
  private listeners = new Set<() => void>();
  private snap: RoomSnapshot;
  private sig: Signaling | null = null;
  private ice: RTCIceServer[] = [];
  /** Asks for a fresh TURN credential before the current one expires. */
  private iceRefresh: ReturnType<typeof setTimeout> | undefined;
  private relayOnly = storedRelayOnly();
  private members = new Map<string, Member>();
  private transfers = new Map<string, Transfer>();
  private outgoing: { xfer: string; entries: FileEntry[]; files: File[] } | null = null;
  private incoming = new Map<string, { inc: IncomingTransfer; sink: Sink }>();
  private pendingOffers = new Map<string, PendingOffer>();
  private phase: Phase = 'IDLE';
  private roomId = '';
  private password = '';
  /** Joined with a short code: its room has another request and PRS, no link. */
  private code = false;
  /** CPace's PRS for this room (docs/authentication.md §3), kept for the
   *  PAKE step; wiped when the room is left. */
  private prs: Uint8Array | null = null;
  private creator = false;
  private error: string | null = null;
  private notice: string | null = null;
  private storage: StorageKind = 'memory';
  /** OPFS room left (bytes), when known: told before an offer is accepted. */
  private storageFree: number | undefined;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.storage = typeof window !== 'undefined' ? detectStorage() : 'memory';
    if (this.storage === 'opfs' || this.storage === 'sw')
      void probeStorage(this.storage).then((p) => {
        this.storage = p.kind;
        this.storageFree = p.free;
        this.changed();
      });
    this.snap = this.build();
  }

  /* ---- store plumbing for useSyncExternalStore ---- */
  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  getSnapshot = (): RoomSnapshot => this.snap;

  private changed(now = true): void {
    if (now) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.snap = this.build();
      this.listeners.forEach((l) => l());
      return;
    }
    // progress: at most ~8 renders per second
    this.dirty = true;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.dirty) {
          this.dirty = false;
          this.changed(true);
        }
      }, 125);
    }
  }

  private build(): RoomSnapshot {
    const transfers = [...this.transfers.values()].map((t) => ({ ...t, files: t.files.map((f) => ({ ...f })), saved: [...t.saved] }));
    const peers = [...this.members.values()].map((m) => ({ id: m.id, label: label(m.id), state: m.state, error: m.error, sas: m.sas, authFailed: m.authFailed, left: m.left }));
    let status: Status = 'IDLE';
    const active = transfers.some((t) => t.state === 'TRANSFERRING' || t.state === 'WAITING' || t.state === 'INTERRUPTED');
    if (this.error || transfers.some((t) => t.state === 'ERROR')) status = 'ERROR';
    else if (active) status = 'TRANSFERRING';
    else if (this.phase === 'CONNECTING' || peers.some((p) => p.state === 'CONNECTING')) status = 'CONNECTING';
    else if (transfers.some((t) => t.state === 'COMPLETED')) status = 'COMPLETED';
    if (active && status === 'ERROR' && !this.error) status = 'TRANSFERRING';
    return {
      phase: this.phase,
      status,
      roomId: this.roomId,
      password: this.password,
      code: this.code,
      creator: this.creator,
      selfId: this.sig?.id ?? '',
      peers,
      transfers,
      error: this.error,
      notice: this.notice,
      storage: this.storage,
      storageFree: this.storageFree,
      relayOnly: this.relayOnly,
      hasTurn: hasTurnServer(this.ice),
      sending: [...this.transfers.values()].some((t) => t.dir === 'out' && (t.state === 'WAITING' || t.state === 'TRANSFERRING' || t.state === 'INTERRUPTED' || t.state === 'OFFERED')),
    };
  }

  /* ---- room lifecycle ---- */

  async create(roomId: string, password: string): Promise<void> {
    await this.enter(roomId, password, true, () => roomRequest(roomId, password));
  }
  async join(roomId: string, password: string): Promise<void> {
    await this.enter(roomId, password, false, () => roomRequest(roomId, password));
  }
  /** Joins the room of a short code (`code-N`, docs/signaling.md code
   *  rooms): as a joined password room, with another request (`code: true`,
   *  nothing derived from the code) and the PRS derived from the code. */
  async joinCode(code: Code): Promise<void> {
    await this.enter(code.roomId, '', false, () => codeRequest(code), true);
  }

  private async enter(roomId: string, password: string, create: boolean, makeRequest: () => Promise<RoomRequest>, code = false): Promise<void> {
    if (this.phase !== 'IDLE') return;
    this.phase = 'CONNECTING';
    this.error = null;
    this.notice = null;
    this.roomId = roomId;
    this.password = password;
    this.code = code;
    this.creator = create;
    this.changed();
    const sig = new Signaling({
      onUserJoined: (id) => this.onUserJoined(id),
      onUserLeft: (id) => this.onUserLeft(id),
      onOffer: (from, sdp) => void this.onOffer(from, sdp),
      onAnswer: (from, sdp) => void this.members.get(from)?.link?.onAnswer(sdp).catch(() => {}),
      onCandidate: (from, c) => void this.members.get(from)?.link?.onCandidate(c),
      onDisconnect: () => this.onSignalingLost(),
    });
    this.sig = sig;
    // Argon2id (~0.75 s, yielding) runs while the socket connects; the
    // button says "Creating…"/"Joining…" meanwhile. Awaited below: a
    // failure is reported there, once.
    const request = makeRequest();
    request.catch(() => {});
    try {
      this.ice = await fetchIceServers();
      await sig.connect();
      const { payload, prs } = await request;
      this.wipePrs();
      this.prs = prs;
      if (create) this.takeIce(sig, await sig.request<IceAck>('create-room', payload));
      else {
        const r = await sig.request<IceAck & { peers?: unknown }>('join-room', payload);
        this.takeIce(sig, r);
        if (Array.isArray(r.peers)) for (const p of r.peers) if (typeof p === 'string') this.addMember(p, false);
      }
      this.phase = 'IN_ROOM';
      this.changed();
    } catch (e) {
      this.sig = null; // first: the close below is ours, not a lost server
      sig.close();
      this.wipePrs();
      this.phase = 'IDLE';
      this.error = e instanceof SignalingError ? (code ? codeErrorMessage(e) : e.message) : 'Could not enter the room.';
      this.changed();
      throw e;
    }
  }

  private wipePrs(): void {
    this.prs?.fill(0);
    this.prs = null;
  }

  /** A room member's ICE servers, with its own short-lived TURN credential
   * (docs/signaling.md); renewed at half its lifetime while in the room, so
   * a reconnection later on can still allocate a relay. */
  private takeIce(sig: Signaling, r: IceAck): void {
    if (this.sig !== sig) return;
    if (Array.isArray(r.iceServers)) this.ice = parseIceServers(r.iceServers);
    clearTimeout(this.iceRefresh);
    const ttl = r.iceServersTtl;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) return;
    this.iceRefresh = setTimeout(() => {
      if (this.sig !== sig) return;
      sig.request<IceAck>('ice-servers', {}).then((a) => this.takeIce(sig, a), () => this.takeIce(sig, { iceServersTtl: 120 }));
    }, Math.min(Math.max(30, ttl / 2), 86_400) * 1000); // setTimeout takes at most 2^31-1 ms
  }

  leave(): void {
    clearTimeout(this.iceRefresh);
    const sig = this.sig;
    this.sig = null;
    sig?.close();
    for (const m of this.members.values()) {
      clearTimeout(m.offerWait);
      m.driver?.close();
      m.link?.close();
    }
    this.members.clear();
    this.transfers.clear();
    this.texts.reset();
    this.incoming.clear();
    this.pendingOffers.clear();
    this.outgoing = null;
    this.phase = 'IDLE';
    this.roomId = this.password = '';
    this.code = false;
    this.wipePrs();
    this.error = this.notice = null;
    this.changed();
  }

  /** Closes every data channel, as a network drop would (used by tests and the resume path). */
  dropConnections(): void {
    for (const m of this.members.values()) m.driver?.close();
  }

  dismissError(): void {
    this.error = null;
    this.changed();
  }

  private onSignalingLost(): void {
    if (!this.sig) return; // we left
    this.notice = `${SIGNALING_MESSAGES.UNREACHABLE} Transfers already connected continue; new peers cannot join.`;
    this.changed();
  }

  /* ---- peers ---- */

  private addMember(id: string, initiator: boolean): Member {
    let m = this.members.get(id);
    if (!m) {
      m = { id, link: null, driver: null, state: 'CONNECTING', retries: 0, initiator };
      this.members.set(id, m);
      if (!initiator) this.awaitOffer(m);
    }
    return m;
  }

  private awaitOffer(m: Member, why = NO_OFFER): void {
    clearTimeout(m.offerWait);
    m.offerWait = setTimeout(() => {
      if (this.members.get(m.id) !== m || m.link || m.state !== 'CONNECTING') return;
      m.state = 'FAILED';
      m.error = why;
      this.changed();
    }, OFFER_WAIT_MS);
  }

  private onUserJoined(id: string): void {
    const m = this.addMember(id, true);
    m.initiator = true;
    this.connect(m);
    this.changed();
  }

  /** Relay only on or off (remembered): every peer is connected again with
   *  the new policy; a transfer under way resumes where it stopped. */
  setRelayOnly(on: boolean): void {
    if (on === this.relayOnly) return;
    this.relayOnly = on;
    try {
      globalThis.localStorage?.setItem(RELAY_KEY, on ? '1' : '0');
    } catch {
      /* not remembered */
    }
    for (const m of this.members.values()) {
      if (m.authFailed) continue;
      m.retries = 0;
      this.interrupt(m.id);
      // the offering side connects again; the other waits for its new offer
      if (m.initiator) this.connect(m);
      else {
        m.driver?.close();
        m.link?.close();
        m.link = m.driver = null;
        m.state = 'CONNECTING';
        m.error = undefined;
        this.awaitOffer(m);
      }
    }
    this.changed();
  }

  private connect(m: Member): void {
    if (m.authFailed) return;
    clearTimeout(m.offerWait);
    m.fatal = undefined;
    m.sas = undefined;
    m.link?.close();
    m.driver = null;
    m.state = 'CONNECTING';
    m.error = undefined;
    if (this.relayOnly && !hasTurnServer(this.ice)) {
      m.link = null;
      m.state = 'FAILED';
      m.error = NO_TURN;
      this.interrupt(m.id);
      return;
    }
    const link = new PeerLink(m.id, m.initiator, this.ice, {
      sendSignal: (kind, payload) => this.sig?.relay(kind, payload),
      onChannel: (dc, opened) => {
        if (m.link !== link) return;
        m.driver = new ChannelDriver(m.id, dc, () => link.maxMessageSize, this.host(m), opened, () => this.authConfig(m, link, opened));
      },
      onState: (s) => {
        if (m.link !== link) return;
        if (s === 'failed')
          this.linkFailed(m, this.relayOnly ? 'No connection through the TURN relay (relay only is on).' : 'No network path to this peer (ICE failed). A TURN server may be needed.');
      },
    }, this.relayOnly ? 'relay' : 'all');
    m.link = link;
    if (m.initiator) link.start().catch(() => this.linkFailed(m, 'Could not start the connection.'));
  }

  /** This side's view of the connection to m for the PAKE
   *  (docs/authentication.md §4, §6): the side that created the channel is
   *  the offerer; socket ids as signaling gave them, the offerer's first;
   *  each fingerprint from the SDP that carried it (ours set locally, the
   *  peer's applied remotely). Throws when something is missing. */
  private authConfig(m: Member, link: PeerLink, opened: boolean): PakeConfig {
    const self = this.sig?.id;
    if (!self || !this.prs) throw new Error('not in a room');
    const local = sdpFingerprint(link.pc.localDescription?.sdp ?? '');
    const remote = sdpFingerprint(link.pc.remoteDescription?.sdp ?? '');
    if (!local || !remote) throw new Error('not exactly one DTLS fingerprint in an SDP');
    const common = { prs: this.prs, room: this.roomId };
    return opened
      ? { ...common, role: 'offerer', offererId: self, answererId: m.id, fpOfferer: local, fpAnswerer: remote }
      : { ...common, role: 'answerer', offererId: m.id, answererId: self, fpOfferer: remote, fpAnswerer: local };
  }

  private async onOffer(from: string, sdp: string): Promise<void> {
    if (this.members.get(from)?.authFailed) return; // refused until a reload: no new guess
    const m = this.addMember(from, false);
    m.initiator = false;
    this.connect(m);
    this.changed();
    if (!m.link) return; // relay only without a TURN server: said on the peer
    try {
      await m.link!.onOffer(sdp);
    } catch {
      this.linkFailed(m, 'Could not answer the connection offer.');
    }
  }

  private linkFailed(m: Member, why: string): void {
    if (!this.members.has(m.id) || m.authFailed) return;
    m.state = 'FAILED';
    m.error = why;
    this.interrupt(m.id);
    // The offering side retries a few times; the other side waits for a new offer.
    if (m.initiator && m.retries < 3) {
      m.retries++;
      setTimeout(() => this.members.get(m.id) === m && m.state === 'FAILED' && this.connect(m), 1000 * m.retries);
    }
    this.changed();
  }

  private onUserLeft(id: string): void {
    const m = this.members.get(id);
    if (!m) return;
    if (m.authFailed) {
      // The warning stays: a refusing peer (a CLI exits 6) leaves at once,
      // and a row that vanished would tell the user under attack nothing.
      m.left = true;
      this.changed();
      return;
    }
    this.members.delete(id);
    clearTimeout(m.offerWait);
    m.driver?.close();
    m.link?.close();
    for (const t of this.transfers.values()) {
      if (t.peerId === id && (t.state === 'TRANSFERRING' || t.state === 'WAITING' || t.state === 'INTERRUPTED' || t.state === 'OFFERED')) {
        t.state = 'ERROR';
        t.error = 'The other peer left the room before the transfer finished.';
      }
    }
    this.pendingOffers.delete(id);
    this.changed();
  }

  /** Every transfer with the peer has ended, at least one: nothing is left to resume with it. */
  private finishedWith(peerId: string): boolean {
    const mine = [...this.transfers.values()].filter((t) => t.peerId === peerId);
    const open = (t: Transfer) => t.state === 'OFFERED' || t.state === 'WAITING' || t.state === 'TRANSFERRING' || t.state === 'INTERRUPTED';
    return mine.length > 0 && !mine.some(open) && !this.pendingOffers.has(peerId);
  }

  private interrupt(peerId: string): void {
    for (const t of this.transfers.values()) {
      if (t.peerId === peerId && (t.state === 'TRANSFERRING' || t.state === 'WAITING')) {
        t.state = 'INTERRUPTED';
        t.error = 'Connection lost; it resumes where it stopped when the peer reconnects.';
      }
    }
  }

  /** Authentication with m failed on d (ours, or the peer refused our tag
   *  after we were done): the failure on its row, its connection closed,
   *  no reconnection, nothing offered to or taken from it. */
  private authFailed(m: Member, d: ChannelDriver): void {
    if (m.driver !== d || !this.members.has(m.id)) return;
    m.authFailed = true;
    m.sas = undefined;
    m.state = 'FAILED';
    m.error = this.code ? AUTH_FAILED_CODE_MESSAGE : AUTH_FAILED_MESSAGE;
    clearTimeout(m.offerWait);
    m.driver = null;
    this.interrupt(m.id);
    this.pendingOffers.delete(m.id);
    const link = m.link;
    m.link = null;
    setTimeout(() => link?.close(), AUTH_CLOSE_MS);
    this.changed();
    // A code room holds its sender and one receiver: staying would keep the
    // sender from the right receiver, and there is nobody else to talk to.
    // Leave once the connection is closed, as the CLI exits 6, and say why.
    if (this.code) {
      const sig = this.sig;
      setTimeout(() => {
        if (this.sig !== sig) return;
        this.leave();
        this.error = AUTH_FAILED_CODE_MESSAGE;
        this.changed();
      }, AUTH_CLOSE_MS + 50);
    }
  }

  private host(m: Member) {
    return {
      onAuth: (d: ChannelDriver, sas: string) => {
        if (m.driver !== d || !this.members.has(m.id)) return;
        m.sas = sas;
        this.changed();
      },
      onAuthFailed: (d: ChannelDriver) => this.authFailed(m, d),
      onReady: (d: ChannelDriver) => {
        m.state = 'CONNECTED';
        m.error = undefined;
        m.retries = 0;
        this.changed();
        if (this.outgoing) this.offerTo(d);
      },
      onClosed: (d: ChannelDriver) => {
        if (m.driver !== d || !this.members.has(m.id)) return;
        // Both stay in the room: the offering side connects again, the other
        // waits for its offer (and says so if none comes), so neither shows a
        // failure for what is a reconnection.
        m.driver = null;
        m.sas = undefined; // the code belongs to that channel; the next one gets its own
        const finished = this.finishedWith(m.id);
        this.interrupt(m.id);
        if (m.fatal) {
          m.state = 'FAILED';
          m.error = m.fatal;
          const n = (m.fatals = (m.fatals ?? 0) + 1);
          if (m.initiator && n <= FATAL_RETRIES) setTimeout(() => this.members.get(m.id) === m && !m.driver && this.connect(m), 1000 * n);
          this.changed();
          return;
        }
        m.state = 'CONNECTING';
        m.error = undefined;
        if (m.initiator) setTimeout(() => this.members.get(m.id) === m && !m.driver && this.connect(m), 500);
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
        this.changed();
      },
      onEvent: (d: ChannelDriver, e: SessionEvent) => this.onSessionEvent(m, d, e),
      source: (xfer: string) => (this.outgoing?.xfer === xfer ? this.outgoing.files : null),
      sink: (xfer: string) => this.incoming.get(xfer)?.sink ?? null,
    };
  }

  /* ---- sending ---- */

  /** Sends the text box's snippet to every connected peer (texts.ts). */
  sendText(): number {
    return this.texts.send([...this.members.values()].flatMap((m) => (m.driver ? [{ id: m.id, label: label(m.id), session: m.driver.session, flush: () => m.driver?.flush() }] : [])));
  }

  sendFiles(picked: PickedFile[]): void {
    if (picked.length === 0) return;
    if (this.snap.sending) {
      this.error = 'Wait for the current transfer to finish (or cancel it) before sending more.';
      this.changed();
      return;
    }
    const seen = new Set<string>();
    const entries: FileEntry[] = [];
    const files: File[] = [];
    for (const p of picked) {
      const dir = p.dir.split('/').filter((x) => x !== '').map(safeComponent).join('/');
      let name = safeComponent(p.file.name);
      if (dirProblem(dir)) continue;
      for (let i = 1; seen.has(`${dir}/${name}`); i++) name = `${i}-${safeComponent(p.file.name)}`;
      seen.add(`${dir}/${name}`);
      entries.push({ id: entries.length, name, dir, size: p.file.size, mime: /^[\x20-\x7e]{0,255}$/.test(p.file.type) ? p.file.type : '' });
      files.push(p.file);
    }
    this.outgoing = { xfer: randomHex(16), entries, files };
    this.error = null;
    let offered = 0;
    for (const m of this.members.values()) if (m.driver?.session.ready) offered += this.offerTo(m.driver) ? 1 : 0;
    if (offered === 0) this.notice = 'Files are ready: they will be offered to each peer as it connects.';
    this.changed();
  }

  private offerTo(d: ChannelDriver): boolean {
    const o = this.outgoing!;
    const key = `out:${d.peerId}:${o.xfer}`;
    const prev = this.transfers.get(key);
    if (prev && (prev.state === 'COMPLETED' || prev.state === 'CANCELLED' || prev.state === 'DECLINED')) return false;
    try {
      d.offer(o.xfer, o.entries);
    } catch (e) {
      this.error = e instanceof RangeError ? 'Too many files for one transfer; send them in smaller groups.' : 'Could not offer the files.';
      this.changed();
      return false;
    }
    const t = prev ?? this.newTransfer(key, 'out', d.peerId, o.xfer, o.entries);
    t.state = 'WAITING';
    t.error = undefined;
    this.transfers.set(key, t);
    return true;
  }

  /** `hidden`: incoming, the ids the session leaves out (its offer event's). */
  private newTransfer(key: string, dir: 'in' | 'out', peerId: string, xfer: string, entries: FileEntry[], hidden: number[] = []): Transfer {
    const out = new Set(hidden);
    return {
      key, dir, peerId, peerLabel: label(peerId), xfer,
      files: entries.map((entry) => ({ entry, bytes: 0, state: out.has(entry.id) ? 'skipped' : 'waiting', hidden: entryHidden(entry) })),
      total: entries.reduce((s, f) => s + (out.has(f.id) ? 0 : f.size), 0),
      leftOut: entries.filter((f) => out.has(f.id)).map(entryPath),
      bytes: 0, state: 'OFFERED', speed: 0, eta: Infinity, saved: [], samples: [],
    };
  }

  /* ---- receiving ---- */

  /** Must be called from a click handler: it may open a folder picker. */
  async accept(key: string): Promise<void> {
    const t = this.transfers.get(key);
    const p = t && this.pendingOffers.get(t.peerId);
    if (!t || !p || t.state !== 'OFFERED' || this.accepting.has(key)) return;
    this.accepting.add(key); // a second click while the first waits on a prompt does nothing
    try {
      await this.acceptOffer(t, p);
    } finally {
      this.accepting.delete(key);
    }
  }
  private accepting = new Set<string>();

  private async acceptOffer(t: Transfer, p: PendingOffer): Promise<void> {
    let sink: Sink;
    let verifiedBefore: number[] = [];
    try {
      // A transfer an earlier page of ours had begun: the same folder again, without the files it verified.
      const reopened = p.remembered && this.storage === 'fs' ? await reopenSink(p.remembered) : null;
      if (p.remembered && !reopened) {
        // no access to that folder (or file) as it was: a plain offer again (a picker needs a fresh click)
        p.refused = p.remembered;
        p.remembered = undefined;
        t.earlierVerified = undefined;
        t.error = 'The earlier folder is not available as it was (access refused, moved or changed): choose where to save.';
        this.changed();
        return;
      }
      if (reopened) verifiedBefore = reopened.verifiedBefore;
      sink = reopened?.sink ?? (await createSink(this.storage, p.files));
      const adopted = !reopened && p.refused && sink instanceof FsSink ? await adoptSink(p.refused, sink) : null;
      if (adopted) {
        sink = adopted.sink;
        verifiedBefore = adopted.verifiedBefore;
        p.remembered = p.refused;
        t.earlierVerified = verifiedBefore.length;
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return; // picker dismissed: still offered
      this.pendingOffers.delete(t.peerId);
      t.state = 'ERROR';
      t.error = e instanceof Error ? e.message : 'No place to save the files.';
      try {
        p.driver.decline();
      } catch { /* offer gone */ }
      this.changed();
      return;
    }
    this.pendingOffers.delete(t.peerId);
    const inc = new IncomingTransfer(t.xfer, p.files);
    for (const id of verifiedBefore) {
      inc.markHeld(id, rememberedProof(p.remembered!.verified[id]));
      t.files[id].state = 'done';
      t.files[id].bytes = p.files[id].size;
    }
    if (verifiedBefore.length > 0) {
      t.bytes = t.resumedFrom = verifiedBefore.reduce((s, id) => s + p.files[id].size, 0);
      t.saved = [...sink.saved];
    }
    if (sink instanceof FsSink) this.rememberInto(sink, inc, p.files, verifiedBefore, p.remembered);
    t.where = sink.where;
    t.error = undefined;
    this.incoming.set(t.xfer, { inc, sink });
    t.state = 'TRANSFERRING';
    try {
      if (!p.driver.accept(inc)) {
        // every file is here already and none could be proven to the sender (a record of an older page)
        t.state = 'COMPLETED';
        this.incoming.delete(t.xfer);
        this.forgetIncoming(t.xfer, sink);
      }
    } catch {
      t.state = 'ERROR';
      t.error = 'The offer was withdrawn.';
      this.incoming.delete(t.xfer);
      this.forgetIncoming(t.xfer, sink);
    }
    this.changed();
  }

  /* Keeps what a later page needs to continue this transfer (remembered.ts). */
  private rememberInto(sink: FsSink, inc: IncomingTransfer, files: FileEntry[], verifiedBefore: number[], earlier?: RememberedTransfer): void {
    const xfer = inc.xfer;
    // names: those reopenSink found still ours; verified: only files still as they were
    const r: RememberedTransfer = { xfer, files, root: sink.root, single: sink.single, names: { ...sink.names }, verified: {}, at: 0 };
    for (const id of verifiedBefore) r.verified[id] = earlier!.verified[id];
    sink.hooks = {
      named: (file, name) => {
        // written from now on: whatever was verified of it before is not what it will hold
        delete r.verified[file];
        r.names[file] = name;
        remember(r);
      },
      verified: (file, v) => {
        // with its digest, a later page can prove the file to the sender instead of leaving it out
        r.verified[file] = { ...v, ...inc.proofOf(file) };
        remember(r);
      },
    };
    remember(r);
    claim(xfer);
  }

  /* The transfer is over (done, declined, cancelled, withdrawn): a later page
   * has nothing to continue. The sink stops reporting first, so that a
   * storage step still queued cannot remember it again. */
  private forgetIncoming(xfer: string, sink?: Sink): void {
    if (sink instanceof FsSink) sink.hooks = null;
    forget(xfer);
  }

  decline(key: string): void {
    const t = this.transfers.get(key);
    const p = t && this.pendingOffers.get(t.peerId);
    if (!t || !p) return;
    this.pendingOffers.delete(t.peerId);
    try {
      p.driver.decline();
    } catch { /* gone */ }
    t.state = 'DECLINED';
    if (p.remembered || p.refused) this.forgetIncoming(t.xfer);
    this.changed();
  }

  cancel(key: string): void {
    const t = this.transfers.get(key);
    if (!t) return;
    const d = this.members.get(t.peerId)?.driver;
    d?.cancel(t.xfer);
    if (t.dir === 'in') {
      // Not resumed by a later offer, nor continued by a later page.
      const kept = this.incoming.get(t.xfer);
      this.incoming.delete(t.xfer);
      this.forgetIncoming(t.xfer, kept?.sink);
      // No channel to run the session's clean-up: delete the partial files here.
      if (!d && kept) kept.inc.manifest.forEach((_f, i) => !kept.inc.isFinished(i) && void kept.sink.close(i, false).catch(() => {}));
    }
    if (t.state !== 'CANCELLED') {
      t.state = 'CANCELLED';
      t.error = 'You cancelled this transfer.';
    }
    this.changed();
  }

  private async onIncomingOffer(m: Member, d: ChannelDriver, xfer: string, files: FileEntry[], hidden: number[]): Promise<void> {
    const key = `in:${xfer}`;
    const kept = this.incoming.get(xfer);
    const t = this.transfers.get(key);
    if (!kept) {
      const r = this.storage === 'fs' ? await recall(xfer) : null;
      if (r && new IncomingTransfer(xfer, r.files).sameManifest(files)) {
        // Begun by an earlier page (closed, reloaded, crashed): asked again,
        // since the folder needs the user's permission once more.
        this.pendingOffers.set(m.id, { driver: d, files, remembered: r });
        const nt = this.newTransfer(key, 'in', m.id, xfer, files, hidden);
        nt.earlierVerified = Object.keys(r.verified).length;
        this.transfers.set(key, nt);
        this.changed();
        return;
      }
    }
    if (kept && kept.inc.sameManifest(files) && t) {
      // Same transfer again after a reconnection: resume without asking.
      await d.drained();
      d.accept(kept.inc);
      // Verified files are not asked for again; the others continue where their digest proves.
      t.resumedFrom = kept.inc.manifest.reduce((s, _f, i) => s + (kept.inc.isFinished(i) ? kept.inc.held(i) : kept.inc.resumedAt(i)), 0);
      t.state = 'TRANSFERRING';
      t.error = undefined;
      this.changed();
      return;
    }
    this.pendingOffers.set(m.id, { driver: d, files });
    const nt = this.newTransfer(key, 'in', m.id, xfer, files, hidden);
    this.transfers.set(key, nt);
    this.changed();
  }

  private onSessionEvent(m: Member, d: ChannelDriver, e: SessionEvent): void {
    if (e.type === 'text' || e.type === 'text-acked') return this.texts.onEvent(m.id, label(m.id), d.session.peerName, e);
    if (e.type === 'offer') {
      void this.onIncomingOffer(m, d, e.xfer, e.files, e.hidden);
      return;
    }
    // The answerer is done once it has checked Ta and sent Tb; the offerer
    // may still refuse Tb, and says so with AUTH_FAILED as the first
    // transfer-protocol message: the same failure as our own.
    if (e.type === 'fatal' && e.byPeer && e.code === 'AUTH_FAILED') return this.authFailed(m, d);
    if (e.type === 'fatal') {
      const why = `${e.byPeer ? 'The other app reported' : 'Protocol error'}: ${e.message} (${e.code})`;
      for (const t of this.transfers.values()) {
        if (t.peerId === m.id && (t.state === 'TRANSFERRING' || t.state === 'WAITING')) {
          t.state = 'ERROR';
          t.error = why;
        }
      }
      // The session with this peer is over: said on the peer too (the only
      // place when no transfer shows it, e.g. during the hello).
      m.fatal = why;
      m.state = 'FAILED';
      m.error = why;
      this.changed();
      return;
    }
    if (e.type === 'ready' || e.type === 'hash') return;
    const key = e.type === 'accepted' || e.type === 'declined' ? `out:${m.id}:${e.xfer}` : 'dir' in e && e.dir === 'out' ? `out:${m.id}:${e.xfer}` : `in:${e.xfer}`;
    const t = this.transfers.get(key);
    if (!t) {
      if (e.type === 'transfer-error' && e.code === 'UNSAFE_PATH' && !e.byPeer && e.message === HIDDEN_ONLY) {
        this.error = 'Refused an offer: every file has a hidden name (starting with “.”), and this app does not save hidden files.';
        this.changed();
      } else if (e.type === 'transfer-error') {
        this.error = (FILE_ERRORS[e.code] ?? 'Transfer failed.') + ` (${e.message})`;
        this.changed();
      }
      return;
    }
    const now = performance.now();
    switch (e.type) {
      case 'accepted':
        t.state = 'TRANSFERRING';
        t.files.forEach((f, i) => {
          if (!e.files.includes(i)) f.state = f.state === 'done' ? 'done' : 'skipped';
        });
        break;
      case 'declined':
        t.state = 'DECLINED';
        t.error = 'The receiver declined the files.';
        break;
      case 'open':
        t.files[e.file].state = 'active';
        t.files[e.file].bytes = e.offset;
        break;
      case 'write':
      case 'close':
        return;
      case 'progress': {
        const f = t.files[e.file];
        if (f.state === 'waiting') f.state = 'active';
        f.bytes = e.bytes;
        t.bytes = t.files.reduce((s, x) => s + x.bytes, 0);
        t.samples.push([now, t.bytes]);
        while (t.samples.length > 2 && now - t.samples[0][0] > 3000) t.samples.shift();
        const [t0, b0] = t.samples[0];
        t.speed = now - t0 > 200 ? ((t.bytes - b0) * 1000) / (now - t0) : t.speed;
        const left = t.files.filter((x) => x.state !== 'skipped' && x.state !== 'failed').reduce((s, x) => s + x.entry.size - x.bytes, 0);
        t.eta = t.speed > 0 ? left / t.speed : Infinity;
        this.changed(false);
        return;
      }
      case 'file-done': {
        const f = t.files[e.file];
        f.state = e.ok ? 'done' : 'failed';
        if (e.ok) f.bytes = f.entry.size;
        else f.error = (e.code && FILE_ERRORS[e.code]) ?? e.message ?? 'failed';
        if (t.dir === 'in') t.saved = [...(this.incoming.get(t.xfer)?.sink.saved ?? [])];
        break;
      }
      case 'transfer-done': {
        const failed = t.files.filter((f) => f.state === 'failed').length;
        t.state = failed ? 'ERROR' : 'COMPLETED';
        t.error = failed ? `${failed} file${failed > 1 ? 's' : ''} failed.` : undefined;
        t.speed = 0;
        if (t.dir === 'in') {
          t.saved = [...(this.incoming.get(t.xfer)?.sink.saved ?? [])];
          this.forgetIncoming(t.xfer, this.incoming.get(t.xfer)?.sink);
          this.incoming.delete(t.xfer);
        }
        break;
      }
      case 'cancelled':
        t.state = 'CANCELLED';
        t.error = e.byPeer ? 'The other side cancelled this transfer.' : 'You cancelled this transfer.';
        if (t.dir === 'in') {
          this.forgetIncoming(t.xfer, this.incoming.get(t.xfer)?.sink);
          this.incoming.delete(t.xfer);
        }
        if (t.dir === 'in' && e.byPeer) this.pendingOffers.delete(m.id);
        break;
      case 'transfer-error':
        if (t.dir === 'in') this.forgetIncoming(t.xfer, this.incoming.get(t.xfer)?.sink);
        t.state = 'ERROR';
        t.error = (FILE_ERRORS[e.code] ?? 'Transfer failed.') + (e.message ? ` (${e.message})` : '');
        break;
    }
    this.changed();
  }
}

/* The digest a remembered verified file was verified with, if its record has one (older ones do not). */
function rememberedProof(v: VerifiedFile): { sha256: string; blocks: boolean } | undefined {
  return typeof v.sha256 === 'string' && typeof v.blocks === 'boolean' ? { sha256: v.sha256, blocks: v.blocks } : undefined;
}

function label(id: string): string {
  return `Peer ${id.slice(0, 6)}`;
}
