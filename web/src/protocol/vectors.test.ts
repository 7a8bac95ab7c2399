import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeControl, decodeData, encodeControl, encodeData, utf8Decode, utf8Encode } from './codec';
import { DataOutput, Session } from './session';
import { dirProblem, isHidden, nameProblem } from './paths';
import { blockDigestHex } from './digest';
import { sha256Hex } from './sha256';
import { run, runLanes, SimPeer, type LoggedMessage } from './sim';
import { ProtocolError } from './types';
import {
  CONTROL_VECTORS, DATA_VECTORS, DIGEST_SIZES, E2E_FILES, E2E_RECEIVER, E2E_RECEIVER_BLOCKS, E2E_SENDER, E2E_SENDER_BLOCKS,
  HIDDEN_FILES, HIDDEN_LEFT_OUT, HIDDEN_ONLY_FILES, INVALID_VECTORS, PATH_VECTORS, XFER, e2eContents, hiddenContents,
  hiddenOnlyContents, LANES_LANE_OF, LANES_RECEIVER, LANES_SCHEDULE, LANES_SENDER, patternBytes, TEXT_PEERS, TEXT_SENDS,
} from './vectors';
import type { FileEntry } from './types';
import { must } from '../testing/must';

const FILE = new URL('./test-vectors.json', import.meta.url);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

function msgJson(m: LoggedMessage, session: number) {
  return m.msg.kind === 'text'
    ? { session, from: m.from, kind: 'text', text: m.msg.data, hex: hex(utf8Encode(m.msg.data)) }
    : m.lane !== undefined
      ? { session, from: m.from, kind: 'binary', lane: m.lane, hex: hex(m.msg.data) }
      : { session, from: m.from, kind: 'binary', hex: hex(m.msg.data) };
}

type PeerOpts = typeof E2E_SENDER | typeof E2E_RECEIVER | typeof LANES_SENDER | typeof LANES_RECEIVER;

function transcriptBasic(so: PeerOpts = E2E_SENDER, ro: PeerOpts = E2E_RECEIVER, files: FileEntry[] = E2E_FILES, contents = e2eContents()) {
  const a = new SimPeer('sender', so);
  const b = new SimPeer('receiver', ro);
  const log: LoggedMessage[] = [];
  a.setFiles(files, contents);
  a.session.open();
  b.session.open();
  run(a, b, { log });
  a.session.offer(XFER, files);
  run(a, b, { log });
  return { a, b, messages: log.map((m) => msgJson(m, 1)) };
}

/* Session 1 drops after the sender's first data message of pattern.bin
 * (cutAfter 8); session 2 resumes it at 16368 with the prefix hash. With
 * block digests the transcript cuts after its last data message (cutAfter
 * 9, before end): the only provable prefix below 4 MiB is the whole file. */
function transcriptResume(so: PeerOpts = E2E_SENDER, ro: PeerOpts = E2E_RECEIVER, cutAfter = 8) {
  const a = new SimPeer('sender', so);
  const b = new SimPeer('receiver', ro);
  const log1: LoggedMessage[] = [];
  const log2: LoggedMessage[] = [];
  a.setFiles(E2E_FILES, e2eContents());
  a.session.open();
  b.session.open();
  run(a, b, { log: log1 });
  a.session.offer(XFER, E2E_FILES);
  // offer, start 0, data 0, end 0, start 1, end 1, start 2, data 2@0 | cut
  run(a, b, { log: log1, cutAfter });
  a.reconnect(so);
  b.reconnect(ro);
  a.session.open();
  b.session.open();
  run(a, b, { log: log2 });
  a.session.offer(XFER, E2E_FILES);
  run(a, b, { log: log2 });
  return { a, b, messages: [...log1.map((m) => msgJson(m, 1)), ...log2.map((m) => msgJson(m, 2))] };
}

