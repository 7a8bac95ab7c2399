// Issue 15: the .deb packages built from this tree install, start and go
// away cleanly. The test configures a Release tree of its own with
// -DCMAKE_INSTALL_PREFIX=/usr, as a packager does, builds what the packages
// hold, runs `cpack -G DEB`, and installs both packages with `dpkg -i` into
// a throwaway view of this machine (lib/package-root.sh: overlays on /usr,
// /etc and /var in a private mount namespace; the machine never changes).
// There it checks the unit with systemd-analyze, starts the server as the
// unit would (its Environment=, EnvironmentFile= and ExecStart= lines, as an
// unprivileged user: systemd is not running in CI containers), talks to it
// over HTTP and Socket.IO, checks the shell completions are where bash and
// zsh look, then removes and purges the packages and checks
// that nothing is left.
//
// Needs root (dpkg, mounts), cmake/cpack, dpkg-shlibdeps (dpkg-dev), file,
// and the built web app (web/dist); skipped, saying why, without them.
// ~30-60 s, most of it the build.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect, call, once, closeAll } from "./lib/client.mjs";
import { request } from "./lib/wire.mjs";
import { which } from "./lib/cluster.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const WEB_DIST = process.env.PEERDROP_WEB_ROOT || path.join(ROOT, "web/dist");
const HELPER = path.join(HERE, "lib/package-root.sh");

const TOOLS = ["cmake", "cpack", "dpkg", "dpkg-deb", "dpkg-shlibdeps", "file", "unshare", "nsenter", "setpriv"];
function skipReason() {
  if (process.env.PEERDROP_PACKAGE_TEST === "skip")
    return "the sanitizer build's ctest: the package is a Release build of its own, tested in the release ctest";
  if (process.getuid() !== 0) return "not root: installs packages (into a throwaway overlay) and mounts";
  const missing = TOOLS.filter((t) => !which(t));
  if (missing.length) return `not installed: ${missing.join(", ")} (scripts/setup.sh installs them)`;
  return false;
}
const SKIP = skipReason();
const T = { timeout: 60_000 };
const BUILD_TIMEOUT_MS = 240_000;
// the programs dpkg runs look for the host's: a clean PATH, as systemd and dpkg use
const SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let work; // the test's build tree and packages, removed in after()
let root; // the helper process that holds the throwaway mount namespace
let debs = {}; // package name -> .deb path
let arch;
const hostBefore = hostState();

/** What this test must leave as it found it on the real machine. */
function hostState() {
  const q = spawnSync("dpkg-query", ["-W", "-f", "${Package} ${Status}\\n", "peerdrop-server", "peerdrop"], {
    encoding: "utf8",
  });
  return {
    server: existsSync("/usr/bin/peerdrop-server"),
    cli: existsSync("/usr/bin/peerdrop"),
    web: existsSync("/usr/share/peerdrop"),
    defaults: existsSync("/etc/default/peerdrop-server"),
    dpkg: q.stdout ?? "",
  };
}

