/* A streamed, store-only ZIP writer (PKWARE APPNOTE 6.3.10), sans-I/O: it
 * returns the bytes to write, the caller writes them in order. Used where a
 * received folder cannot be written as a folder (no directory picker), so
 * that it keeps its structure: one .zip handed to the downloads.
 *
 * Every entry is ZIP64 (APPNOTE 4.5.3: the 0x0001 extra field in the local
 * header, the central header and a ZIP64 end record), so files and archives
 * over 4 GiB need no second code path; Info-ZIP unzip 6 and Python's zipfile
 * read it (web/src/protocol/zip.test.ts runs both). The CRC-32 is only known
 * after the data, so it goes in a data descriptor (flag bit 3, APPNOTE
 * 4.3.9, 8-byte sizes for ZIP64); the sizes are known up front (store only)
 * and are in the local header too. Names are UTF-8 (flag bit 11). */

const SIG_LOCAL = 0x04034b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_END = 0x06054b50;
const VERSION = 45; // 4.5: ZIP64
const FLAGS = 0x0808; // bit 3: data descriptor; bit 11: UTF-8 names
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC-32 (ISO 3309, the ZIP one) over `b`; start with 0. */
export function crc32(crc: number, b: Uint8Array): number {
  let c = ~crc >>> 0;
  for (const x of b) c = (CRC_TABLE[(c ^ x) & 0xff] as number) ^ (c >>> 8); // a 256-entry table
  return ~c >>> 0;
}

const utf8 = new TextEncoder();

class Out {
  private b: Uint8Array;
  private v: DataView;
  p = 0;
  constructor(n: number) {
    this.b = new Uint8Array(n);
    this.v = new DataView(this.b.buffer);
  }
  u16(x: number): this {
    this.v.setUint16(this.p, x, true);
    this.p += 2;
    return this;
  }
  u32(x: number): this {
    this.v.setUint32(this.p, x >>> 0, true);
    this.p += 4;
    return this;
  }
  u64(x: number): this {
    this.v.setBigUint64(this.p, BigInt(x), true);
    this.p += 8;
    return this;
  }
  bytes(x: Uint8Array): this {
    this.b.set(x, this.p);
    this.p += x.length;
    return this;
  }
  done(): Uint8Array {
    if (this.p !== this.b.length) throw new Error(`zip: wrote ${this.p} of ${this.b.length} bytes`);
    return this.b;
  }
}