/* §5.10: the sender's DATA over lanes, delivered out of order across them (vectors.ts, LANES_SCHEDULE). */
function transcriptLanes() {
  const a = new SimPeer('sender', LANES_SENDER);
  const b = new SimPeer('receiver', LANES_RECEIVER);
  const log: LoggedMessage[] = [];
  a.setFiles(E2E_FILES, e2eContents());
  a.session.open();
  b.session.open();
  run(a, b, { log });
  for (let k = 1; k <= b.session.lanes; k++) b.session.laneOpened(k);
  a.session.offer(XFER, E2E_FILES);
  runLanes(a, b, { laneOf: LANES_LANE_OF, schedule: LANES_SCHEDULE, log });
  return { a, b, messages: log.map((m) => msgJson(m, 1)) };
}

/* §5.9: a and b open, say hello, and send each other a snippet; every
 * queued message goes across at once, a's first then b's, round after
 * round until both are quiet (test_transfer.c's text_pump does the same). */
function transcriptTexts() {
  const a = new Session(TEXT_PEERS.a);
  const b = new Session(TEXT_PEERS.b);
  const log: { from: 'a' | 'b'; text: string }[] = [];
  const events = { a: [] as unknown[], b: [] as unknown[] };
  const pump = () => {
    for (let round = 0; round < 100; round++) {
      let moved = false;
      for (const [from, src, dst] of [['a', a, b], ['b', b, a]] as const) {
        for (const o of src.takeOutput()) {
          if (o.kind !== 'text') throw new Error('binary output');
          moved = true;
          log.push({ from, text: o.data });
          dst.onText(o.data);
        }
      }
      events.a.push(...a.takeEvents());
      events.b.push(...b.takeEvents());
      if (!moved) return;
    }
    throw new Error('did not settle');
  };
  a.open();
  b.open();
  pump();
  for (const t of TEXT_SENDS) {
    (t.from === 'a' ? a : b).sendText(t.id, t.text);
    pump();
  }
  return { a, b, events, messages: log.map((m) => ({ from: m.from, text: m.text, hex: hex(utf8Encode(m.text)) })) };
}

interface Transcript {
  name: string;
  sender: PeerOpts;
  receiver: PeerOpts;
  /** Ids of the files the receiver never gets (hidden names); absent: none. */
  leftOut?: number[];
  files: (FileEntry & { contentHex: string; sha256: string })[];
  messages: ReturnType<typeof msgJson>[];
}

/** A transcript's files as the vectors list them: each entry with its content and digest. */
function filesOf(files: FileEntry[], contents: Uint8Array[], digest: (b: Uint8Array) => string): Transcript['files'] {
  return files.map((f, i) => {
    const c = must(contents[i], `contents of file ${i}`);
    return { ...f, contentHex: hex(c), sha256: digest(c) };
  });
}