/** Runs a command to its end, bounded; returns { status, stdout, stderr }. */
function run(cmd, args, { timeout = 60_000, env, cwd } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout, env: env ?? process.env, cwd, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  return r;
}
function ok(cmd, args, opts) {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}
/** A command inside the throwaway system. */
function inRoot(args, opts = {}) {
  return run("nsenter", [`--mount=/proc/${root.pid}/ns/mnt`, "--", ...args], {
    ...opts,
    env: { PATH: SYS_PATH, LC_ALL: "C", ...(opts.env ?? {}) },
  });
}
function okInRoot(args, opts) {
  const r = inRoot(args, opts);
  assert.equal(r.status, 0, `${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}
const existsInRoot = (p) => inRoot(["test", "-e", p]).status === 0;

before(async () => {
  if (SKIP) return;
  arch = ok("dpkg", ["--print-architecture"]).stdout.trim();
  work = mkdtempSync(path.join(os.tmpdir(), "peerdrop-package-"));
  const build = path.join(work, "build");
  // As a packager: prefix /usr, Release. Only the installed targets are
  // built (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack would build `all`,
  // every unit test and fuzz replay with it).
  ok("cmake", ["-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_INSTALL_PREFIX=/usr",
    "-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON", `-DPD_WEB_DIST=${WEB_DIST}`], { timeout: BUILD_TIMEOUT_MS });
  ok("cmake", ["--build", build, "-j2", "--target", "peerdrop-server", "peerdrop", "man-peerdrop-server",
    "man-peerdrop"], { timeout: BUILD_TIMEOUT_MS });
  ok("cpack", ["-G", "DEB"], { cwd: build, timeout: BUILD_TIMEOUT_MS });
  for (const f of readdirSync(build).filter((f) => f.endsWith(".deb"))) debs[f.split("_")[0]] = path.join(build, f);

  root = spawn("unshare", ["--mount", "--propagation", "private", "bash", HELPER], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  root.stdout.setEncoding("utf8");
  root.stderr.setEncoding("utf8");
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`throwaway root not ready in 10 s: ${out}`)), 10_000);
    const onData = (d) => {
      out += d;
      if (out.includes("ready\n")) {
        clearTimeout(timer);
        resolve();
      }
    };
    root.stdout.on("data", onData);
    root.stderr.on("data", onData);
    root.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`throwaway root exited (${code}): ${out}`));
    });
  });
});

after(async () => {
  if (root && root.exitCode === null) {
    root.stdin.end(); // the helper exits; its namespace and tmpfs go with it
    await new Promise((r) => {
      const t = setTimeout(() => {
        root.kill("SIGKILL");
        r();
      }, 5000);
      root.on("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test("cpack -G DEB makes peerdrop-server and peerdrop, named <name>_<version>_<arch>.deb, with Depends from the libraries they link", { skip: SKIP }, () => {
  assert.deepEqual(Object.keys(debs).sort(), ["peerdrop", "peerdrop-server"]);
  const field = (deb, f) => ok("dpkg-deb", ["-f", deb, f]).stdout.trim();
  const version = field(debs["peerdrop-server"], "Version");
  assert.match(version, /^\d+\.\d+\.\d+$/);
  for (const [name, deb] of Object.entries(debs)) {
    assert.equal(path.basename(deb), `${name}_${version}_${arch}.deb`);
    assert.equal(field(deb, "Package"), name);
    assert.equal(field(deb, "Version"), version);
  }
  // dpkg-shlibdeps: each package depends on what its binary links, and
  // on nothing of the other's (why there are two)
  const serverDeps = field(debs["peerdrop-server"], "Depends");
  for (const lib of ["libuv1", "libsodium23", "libjansson4", "libssl3", "libhiredis"])
    assert.ok(serverDeps.includes(lib), `peerdrop-server Depends lacks ${lib}: ${serverDeps}`);
  assert.doesNotMatch(serverDeps, /libnice|usrsctp|qrencode/);
  const cliDeps = field(debs.peerdrop, "Depends");
  for (const lib of ["libnice10", "libusrsctp2", "libqrencode4", "libssl3"])
    assert.ok(cliDeps.includes(lib), `peerdrop Depends lacks ${lib}: ${cliDeps}`);
  assert.doesNotMatch(cliDeps, /hiredis|libuv/);
  assert.equal(field(debs["peerdrop-server"], "Suggests"), "redis-server, haproxy, coturn");
  // the settings file is a conffile: an upgrade keeps the operator's edits
  const conffiles = ok("dpkg-deb", ["--info", debs["peerdrop-server"], "conffiles"]).stdout;
  assert.equal(conffiles.trim(), "/etc/default/peerdrop-server");
});

test("dpkg -i installs both (twice: a reinstall runs the upgrade path), with the files where Debian puts them", { skip: SKIP, ...T }, () => {
  for (let i = 0; i < 2; i++) okInRoot(["dpkg", "-i", debs["peerdrop-server"], debs.peerdrop]);
  const status = okInRoot(["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", "peerdrop-server", "peerdrop"]).stdout;
  assert.match(status, /^peerdrop-server install ok installed$/m);
  assert.match(status, /^peerdrop install ok installed$/m);
  for (const p of ["/usr/bin/peerdrop-server", "/usr/bin/peerdrop", "/usr/share/peerdrop/web/index.html",
    "/usr/lib/systemd/system/peerdrop-server.service", "/etc/default/peerdrop-server",
    "/usr/share/doc/peerdrop-server/server-cli.md"])
    assert.ok(existsInRoot(p), `${p} not installed`);
  // the settings may hold the TURN secret and a Redis password
  assert.equal(okInRoot(["stat", "-c", "%a %U", "/etc/default/peerdrop-server"]).stdout.trim(), "600 root");
  // the web app is the one built, file for file
  const listed = okInRoot(["dpkg-query", "-L", "peerdrop-server"]).stdout.split("\n");
  for (const f of readdirSync(path.join(WEB_DIST, "assets")))
    assert.ok(listed.includes(`/usr/share/peerdrop/web/assets/${f}`), `web/dist/assets/${f} not in the package`);
});

test("man pages: peerdrop(1) and peerdrop-server(8)", { skip: SKIP }, () => {
  const pages = ["/usr/share/man/man1/peerdrop.1.gz", "/usr/share/man/man8/peerdrop-server.8.gz"];
  // a minimal image (debian:*-slim) tells dpkg to leave /usr/share/man out
  const excluded = inRoot(["sh", "-c", "cat /etc/dpkg/dpkg.cfg.d/* 2>/dev/null | grep -Eq '^path-exclude[ =]+/usr/share/man'"]).status === 0;
  const inDeb = (deb) => ok("dpkg-deb", ["-c", deb]).stdout;
  assert.match(inDeb(debs.peerdrop), /\.\/usr\/share\/man\/man1\/peerdrop\.1\.gz/);
  assert.match(inDeb(debs["peerdrop-server"]), /\.\/usr\/share\/man\/man8\/peerdrop-server\.8\.gz/);
  if (excluded) return;
  for (const p of pages) assert.ok(existsInRoot(p), `${p} not installed`);
  if (which("man")) {
    assert.equal(okInRoot(["man", "-w", "peerdrop"]).stdout.trim(), pages[0]);
    assert.equal(okInRoot(["man", "-w", "8", "peerdrop-server"]).stdout.trim(), pages[1]);
  }
});

test("shell completions: bash's and zsh's, in the peerdrop package, where the shells look (issue 17)", { skip: SKIP }, () => {
  const bash = "/usr/share/bash-completion/completions/peerdrop";
  const zsh = "/usr/share/zsh/vendor-completions/_peerdrop";
  const listed = okInRoot(["dpkg-query", "-L", "peerdrop"]).stdout.split("\n");
  for (const p of [bash, zsh]) {
    assert.ok(listed.includes(p), `${p} not in the peerdrop package`);
    assert.ok(existsInRoot(p), `${p} not installed`);
  }
  // the installed file works: peerdrop se<TAB> is send
  const r = okInRoot(["bash", "--norc", "--noprofile", "-c",
    `source ${bash} && COMP_WORDS=(peerdrop se) COMP_CWORD=1 && _peerdrop && printf '%s\\n' "\${COMPREPLY[@]}"`]);
  assert.equal(r.stdout, "send\n");
});

test("the unit passes systemd-analyze verify, and its exposure is low", { skip: SKIP || (!which("systemd-analyze") && "no systemd-analyze"), ...T }, () => {
  const unit = "/usr/lib/systemd/system/peerdrop-server.service";
  // verify prints a warning, with status 0, for an unknown key or a bad
  // value: its output must be empty. It also checks the binary exists and,
  // where man-db is installed, the Documentation= man page.
  const man = which("man") ? [] : ["--man=no"];
  const v = inRoot(["systemd-analyze", "verify", ...man, unit]);
  assert.equal(v.status, 0, v.stderr);
  assert.equal((v.stdout + v.stderr).trim(), "", "systemd-analyze verify warned");
  // systemd's own score of the sandbox, 0 (locked down) .. 10 (none)
  const s = okInRoot(["systemd-analyze", "security", "--offline=yes", unit]).stdout;
  const m = /Overall exposure level for peerdrop-server\.service: (\d+\.\d+)/.exec(s);
  assert.ok(m, s);
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} (the unit scored 1.7 when written)`);
});

