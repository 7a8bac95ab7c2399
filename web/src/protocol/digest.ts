/* The digest of one file, in either of the session's two modes
 * (docs/protocol.md §5.8):
 *  - plain: SHA-256 of the bytes, hashed here as they stream (sha256.ts);
 *  - blocks (cap "sha256-blocks"): SHA-256 over the SHA-256 of every 4 MiB
 *    block. Each block is a complete buffer, so the caller can hash it with
 *    WebCrypto (native, ~10x our WebAssembly SHA-256): this object hands out
 *    a HashJob per block and folds the results back in file order, whenever
 *    and in whatever order they arrive.
 * Pure: no WebCrypto, no promises; the I/O layer runs the jobs. */

import { createHasher, type Hasher } from './sha256';

export const HASH_BLOCK = 4 * 1024 * 1024;
export const CAP_BLOCKS = 'sha256-blocks';

/** One block to hash with SHA-256; answer with FileDigest.done (via Session.hashed). */
export interface HashJob {
  /** The block's bytes, in order (views of received or read buffers). */
  readonly parts: Uint8Array[];
  readonly length: number;
  readonly owner: FileDigest;
}

export interface FileDigest {
  readonly blocks: boolean;
  /** Bytes from 0 whose digest is final: peekHex() is the digest of exactly these. */
  readonly covered: number;
  /** No job outstanding. */
  readonly settled: boolean;
  /** Feeds the next bytes of the file; returns blocks now ready to hash. */
  update(b: Uint8Array): HashJob[];
  /** The file's bytes are all fed: its short last block, if any, is ready. */
  finish(): HashJob[];
  /** A job's SHA-256 (32 bytes). Results of forgotten jobs are ignored. */
  done(job: HashJob, sha256: Uint8Array): void;
  /** Forgets everything after `covered` (a resume continues from there). */
  rewind(): void;
  /** Hex digest of the first `covered` bytes (§5.3, §5.8). */
  peekHex(): string;
}

export function createDigest(blocks: boolean): FileDigest {
  return blocks ? new BlockDigest() : new PlainDigest();
}

class PlainDigest implements FileDigest {
  readonly blocks = false;
  readonly settled = true;
  covered = 0;
  private h: Hasher = createHasher();
  update(b: Uint8Array): HashJob[] {
    this.h.update(b);
    this.covered += b.length;
    return [];
  }
  finish(): HashJob[] {
    return [];
  }
  done(): void {}
  rewind(): void {}
  peekHex(): string {
    return this.h.peekHex();
  }
}

class BlockDigest implements FileDigest {
  readonly blocks = true;
  covered = 0;
  private outer: Hasher = createHasher(); // over the 32-byte block digests
  private parts: Uint8Array[] = [];
  private partLen = 0;
  private queue: { job: HashJob; sha: Uint8Array | null }[] = [];

  get settled(): boolean {
    return this.queue.length === 0;
  }

  update(b: Uint8Array): HashJob[] {
    const jobs: HashJob[] = [];
    for (let p = 0; p < b.length; ) {
      const take = Math.min(HASH_BLOCK - this.partLen, b.length - p);
      this.parts.push(p === 0 && take === b.length ? b : b.subarray(p, p + take));
      this.partLen += take;
      p += take;
      if (this.partLen === HASH_BLOCK) jobs.push(this.cut());
    }
    return jobs;
  }

  finish(): HashJob[] {
    return this.partLen > 0 ? [this.cut()] : [];
  }

  private cut(): HashJob {
    const job: HashJob = { parts: this.parts, length: this.partLen, owner: this };
    this.parts = [];
    this.partLen = 0;
    this.queue.push({ job, sha: null });
    return job;
  }

  done(job: HashJob, sha256: Uint8Array): void {
    const q = this.queue.find((x) => x.job === job);
    if (!q || q.sha || sha256.length !== 32) return;
    q.sha = sha256;
    while (this.queue[0]?.sha) {
      const x = this.queue.shift()!;
      this.outer.update(x.sha!);
      this.covered += x.job.length;
    }
  }

  rewind(): void {
    this.queue = [];
    this.parts = [];
    this.partLen = 0;
  }

  peekHex(): string {
    return this.outer.peekHex();
  }
}

/** The digest of a whole file known from before (an earlier page verified
 *  it): it proves the file at offset = its size (§5.5) without reading it. */
export function knownDigest(blocks: boolean, size: number, hex: string): FileDigest {
  return { blocks, covered: size, settled: true, update: () => [], finish: () => [], done: () => {}, rewind: () => {}, peekHex: () => hex };
}

/** The block digest of a whole buffer, synchronously (tests, vectors, the fallback). */
export function blockDigestHex(b: Uint8Array): string {
  const d = createDigest(true);
  for (const job of [...d.update(b), ...d.finish()]) d.done(job, sha256Bytes(job.parts));
  return d.peekHex();
}

/** SHA-256 of the concatenation of parts, synchronously, as 32 bytes. */
export function sha256Bytes(parts: Uint8Array[]): Uint8Array {
  const h = createHasher();
  for (const p of parts) h.update(p);
  const hex = h.peekHex();
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
