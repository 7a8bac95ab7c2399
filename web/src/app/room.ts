/* The room controller, a thin facade: the room's lifecycle (signaling,
 * ICE servers, the PRS) and the wiring between its parts, exposed to React
 * as an immutable snapshot (useRoom.ts). The parts, one job each:
 * members.ts (connections and their retry policy), transfers.ts (transfer
 * views: progress, speed, ETA, errors), incoming.ts (offers to us: accept,
 * storage, remembered transfers), outgoing.ts (the files we send).
 * The password is kept only in memory and the URL fragment; never logged,
 * never sent: the server gets its admission value (issue 14). */

import { TextStore } from './texts';
import { ALL_HIDDEN, type SessionEvent } from '../protocol/session';
import { MAX_WIRE_LANES } from '../protocol/types';
import type { ChannelDriver } from './channel';
import { Signaling, SignalingError, codeRequest, fetchIceServers, parseIceServers, roomRequest, signalingMsg, codeErrorMsg, type RoomRequest } from './signaling';
import { msg, type Msg } from '../i18n/catalog';
import type { Code } from '../lib/code';
import { detectStorage, probeStorage, type StorageKind } from './sinks';
import { IncomingOffers } from './incoming';
import { AUTH_FAILED_CODE_MESSAGE, hasTurnServer, Members, type Member } from './members';
import { OutgoingFiles } from './outgoing';
import { transferError, TransferBook } from './transfers';
import type { Phase, PickedFile, RoomSnapshot, Status } from './types';
import { deviceKind, loadName, saveName } from '../lib/identity';
import { generatePassword, newRoomId } from '../lib/link';

export type * from './types';
export { AUTH_FAILED_MESSAGE, AUTH_FAILED_CODE_MESSAGE } from './members';
export { safeComponent } from './outgoing';

const RELAY_KEY = 'peerdrop.relayOnly';
const LANES_KEY = 'peerdrop.lanes';
/* Lanes offered to each peer by default (docs/protocol.md §5.10): one
 * association under random loss moves what its congestion control allows
 * (issue 16: 0.4 MB/s at 50 ms and 0.5 % loss), n of them about n times as
 * much; each costs one more ICE/DTLS/SCTP set-up per connection. 2 until
 * bench/RESULTS.md has the web app's figures with and without lanes. */
export const DEFAULT_LANES = 2;
/* The web app offers at most 7: a browser's connections each cost an ICE
 * agent and a TURN allocation, and lossy paths where more would pay are
 * where the CLI's --lanes 15 is for (§5.10, moreLanes). */
export const MAX_APP_LANES = MAX_WIRE_LANES;

function storedLanes(): number {
  try {
    const v = globalThis.localStorage?.getItem(LANES_KEY);
    const n = v === null || v === undefined ? NaN : Number(v);
    return Number.isInteger(n) && n >= 0 && n <= MAX_APP_LANES ? n : DEFAULT_LANES;
  } catch {
    return DEFAULT_LANES; // storage blocked: the default
  }
}

/* One DTLS certificate per page, for every peer connection it makes: the
 * session's connection and each of its lanes must show the same
 * fingerprint, the one the session's authentication confirmed (§5.10). */