/** The unit's Environment=, EnvironmentFile= and ExecStart=, as systemd
 *  would apply them: a clean environment, Environment= first, the file's
 *  NAME=VALUE lines over it, $VAR in ExecStart split into words. */
function unitCommand(extraSettings = {}) {
  const unit = okInRoot(["cat", "/usr/lib/systemd/system/peerdrop-server.service"]).stdout;
  const env = { PATH: SYS_PATH };
  const key = (k) => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, "gm"))].map((m) => m[1].trim());
  for (const line of key("Environment"))
    for (const [, n, v] of line.matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)) env[n] = v;
  const files = key("EnvironmentFile");
  assert.deepEqual(files, ["/etc/default/peerdrop-server"]);
  const text = okInRoot(["cat", files[0]]).stdout; // read as root, as systemd does
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].trim().replace(/^"(.*)"$/, "$1");
  }
  Object.assign(env, extraSettings);
  const exec = key("ExecStart");
  assert.equal(exec.length, 1);
  const argv = exec[0].split(/\s+/).flatMap((w) => (w.startsWith("$") ? (env[w.slice(1)] ?? "").split(/\s+/).filter(Boolean) : [w]));
  return { argv, env };
}

/** Starts argv inside the throwaway system as nobody (the unit's
 *  DynamicUser=: no privileges, no home, no writable file), from / as
 *  systemd does; resolves { proc, url } at the readiness line. */
