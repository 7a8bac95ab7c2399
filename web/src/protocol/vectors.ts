/* Definitions behind test-vectors.json. `npm run vectors` regenerates the
 * JSON from them; the tests check that the encoders still produce exactly
 * the stored bytes, so a change to the wire format cannot go unnoticed. */

import type { Control, FileEntry } from './types';

export const XFER = '0123456789abcdef0123456789abcdef';
export const TEXT_ID = 'fedcba9876543210fedcba9876543210';
const H_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const CONTROL_VECTORS: { name: string; value: Control }[] = [
  { name: 'hello', value: { t: 'hello', v: 1, maxMsg: 262144, win: 16777216, caps: ['resume'] } },
  { name: 'hello-blocks', value: { t: 'hello', v: 1, maxMsg: 262144, win: 16777216, caps: ['resume', 'sha256-blocks'] } },
  { name: 'hello-no-caps', value: { t: 'hello', v: 1, maxMsg: 65536, win: 65536, caps: [] } },
  {
    name: 'offer',
    value: {
      t: 'offer', xfer: XFER, files: [
        { id: 0, name: 'hello.txt', dir: '', size: 16, mime: 'text/plain' },
        { id: 1, name: 'résumé "v2".pdf', dir: 'docs/2024', size: 1099511627776, mime: 'application/pdf' },
      ],
    },
  },
  { name: 'accept', value: { t: 'accept', xfer: XFER, files: [{ id: 0, offset: 0 }, { id: 1, offset: 0 }] } },
  { name: 'accept-resume', value: { t: 'accept', xfer: XFER, files: [{ id: 1, offset: 65536, sha256: 'de2f256064a0af797747c2b97505dc0b9f3df0de4f489eac731c23ae9ca9cc31' }] } },
  { name: 'decline', value: { t: 'decline', xfer: XFER } },
  { name: 'start', value: { t: 'start', xfer: XFER, file: 0, offset: 0 } },
  { name: 'start-resume', value: { t: 'start', xfer: XFER, file: 1, offset: 65536 } },
  { name: 'end', value: { t: 'end', xfer: XFER, file: 2, sha256: H_EMPTY } },
  { name: 'ack', value: { t: 'ack', xfer: XFER, file: 1, bytes: 9007199254740991 } },
  { name: 'verified', value: { t: 'verified', xfer: XFER, file: 0 } },
  { name: 'cancel', value: { t: 'cancel', xfer: XFER } },
  { name: 'error-session', value: { t: 'error', code: 'PROTOCOL', message: 'first message must be hello' } },
  { name: 'error-transfer', value: { t: 'error', code: 'UNSAFE_PATH', message: 'unsafe path: file 0: dot component', xfer: XFER } },
  { name: 'error-file', value: { t: 'error', code: 'HASH_MISMATCH', message: 'SHA-256 mismatch for a\tb\u0001.txt', xfer: XFER, file: 3 } },
  // §5.9: the "text" cap and a name (§5.1), a snippet and its ack
  { name: 'hello-text-name', value: { t: 'hello', v: 2, maxMsg: 262144, win: 16777216, caps: ['resume', 'sha256-blocks', 'text'], name: 'Blue Fox 🦊' } },
  { name: 'text', value: { t: 'text', id: TEXT_ID, text: 'see https://example.com/?a=1&b=2\n"quoted" \\ tab\there\u0007 ü 😀' } },
  { name: 'text-ack', value: { t: 'text-ack', id: TEXT_ID } },
  // §5.10: lanes after caps, before name and device
  { name: 'hello-lanes', value: { t: 'hello', v: 2, maxMsg: 262144, win: 16777216, caps: ['resume', 'sha256-blocks', 'text'], lanes: 3, name: 'laptop', device: 'Chromium on Linux' } },
  // §5.10: 15 lanes, as lanes 7 (what older peers accept) and moreLanes
  { name: 'hello-more-lanes', value: { t: 'hello', v: 2, maxMsg: 262144, win: 16777216, caps: ['resume', 'sha256-blocks', 'text'], lanes: 7, moreLanes: 15, name: 'build-box' } },
];

