// Text snippets and names between two CLIs (issue 17, docs/protocol.md
// §5.9): the real peerdrop-server, `peerdrop send --text` in one process and
// `peerdrop receive` in another, over the native WebRTC stack. The snippet
// arrives byte for byte (as a --json text event, and on stdout in plain
// mode, also from standard input with `--text -`); the sender exits once the
// receiver acknowledged it; each side prints the other's name, stripped of
// control characters; on a terminal (a pseudo-terminal from script(1)) a
// hostile snippet's controls are escaped and its lines kept; a text over
// 65536 bytes, an empty one or one that is not UTF-8 is refused before
// anything is sent.
//
// $PEERDROP_CLI names the binary (ctest sets it when the target exists);
// without it the tests are skipped.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { startServer } from "./lib/server.mjs";
import { runCli } from "./lib/cli.mjs";

const CLI = process.env.PEERDROP_CLI;
const T = { timeout: 90_000 };
const MAX_TEXT = 65536;
const EXIT_USAGE = 1;
const procs = [];
const track = (r) => (procs.push(r), r);

/** The CLI with stdin from `input` (a Buffer, or null: none); its stdout as
 * bytes, its stderr, its exit. `waitOut(re)` waits (bounded) for stdout. */
function runRaw(args, input = null, bin = CLI) {
  const proc = spawn(bin, args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
  track({ proc });
  const out = [];
  let err = "";
  proc.stdout.on("data", (d) => out.push(d));
  proc.stderr.setEncoding("utf8").on("data", (d) => (err += d));
  if (input) proc.stdin.end(input);
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    proc,
    exited,
    stdout: () => Buffer.concat(out),
    stderr: () => err,
    async waitOut(re, ms = 20_000) {
      for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
        const m = Buffer.concat(out).toString("utf8").match(re);
        if (m) return m;
        if (proc.exitCode !== null || Date.now() > end) break;
      }
      throw new Error(`no ${re} on stdout in ${ms} ms; stdout:\n${Buffer.concat(out)}\nstderr:\n${err}`);
    },
  };
}

let server;

