// Short codes, CLI to CLI (issue 14, docs/authentication.md "Short codes"):
// `peerdrop send --code FILE` prints NUMBER-WORD-WORD, `peerdrop receive
// CODE` takes it. The real server, both CLIs as processes, and in front of
// the server the recording proxy of tests/e2e/recorder.mjs, which keeps
// every byte the server received (WebSocket messages unmasked):
//  - the code transfers the file; both sides show the same verification
//    code; the server received no form of the code's words, and the room
//    requests were { roomId: "code-N", code: true } with no password;
//  - a wrong word: the receiver fails authentication (exit 6, "different
//    code"), the sender says auth-failed and keeps waiting; the right code
//    still works after it;
//  - three wrong receivers, each a new process with a new socket: the
//    sender burns the code (exit 6, CODE_BURNT, the message of the spec)
//    and the room is gone: a fourth join is ROOM_NOT_FOUND;
//  - the numbers 1-99 all taken: three tries there, then one from 1-999;
//  - a code that is not valid is refused before any network (exit 1,
//    naming the unknown word).
//
// $PEERDROP_CLI names the CLI (ctest sets it); without it the tests skip.

import { test, describe, before, after } from "node:test";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "./lib/server.mjs";
import { runCli } from "./lib/cli.mjs";
import { call, connect } from "./lib/client.mjs";
import { startRecorder, secretForms } from "../e2e/recorder.mjs";

const CLI = process.env.PEERDROP_CLI;
const T = { timeout: 120_000 };
const EXIT_USAGE = 1;
const EXIT_AUTH = 6;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORDS = fs.readFileSync(path.join(HERE, "../../docs/vectors/code-words.txt"), "utf8").trim().split("\n");

let server;
let rec;
let tmp;
const procs = [];
const sockets = [];

const brief = (r) => r.stderr() + JSON.stringify(r.events.filter((e) => e.event !== "progress"));

function run(args) {
  const r = runCli(CLI, args);
  procs.push(r);
  return r;
}

/** The same nameplate, another first word: a mistyped or guessed code. */
function wrongCode(code, i = 0) {
  const [n, w1, w2] = code.split("-");
  const other = WORDS.filter((w) => w !== w1)[i];
  return `${n}-${other}-${w2}`;
}

/** Asserts that the server received no form of the code or its words. */
function assertNothingOfCode(code) {
  // The secret is the two words together (16 bits): one word alone may turn
  // up by chance ("finger" is in every SDP's a=fingerprint), so the needles
  // are the code and its two words joined every way a client might write them.
  const [n, w1, w2] = code.split("-");
  const words = [`${w1}-${w2}`, `${w1} ${w2}`, `${w1}${w2}`, `${w1}_${w2}`];
  const needles = [code, `${n} ${w1} ${w2}`, ...words, ...words.map((w) => w.toUpperCase()), `"${w1}"`, `"${w2}"`].flatMap((s) => secretForms(s));
  assert.ok(rec.payloads.length > 0, "the recorder saw nothing");
  for (const p of rec.payloads)
    for (const n of needles) assert.ok(!p.includes(n), `the server received "${n}" in ${p.toString("utf8").slice(0, 200)}`);
  assert.deepEqual(rec.problems, []);
}

