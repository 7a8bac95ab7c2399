/* Socket.IO signaling client (docs/signaling.md). Promise-based acks with a
 * timeout; every payload from the server is checked before use. */

import { io, type Socket } from 'socket.io-client';
import { admissionHex, deriveKeysAsync, secretBytes } from '../crypto/keys';
import type { Code } from '../lib/code';
import { msg, type MessageKey, type Msg } from '../i18n/catalog';
import { MAX_LANES } from '../protocol/types';

export class SignalingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** RATE_LIMITED by a password or hashing budget: when asking again may work. */
    readonly retryAfterMs?: number,
    /** The limit that refused (error.reason, docs/signaling.md). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

/* What the user is told of each refusal: a catalogue message by error code
 * (docs/signaling.md), shown in the page's language. The server's own
 * message text is never shown: it is English, and a hostile server's words. */
const MESSAGES: Record<string, MessageKey> = {
  BAD_PASSWORD: 'sig.BAD_PASSWORD',
  ROOM_FULL: 'sig.ROOM_FULL',
  ROOM_NOT_FOUND: 'sig.ROOM_NOT_FOUND',
  ROOM_EXISTS: 'sig.ROOM_EXISTS',
  RATE_LIMITED: 'sig.RATE_LIMITED',
  INVALID_PAYLOAD: 'sig.INVALID_PAYLOAD',
  TIMEOUT: 'sig.TIMEOUT',
  UNREACHABLE: 'sig.UNREACHABLE',
  // many nodes: the node lost its room store (docs/signaling.md, UNAVAILABLE)
  UNAVAILABLE: 'sig.UNAVAILABLE',
};

/** "Too many attempts; wait 42 s ...": a room under attack refuses even the right password for a while. */
export function rateLimitedMsg(retryAfterMs: number | undefined): Msg {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return msg('sig.RATE_LIMITED');
  const s = Math.ceil(retryAfterMs / 1000);
  return s < 120 ? msg('sig.rateLimitedSeconds', { n: s }) : msg('sig.rateLimitedMinutes', { n: Math.ceil(s / 60) });
}

/** The message for a refused request (create-room, join-room), by its code. */
export function signalingMsg(e: SignalingError): Msg {
  if (e.code === 'RATE_LIMITED') return rateLimitedMsg(e.retryAfterMs);
  const key = Object.hasOwn(MESSAGES, e.code) ? MESSAGES[e.code] : undefined;
  return key ? msg(key) : msg('sig.refused', { code: e.code.replace(/[^A-Z0-9_]/g, '').slice(0, 40) });
}

/* A code room's refusals say what they mean for the person typing a code. */
const CODE_MESSAGES: ReadonlyMap<string, MessageKey> = new Map([
  ['ROOM_NOT_FOUND', 'sig.code.ROOM_NOT_FOUND'],
  ['ROOM_FULL', 'sig.code.ROOM_FULL'],
  ['BAD_PASSWORD', 'sig.code.BAD_PASSWORD'],
  ['INVALID_PAYLOAD', 'sig.code.INVALID_PAYLOAD'],
]);

/** The message for a refused code-room join. */
export function codeErrorMsg(e: SignalingError): Msg {
  if (e.code === 'RATE_LIMITED' && e.reason === 'code_room_joins') return msg('sig.code.joins');
  const key = CODE_MESSAGES.get(e.code); // the server's code: any string
  return key ? msg(key) : signalingMsg(e);
}

export interface SignalHandlers {
  onUserJoined(id: string): void;
  onUserLeft(id: string): void;
  /** `lane`: 0 the main connection, 1 … 7 a lane of it (docs/protocol.md §5.10). */
  onOffer(from: string, sdp: string, lane: number): void;
  onAnswer(from: string, sdp: string, lane: number): void;
  onCandidate(from: string, c: RTCIceCandidateInit | null, lane: number): void;
  onDisconnect(reason: string): void;
}