async function startInRoot({ argv, env }) {
  const proc = spawn("nsenter", [`--mount=/proc/${root.pid}/ns/mnt`, "--", "setpriv", "--reuid=65534", "--regid=65534",
    "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--pdeathsig=SIGKILL", ...argv], {
    env, cwd: "/", stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stderr.setEncoding("utf8");
  proc.stdout.setEncoding("utf8");
  const exited = new Promise((r) => proc.on("exit", (code, signal) => r({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 10 s:\n${log}`)), 10_000);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${signal}):\n${log}`));
    });
    const onData = (d) => {
      log += d;
      const m = /listening url=(http:\/\/[^\s"]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ""));
      }
    };
    proc.stderr.on("data", onData);
    proc.stdout.on("data", onData);
  });
  return {
    url,
    get log() {
      return log;
    },
    async stop() {
      proc.kill("SIGTERM");
      let timer;
      const r = await Promise.race([exited, new Promise((res) => (timer = setTimeout(() => res(null), 5000)))]);
      clearTimeout(timer);
      if (!r) proc.kill("SIGKILL");
      assert.deepEqual(r, { code: 0, signal: null }, `server did not exit 0 within 5 s of SIGTERM:\n${log}`);
    },
  };
}

test("the server starts as the unit starts it and serves /healthz, the installed web app and signaling", { skip: SKIP, ...T }, async () => {
  // The operator's edit: this machine may have something on 8080
  const { argv, env } = unitCommand({ PEERDROP_PORT: "0" });
  assert.equal(argv[0], "/usr/bin/peerdrop-server");
  const server = await startInRoot({ argv, env });
  let s;
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/); // the file's PEERDROP_HOST
    const health = await request(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.body.toString(), "ok");
    const index = await request(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), readFileSync(path.join(WEB_DIST, "index.html"), "utf8"));
    const js = readdirSync(path.join(WEB_DIST, "assets")).find((f) => f.endsWith(".js"));
    const asset = await request(`${server.url}/assets/${js}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.body.length, statSync(path.join(WEB_DIST, "assets", js)).size);
    // signaling with the defaults (Argon2id interactive) as an unprivileged user
    s = await connect(server.url, { transports: ["websocket"] });
    const created = once(s, "room-created", 10_000);
    const ack = await call(s, "create-room", { roomId: `pkg-${process.pid}`, password: "package-test-admission" }, 10_000);
    assert.equal(ack.ok, true, JSON.stringify(ack));
    await created;
  } finally {
    closeAll(...[s].filter(Boolean));
    await server.stop();
  }
});

test("the installed server finds the installed web app without --web-root or PEERDROP_WEB_ROOT", { skip: SKIP, ...T }, async (t) => {
  // CMakeLists.txt hands config.c the installed path (PEERDROP_DEFAULT_WEB_ROOT)
  assert.ok(readFileSync(path.join(work, "build/peerdrop-server")).includes("/usr/share/peerdrop/web"));
  const server = await startInRoot({ argv: ["/usr/bin/peerdrop-server", "--port", "0", "--log-level", "info"], env: { PATH: SYS_PATH } });
  try {
    const index = await request(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), readFileSync(path.join(WEB_DIST, "index.html"), "utf8"));
  } finally {
    await server.stop();
  }
});

test("versions: peerdrop-server --version and peerdrop --version are the packages'; peerdrop --help runs", { skip: SKIP }, () => {
  const version = ok("dpkg-deb", ["-f", debs["peerdrop-server"], "Version"]).stdout.trim();
  assert.equal(okInRoot(["/usr/bin/peerdrop-server", "--version"]).stdout.trim(), `peerdrop-server ${version}`);
  assert.equal(okInRoot(["/usr/bin/peerdrop", "--version"]).stdout.trim(), `peerdrop ${ok("dpkg-deb", ["-f", debs["peerdrop"], "Version"]).stdout.trim()}`);
  // --help proves it runs with its libraries
  assert.match(okInRoot(["/usr/bin/peerdrop", "--help"]).stdout + inRoot(["/usr/bin/peerdrop", "--help"]).stderr, /peerdrop send/);
});

test("dpkg -r keeps the settings, dpkg --purge leaves nothing", { skip: SKIP, ...T }, () => {
  okInRoot(["dpkg", "-r", "peerdrop-server", "peerdrop"]);
  for (const p of ["/usr/bin/peerdrop-server", "/usr/bin/peerdrop", "/usr/share/peerdrop",
    "/usr/lib/systemd/system/peerdrop-server.service", "/usr/share/man/man1/peerdrop.1.gz",
    "/usr/share/doc/peerdrop-server", "/usr/share/bash-completion/completions/peerdrop",
    "/usr/share/zsh/vendor-completions/_peerdrop"])
    assert.ok(!existsInRoot(p), `${p} left after dpkg -r`);
  assert.ok(existsInRoot("/etc/default/peerdrop-server"), "dpkg -r removed a conffile");
  okInRoot(["dpkg", "--purge", "peerdrop-server"]);
  assert.ok(!existsInRoot("/etc/default/peerdrop-server"), "conffile left after purge");
  const q = inRoot(["dpkg-query", "-W", "-f", "${Status}\\n", "peerdrop-server", "peerdrop"]);
  // "unknown ok not-installed" or nothing: neither installed nor config-files
  assert.doesNotMatch(q.stdout, / ok (installed|config-files)/);
});

test("the machine itself never changed", { skip: SKIP }, () => {
  assert.deepEqual(hostState(), hostBefore);
});