let pageCert: Promise<RTCCertificate | undefined> | null = null;
function pageCertificate(): Promise<RTCCertificate | undefined> {
  if (!pageCert) {
    const gen = globalThis.RTCPeerConnection?.generateCertificate;
    pageCert = gen
      ? gen({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams).then((c) => c, () => undefined)
      : Promise.resolve(undefined);
  }
  return pageCert;
}

/** What create-room, join-room and ice-servers acks carry besides ok. */
interface IceAck {
  iceServers?: unknown;
  iceServersTtl?: unknown;
}

function storedRelayOnly(): boolean {
  try {
    return globalThis.localStorage?.getItem(RELAY_KEY) === '1';
  } catch {
    return false; // storage blocked: the default
  }
}

/* The session's message when it refuses an offer of hidden names only. */
const HIDDEN_ONLY = `unsafe path: ${ALL_HIDDEN}`;

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
  private lanes = storedLanes();
  private cert: RTCCertificate | undefined;
  private readonly transfers = new TransferBook((id) => this.people.label(id));
  private readonly offers = new IncomingOffers(this.transfers, () => this.storage, () => this.changed());
  private readonly outgoing = new OutgoingFiles(this.transfers, (why) => {
    this.error = why;
    this.changed();
  });
  private readonly people = new Members({
    relay: (kind, payload) => this.sig?.relay(kind, payload),
    ice: () => this.ice,
    relayOnly: () => this.relayOnly,
    certificate: () => this.cert,
    // without the page's one certificate a lane could never show the session's fingerprint
    lanes: () => (this.cert ? this.lanes : 0),
    who: () => ({ name: this.selfName, device: this.selfDevice }),
    authBase: () => (this.sig?.id && this.prs ? { self: this.sig.id, room: this.roomId, prs: this.prs } : null),
    codeRoom: () => this.code,
    leaveAfterAuthFailure: (ms) => {
      const sig = this.sig;
      setTimeout(() => {
        if (this.sig !== sig) return;
        this.leave();
        this.error = AUTH_FAILED_CODE_MESSAGE;
        this.changed();
      }, ms);
    },
    changed: () => this.changed(),
    interrupt: (id) => this.transfers.interrupt(id),
    peerLeft: (id) => {
      this.transfers.peerLeft(id);
      this.offers.dropPending(id);
    },
    finishedWith: (id) => this.transfers.finishedWith(id, this.offers.hasPending(id)),
    dropOffer: (id) => this.offers.dropPending(id),
    onReady: (_m, d) => {
      // shown at once ("waiting for the receiver"), not at the receiver's answer
      if (this.outgoing.pending && this.outgoing.offerTo(d)) this.changed();
    },
    onEvent: (m, d, e) => this.onSessionEvent(m, d, e),
    source: (xfer) => this.outgoing.source(xfer),
    sink: (xfer) => this.offers.sink(xfer),
  });
  private phase: Phase = 'IDLE';
  private roomId = '';
  private password = '';
  /** Joined with a short code: its room has another request and PRS, no link. */
  private code = false;
  /** CPace's PRS for this room (docs/authentication.md §3), kept for the
   *  PAKE step; wiped when the room is left. */
  private prs: Uint8Array | null = null;
  private creator = false;
  private error: Msg | null = null;
  private notice: Msg | null = null;
  private storage: StorageKind = 'memory';
  /** OPFS room left (bytes), when known: told before an offer is accepted. */
  private storageFree: number | undefined;
  /** Our friendly name (lib/identity.ts): sent to peers in the hello, never to the server. */
  private selfName = typeof window !== 'undefined' ? loadName() : '';
  private readonly selfDevice = typeof navigator !== 'undefined' ? deviceKind(navigator.userAgent) : '';
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

  /** The members by socket id (tests reach a member's channel through it). */
  get members(): Map<string, Member> {
    return this.people.map;
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
    const transfers = this.transfers.views();
    const peers = this.people.views();
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
      lanes: this.lanes,
      hasTurn: hasTurnServer(this.ice),
      selfName: this.selfName,
      selfDevice: this.selfDevice,
      outgoing: this.outgoing.entries,
      sending: transfers.some((t) => t.dir === 'out' && (t.state === 'WAITING' || t.state === 'TRANSFERRING' || t.state === 'INTERRUPTED' || t.state === 'OFFERED')),
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
      onUserJoined: (id) => this.people.onUserJoined(id),
      onUserLeft: (id) => this.people.onUserLeft(id),
      onOffer: (from, sdp, lane) => void this.people.onOffer(from, sdp, lane),
      onAnswer: (from, sdp, lane) => this.people.onAnswer(from, sdp, lane),
      onCandidate: (from, c, lane) => this.people.onCandidate(from, c, lane),
      onDisconnect: () => this.onSignalingLost(),
    });
    this.sig = sig;
    // Argon2id (~0.75 s, yielding) runs while the socket connects; the
    // button says "Creating…"/"Joining…" meanwhile. Awaited below: a
    // failure is reported there, once.
    const request = makeRequest();
    request.catch(() => {});
    try {
      this.cert = await pageCertificate();
      this.ice = await fetchIceServers();
      await sig.connect();
      const { payload, prs } = await request;
      this.wipePrs();
      this.prs = prs;
      if (create) this.takeIce(sig, await sig.request<IceAck>('create-room', payload));
      else {
        const r = await sig.request<IceAck & { peers?: unknown }>('join-room', payload);
        this.takeIce(sig, r);
        if (Array.isArray(r.peers)) for (const p of r.peers) if (typeof p === 'string') this.people.add(p, false);
      }
      this.phase = 'IN_ROOM';
      this.changed();
    } catch (e) {
      this.sig = null; // first: the close below is ours, not a lost server
      sig.close();
      this.wipePrs();
      this.phase = 'IDLE';
      this.error = e instanceof SignalingError ? (code ? codeErrorMsg(e) : signalingMsg(e)) : msg('room.enterFailed');
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
    this.people.clear();
    this.transfers.clear();
    this.texts.reset();
    this.offers.clear();
    this.outgoing.clear();
    this.phase = 'IDLE';
    this.roomId = this.password = '';
    this.code = false;
    this.wipePrs();
    this.error = this.notice = null;
    this.changed();
  }

  /** Closes every data channel, as a network drop would (used by tests and the resume path). */
  dropConnections(): void {
    this.people.dropConnections();
  }

  dismissError(): void {
    this.error = null;
    this.changed();
  }

  private onSignalingLost(): void {
    if (!this.sig) return; // we left
    this.notice = msg('sig.lost', { why: msg('sig.UNREACHABLE') });
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
    this.people.reconnectAll();
    this.changed();
  }

  /** Lanes offered to peers (0 … 7, remembered): from each peer's next session on (§5.10). */
  setLanes(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > MAX_APP_LANES || n === this.lanes) return;
    this.lanes = n;
    try {
      globalThis.localStorage?.setItem(LANES_KEY, String(n));
    } catch {
      /* not remembered */
    }
    this.changed();
  }

  /** Renames this browser (remembered); peers see the new name from their next connection. */
  setName(typed: string): void {
    const name = saveName(typed);
    if (!name || name === this.selfName) return;
    this.selfName = name;
    this.changed();
  }

  /* ---- sending ---- */

  /** Drop first: files chosen on the home page create a room at once (a
   *  random id and password, as "Create room"); they wait there and are
   *  offered to each member as it connects. */
  async sendFirst(picked: PickedFile[]): Promise<void> {
    if (this.phase !== 'IDLE' || picked.length === 0) return;
    this.outgoing.prepare(picked);
    try {
      await this.create(newRoomId(), generatePassword());
    } catch (e) {
      this.outgoing.clear();
      this.changed();
      throw e;
    }
    if ((this.phase as Phase) === 'IN_ROOM' && this.outgoing.pending) this.sendPrepared();
  }

  /** Text pasted on the home page: a room at once (generated secret, as a
   *  drop), the text waiting in the room's text box; the user sends it once
   *  someone joined (a text goes to the peers connected when it is sent). */
  async textFirst(text: string): Promise<void> {
    if (this.phase !== 'IDLE' || !text) return;
    this.texts.setDraft(text);
    await this.create(newRoomId(), generatePassword());
  }

  /** Sends the text box's snippet to every connected peer (texts.ts). */
  sendText(): number {
    return this.texts.send([...this.people.values()].flatMap((m) => (m.driver ? [{ id: m.id, label: this.people.label(m.id), session: m.driver.session, flush: () => m.driver?.flush() }] : [])));
  }

  sendFiles(picked: PickedFile[]): void {
    if (picked.length === 0) return;
    if (this.snap.sending) {
      this.error = msg('room.busy');
      this.changed();
      return;
    }
    this.outgoing.prepare(picked);
    this.sendPrepared();
  }

  private sendPrepared(): void {
    this.error = null;
    let offered = 0;
    for (const m of this.people.values()) if (m.driver?.session.ready) offered += this.outgoing.offerTo(m.driver) ? 1 : 0;
    if (offered === 0) this.notice = msg('room.filesReady');
    this.changed();
  }

  /* ---- receiving ---- */

  /** Must be called from a click handler: it may open a folder picker. */
  accept(key: string): Promise<void> {
    return this.offers.accept(key);
  }

  decline(key: string): void {
    this.offers.decline(key);
  }

  cancel(key: string): void {
    const t = this.transfers.get(key);
    if (!t) return;
    const d = this.people.get(t.peerId)?.driver;
    d?.cancel(t.xfer);
    if (t.dir === 'in') this.offers.cancelled(t.xfer, !!d);
    if (t.state !== 'CANCELLED') {
      t.state = 'CANCELLED';
      t.error = msg('xfer.youCancelled');
    }
    this.changed();
  }

  private onSessionEvent(m: Member, d: ChannelDriver, e: SessionEvent): void {
    if (e.type === 'text' || e.type === 'text-acked') return this.texts.onEvent(m.id, this.people.label(m.id), d.session.peerName, e);
    if (e.type === 'offer') {
      void this.offers.onOffer(m.id, d, e.xfer, e.files, e.hidden);
      return;
    }
    // The answerer is done once it has checked Ta and sent Tb; the offerer
    // may still refuse Tb, and says so with AUTH_FAILED as the first
    // transfer-protocol message: the same failure as our own.
    if (e.type === 'fatal' && e.byPeer && e.code === 'AUTH_FAILED') return this.people.authFailed(m, d);
    if (e.type === 'fatal') {
      const why = msg(e.byPeer ? 'peer.fatalByPeer' : 'peer.fatal', { message: e.message, code: e.code });
      this.transfers.peerFatal(m.id, why);
      this.people.fatal(m, why);
      this.changed();
      return;
    }
    if (e.type === 'ready' || e.type === 'hash') return;
    const r = this.transfers.apply(m.id, e, this.offers, performance.now());
    if (r === 'none') {
      if (e.type === 'transfer-error' && e.code === 'UNSAFE_PATH' && !e.byPeer && e.message === HIDDEN_ONLY) {
        this.error = msg('room.hiddenOnly');
        this.changed();
      } else if (e.type === 'transfer-error') {
        this.error = transferError(e.code, e.message);
        this.changed();
      }
      return;
    }
    if (r === 'changed') this.changed();
    else if (r === 'progress') this.changed(false);
  }
}