const isStr = (v: unknown): v is string => typeof v === 'string';

/** A relayed description's SDP: the string, or an RTCSessionDescriptionInit
 *  `{ type, sdp }` whose type is the event's (docs/signaling.md: the server
 *  relays either shape as it was sent); null for anything else. */
export function sdpOf(v: unknown, type: 'offer' | 'answer'): string | null {
  if (isStr(v)) return v;
  if (typeof v !== 'object' || v === null) return null;
  const d = v as { type?: unknown; sdp?: unknown };
  return d.type === type && isStr(d.sdp) ? d.sdp : null;
}

/** What create-room / join-room carry (docs/signaling.md), and the PRS. */
export interface RoomRequest {
  payload: { roomId: string; password: string } | { roomId: string; code: true };
  /** CPace's password-related string (docs/authentication.md §3): never leaves the page. */
  prs: Uint8Array;
}

/** The create-room / join-room payload for a room secret (the link's key or
 * a typed password): its `password` is the admission value of
 * docs/authentication.md §3 (64 hex digits), never the secret (issue 14).
 * Argon2id takes ~0.75 s here; the async form yields to the event loop, so
 * the page stays responsive and the socket connects meanwhile. A secret or
 * room id out of range (1-1024 / 1-128 bytes) is INVALID_PAYLOAD, as the
 * server would say. */
export async function roomRequest(roomId: string, secret: string): Promise<RoomRequest> {
  const bytes = secretBytes(secret);
  try {
    const k = await deriveKeysAsync(bytes, roomId);
    const password = admissionHex(k);
    k.admission.fill(0);
    return { payload: { roomId, password }, prs: k.prs };
  } catch (e) {
    if (e instanceof RangeError) throw new SignalingError('INVALID_PAYLOAD', 'room id or secret out of range');
    throw e;
  } finally {
    bytes.fill(0);
  }
}

/** The join-room payload for a short code (docs/signaling.md, code rooms):
 * the room of its nameplate and `code: true`, nothing derived from the code
 * (the admission value is not computed, let alone sent); the PRS comes from
 * the canonical code by the same key schedule, salted by the room id. */
export async function codeRequest(code: Code): Promise<RoomRequest> {
  const bytes = secretBytes(code.code);
  try {
    const k = await deriveKeysAsync(bytes, code.roomId);
    k.admission.fill(0);
    return { payload: { roomId: code.roomId, code: true }, prs: k.prs };
  } finally {
    bytes.fill(0);
  }
}

/** The `lane` of a relayed offer, answer or candidate (docs/signaling.md,
 *  Lanes): absent is 0, the main connection; 1 … 7 a lane; anything else
 *  null (the message is ignored). */
export function laneOf(p: unknown): number | null {
  const v = (p as { lane?: unknown } | null)?.lane;
  if (v === undefined) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_LANES ? v : null;
}

export class Signaling {
  readonly socket: Socket;
  constructor(h: SignalHandlers) {
    this.socket = io({ path: '/socket.io/', autoConnect: false, reconnection: false });
    const s = this.socket;
    s.on('user-joined', (p: { socketId?: unknown }) => isStr(p?.socketId) && h.onUserJoined(p.socketId));
    s.on('user-left', (p: { socketId?: unknown }) => isStr(p?.socketId) && h.onUserLeft(p.socketId));
    s.on('offer', (p: { sdp?: unknown; from?: unknown; lane?: unknown }) => {
      const sdp = sdpOf(p?.sdp, 'offer');
      const lane = laneOf(p);
      if (sdp !== null && isStr(p.from) && lane !== null) h.onOffer(p.from, sdp, lane);
    });
    s.on('answer', (p: { sdp?: unknown; from?: unknown; lane?: unknown }) => {
      const sdp = sdpOf(p?.sdp, 'answer');
      const lane = laneOf(p);
      if (sdp !== null && isStr(p.from) && lane !== null) h.onAnswer(p.from, sdp, lane);
    });
    s.on('ice-candidate', (p: { candidate?: unknown; from?: unknown; lane?: unknown }) => {
      if (!p || !isStr(p.from)) return;
      const lane = laneOf(p);
      if (lane === null) return;
      const c = p.candidate;
      if (c === null) return h.onCandidate(p.from, null, lane);
      if (typeof c !== 'object' || !isStr((c as RTCIceCandidateInit).candidate)) return;
      const ci = c as RTCIceCandidateInit;
      h.onCandidate(p.from, { candidate: ci.candidate, sdpMid: ci.sdpMid ?? null, sdpMLineIndex: ci.sdpMLineIndex ?? null, usernameFragment: ci.usernameFragment ?? null }, lane);
    });
    s.on('disconnect', (reason: string) => h.onDisconnect(reason));
  }