function build() {
  const contents = e2eContents();
  return {
    description: 'Peerdrop transfer protocol v1 test vectors; see docs/protocol.md §9. Hex is the exact message bytes (text messages as UTF-8).',
    version: 1,
    control: CONTROL_VECTORS.map((v) => ({ name: v.name, value: v.value, text: encodeControl(v.value), hex: hex(utf8Encode(encodeControl(v.value))) })),
    data: DATA_VECTORS.map((v) => ({ name: v.name, file: v.file, offset: v.offset, tag: v.tag, payloadHex: hex(new Uint8Array(v.payload)), hex: hex(encodeData(v.file, v.offset, new Uint8Array(v.payload), undefined, undefined, v.tag)) })),
    invalid: INVALID_VECTORS.map((v) => ({ name: v.name, kind: v.kind, hex: v.kind === 'text' ? hex(utf8Encode(v.data)) : v.data, code: v.code })),
    paths: PATH_VECTORS,
    digests: DIGEST_SIZES.map((size) => {
      const b = patternBytes(size);
      return { size, content: 'byte i = i mod 251', sha256: sha256Hex(b), blocks: blockDigestHex(b) };
    }),
    transcripts: [
      {
        name: 'three-files',
        sender: E2E_SENDER,
        receiver: E2E_RECEIVER,
        files: filesOf(E2E_FILES, contents, sha256Hex),
        messages: transcriptBasic().messages,
      },
      {
        name: 'resume-after-drop',
        sender: E2E_SENDER,
        receiver: E2E_RECEIVER,
        files: filesOf(E2E_FILES, contents, sha256Hex),
        messages: transcriptResume().messages,
      },
      {
        name: 'three-files-blocks',
        sender: E2E_SENDER_BLOCKS,
        receiver: E2E_RECEIVER_BLOCKS,
        files: filesOf(E2E_FILES, contents, blockDigestHex),
        messages: transcriptBasic(E2E_SENDER_BLOCKS, E2E_RECEIVER_BLOCKS).messages,
      },
      {
        name: 'resume-blocks',
        sender: E2E_SENDER_BLOCKS,
        receiver: E2E_RECEIVER_BLOCKS,
        files: filesOf(E2E_FILES, contents, blockDigestHex),
        messages: transcriptResume(E2E_SENDER_BLOCKS, E2E_RECEIVER_BLOCKS, 9).messages,
      },
      {
        name: 'lanes-three-files',
        sender: LANES_SENDER,
        receiver: LANES_RECEIVER,
        files: E2E_FILES.map((f, i) => {
          const c = contents[i] ?? new Uint8Array(0);
          return { ...f, contentHex: hex(c), sha256: sha256Hex(c) };
        }),
        messages: transcriptLanes().messages,
      },
      {
        name: 'hidden-left-out',
        sender: E2E_SENDER,
        receiver: E2E_RECEIVER,
        leftOut: HIDDEN_LEFT_OUT,
        files: filesOf(HIDDEN_FILES, hiddenContents(), sha256Hex),
        messages: transcriptBasic(E2E_SENDER, E2E_RECEIVER, HIDDEN_FILES, hiddenContents()).messages,
      },
      {
        name: 'hidden-only',
        sender: E2E_SENDER,
        receiver: E2E_RECEIVER,
        leftOut: [0, 1],
        files: filesOf(HIDDEN_ONLY_FILES, hiddenOnlyContents(), sha256Hex),
        messages: transcriptBasic(E2E_SENDER, E2E_RECEIVER, HIDDEN_ONLY_FILES, hiddenOnlyContents()).messages,
      },
    ] as Transcript[],
    texts: [{ name: 'text-both-ways', a: TEXT_PEERS.a, b: TEXT_PEERS.b, sends: TEXT_SENDS, messages: transcriptTexts().messages }],
  };
}

if (process.env.GEN_VECTORS) writeFileSync(FILE, JSON.stringify(build(), null, 1) + '\n');
const stored = JSON.parse(readFileSync(FILE, 'utf8')) as ReturnType<typeof build>;