export const DATA_VECTORS: { name: string; file: number; offset: number; tag: number; payload: number[] }[] = [
  { name: 'data-first', file: 0, offset: 0, tag: 0, payload: [0x68, 0x69] },
  { name: 'data-large-offset', file: 0x0102, offset: 0x0000_0102_0304_0506, tag: 0, payload: [0xff] },
  { name: 'data-max-offset', file: 9999, offset: Number.MAX_SAFE_INTEGER - 1, tag: 0, payload: [0x00] },
  // §5.11: the transfer's tag in the reserved field (lane-resend)
  { name: 'data-tagged', file: 3, offset: 16368, tag: 0x0102, payload: [0xab, 0xcd] },
];

export const INVALID_VECTORS: { name: string; kind: 'text' | 'binary'; data: string; code: string }[] = [
  { name: 'not-json', kind: 'text', data: '{"t":"hello"', code: 'PROTOCOL' },
  { name: 'array', kind: 'text', data: '["hello"]', code: 'PROTOCOL' },
  { name: 'unknown-type', kind: 'text', data: '{"t":"ping"}', code: 'PROTOCOL' },
  { name: 'hello-missing-caps', kind: 'text', data: '{"t":"hello","v":1,"maxMsg":65536,"win":65536}', code: 'PROTOCOL' },
  { name: 'hello-float', kind: 'text', data: '{"t":"hello","v":1.5,"maxMsg":65536,"win":65536,"caps":[]}', code: 'PROTOCOL' },
  { name: 'offer-ids-out-of-order', kind: 'text', data: `{"t":"offer","xfer":"${XFER}","files":[{"id":1,"name":"a","dir":"","size":1,"mime":""}]}`, code: 'PROTOCOL' },
  { name: 'offer-no-files', kind: 'text', data: `{"t":"offer","xfer":"${XFER}","files":[]}`, code: 'PROTOCOL' },
  { name: 'offer-negative-size', kind: 'text', data: `{"t":"offer","xfer":"${XFER}","files":[{"id":0,"name":"a","dir":"","size":-1,"mime":""}]}`, code: 'PROTOCOL' },
  { name: 'offer-size-over-2^53', kind: 'text', data: `{"t":"offer","xfer":"${XFER}","files":[{"id":0,"name":"a","dir":"","size":9007199254740992,"mime":""}]}`, code: 'PROTOCOL' },
  { name: 'xfer-uppercase', kind: 'text', data: '{"t":"cancel","xfer":"0123456789ABCDEF0123456789ABCDEF"}', code: 'PROTOCOL' },
  { name: 'accept-sha-without-offset', kind: 'text', data: `{"t":"accept","xfer":"${XFER}","files":[{"id":0,"offset":0,"sha256":"${H_EMPTY}"}]}`, code: 'PROTOCOL' },
  { name: 'accept-resume-without-sha', kind: 'text', data: `{"t":"accept","xfer":"${XFER}","files":[{"id":0,"offset":5}]}`, code: 'PROTOCOL' },
  { name: 'error-file-without-xfer', kind: 'text', data: '{"t":"error","code":"INTERNAL","message":"","file":0}', code: 'PROTOCOL' },
  // §5.9: 1 … 65536 UTF-8 bytes of Unicode text, a 32-hex id
  { name: 'text-empty', kind: 'text', data: `{"t":"text","id":"${TEXT_ID}","text":""}`, code: 'PROTOCOL' },
  { name: 'text-over-65536-bytes', kind: 'text', data: `{"t":"text","id":"${TEXT_ID}","text":"${'é'.repeat(32768)}a"}`, code: 'PROTOCOL' },
  { name: 'text-lone-surrogate', kind: 'text', data: `{"t":"text","id":"${TEXT_ID}","text":"a\\ud800b"}`, code: 'PROTOCOL' },
  { name: 'text-not-a-string', kind: 'text', data: `{"t":"text","id":"${TEXT_ID}","text":["hi"]}`, code: 'PROTOCOL' },
  { name: 'text-bad-id', kind: 'text', data: '{"t":"text","id":"1","text":"hi"}', code: 'PROTOCOL' },
  { name: 'text-ack-without-id', kind: 'text', data: '{"t":"text-ack"}', code: 'PROTOCOL' },
  // §5.10: at most 7 lanes
  { name: 'hello-lanes-8', kind: 'text', data: '{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":8}', code: 'PROTOCOL' },
  { name: 'hello-more-lanes-16', kind: 'text', data: '{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":7,"moreLanes":16}', code: 'PROTOCOL' },
  { name: 'hello-more-lanes-7', kind: 'text', data: '{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":7,"moreLanes":7}', code: 'PROTOCOL' },
  { name: 'hello-more-lanes-without-lanes-7', kind: 'text', data: '{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":3,"moreLanes":12}', code: 'PROTOCOL' },
  { name: 'hello-lanes-negative', kind: 'text', data: '{"t":"hello","v":2,"maxMsg":65536,"win":65536,"caps":[],"lanes":-1}', code: 'PROTOCOL' },
  { name: 'data-header-only', kind: 'binary', data: '01000000000000000000000000000000', code: 'PROTOCOL' },
  { name: 'data-bad-type', kind: 'binary', data: '0200000000000000000000000000000041', code: 'PROTOCOL' },
  { name: 'data-flags-set', kind: 'binary', data: '0101000000000000000000000000000041', code: 'PROTOCOL' },
  { name: 'data-file-id-10000', kind: 'binary', data: '0100000000002710000000000000000041', code: 'PROTOCOL' },
  { name: 'data-offset-2^53', kind: 'binary', data: '0100000000000000002000000000000041', code: 'PROTOCOL' },
];