describe("peerdrop send --text", { skip: !CLI && "PEERDROP_CLI not set" }, () => {
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const { proc } of procs) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await server?.stop();
  });

  test("a snippet from send to receive (--json): delivered, acknowledged, names both ways", T, async () => {
    const text = 'héllo "peer" 🦊\nsecond line\twith a tab https://example.com/?a=1&b=2';
    const sender = track(runCli(CLI, ["send", "--text", text, "--name", "Alice's laptop", "--server", server.url]));
    const room = await sender.waitFor((e) => e.event === "room", 15_000);
    const receiver = track(runCli(CLI, ["receive", room.link, "--name", "Bob\u001b[2J\u202eevil"]));
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(s.code, 0, sender.stderr());
    assert.equal(r.code, 0, receiver.stderr());
    const got = receiver.events.find((e) => e.event === "text");
    assert.equal(got?.text, text, JSON.stringify(receiver.events));
    assert.equal(got.from, "Alice's laptop");
    assert.ok(sender.events.some((e) => e.event === "text-delivered" && e.bytes === Buffer.byteLength(text)));
    // the receiver's name reached the sender, with its escape sequence and bidi override left out
    const name = sender.events.find((e) => e.event === "peer-name");
    assert.equal(name?.name, "Bob[2Jevil", JSON.stringify(sender.events));
  });

  test("--text - reads standard input; plain mode prints exactly its bytes", T, async () => {
    // control characters and a line without its newline: unmodified off a terminal
    const text = Buffer.from("line one\nESC \u001b[31mred\u001b[0m\r\nlast line, no newline ü", "utf8");
    const sender = runRaw(["send", "--text", "-", "--server", server.url, "--name", "pipe"], text);
    const [, link] = await sender.waitOut(/(http\S+#room=\S+)/);
    const receiver = runRaw(["receive", link, "-q"]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(s.code, 0, sender.stderr());
    assert.equal(r.code, 0, receiver.stderr());
    assert.deepEqual(receiver.stdout(), text, receiver.stdout().toString());
    assert.match(sender.stdout().toString(), /text delivered to/);
  });

  test("a text that cannot be written to standard output (a full disk) is a local failure: exit 5, said on stderr", T, async () => {
    const sender = runRaw(["send", "--text", "kept", "--server", server.url]);
    const [, link] = await sender.waitOut(/(http\S+#room=\S+)/);
    const full = fs.openSync("/dev/full", "w");
    const proc = spawn(CLI, ["receive", link, "-q"], { stdio: ["ignore", full, "pipe"] });
    fs.closeSync(full);
    track({ proc });
    let err = "";
    proc.stderr.setEncoding("utf8").on("data", (d) => (err += d));
    const code = await Promise.race([new Promise((r) => proc.on("exit", r)), new Promise((r) => setTimeout(() => r("no exit in 20 s"), 20_000))]);
    assert.equal(code, 5, err);
    assert.match(err, /^cannot write the received text to standard output: No space left on device$/m);
    sender.proc.kill("SIGKILL");
  });

  test("plain mode says who it is from", T, async () => {
    const sender = runRaw(["send", "--text", "hi", "--server", server.url, "--name", "Carol\u0007"]);
    const [, link] = await sender.waitOut(/(http\S+#room=\S+)/);
    const receiver = runRaw(["receive", link]);
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(s.code, 0, sender.stderr());
    assert.equal(r.code, 0, receiver.stderr());
    const out = receiver.stdout().toString();
    assert.match(out, /^from Carol$/m);
    assert.match(out, /^hi$/m);
    assert.ok(!out.includes("\u0007"), out);
  });

  test("on a terminal, a hostile snippet cannot drive it: controls escaped, lines kept", T, async (t) => {
    const which = spawn("sh", ["-c", "command -v script"]);
    if ((await new Promise((r) => which.on("exit", r))) !== 0) return t.skip("no script(1) for a pseudo-terminal");
    const text = "title\u001b]0;owned\u0007 red\u001b[31mX\r\nline 2\ttab \u202eevil";
    const sender = runRaw(["send", "--text", text, "--server", server.url]);
    const [, link] = await sender.waitOut(/(http\S+#room=\S+)/);
    // script(1) runs the receiver on a pseudo-terminal and copies what it writes
    const receiver = runRaw(["-qefc", `${CLI} receive '${link}'`, "/dev/null"], null, "script");
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(s.code, 0, sender.stderr());
    assert.equal(r.code, 0, receiver.stderr());
    const out = receiver.stdout().toString("utf8");
    assert.ok(out.includes("title\\u{001B}]0;owned\\u{0007} red\\u{001B}[31mX\\r"), out);
    assert.ok(out.includes("line 2\ttab \\u{202E}evil"), out);
    assert.ok(!out.includes("\u001b]0;") && !out.includes("\u001b[31m") && !out.includes("\u202e"), JSON.stringify(out));
  });

  test("the largest snippet (65536 bytes from stdin) arrives whole", T, async () => {
    const text = Buffer.alloc(MAX_TEXT, "é").subarray(0, MAX_TEXT); // 32768 × "é"
    const sender = runRaw(["send", "--text", "-", "--server", server.url], text);
    const [, link] = await sender.waitOut(/(http\S+#room=\S+)/);
    const receiver = track(runCli(CLI, ["receive", link]));
    const [r, s] = await Promise.all([receiver.exited, sender.exited]);
    assert.equal(s.code, 0, sender.stderr());
    assert.equal(r.code, 0, receiver.stderr());
    assert.equal(receiver.events.find((e) => e.event === "text")?.text, text.toString("utf8"));
  });

  test("over 65536 bytes, empty, or not UTF-8: refused at once, nothing sent", T, async () => {
    const cases = [
      [["--text", "-"], Buffer.alloc(MAX_TEXT + 1, "a"), /over 65536 bytes/],
      [["--text", "x".repeat(MAX_TEXT + 1)], null, /over 65536 bytes/],
      [["--text", "-"], Buffer.from([0x66, 0xff, 0x66]), /not UTF-8/],
      [["--text", ""], null, /empty/],
      [["--text", "hi", "--name", "n".repeat(65)], null, /--name takes 1 to 64 bytes/],
      [["--text", "hi", "file.txt"], null, /does not go with files/],
    ];
    for (const [args, input, re] of cases) {
      const p = runRaw(["send", ...args, "--server", server.url], input);
      const { code } = await p.exited;
      assert.equal(code, EXIT_USAGE, `${args.join(" ").slice(0, 40)}: ${p.stderr()}`);
      assert.match(p.stderr(), re);
      assert.doesNotMatch(p.stdout().toString(), /#room=/, "no room was created");
    }
  });
});