describe("peerdrop send --code / receive CODE (issue 14)", { skip: !CLI && "PEERDROP_CLI not set" }, () => {
  before(async () => {
    server = await startServer();
    rec = await startRecorder(server.url);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-code-"));
    fs.writeFileSync(path.join(tmp, "hello.txt"), "hello, short code\n");
  });

  after(async () => {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill("SIGKILL");
    for (const so of sockets) so.close();
    await rec?.close();
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the code transfers the file, both show one verification code, the server sees no word of it", T, async () => {
    rec.payloads.length = 0;
    const sender = run(["send", "--code", path.join(tmp, "hello.txt"), "--server", rec.url]);
    const { code, roomId } = await sender.waitFor((e) => e.event === "code", 15_000);
    assert.match(code, /^[1-9][0-9]?-[a-z]{4,8}-[a-z]{4,8}$/); // first tries: 1-99
    assert.equal(roomId, `code-${code.split("-")[0]}`);
    assert.ok(!sender.events.some((e) => e.event === "room"), "no link for a code");
    // typed as a person might: capitals and spaces
    const typed = code.replace(/-/g, " ").toUpperCase();
    const out = path.join(tmp, "out-ok");
    const recv = run(["receive", typed, "--server", rec.url, "--yes", "-o", out]);
    const [r, s] = await Promise.all([recv.exited, sender.exited]);
    assert.equal(r.code, 0, brief(recv));
    assert.equal(s.code, 0, brief(sender)); // single use: the sender exits after its transfer
    assert.equal(fs.readFileSync(path.join(out, "hello.txt"), "utf8"), "hello, short code\n");
    const sa = sender.events.filter((e) => e.event === "authenticated");
    const ra = recv.events.filter((e) => e.event === "authenticated");
    assert.equal(sa.length, 1, brief(sender));
    assert.equal(ra.length, 1, brief(recv));
    assert.equal(sa[0].sas, ra[0].sas);
    // what the server was asked: code rooms, nothing derived from the code
    const reqs = rec.roomRequests();
    assert.deepEqual(reqs.map((q) => [q.event, q.roomId, q.password]), [
      ["create-room", roomId, undefined],
      ["join-room", roomId, undefined],
    ]);
    assertNothingOfCode(code);
  });

  test("a wrong word: the receiver fails (exit 6), the sender waits on; then the right code works", T, async () => {
    const sender = run(["send", "--code", path.join(tmp, "hello.txt"), "--server", server.url]);
    const { code } = await sender.waitFor((e) => e.event === "code", 15_000);
    const bad = run(["receive", wrongCode(code), "--server", server.url, "--yes", "-o", path.join(tmp, "out-bad")]);
    const b = await bad.exited;
    assert.equal(b.code, EXIT_AUTH, brief(bad));
    assert.ok(bad.events.some((e) => e.event === "auth-failed"), brief(bad));
    assert.ok(!bad.events.some((e) => e.event === "offer"), brief(bad));
    assert.ok(!fs.existsSync(path.join(tmp, "out-bad", "hello.txt")));
    await sender.waitFor((e) => e.event === "auth-failed", 10_000);
    assert.equal(sender.proc.exitCode, null, "the sender keeps waiting after one wrong attempt");
    const good = run(["receive", code, "--server", server.url, "--yes", "-o", path.join(tmp, "out-good")]);
    const [g, s] = await Promise.all([good.exited, sender.exited]);
    assert.equal(g.code, 0, brief(good));
    // a failed attempt before the success is reported (docs/peerdrop.1: 6
    // also when another peer succeeded)
    assert.equal(s.code, EXIT_AUTH, brief(sender));
    assert.equal(fs.readFileSync(path.join(tmp, "out-good", "hello.txt"), "utf8"), "hello, short code\n");
  });

  test("the text receiver says the other side used a different code", T, async () => {
    const sender = run(["send", "--code", path.join(tmp, "hello.txt"), "--server", server.url]);
    const { code } = await sender.waitFor((e) => e.event === "code", 15_000);
    const r = spawnSync(CLI, ["receive", wrongCode(code, 1), "--server", server.url, "--yes", "-o", path.join(tmp, "out-text")], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, EXIT_AUTH, r.stdout + r.stderr);
    assert.match(r.stderr, /authentication failed: .*the other side used a different code; nothing was received/);
    sender.proc.kill("SIGINT");
    await sender.exited;
  });

  test("3 wrong attempts from new processes burn the code: the sender exits 6, the room is gone", T, async () => {
    const sender = run(["send", "--code", path.join(tmp, "hello.txt"), "--server", server.url]);
    const { code, roomId } = await sender.waitFor((e) => e.event === "code", 15_000);
    for (let i = 0; i < 3; i++) {
      const guess = run(["receive", wrongCode(code, i), "--server", server.url, "--yes", "-o", path.join(tmp, `out-guess${i}`)]);
      const g = await guess.exited;
      assert.equal(g.code, EXIT_AUTH, `guess ${i + 1}: ${brief(guess)}`);
      if (i < 2) {
        await sender.waitFor((e) => e.event === "auth-failed" && sender.events.filter((x) => x.event === "auth-failed").length === i + 1, 10_000);
        assert.equal(sender.proc.exitCode, null, `the sender still waits after ${i + 1} wrong attempts`);
      }
    }
    const s = await sender.exited;
    assert.equal(s.code, EXIT_AUTH, brief(sender));
    const burnt = sender.events.find((e) => e.event === "error" && e.code === "CODE_BURNT");
    assert.ok(burnt, brief(sender));
    assert.equal(
      burnt.message,
      "the code was used with a wrong secret 3 times: someone may be guessing it; nothing was sent. Start again for a new code",
    );
    assert.equal(sender.events.filter((e) => e.event === "auth-failed").length, 3);
    assert.ok(!sender.events.some((e) => e.event === "accepted" || e.event === "done"), brief(sender));
    // a fourth attempt, even with the right code, finds no room
    const so = await connect(server.url);
    sockets.push(so);
    const ack = await call(so, "join-room", { roomId, code: true });
    assert.equal(ack.error?.code, "ROOM_NOT_FOUND", JSON.stringify(ack));
    const late = run(["receive", code, "--server", server.url, "--yes", "-o", path.join(tmp, "out-late")]);
    const l = await late.exited;
    assert.equal(l.code, 2, brief(late));
    assert.match(late.stderr() + JSON.stringify(late.events), /ROOM_NOT_FOUND/);
  });

  test("the numbers 1-99 all taken: after 3 of them the sender draws from 1-999", T, async () => {
    const taken = [];
    for (let n = 1; n <= 99; n++) {
      const so = await connect(server.url);
      sockets.push(so);
      taken.push(so);
      const ack = await call(so, "create-room", { roomId: `code-${n}`, code: true });
      assert.ok(ack.ok || ack.error?.code === "ROOM_EXISTS", JSON.stringify(ack)); // a code room of another test
    }
    const sender = run(["send", "--code", path.join(tmp, "hello.txt"), "--server", server.url, "--log-level", "debug"]);
    const { code } = await sender.waitFor((e) => e.event === "code", 15_000);
    const n = Number(code.split("-")[0]);
    // three numbers of 1-99 were tried first; a draw from 1-999 may hit one
    // of the taken 1-99 again (99 in 999), and after three such the range
    // grows once more
    const collided = [...sender.stderr().matchAll(/code room code-(\d+) exists: drawing another number/g)].map((m) => Number(m[1]));
    assert.ok(collided.length >= 3, sender.stderr());
    assert.ok(collided.slice(0, 3).every((c) => c >= 1 && c <= 99), `collisions ${collided}`);
    assert.ok(n >= 100 && (n <= 999 || collided.length >= 6), `nameplate ${n} after collisions ${collided}`);
    sender.proc.kill("SIGINT");
    await sender.exited;
    for (const so of taken) so.close();
  });

  test("a code that is not valid is refused at once, naming the word", T, async () => {
    const r = spawnSync(CLI, ["receive", "7-guitar-lemn", "--server", server.url], { encoding: "utf8", timeout: 10_000 });
    assert.equal(r.status, EXIT_USAGE, r.stderr);
    assert.equal(r.stderr, 'peerdrop receive: not a valid code: "lemn" is not in the word list\n');
    const z = spawnSync(CLI, ["receive", "07-guitar-lemon", "--server", server.url], { encoding: "utf8", timeout: 10_000 });
    assert.equal(z.status, EXIT_USAGE, z.stderr);
    assert.match(z.stderr, /not a valid code: its number must be 1 to 9999/);
  });
});
