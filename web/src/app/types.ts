/* What the room controller shows React: the immutable snapshot and its parts.
 * Types only; the modules that fill them are room.ts (the facade),
 * members.ts, transfers.ts, incoming.ts and outgoing.ts. */

import type { FileEntry } from '../protocol/types';
import type { SavedFile, StorageKind } from './sinks';
import type { Msg } from '../i18n/catalog';

export type Status = 'IDLE' | 'CONNECTING' | 'TRANSFERRING' | 'COMPLETED' | 'ERROR';
export type Phase = 'IDLE' | 'CONNECTING' | 'IN_ROOM';
/* FINISHED: the peer closed the channel once every transfer on it had ended
 * (the CLI does, docs/protocol.md §5.2): done with us, not a dropped connection. */
export type PeerState = 'CONNECTING' | 'CONNECTED' | 'FAILED' | 'FINISHED';
export type TransferState = 'OFFERED' | 'WAITING' | 'TRANSFERRING' | 'INTERRUPTED' | 'COMPLETED' | 'ERROR' | 'CANCELLED' | 'DECLINED';

export interface PeerView {
  id: string;
  /** Its name (from its hello), else "Peer" and the start of its socket id. */
  label: Msg;
  /** What it said it is (docs/protocol.md §5.1): untrusted text, shown as text. */
  name?: string;
  device?: string;
  state: PeerState;
  error?: Msg;
  /** The verification code of the current connection (six digits), once authenticated. */
  sas?: string;
  /** Authentication with this peer failed: nothing is sent to or accepted from it. */
  authFailed?: boolean;
  /** It left the room since (its row stays, to show the failure). */
  left?: boolean;
  /** Lanes of the current session that are open (docs/protocol.md §5.10). */
  lanes?: number;
}
export interface FileView {
  entry: FileEntry;
  bytes: number;
  state: 'waiting' | 'active' | 'done' | 'failed' | 'skipped';
  error?: Msg;
  /** Its name or folder starts with '.': a receiver leaves it out (docs/protocol.md §7). */
  hidden: boolean;
}
export interface TransferView {
  key: string;
  dir: 'in' | 'out';
  peerId: string;
  peerLabel: Msg;
  xfer: string;
  files: FileView[];
  total: number;
  bytes: number;
  state: TransferState;
  error?: Msg;
  speed: number; // bytes/s
  eta: number; // s
  where?: Msg;
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
  /** Messages, rendered in the page's language when shown (i18n). */
  error: Msg | null;
  notice: Msg | null;
  storage: StorageKind;
  storageFree?: number;
  sending: boolean;
  /** Connect through the TURN relay only (the peers never see our addresses). */
  relayOnly: boolean;
  /** Lanes offered to each peer (0 … 7; docs/protocol.md §5.10). */
  lanes: number;
  /** The server's /config lists a TURN server (relayOnly can work). */
  hasTurn: boolean;
  /** Who we are for peers: our friendly name (editable) and our kind. */
  selfName: string;
  selfDevice: string;
  /** The files dropped to send, waiting for (or offered to) the members. */
  outgoing: FileEntry[];
}

export interface PickedFile {
  file: File;
  dir: string; // relative directory, '/'-separated, '' for none
}