export const PATH_VECTORS = {
  validNames: ['a.txt', '.bashrc', '..hidden', 'résumé.pdf', '日本語.txt', 'CONSOLE.txt', 'com10', 'a b', 'x'.repeat(255), '😀.png', '❤\ufe0f.txt', 'a\u202fb'],
  invalidNames: ['', '.', '..', 'a/b', 'a\\b', 'C:', 'a:b', 'x\u0000', 'x\u001f', 'x\u007f', 'x\u0085', 'trailing.', 'trailing ', 'CON', 'con.txt', 'LPT1.log', 'COM¹', 'aux .txt', 'nul.tar.gz', 'x'.repeat(256), 'é'.repeat(128),
    // rule 8: bidi overrides and isolates, zero-width and format characters, line separators
    'invoice\u202efdp.exe', 'a\u202ab', 'a\u202bb', 'a\u202cb', 'a\u202db', 'a\u2066b', 'a\u2067b', 'a\u2068b', 'a\u2069b',
    'a\u200bb', 'a\u200cb', 'a\u200db', 'a\u200eb', 'a\u200fb', '\ufeffa', 'a\u2028b', 'a\u2029b', 'a\u2060b', 'a\u061cb'],
  validDirs: ['', 'a', 'a/b/c', 'docs/2024', '.config/app'],
  invalidDirs: ['/a', 'a/', 'a//b', '../a', 'a/../b', 'a/./b', 'C:/x', 'a\\b', Array(65).fill('d').join('/'), 'docs/\u202egpj', 'a\u200b/b'],
  // valid, but refused by a receiver unless its user allows hidden names (isHidden)
  hidden: ['.bashrc', '..hidden', '.config', '.config/autostart', 'a/.ssh', 'a/b/.git/hooks'],
  notHidden: ['', 'a.txt', 'a..b', 'docs/2024', 'a.b/c.d', 'a/b.c'],
};

/* The end-to-end transcripts: three files, one of them two chunks long. */
export const E2E_FILES: FileEntry[] = [
  { id: 0, name: 'hello.txt', dir: '', size: 16, mime: 'text/plain' },
  { id: 1, name: 'empty.bin', dir: 'docs', size: 0, mime: 'application/octet-stream' },
  { id: 2, name: 'pattern.bin', dir: 'docs/sub', size: 20000, mime: '' },
];
export function e2eContents(): Uint8Array[] {
  const pattern = new Uint8Array(20000);
  for (let i = 0; i < pattern.length; i++) pattern[i] = i % 251;
  return [new TextEncoder().encode('hello, peerdrop\n'), new Uint8Array(0), pattern];
}
/* Hidden names (§7), between peers that do not allow them: the receiver
 * accepts the one other file and leaves the hidden ones out
 * ('hidden-left-out'); an offer of hidden names only is refused with
 * UNSAFE_PATH and its reason ('hidden-only'). */