  get id(): string {
    return this.socket.id ?? '';
  }

  connect(timeoutMs = 8000): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        cleanup();
        this.socket.disconnect();
        reject(new SignalingError('UNREACHABLE', 'cannot reach the signaling server'));
      }, timeoutMs);
      const ok = () => {
        cleanup();
        resolve();
      };
      const bad = () => {
        cleanup();
        reject(new SignalingError('UNREACHABLE', 'cannot reach the signaling server'));
      };
      const cleanup = () => {
        clearTimeout(t);
        this.socket.off('connect', ok);
        this.socket.off('connect_error', bad);
      };
      this.socket.once('connect', ok);
      this.socket.once('connect_error', bad);
      this.socket.connect();
    });
  }

  /** Emits an event and resolves with its ack ({ok:true,...}) or rejects with the server's error. */
  request<T extends object>(event: string, payload: unknown, timeoutMs = 15000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, res: unknown) => {
        if (err) return reject(new SignalingError('TIMEOUT', 'no answer from the server'));
        const r = res as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
        if (r && r.ok === true) return resolve(r as T);
        const code = isStr(r?.error?.code) ? r.error.code : 'INTERNAL';
        const retry = (r?.error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
        const retryAfterMs = typeof retry === 'number' && Number.isFinite(retry) && retry > 0 ? retry : undefined;
        const why = (r?.error as { reason?: unknown } | undefined)?.reason;
        const reason = isStr(why) ? why : undefined;
        reject(new SignalingError(code, `refused: ${code}`, retryAfterMs, reason));
      });
    });
  }

  /** Relays are fire-and-forget; failures surface as signaling-error events. */
  relay(event: 'offer' | 'answer' | 'ice-candidate', payload: unknown): void {
    this.socket.emit(event, payload);
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** The well-formed entries of an iceServers list from the server (only urls, username, credential kept). */
export function parseIceServers(list: unknown): RTCIceServer[] {
  if (!Array.isArray(list)) return [];
  const out: RTCIceServer[] = [];
  for (const s of list) {
    if (typeof s !== 'object' || s === null) continue;
    const e = s as { urls?: unknown; username?: unknown; credential?: unknown };
    const urls = isStr(e.urls) ? e.urls : Array.isArray(e.urls) && e.urls.every(isStr) ? (e.urls as string[]) : null;
    if (!urls) continue;
    const server: RTCIceServer = { urls };
    if (isStr(e.username)) server.username = e.username;
    if (isStr(e.credential)) server.credential = e.credential;
    out.push(server);
  }
  return out;
}

/** GET /config: the server's STUN and TURN URLs, without TURN credentials
 * (those come with the room: the create-room/join-room ack and ice-servers). */
export async function fetchIceServers(): Promise<RTCIceServer[]> {
  try {
    const r = await fetch('/config', { cache: 'no-store' });
    if (!r.ok) return [];
    const j = (await r.json()) as { iceServers?: unknown };
    return parseIceServers(j.iceServers);
  } catch {
    return [];
  }
}
