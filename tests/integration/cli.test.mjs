// The peerdrop CLI end to end: the real peerdrop-server, `peerdrop send` in
// one process and `peerdrop receive` in another, talking WebRTC through the
// native stack (src/rtc). Every received file is compared by SHA-256 with
// its source. Covers a folder with a sub-folder and an empty file, a
// generated 100 MiB file, an interrupted receive (kill -9 mid-transfer)
// that resumes from its .partial file, and a wrong password; the done and
// summary events and the summary line (issue 17), and a receiver that
// cannot write a file (a file-size limit): send --count 1 then fails.
//
// $PEERDROP_CLI names the binary (ctest sets it when the target exists);
// without it the tests are skipped.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { runCli } from "./lib/cli.mjs";

const CLI = process.env.PEERDROP_CLI;
const procs = []; // killed after the tests: a failed test leaves no sender waiting
const track = (r) => (procs.push(r), r);
const run = (args) => track(runCli(CLI, args));
const BIG = 100 * 1024 * 1024;
const T = { timeout: 120_000 };
const EXIT_TRANSFER = 3;
const EXIT_LOCAL = 5;
const brief = (r) => r.stderr() + JSON.stringify(r.events.filter((e) => e.event !== "progress"));

/** The CLI without --json: its text output and its exit; `line(re)` waits
 * (bounded) for a stdout line matching re. */
function runText(args) {
  const proc = track({ proc: spawn(CLI, args, { stdio: ["ignore", "pipe", "pipe"] }) }).proc;
  let out = "";
  let err = "";
  proc.stdout.setEncoding("utf8").on("data", (d) => (out += d));
  proc.stderr.setEncoding("utf8").on("data", (d) => (err += d));
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    proc,
    exited,
    text: () => `stdout:\n${out}\nstderr:\n${err}`,
    async line(re, ms = 15_000) {
      for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
        const m = out.match(re);
        if (m) return m;
        if (proc.exitCode !== null || Date.now() > end) break;
      }
      throw new Error(`no line ${re} in ${ms} ms; stdout:\n${out}\nstderr:\n${err}`);
    },
  };
}

let server;
let tmp;
let src;

function sha256File(p) {
  const h = createHash("sha256");
  const fd = fs.openSync(p, "r");
  const buf = Buffer.alloc(1 << 20);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
  }
  fs.closeSync(fd);
  return h.digest("hex");
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(path.relative(base, p));
  }
  return out.sort();
}

function generate(p, size) {
  // deterministic, incompressible-looking content: SHA-256 counter stream
  const fd = fs.openSync(p, "w");
  const block = Buffer.alloc(1 << 20);
  let counter = 0;
  for (let off = 0; off < size; off += block.length) {
    for (let i = 0; i < block.length; i += 32) {
      createHash("sha256").update(String(counter++)).digest().copy(block, i);
    }
    fs.writeSync(fd, block, 0, Math.min(block.length, size - off));
  }
  fs.closeSync(fd);
}