describe('test-vectors.json', () => {
  it('is what the current definitions produce', () => {
    expect(build()).toEqual(stored);
  });

  for (const v of stored.control) {
    it(`control ${v.name}: encode and decode byte-exact`, () => {
      expect(hex(utf8Encode(encodeControl(v.value as never)))).toBe(v.hex);
      expect(decodeControl(utf8Decode(unhex(v.hex)))).toEqual(v.value);
    });
  }
  for (const v of stored.data) {
    it(`data ${v.name}: encode and decode byte-exact`, () => {
      expect(hex(encodeData(v.file, v.offset, unhex(v.payloadHex), undefined, undefined, v.tag))).toBe(v.hex);
      // as the driver sends it: into a reused buffer that still holds an earlier, longer message
      const payload = unhex(v.payloadHex);
      const reused = new Uint8Array(payload.length + 64).fill(0xee);
      const out = new DataOutput(v.file, v.offset, payload.subarray(1), payload.subarray(0, 1), v.tag);
      expect(hex(out.encode(reused))).toBe(v.hex);
      expect(out.encode(reused).buffer).toBe(reused.buffer);
      const d = decodeData(unhex(v.hex));
      expect([d.file, d.offset, d.tag, hex(d.bytes)]).toEqual([v.file, v.offset, v.tag, v.payloadHex]);
    });
  }
  for (const v of stored.invalid) {
    it(`invalid ${v.name} is refused with ${v.code}`, () => {
      const f = () => (v.kind === 'text' ? decodeControl(utf8Decode(unhex(v.hex))) : decodeData(unhex(v.hex)));
      expect(f).toThrow(ProtocolError);
      try {
        f();
      } catch (e) {
        expect((e as ProtocolError).code).toBe(v.code);
      }
    });
  }
  it('path rules', () => {
    for (const n of stored.paths.validNames) expect(nameProblem(n), n).toBeNull();
    for (const n of stored.paths.invalidNames) expect(nameProblem(n), JSON.stringify(n)).not.toBeNull();
    for (const d of stored.paths.validDirs) expect(dirProblem(d), d).toBeNull();
    for (const d of stored.paths.invalidDirs) expect(dirProblem(d), d).not.toBeNull();
    for (const p of stored.paths.hidden) expect(isHidden(p), p).toBe(true);
    for (const p of stored.paths.notHidden) expect(isHidden(p), p).toBe(false);
  });

  it('digests: plain and block SHA-256 agree with Node\'s OpenSSL', () => {
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
    for (const d of stored.digests) {
      const b = patternBytes(d.size);
      const outer = createHash('sha256');
      for (let p = 0; p < b.length; p += 4194304) outer.update(sha(b.subarray(p, p + 4194304)));
      expect([d.size, d.sha256, d.blocks]).toEqual([d.size, sha(b).toString('hex'), outer.digest('hex')]);
    }
    // an empty file has no block: the SHA-256 of nothing, like the plain digest
    const empty = must(stored.digests[0], 'digests[0]');
    expect(empty.blocks).toBe(empty.sha256);
  });

  it('hand-checked encodings', () => {
    // header: type 01, flags 00, reserved 0000, file 00000102, offset 0000010203040506
    expect(must(stored.data[1], 'data[1]').hex).toBe('01000000' + '00000102' + '0000010203040506' + 'ff');
    expect(must(stored.control.find((c) => c.name === 'start'), 'control vector start').text).toBe(`{"t":"start","xfer":"${XFER}","file":0,"offset":0}`);
    expect(must(stored.control.find((c) => c.name === 'error-file'), 'control vector error-file').text).toContain('a\\tb\\u0001.txt');
  });

  it('texts: both ways, names in the hellos, each acknowledged (§5.9)', () => {
    const r = transcriptTexts();
    const t = must(stored.texts[0], 'texts[0]');
    expect(r.messages).toEqual(t.messages);
    expect(t.messages.map((m) => [m.from, JSON.parse(m.text).t])).toEqual([
      ['a', 'hello'], ['b', 'hello'], ['a', 'text'], ['b', 'text-ack'], ['b', 'text'], ['a', 'text-ack'],
    ]);
    expect(r.events.b).toContainEqual({ type: 'text', id: TEXT_SENDS[0].id, text: TEXT_SENDS[0].text });
    expect(r.events.a).toContainEqual({ type: 'text', id: TEXT_SENDS[1].id, text: TEXT_SENDS[1].text });
    expect(r.events.a).toContainEqual({ type: 'text-acked', id: TEXT_SENDS[0].id });
    expect(r.events.b).toContainEqual({ type: 'text-acked', id: TEXT_SENDS[1].id });
    expect([r.a.peerName, r.b.peerName]).toEqual([TEXT_PEERS.b.name, TEXT_PEERS.a.name]);
    for (const m of t.messages) expect(hex(utf8Encode(encodeControl(decodeControl(m.text))))).toBe(m.hex);
  });

  it('transcript lanes-three-files: out of order across lanes, the receiver answers as on one channel', () => {
    const t = stored.transcripts.find((x) => x.name === 'lanes-three-files')!;
    const r = transcriptLanes();
    expect(r.a.session.lanes).toBe(2);
    expect(r.b.session.lanes).toBe(2);
    // the delivery order the schedule promises: pattern.bin's last DATA (lane 1) before its start and its first (lane 0), end 0 before hello.txt's DATA (lane 2)
    const seen = t.messages.filter((m) => m.from === 'sender').map((m) => (m.kind === 'text' ? JSON.parse(m.text!).t + (JSON.parse(m.text!).file ?? '') : `data${(m as { lane?: number }).lane}`));
    expect(seen.slice(1)).toEqual(['offer', 'start0', 'data1', 'end0', 'start1', 'end1', 'start2', 'data0', 'data2', 'end2']);
    // the receiver's replies are those of the one-channel transcript; their
    // order differs: one delivery (hello.txt's DATA) lets the held end 0, start 1,
    // end 1, start 2 and pattern.bin's DATA go at once, before any write completes
    const one = stored.transcripts.find((x) => x.name === 'three-files')!;
    const replies = (ms: typeof t.messages) => ms.filter((m) => m.from === 'receiver').map((m) => m.hex);
    expect(replies(t.messages).slice(1).sort()).toEqual(replies(one.messages).slice(1).sort());
    expect(t.messages.filter((m) => m.from === 'receiver').map((m) => JSON.parse(m.text!).t + (JSON.parse(m.text!).file ?? ''))).toEqual([
      'hello', 'accept', 'ack0', 'verified1', 'ack2', 'verified0', 'verified2',
    ]);
    expect(r.b.eventsOf('fatal')).toHaveLength(0);
  });

  for (const t of stored.transcripts) {
    it(`transcript ${t.name}: every message decodes and re-encodes to the same bytes`, () => {
      for (const m of t.messages) {
        if (m.kind === 'text') expect(hex(utf8Encode(encodeControl(decodeControl(must(m.text, 'the text of a text message')))))).toBe(m.hex);
        else {
          const d = decodeData(unhex(m.hex));
          expect(hex(encodeData(d.file, d.offset, d.bytes))).toBe(m.hex);
        }
      }
    });
    it(`transcript ${t.name}: the receiver gets every file intact, and none it leaves out`, () => {
      const replay: Record<string, () => ReturnType<typeof transcriptBasic>> = {
        'three-files': () => transcriptBasic(),
        'resume-after-drop': () => transcriptResume(),
        'three-files-blocks': () => transcriptBasic(E2E_SENDER_BLOCKS, E2E_RECEIVER_BLOCKS),
        'resume-blocks': () => transcriptResume(E2E_SENDER_BLOCKS, E2E_RECEIVER_BLOCKS, 9),
        'hidden-left-out': () => transcriptBasic(E2E_SENDER, E2E_RECEIVER, HIDDEN_FILES, hiddenContents()),
        'lanes-three-files': () => transcriptLanes(),
        'hidden-only': () => transcriptBasic(E2E_SENDER, E2E_RECEIVER, HIDDEN_ONLY_FILES, hiddenOnlyContents()),
      };
      const r = must(replay[t.name], `a replay of transcript ${t.name}`)();
      t.files.forEach((f, i) => {
        if (t.leftOut?.includes(i)) expect(r.b.stored[i] ?? new Uint8Array(0), f.name).toHaveLength(0);
        else expect(hex(r.b.file(i))).toBe(f.contentHex);
      });
      expect(r.b.eventsOf('open').filter((e) => t.leftOut?.includes(e.file))).toHaveLength(0);
    });
  }
});
