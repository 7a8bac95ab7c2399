// Issue 17: the shell completions for peerdrop (completions/), as the
// shells run them. bash: the file is sourced in a non-interactive bash,
// which must then have a completion for `peerdrop` (complete -p); the
// function it names is called with COMP_WORDS/COMP_CWORD as bash sets them
// on <TAB>, and COMPREPLY is what bash would offer. zsh: `zsh -n` (syntax),
// when zsh is installed. And every option `peerdrop --help` lists is in
// both files, so that a new flag cannot be left out of them unnoticed.
// (The installed paths: package.test.mjs.)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { which } from "./lib/cluster.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BASH_FILE = path.join(ROOT, "completions/peerdrop.bash");
const ZSH_FILE = path.join(ROOT, "completions/_peerdrop");
const CLI = process.env.PEERDROP_CLI;
const T = { timeout: 30_000 };

let tmp; // a folder to complete names in: a file, a folder, a name with a space

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-completions-"));
  fs.writeFileSync(path.join(tmp, "report.pdf"), "x");
  fs.writeFileSync(path.join(tmp, "my notes.txt"), "x");
  fs.mkdirSync(path.join(tmp, "photos"));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const quote = (w) => `'${w.replaceAll("'", "'\\''")}'`;

/** What bash offers for `line` (the cursor at its end), in `cwd`. */
function complete(line, cwd = tmp) {
  const words = line.split(" "); // the last word may be empty: the cursor after a space
  const script = [
    'source "$1" || exit 10',
    // what bash itself would call on <TAB>: the function `complete -p` names
    'spec=$(complete -p peerdrop) || exit 11',
    '[[ $spec =~ -F\\ ([^ ]+) ]] || exit 12',
    `COMP_WORDS=(${words.map(quote).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${quote(line)}`,
    `COMP_POINT=${Buffer.byteLength(line)}`,
    '"${BASH_REMATCH[1]}" peerdrop "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", script, "bash", BASH_FILE], {
    cwd, encoding: "utf8", timeout: 10_000, env: { PATH: process.env.PATH, LC_ALL: "C" },
  });
  assert.equal(r.status, 0, `bash exited ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr, "", "the completion writes nothing to the terminal");
  return r.stdout.split("\n").filter(Boolean).sort();
}

test("bash: sourced in a non-interactive bash, it registers a completion for peerdrop", T, () => {
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", 'source "$1" && complete -p peerdrop', "bash", BASH_FILE], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^complete -F _peerdrop peerdrop$/m);
});

test("bash: peerdrop se<TAB> completes send; the commands", T, () => {
  assert.deepEqual(complete("peerdrop se"), ["send"]);
  assert.deepEqual(complete("peerdrop rec"), ["receive", "recv"]);
  assert.deepEqual(complete("peerdrop "), ["--help", "--version", "-h", "receive", "recv", "send"]);
});

test("bash: each command's options, and option values", T, () => {
  assert.deepEqual(complete("peerdrop send --co"), ["--code", "--count"]);
  assert.deepEqual(complete("peerdrop send report.pdf --re"), ["--relay"]);
  assert.deepEqual(complete("peerdrop receive --a"), ["--allow-dotfiles"]);
  assert.deepEqual(complete("peerdrop recv LINK --output"), ["--output"]);
  // receive options are not send's, and the reverse
  assert.deepEqual(complete("peerdrop send --fo"), []);
  assert.deepEqual(complete("peerdrop receive --cou"), []);
  assert.deepEqual(complete("peerdrop send x --log-level "), ["debug", "error", "info", "warn"]);
  assert.deepEqual(complete("peerdrop receive x --log-level w"), ["warn"]);
  // a URL, a number, a password: nothing is made up
  assert.deepEqual(complete("peerdrop send --server "), []);
  assert.deepEqual(complete("peerdrop send --count "), []);
  assert.deepEqual(complete("peerdrop receive x --password "), []);
});

test("bash: files to send, a folder to receive into", T, () => {
  assert.deepEqual(complete("peerdrop send "), ["my notes.txt", "photos", "report.pdf"]);
  assert.deepEqual(complete("peerdrop send report.pdf r"), ["report.pdf"]);
  assert.deepEqual(complete("peerdrop receive LINK -o "), ["photos"]);
  assert.deepEqual(complete("peerdrop receive LINK --output p"), ["photos"]);
  // the link or room id is not a file
  assert.deepEqual(complete("peerdrop receive "), []);
});

test("zsh: the completion function parses (zsh -n)", { ...T, skip: !which("zsh") && "zsh not installed (scripts/setup.sh installs it)" }, () => {
  const r = spawnSync("zsh", ["-n", ZSH_FILE], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.match(fs.readFileSync(ZSH_FILE, "utf8"), /^#compdef peerdrop$/m);
});

test("every option of peerdrop --help is in both completions", { ...T, skip: !CLI && "PEERDROP_CLI not set" }, () => {
  const r = spawnSync(CLI, ["--help"], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  // "  -o, --output DIR receive: ..." : the options column of the options: section
  const section = r.stdout.split("\noptions:\n")[1]?.split("\n\n")[0] ?? "";
  const options = [...section.matchAll(/^ {2}(-\S.{0,17})/gm)].flatMap((m) => m[1].match(/--?[a-z][a-z-]*/g));
  assert.ok(options.length >= 12 && options.includes("--count") && options.includes("-o"), `options found: ${options}`);
  const files = { bash: fs.readFileSync(BASH_FILE, "utf8"), zsh: fs.readFileSync(ZSH_FILE, "utf8") };
  for (const [shell, text] of Object.entries(files)) {
    for (const o of options)
      assert.match(text, new RegExp(`(^|[\\s'{,(])${o}([\\s'\\[},)]|$)`, "m"), `${o} (in peerdrop --help) is not in the ${shell} completion`);
    for (const c of ["send", "receive", "recv"]) assert.ok(text.includes(c), `${c} not in the ${shell} completion`);
  }
});
