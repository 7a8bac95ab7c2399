// The ZIP writer against real unzippers: Info-ZIP `unzip` (Debian) and
// Python's zipfile, each reading what it wrote, entry by entry.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CRC_CHECKPOINT, crc32, ZipWriter, zipSize } from './zip';

const tmp = mkdtempSync(join(tmpdir(), 'pd-zip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/* Lists name, size, CRC and SHA-256 of every entry, as Python's zipfile reads them (testzip checks every CRC). */
const PY = `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.file_size, i.CRC, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))
`;

const sha = (b: Uint8Array) => execFileSync('sha256sum', { input: b }).toString().split(' ')[0];

/** Writes `files` to a zip at `path`, the data in pieces of `piece` bytes, starting at archive offset `at` (a sparse hole before). */
function writeZip(path: string, files: { name: string; data: Uint8Array }[], piece = 65536, at = 0): number {
  const z = new ZipWriter(new Date(2026, 11, 5, 12, 30, 10));
  z.offset = at;
  const fd = openSync(path, 'w');
  let pos = at;
  const put = (b: Uint8Array) => {
    writeSync(fd, b, 0, b.length, pos);
    pos += b.length;
  };
  for (const f of files) {
    put(z.begin(f.name, f.data.length));
    for (let i = 0; i < f.data.length; i += piece) put(z.data(f.data.subarray(i, i + piece)));
    put(z.end());
  }
  put(z.finish());
  closeSync(fd);
  expect(z.offset).toBe(pos);
  return pos;
}

describe('zip', () => {
  it('crc32 matches the check value of ISO 3309 ("123456789" -> cbf43926), in pieces too', () => {
    const b = new TextEncoder().encode('123456789');
    expect(crc32(0, b)).toBe(0xcbf43926);
    expect(crc32(crc32(0, b.subarray(0, 4)), b.subarray(4))).toBe(0xcbf43926);
  });

  const files = [
    { name: 'album/a.txt', data: new TextEncoder().encode('top level\n') },
    { name: 'album/sub/b.bin', data: new Uint8Array(randomBytes(300_000)) },
    { name: 'album/sub/empty.dat', data: new Uint8Array(0) },
    { name: 'album/sub/déjà vu ✓.txt', data: new TextEncoder().encode('utf-8 name\n') },
  ];

  it('unzip and Python read every entry byte for byte; zipSize is exact', () => {
    const path = join(tmp, 'a.zip');
    const len = writeZip(path, files, 7000);
    expect(len).toBe(zipSize(files.map((f) => ({ name: f.name, size: f.data.length }))));
    execFileSync('unzip', ['-tq', path]); // throws on any error
    const out = join(tmp, 'out');
    execFileSync('unzip', ['-q', path, '-d', out]);
    for (const f of files) expect(sha(readFileSync(join(out, f.name)))).toBe(sha(f.data));
    const got = JSON.parse(execFileSync('python3', ['-c', PY, path]).toString());
    expect(got).toEqual(files.map((f) => [f.name, f.data.length, crc32(0, f.data), sha(f.data)]));
  });

  it('an archive past 4 GiB: entries at offsets over 2^32 read back (ZIP64 end records)', () => {
    // The first 5 GiB are a sparse hole: the writer is told it is already there.
    const path = join(tmp, 'big.zip');
    const at = 5 * 2 ** 30;
    writeZip(path, files.slice(0, 2), 65536, at);
    execFileSync('unzip', ['-tq', path]);
    const got = JSON.parse(execFileSync('python3', ['-c', PY, path]).toString());
    expect(got.map((e: unknown[]) => e[3])).toEqual(files.slice(0, 2).map((f) => sha(f.data)));
  });

  it('a dropped entry (a failed file) leaves no trace once the archive is cut back', () => {
    const z = new ZipWriter();
    const parts: Uint8Array[] = [];
    parts.push(z.begin('keep.txt', 3), z.data(new Uint8Array([1, 2, 3])), z.end());
    const before = z.offset;
    z.begin('failed.bin', 10);
    z.data(new Uint8Array(4));
    expect(z.drop()).toBe(before);
    parts.push(z.finish());
    const path = join(tmp, 'drop.zip');
    const fd = openSync(path, 'w');
    for (const p of parts) writeSync(fd, p);
    closeSync(fd);
    const got = JSON.parse(execFileSync('python3', ['-c', PY, path]).toString());
    expect(got.map((e: unknown[]) => e[0])).toEqual(['keep.txt']);
  });

  it('an entry rewound to a 4 MiB checkpoint (a resume) and written again reads back intact', () => {
    const data = new Uint8Array(randomBytes(CRC_CHECKPOINT * 2 + 1000));
    const z = new ZipWriter();
    const path = join(tmp, 'rewind.zip');
    const fd = openSync(path, 'w');
    let pos = 0;
    const put = (b: Uint8Array) => {
      writeSync(fd, b, 0, b.length, pos);
      pos += b.length;
    };
    put(z.begin('r.bin', data.length));
    put(z.data(data.subarray(0, CRC_CHECKPOINT + 123_457))); // past the first checkpoint, not aligned
    expect(() => z.rewind(1000)).toThrow(); // not a checkpoint
    pos = z.rewind(CRC_CHECKPOINT);
    put(z.data(data.subarray(CRC_CHECKPOINT, CRC_CHECKPOINT + 5)));
    pos = z.rewind(CRC_CHECKPOINT); // again, before the next checkpoint
    put(z.data(data.subarray(CRC_CHECKPOINT)));
    put(z.end());
    put(z.finish());
    closeSync(fd);
    execFileSync('truncate', ['-s', String(pos), path]);
    execFileSync('unzip', ['-tq', path]);
    const got = JSON.parse(execFileSync('python3', ['-c', PY, path]).toString());
    expect(got).toEqual([['r.bin', data.length, crc32(0, data), sha(data)]]);
  });

  it('refuses more data than the entry size, and an end before all of it', () => {
    const z = new ZipWriter();
    z.begin('x', 2);
    expect(() => z.data(new Uint8Array(3))).toThrow();
    z.data(new Uint8Array(1));
    expect(() => z.end()).toThrow();
  });
});