export const HIDDEN_FILES: FileEntry[] = [
  { id: 0, name: '.gitignore', dir: '', size: 6, mime: '' },
  { id: 1, name: 'hello.txt', dir: '', size: 16, mime: 'text/plain' },
  { id: 2, name: 'config', dir: '.git', size: 7, mime: '' },
];
export const HIDDEN_LEFT_OUT = [0, 2];
export function hiddenContents(): Uint8Array[] {
  return ['build\n', 'hello, peerdrop\n', '[core]\n'].map((t) => new TextEncoder().encode(t));
}
const [HIDDEN_0, , HIDDEN_2] = HIDDEN_FILES as [FileEntry, FileEntry, FileEntry];
export const HIDDEN_ONLY_FILES: FileEntry[] = [
  { ...HIDDEN_0 },
  { ...HIDDEN_2, id: 1 },
];
export function hiddenOnlyContents(): Uint8Array[] {
  const [c0, , c2] = hiddenContents() as [Uint8Array, Uint8Array, Uint8Array];
  return [c0, c2];
}
/* The sender prefers 64 KiB messages but the receiver accepts only 16 KiB:
 * data messages are 16384 bytes, payload 16368. Receiver window 65536, so
 * it acknowledges every 16384 bytes and at the end of each file. */
export const E2E_SENDER = { maxMsg: 262144, win: 16777216, msgSize: 65536, caps: ['resume'] };
export const E2E_RECEIVER = { maxMsg: 16384, win: 65536, caps: ['resume'] };
/* The same peers with block digests (§5.8). */
export const E2E_SENDER_BLOCKS = { ...E2E_SENDER, caps: ['resume', 'sha256-blocks'] };
export const E2E_RECEIVER_BLOCKS = { ...E2E_RECEIVER, caps: ['resume', 'sha256-blocks'] };

/* Block digests of generated contents (byte i = i mod 251), around the 4 MiB
 * block boundary, with the plain SHA-256 beside each. */
export const DIGEST_SIZES = [0, 1, 20000, 4194303, 4194304, 4194305, 9437184 + 7];
export function patternBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

/* §5.9: two peers that both list "text" and send their names; each sends
 * the other a snippet, which the other acknowledges. */
export const TEXT_PEERS = {
  a: { caps: ['resume', 'sha256-blocks', 'text'], name: 'Blue Fox 🦊' },
  b: { caps: ['resume', 'sha256-blocks', 'text'], name: 'laptop' },
};
type TextSend = { from: 'a' | 'b'; id: string; text: string };
export const TEXT_SENDS: [TextSend, TextSend] = [
  { from: 'a', id: TEXT_ID, text: 'héllo "peer"\n\tline 2 \u0000 \u0007 \u202e 😀 https://example.com/?a=1&b=2' },
  { from: 'b', id: XFER, text: 'ok \\ done' },
];

/* §5.10, transcript 'lanes-three-files': the three files of 'three-files'
 * between a sender offering 2 lanes and a receiver offering 3 (L = 2). The
 * sender's DATA go on the lanes of LANES_LANE_OF (hello.txt on lane 2,
 * pattern.bin's first on the session's channel, its last on lane 1), and
 * reach the receiver in the order of LANES_SCHEDULE (the channel each next
 * delivered message comes from): offer, start 0, pattern.bin's last DATA
 * (before its start and before its first DATA), end 0 (before hello.txt's
 * bytes: held, with start 1, end 1, start 2 behind it), pattern.bin's first
 * DATA (held: not next), hello.txt's DATA (now everything held goes, in
 * order), end 2. */
export const LANES_SENDER = { ...E2E_SENDER, lanes: 2 };
export const LANES_RECEIVER = { ...E2E_RECEIVER, lanes: 3 };
export const LANES_LANE_OF = [2, 0, 1];
export const LANES_SCHEDULE = [0, 0, 1, 0, 0, 0, 0, 0, 2, 0];