/** MS-DOS date and time (APPNOTE 4.4.6), local time, 2-second steps, 1980 at the earliest. */
function dosTime(d: Date): { time: number; date: number } {
  const y = Math.max(1980, Math.min(2107, d.getFullYear()));
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((y - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/* A resume restarts a file at a multiple of the protocol's 4 MiB digest
 * block (docs/protocol.md §5.5): the CRC at each such offset is kept so that
 * an entry can be rewound there (the CRC cannot be undone). */
export const CRC_CHECKPOINT = 4 * 1024 * 1024;

interface Entry {
  checkpoints: Map<number, number>; // entry data offset -> CRC of the bytes before it
  name: Uint8Array;
  size: number;
  offset: number;
  crc: number;
  written: number;
  time: number;
  date: number;
}

const localLen = (name: Uint8Array) => 30 + name.length + 20;
const DESCRIPTOR_LEN = 24;
const centralLen = (name: Uint8Array) => 46 + name.length + 28;
const END_LEN = 56 + 20 + 22;

/** The size of a ZIP of these entries (names as they will be written), before writing it. */
export function zipSize(entries: { name: string; size: number }[]): number {
  let n = END_LEN;
  for (const e of entries) {
    const name = utf8.encode(e.name);
    n += localLen(name) + e.size + DESCRIPTOR_LEN + centralLen(name);
  }
  return n;
}

/** Writes one ZIP: begin(name, size), data(...) for exactly size bytes, end(), ..., finish(). */
export class ZipWriter {
  private entries: Entry[] = [];
  private cur: Entry | null = null;
  /** Bytes of the archive so far. */
  offset = 0;
  constructor(private now: Date = new Date()) {}

  /** The local header of the next entry. `name`: a relative path with '/' separators. */
  begin(name: string, size: number): Uint8Array {
    if (this.cur) throw new Error('zip: an entry is open');
    if (!Number.isSafeInteger(size) || size < 0) throw new Error('zip: bad size');
    const n = utf8.encode(name);
    if (n.length === 0 || n.length > MAX16 - 1) throw new Error('zip: bad name');
    const { time, date } = dosTime(this.now);
    const e: Entry = { checkpoints: new Map([[0, 0]]), name: n, size, offset: this.offset, crc: 0, written: 0, time, date };
    const out = new Out(localLen(n))
      .u32(SIG_LOCAL).u16(VERSION).u16(FLAGS).u16(0).u16(time).u16(date)
      .u32(0).u32(MAX32).u32(MAX32) // CRC in the descriptor; sizes in the ZIP64 field
      .u16(n.length).u16(20).bytes(n)
      .u16(0x0001).u16(16).u64(size).u64(size)
      .done();
    this.cur = e;
    this.offset += out.length;
    return out;
  }

  /** Accounts for `b` (the caller writes it as it is: store only). */
  data(b: Uint8Array): Uint8Array {
    const e = this.cur;
    if (!e) throw new Error('zip: no entry open');
    if (e.written + b.length > e.size) throw new Error('zip: more data than the entry size');
    for (let i = 0; i < b.length; ) {
      const toMark = CRC_CHECKPOINT - (e.written % CRC_CHECKPOINT);
      const n = Math.min(toMark, b.length - i);
      e.crc = crc32(e.crc, b.subarray(i, i + n));
      e.written += n;
      i += n;
      if (e.written % CRC_CHECKPOINT === 0) e.checkpoints.set(e.written, e.crc);
    }
    this.offset += b.length;
    return b;
  }

  /** Takes the open entry back to `at` bytes of its data (0 or a multiple of
   *  CRC_CHECKPOINT); returns the archive offset the caller cuts back to. */
  rewind(at: number): number {
    const e = this.cur;
    if (!e) throw new Error('zip: no entry open');
    const crc = e.checkpoints.get(at);
    if (crc === undefined || at > e.written) throw new Error(`zip: cannot rewind to ${at}`);
    this.offset -= e.written - at;
    e.written = at;
    e.crc = crc;
    for (const k of e.checkpoints.keys()) if (k > at) e.checkpoints.delete(k);
    return this.offset;
  }

  /** Bytes of the open entry's data written so far (-1: none open). */
  get entryWritten(): number {
    return this.cur ? this.cur.written : -1;
  }

  /** The data descriptor of the open entry, which must be complete. */
  end(): Uint8Array {
    const e = this.cur;
    if (!e) throw new Error('zip: no entry open');
    if (e.written !== e.size) throw new Error(`zip: entry has ${e.written} of ${e.size} bytes`);
    this.cur = null;
    this.entries.push(e);
    const out = new Out(DESCRIPTOR_LEN).u32(SIG_DESCRIPTOR).u32(e.crc).u64(e.size).u64(e.size).done();
    this.offset += out.length;
    return out;
  }

  /** Forgets the open entry (a failed file): the caller cuts the archive back to `offset` as returned. */
  drop(): number {
    const e = this.cur;
    if (!e) throw new Error('zip: no entry open');
    this.cur = null;
    this.offset = e.offset;
    return e.offset;
  }

  /** The central directory and the end records. */
  finish(): Uint8Array {
    if (this.cur) throw new Error('zip: an entry is open');
    const cdOffset = this.offset;
    const cdLen = this.entries.reduce((n, e) => n + centralLen(e.name), 0);
    const out = new Out(cdLen + END_LEN);
    for (const e of this.entries) {
      out
        .u32(SIG_CENTRAL).u16((3 << 8) | VERSION).u16(VERSION).u16(FLAGS).u16(0).u16(e.time).u16(e.date)
        .u32(e.crc).u32(MAX32).u32(MAX32)
        .u16(e.name.length).u16(28).u16(0) // extra, comment
        .u16(0).u16(0).u32(0o100644 << 16) // disk, internal attributes, external: a regular file, rw-r--r--
        .u32(MAX32).bytes(e.name)
        .u16(0x0001).u16(24).u64(e.size).u64(e.size).u64(e.offset);
    }
    const end64 = cdOffset + cdLen;
    const count = this.entries.length;
    out
      .u32(SIG_END64).u64(44).u16((3 << 8) | VERSION).u16(VERSION).u32(0).u32(0)
      .u64(count).u64(count).u64(cdLen).u64(cdOffset)
      .u32(SIG_LOCATOR64).u32(0).u64(end64).u32(1)
      .u32(SIG_END).u16(0).u16(0).u16(Math.min(count, MAX16)).u16(Math.min(count, MAX16))
      .u32(Math.min(cdLen, MAX32)).u32(MAX32).u16(0);
    const b = out.done();
    this.offset += b.length;
    return b;
  }
}
