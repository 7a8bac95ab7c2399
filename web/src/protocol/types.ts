/* Peerdrop transfer protocol v2: message types and limits.
 * The normative description is docs/protocol.md; every constant here is
 * quoted there with its reason. Pure data, no DOM, no I/O. */

/* 2: every data channel opens with the authentication of
 * docs/authentication.md §7 (issue 14); 1 had none and is refused. */
export const PROTOCOL_VERSION = 2;

/* Authentication must be done this long after the channel opens, or the
 * channel is refused (AUTH_FAILED). The run is two round trips and a few
 * ms of CPU; 30 s is the coordinator's value (PD_AUTH_DEADLINE_MS in
 * src/base/limits.h), long enough for a loaded 2-core machine or a slow
 * TURN path, short enough that a peer that never speaks is dropped. */
export const AUTH_DEADLINE_MS = 30_000;

/* Binary data message: type u8, flags u8, reserved u16, file u32, offset u64. */
export const DATA_HEADER_LEN = 16;
export const DATA_TYPE = 0x01;

/* Every endpoint must accept messages of at least 16 KiB (the seed's floor,
 * and what every browser data channel has always delivered intact). */
export const MIN_MAX_MSG = 16384;
/* RFC 8841 §6: without a=max-message-size the peer accepts 64 KiB. */
export const DEFAULT_MSG_SIZE = 65536;
/* Receiver window: bytes sent but not yet written to disk by the receiver. */
export const DEFAULT_WINDOW = 16 * 1024 * 1024;
/* The most a sender puts in flight whatever window the receiver's hello
 * claims (§5.4; PD_MAX_PEER_WIN in src/base/limits.h): the sender keeps
 * what is in flight until it is acknowledged (lane-resend, §5.11), so a
 * receiver claiming a huge `win` that never acknowledged would have the
 * page hold the whole file. Twice what every endpoint of ours asks for. */
export const MAX_PEER_WIN = 2 * DEFAULT_WINDOW;
export const MAX_ACK_STEP = 1024 * 1024;

export const MAX_FILES = 10000;
export const MAX_NAME_BYTES = 255;
export const MAX_DIR_BYTES = 4096;
export const MAX_DIR_DEPTH = 64;
export const MAX_MIME_LEN = 255;
export const MAX_ERROR_MESSAGE = 1024;
export const MAX_CAPS = 32;
/* JS numbers are exact up to 2^53-1; the C side uses the same bound. */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

/* Text snippets (docs/protocol.md §5.9): sent only when both hellos list
 * CAP_TEXT. The longest, in UTF-8 bytes (PD_MAX_TEXT_BYTES in
 * src/base/limits.h): a few words, a URL or a short paste, held in memory
 * and shown in full; as JSON it fits the 262144-byte maxMsg both apps
 * advertise, and the sender checks it against the peer's all the same. */
export const CAP_TEXT = 'text';
export const MAX_TEXT_BYTES = 65536;
/* Texts sent and not yet acknowledged, per channel (PD_MAX_TEXT_PENDING). */
export const MAX_TEXT_PENDING = 16;

export const ERROR_CODES = [
  'PROTOCOL', // malformed message or message not allowed in this state
  'VERSION', // no common protocol version
  'TOO_BIG', // message larger than the advertised maxMsg
  'UNSAFE_PATH', // a manifest name or dir broke the path rules
  'HASH_MISMATCH', // received bytes do not match the sender's SHA-256
  'READ_ERROR', // sender could not read the file
  'WRITE_ERROR', // receiver could not store the file
  'INTERNAL', // anything else
  'AUTH_FAILED', // authentication failed or did not happen (docs/authentication.md §7)
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FileEntry {
  id: number;
  name: string;
  dir: string;
  size: number;
  mime: string;
}

export interface AcceptEntry {
  id: number;
  offset: number;
  sha256?: string; // hex SHA-256 of the first `offset` bytes; present iff offset > 0
}

/** `name`, `device`: optional, who the peer is for its user ("Blue Fox",
 *  "Firefox on Android"; docs/protocol.md §5.1): at most MAX_PEER_TEXT UTF-8
 *  bytes, cleaned on receipt (peerText), shown as text only. */
export interface Hello { t: 'hello'; v: number; maxMsg: number; win: number; caps: string[]; lanes?: number; moreLanes?: number; name?: string; device?: string }
/* Lanes (docs/protocol.md §5.10): the extra peer connections an endpoint
 * takes part in with one peer, at most 15 (PD_MAX_LANES in
 * src/base/limits.h): under random loss n associations move about n times
 * one, and each is one more ICE agent, DTLS handshake and SCTP association
 * per transfer. `hello.lanes` says at most MAX_WIRE_LANES (what endpoints
 * before `moreLanes` accept); `hello.moreLanes` says 8 … 15. */
export const MAX_LANES = 15;
export const MAX_WIRE_LANES = 7;
/** A hello's lane count: moreLanes when present, else lanes (§5.10). */
export function helloLanes(h: Hello): number {
  return h.moreLanes ?? h.lanes ?? 0;
}
/* A receiver holds DATA that came ahead of its turn on another lane (§5.10)
 * up to its own win in payload bytes (a correct sender never has more in
 * flight) and this many messages: 16384 messages of the 16 KiB floor are
 * 256 MiB, and the count bounds the bookkeeping of tiny messages. Control
 * messages held behind an early `end` count in both bounds (their whole
 * length), as in the C twin (PD_MAX_HELD_DATA). */
export const MAX_HELD_DATA = 16384;
/* §5.11: when both hellos list it and L > 0, DATA carries its transfer's
 * tag, a sender may re-send a stalled or lost lane's unacknowledged DATA on
 * the other channels, and a lane that closes no longer ends the session. */
export const CAP_LANE_RESEND = 'lane-resend';
/* A name a person reads in a list, not a document: 64 bytes hold
 * "Adjective Animal" or a host name (HOST_NAME_MAX is 64 on Linux). */
export const MAX_PEER_TEXT = 64;

export interface Offer { t: 'offer'; xfer: string; files: FileEntry[] }
export interface Accept { t: 'accept'; xfer: string; files: AcceptEntry[] }
export interface Decline { t: 'decline'; xfer: string }
export interface Start { t: 'start'; xfer: string; file: number; offset: number }
export interface End { t: 'end'; xfer: string; file: number; sha256: string }
export interface Ack { t: 'ack'; xfer: string; file: number; bytes: number }
export interface Verified { t: 'verified'; xfer: string; file: number }
export interface Cancel { t: 'cancel'; xfer: string }
export interface ErrorMsg { t: 'error'; code: ErrorCode; message: string; xfer?: string; file?: number }

/* §5.9: a snippet (id: 32 lowercase hex, unique among the sender's
 * unacknowledged texts) and its acknowledgement. */
export interface TextMsg { t: 'text'; id: string; text: string }
export interface TextAck { t: 'text-ack'; id: string }

export type Control = Hello | Offer | Accept | Decline | Start | End | Ack | Verified | Cancel | ErrorMsg | TextMsg | TextAck;

export interface DataMsg {
  file: number;
  offset: number;
  /** The transfer's tag (§5.11); 0 unless both hellos list `lane-resend`. */
  tag: number;
  bytes: Uint8Array;
}

export class ProtocolError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