describe("peerdrop CLI", { skip: !CLI && "PEERDROP_CLI not set" }, () => {
  before(async () => {
    server = await startServer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-cli-"));
    src = path.join(tmp, "src");
    fs.mkdirSync(path.join(src, "folder", "sub"), { recursive: true });
    fs.writeFileSync(path.join(src, "hello.txt"), "hello, peerdrop\n");
    fs.writeFileSync(path.join(src, "folder", "empty.bin"), "");
    fs.writeFileSync(path.join(src, "folder", "sub", "résumé (v2).txt"), "x".repeat(70_000));
    generate(path.join(src, "big.bin"), BIG);
  });

  after(async () => {
    for (const { proc } of procs) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("--version prints the package's version and exits 0", () => {
    const r = spawnSync(CLI, ["--version"], { encoding: "utf8", timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    const cmake = fs.readFileSync(path.join(import.meta.dirname, "..", "..", "CMakeLists.txt"), "utf8");
    const version = cmake.match(/set\(PD_VERSION ([0-9.]+)\)/)?.[1];
    assert.ok(version, "PD_VERSION in CMakeLists.txt");
    assert.equal(r.stdout, `peerdrop ${version}\n`);
  });

  test("send files and a folder; receive them byte for byte", T, async () => {
    const sender = run(["send", path.join(src, "hello.txt"), path.join(src, "folder"), path.join(src, "big.bin"), "--server", server.url, "--count", "1"]);
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    assert.match(room.link, /#room=[0-9a-f-]{36}&key=[A-Za-z0-9]{23}$/);
    const out = path.join(tmp, "out1");
    const receiver = run(["receive", room.link, "--yes", "-o", out]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(r.code, 0, receiver.stderr());
    assert.equal(s.code, 0, sender.stderr());
    const want = ["big.bin", "folder/empty.bin", "folder/sub/résumé (v2).txt", "hello.txt"];
    assert.deepEqual(listFiles(out), want);
    for (const f of want) {
      const orig = f === "hello.txt" || f === "big.bin" ? path.join(src, f) : path.join(src, f);
      assert.equal(sha256File(path.join(out, f)), sha256File(orig), f);
    }
    assert.ok(receiver.events.some((e) => e.event === "offer" && e.files.length === 4));
    // issue 17: done and summary count the verified files and bytes, on both sides
    const total = want.reduce((n, f) => n + fs.statSync(path.join(src, f)).size, 0);
    for (const side of [receiver, sender]) {
      const done = side.events.find((e) => e.event === "done");
      assert.deepEqual([done?.files, done?.bytes, done?.failed], [4, total, []], brief(side));
      const sum = side.events.find((e) => e.event === "summary");
      assert.equal(sum?.peer, done.peer, brief(side));
      assert.deepEqual([sum.files, sum.bytes, sum.failed, sum.digest], [4, total, 0, "sha256-blocks"]);
      assert.ok(sum.seconds > 0 && sum.seconds < 120, `seconds ${sum.seconds}`);
      // every byte crossed this connection: the rate is bytes / seconds
      assert.ok(Math.abs(sum.bytesPerSecond * sum.seconds - total) <= total * 0.001 + 1, JSON.stringify(sum));
      assert.ok(side.events.indexOf(sum) > side.events.indexOf(done), "summary follows done");
    }
  });

  test("a summary line when a transfer ends, on both sides (issue 17)", T, async () => {
    const sender = runText(["send", path.join(src, "hello.txt"), path.join(src, "folder"), "--server", server.url, "--count", "1"]);
    const [link] = await sender.line(/\S+#room=\S+/);
    const out = path.join(tmp, "out-summary");
    const receiver = runText(["receive", link, "--yes", "-o", out]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(r.code, 0, receiver.text());
    assert.equal(s.code, 0, sender.text());
    // hello.txt (16 B), folder/empty.bin (0 B), folder/sub/résumé (v2).txt (70,000 B)
    const rate = String.raw`\(\d+(\.\d)? [kMG]?B/s\)`;
    await sender.line(new RegExp(String.raw`^sent 3 files to \S{1,8}, 70\.0 kB in \d+\.\d s ${rate}, verified \(SHA-256\)$`, "m"), 1);
    await receiver.line(new RegExp(String.raw`^received 3 files, 70\.0 kB in \d+\.\d s ${rate}, verified \(SHA-256\)$`, "m"), 1);
  });

  test("a receiver that cannot write a file: send --count 1 exits 3, done counts verified bytes only (issue 17)", T, async () => {
    // The receiver runs under a file-size limit (prlimit --fsize): big.bin's
    // writes fail with EFBIG, small.txt fits. The receiver reports
    // WRITE_ERROR for big.bin; before issue 17 the sender exited 0 and its
    // done event counted big.bin's bytes.
    const dir = path.join(tmp, "fsize");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "big.bin"), Buffer.alloc(300_000, 7));
    fs.writeFileSync(path.join(dir, "small.txt"), "fits under the limit\n".repeat(50));
    const small = fs.statSync(path.join(dir, "small.txt")).size;
    const sender = run(["send", path.join(dir, "big.bin"), path.join(dir, "small.txt"), "--server", server.url, "--count", "1"]);
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    const out = path.join(tmp, "out-fsize");
    const receiver = track(runCli("prlimit", ["--fsize=100000", "--", CLI, "receive", room.link, "--yes", "-o", out]));
    const r = await receiver.exited;
    // the limit fails the file (EFBIG), it does not kill the receiver (SIGXFSZ)
    assert.deepEqual(r, { code: EXIT_LOCAL, signal: null }, brief(receiver));
    const s = await sender.exited;
    assert.equal(s.code, EXIT_TRANSFER, brief(sender));
    assert.equal(fs.readFileSync(path.join(out, "small.txt"), "utf8"), fs.readFileSync(path.join(dir, "small.txt"), "utf8"));
    assert.ok(!fs.existsSync(path.join(out, "big.bin")) && !fs.existsSync(path.join(out, "big.bin.partial")));
    const failed = [{ name: "big.bin", dir: "", code: "WRITE_ERROR" }];
    for (const side of [sender, receiver]) {
      const done = side.events.find((e) => e.event === "done");
      assert.deepEqual([done?.files, done?.bytes, done?.failed], [1, small, failed], brief(side));
      const sum = side.events.find((e) => e.event === "summary");
      assert.deepEqual([sum?.files, sum?.bytes, sum?.failed], [1, small, 1], brief(side));
    }
  });

  test("send --count 1 without --json: the summary names the failed file, exit 3 (issue 17)", T, async () => {
    const dir = path.join(tmp, "fsize2");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "big.bin"), Buffer.alloc(300_000, 7));
    const sender = runText(["send", path.join(dir, "big.bin"), "--server", server.url, "--count", "1"]);
    const [link] = await sender.line(/\S+#room=\S+/);
    const receiver = track(runCli("prlimit", ["--fsize=100000", "--", CLI, "receive", link, "--yes", "-o", path.join(tmp, "out-fsize2")]));
    assert.equal((await receiver.exited).code, EXIT_LOCAL, brief(receiver));
    assert.equal((await sender.exited).code, EXIT_TRANSFER, sender.text());
    await sender.line(/^sent 0 files to \S{1,8}, 0 B in \d+\.\d s \([^)]*\); 1 file failed: big\.bin \(WRITE_ERROR\)$/m, 1);
  });

  test("an interrupted receive (kill -9) resumes from the .partial file", T, async () => {
    const sender = run(["send", path.join(src, "big.bin"), "--server", server.url, "--count", "1"]);
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    const out = path.join(tmp, "out2");
    const first = run(["receive", room.link, "--yes", "-o", out]);
    await first.waitFor((e) => e.event === "progress" && e.bytes >= BIG / 5);
    first.proc.kill("SIGKILL");
    await first.exited;
    const partial = path.join(out, "big.bin.partial");
    const held = fs.statSync(partial).size;
    assert.ok(held > 0 && held < BIG, `partial holds ${held}`);
    assert.ok(!fs.existsSync(path.join(out, "big.bin")));

    const second = run(["receive", room.link, "--yes", "-o", out]);
    const resumed = await second.waitFor((e) => e.event === "resume");
    assert.equal(resumed.bytes, held);
    // both CLIs use block digests (docs/protocol.md §5.8): resumed at the last whole 4 MiB block
    assert.equal(resumed.offset, Math.floor(held / 4194304) * 4194304);
    const [r, s] = await Promise.all([second.exited, sender.exited]);
    assert.equal(r.code, 0, second.stderr() + JSON.stringify(second.events.filter((e) => e.event !== "progress")));
    assert.equal(s.code, 0, sender.stderr() + JSON.stringify(sender.events.filter((e) => e.event !== "progress")));
    assert.equal(sha256File(path.join(out, "big.bin")), sha256File(path.join(src, "big.bin")));
    assert.ok(!fs.existsSync(partial));
  });

  test("never overwrites an existing file without --force", T, async () => {
    const sender = run(["send", path.join(src, "hello.txt"), "--server", server.url, "--count", "1"]);
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    const out = path.join(tmp, "out3");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "hello.txt"), "mine\n");
    const receiver = run(["receive", room.link, "--yes", "-o", out]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(r.code, 0, receiver.stderr() + JSON.stringify(receiver.events));
    assert.equal(s.code, 0, sender.stderr() + JSON.stringify(sender.events));
    assert.equal(fs.readFileSync(path.join(out, "hello.txt"), "utf8"), "mine\n");
    assert.equal(fs.readFileSync(path.join(out, "hello (1).txt"), "utf8"), "hello, peerdrop\n");
  });

  test("a file received before is confirmed, not sent again; another of its size is kept", T, async () => {
    // A run after an interrupted one: big.bin and hello.txt are already here
    // (identical), same.txt is a different file of the offered size.
    const out = path.join(tmp, "out-again");
    fs.mkdirSync(out);
    fs.copyFileSync(path.join(src, "big.bin"), path.join(out, "big.bin"));
    fs.copyFileSync(path.join(src, "hello.txt"), path.join(out, "hello.txt"));
    fs.writeFileSync(path.join(src, "same.txt"), "sender's\n");
    fs.writeFileSync(path.join(out, "same.txt"), "receiver\n");
    const sender = run(["send", path.join(src, "hello.txt"), path.join(src, "big.bin"), path.join(src, "same.txt"), "--server", server.url, "--count", "1"]);
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    const receiver = run(["receive", room.link, "--yes", "-o", out]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(r.code, 0, receiver.stderr() + JSON.stringify(receiver.events.filter((e) => e.event !== "progress")));
    assert.equal(s.code, 0, sender.stderr());
    assert.deepEqual(listFiles(out), ["big.bin", "hello.txt", "same (1).txt", "same.txt"]);
    assert.equal(fs.readFileSync(path.join(out, "same.txt"), "utf8"), "receiver\n", "the receiver's own file is untouched");
    assert.equal(fs.readFileSync(path.join(out, "same (1).txt"), "utf8"), "sender's\n");
    assert.equal(sha256File(path.join(out, "big.bin")), sha256File(path.join(src, "big.bin")));
    // both held files were offered as whole-file resumes, the sender confirmed them
    const resumes = Object.fromEntries(receiver.events.filter((e) => e.event === "resume").map((e) => [e.name, e.offset]));
    assert.deepEqual(resumes, { "hello.txt": 16, "big.bin": BIG, "same.txt": 9 });
    for (const name of ["hello.txt", "big.bin", "same.txt"]) assert.ok(receiver.events.some((e) => e.event === "file" && e.name === name && e.ok), name);
    // nothing of big.bin was sent again: the sender's acknowledged bytes jump over it
    const acked = sender.events.filter((e) => e.event === "progress").map((e) => e.bytes);
    assert.ok(acked.every((b) => b <= 16 || b >= BIG + 16), JSON.stringify(acked.slice(0, 8)));
  });

  test("a wrong password exits with status 2", T, async () => {
    const sender = run(["send", path.join(src, "hello.txt"), "--server", server.url]);
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    const receiver = run(["receive", room.roomId, "--password", "wrong-password", "--server", server.url, "--yes", "-o", path.join(tmp, "out4")]);
    const r = await receiver.exited;
    assert.equal(r.code, 2);
    assert.ok(receiver.events.some((e) => e.event === "error" && e.code === "BAD_PASSWORD"));
    sender.proc.kill("SIGINT");
    const s = await sender.exited;
    assert.equal(s.code, 130);
  });
});
