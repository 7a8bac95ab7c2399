// The plain-HTTP side of peerdrop-server: /healthz, /metrics, static files
// from --web-root, CORS, /config with TURN REST credentials, SIGTERM with
// clients connected, and TLS (HTTPS/WSS) with a self-signed certificate.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, token, serverPath, conformanceServerPath } from "./lib/server.mjs";
import { request, sleep } from "./lib/wire.mjs";
import { MODES, connect, client, connected, call, once, closeAll } from "./lib/client.mjs";

const T = { timeout: 15_000 };

let tmp;
let webRoot;
const INDEX = `<!doctype html><title>peerdrop test ${Date.now()}</title><p>index</p>\n`;
const APP_JS = `console.log("app ${Date.now()}");\n`;
const STYLE = "body { color: #123456 }\n";
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n';
const OUTSIDE = `outside-the-web-root-${token()}`;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peerdrop-http-"));
  webRoot = path.join(tmp, "www");
  fs.mkdirSync(path.join(webRoot, "assets"), { recursive: true });
  fs.writeFileSync(path.join(webRoot, "index.html"), INDEX);
  fs.writeFileSync(path.join(webRoot, "app.js"), APP_JS);
  fs.writeFileSync(path.join(webRoot, "assets", "style.css"), STYLE);
  fs.writeFileSync(path.join(webRoot, "assets", "logo.svg"), SVG);
  // A file next to the web root that must never be served.
  fs.writeFileSync(path.join(tmp, "secret.txt"), OUTSIDE);
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- main server: web root, no CORS ---------------------------------------------

describe("basic endpoints", () => {
  let srv;
  before(async () => {
    srv = await startServer({ extraArgs: ["--web-root", webRoot] });
  });
  after(async () => {
    await srv?.stop();
  });

  test("/healthz answers 200 ok", T, async () => {
    const res = await request(`${srv.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.text.trim(), "ok");
  });

  test("static: / is index.html", T, async () => {
    const res = await request(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.text, INDEX);
    assert.match(String(res.headers["content-type"]), /^text\/html/i);
    const direct = await request(`${srv.url}/index.html`);
    assert.equal(direct.status, 200);
    assert.equal(direct.text, INDEX);
  });

  test("static: assets with their content types", T, async () => {
    const cases = [
      ["/app.js", APP_JS, /^(text|application)\/javascript/i],
      ["/assets/style.css", STYLE, /^text\/css/i],
      ["/assets/logo.svg", SVG, /^image\/svg\+xml/i],
      ["/app.js?v=123", APP_JS, /^(text|application)\/javascript/i],
    ];
    for (const [p, body, type] of cases) {
      const res = await request(`${srv.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(res.text, body, p);
      assert.match(String(res.headers["content-type"]), type, p);
      assert.equal(Number(res.headers["content-length"] ?? body.length), Buffer.byteLength(body), p);
    }
  });

  test("static: missing files are 404", T, async () => {
    for (const p of ["/missing.js", "/assets/nope.css", "/assets/style.css/x"]) {
      const res = await request(`${srv.url}${p}`);
      assert.equal(res.status, 404, p);
    }
  });

  test("static: path traversal is refused", T, async () => {
    const paths = [
      "/../secret.txt",
      "/../../etc/passwd",
      "/../../../../../../etc/passwd",
      "/%2e%2e/secret.txt",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2E%2E/secret.txt",
      "/..%2fsecret.txt",
      "/%2e%2e%2fsecret.txt",
      "/assets/../../secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/.%2e/secret.txt",
      "/..%5csecret.txt",
      "/%252e%252e/secret.txt",
      "//etc/passwd",
      `/${path.join(tmp, "secret.txt")}`,
      "/index.html%00.js",
    ];
    for (const p of paths) {
      const res = await request(srv.url, { rawPath: p });
      assert.ok(!res.text.includes(OUTSIDE), `${p} served a file outside the web root`);
      assert.ok(!/root:.*:0:0:/.test(res.text), `${p} served /etc/passwd`);
      assert.ok(res.status >= 400 && res.status < 500, `${p}: status ${res.status}`);
    }
    // The server is still fine.
    assert.equal((await request(`${srv.url}/healthz`)).status, 200);
  });

  // issue 17: the web app's share target. The app's service worker takes
  // the POST; when it is not running the server sends the browser to the
  // app (303, never 404/405/413), drops the body unread, and stays up.
  test("POST /share-target answers 303 to the app, whatever the body's size (issue 17)", T, async () => {
    for (const size of [0, 10, 3 * 1024 * 1024]) {
      const boundary = "----pd" + token();
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="files"; filename="a.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`),
        Buffer.alloc(size, 0x61),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await request(`${srv.url}/share-target`, { method: "POST", body, headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length } });
      assert.equal(res.status, 303, `${size} bytes`);
      assert.equal(res.headers.location, "./?share-target=1");
      assert.equal(res.headers.connection, "close");
    }
    // other paths still refuse a POST, and GET /share-target is no page
    assert.equal((await request(`${srv.url}/share`, { method: "POST", body: "x" })).status, 405);
    assert.equal((await request(`${srv.url}/share-target`)).status, 404);
    assert.equal((await request(`${srv.url}/healthz`)).status, 200);
  });

  test("no CORS headers without --cors-origin (and another origin is forbidden, issue 11 item 7)", T, async () => {
    const res = await request(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://example.com" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers["access-control-allow-origin"], undefined);
  });

  test("/metrics: Prometheus text that follows what happens", T, async () => {
    const before = await metrics(srv.url);

    // Connections by transport.
    const ws = await connect(srv.url, MODES.websocket);
    const poll = await connect(srv.url, MODES.polling);
    const during = await metrics(srv.url);
    assert.ok(sumWhere(during, (s) => s.labels.transport === "websocket") >= sumWhere(before, (s) => s.labels.transport === "websocket") + 1, "websocket connections metric did not move");
    assert.ok(sumWhere(during, (s) => s.labels.transport === "polling") >= sumWhere(before, (s) => s.labels.transport === "polling") + 1, "polling connections metric did not move");

    // Rooms.
    const id = token("room-");
    const pw = srv.secret(token("pw-"));
    assert.equal((await call(ws, "create-room", { roomId: id, password: pw })).ok, true);
    assert.equal((await call(poll, "join-room", { roomId: id, password: pw })).ok, true);
    const withRoom = await metrics(srv.url);
    const roomGauge = (m) => sumWhere(m, (s) => /rooms$/.test(s.name));
    assert.equal(roomGauge(withRoom), roomGauge(before) + 1, "rooms gauge after one create");

    // Relayed messages: one of each kind.
    const body = srv.secret(token("sdp-"));
    assert.equal((await call(ws, "offer", { sdp: body, targetSocketId: poll.id })).ok, true);
    assert.equal((await call(poll, "answer", { sdp: body, targetSocketId: ws.id })).ok, true);
    assert.equal((await call(ws, "ice-candidate", { candidate: null, targetSocketId: poll.id })).ok, true);
    const relayed = await metrics(srv.url);
    const relays = (m) => sumWhere(m, (s) => /relay/.test(s.name));
    assert.equal(relays(relayed) - relays(before), 3, "relayed messages counter after 3 relays");

    // Refusals by code.
    const code = (m, c) => sumWhere(m, (s) => Object.values(s.labels).includes(c));
    assert.equal((await call(ws, "bogus-event", {})).error.code, "UNKNOWN_EVENT");
    assert.equal((await call(poll, "offer", { sdp: 1 })).error.code, "INVALID_PAYLOAD");
    assert.equal((await call(poll, "offer", { sdp: 2 })).error.code, "INVALID_PAYLOAD");
    const refused = await metrics(srv.url);
    assert.equal(code(refused, "UNKNOWN_EVENT") - code(before, "UNKNOWN_EVENT"), 1, "UNKNOWN_EVENT refusals");
    assert.equal(code(refused, "INVALID_PAYLOAD") - code(before, "INVALID_PAYLOAD"), 2, "INVALID_PAYLOAD refusals");
    assert.equal(code(refused, "ROOM_FULL") - code(before, "ROOM_FULL"), 0, "ROOM_FULL refusals");

    // Leaving empties the room again; closing drops the sessions.
    closeAll(ws, poll);
    await sleep(300);
    const afterAll = await metrics(srv.url);
    assert.equal(roomGauge(afterAll), roomGauge(before), "rooms gauge after everyone left");
    for (const t of ["websocket", "polling"]) {
      const gauges = (m) => sumWhere(m, (s) => s.labels.transport === t && m.types.get(s.name) === "gauge");
      assert.equal(gauges(afterAll), gauges(before), `${t} gauge after the clients left`);
    }
    // Counters never go down.
    for (const [k, v] of before.values) {
      const s = before.samples.find((x) => x.key === k);
      if (before.types.get(s.name) === "counter") assert.ok((afterAll.values.get(k) ?? 0) >= v, `counter ${k} went down`);
    }
  });
});

async function metrics(url) {
  const res = await request(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers["content-type"]), /^text\/plain/i);
  return parsePrometheus(res.text);
}

/** A strict-enough parser of the Prometheus text exposition format. */
function parsePrometheus(text) {
  const types = new Map();
  const samples = [];
  const values = new Map();
  assert.ok(text.endsWith("\n"), "exposition must end with a newline");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      assert.ok(m || /^# /.test(line), `bad comment line: ${line}`);
      if (m?.[1] === "TYPE") {
        assert.match(m[3], /^(counter|gauge|histogram|summary|untyped)$/, line);
        types.set(m[2], m[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$/.exec(line);
    assert.ok(m, `bad sample line: ${line}`);
    const labels = {};
    if (m[3]) {
      for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    const family = m[1].replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(m[1]) || types.has(family), `sample without # TYPE: ${line}`);
    const key = `${m[1]}{${Object.entries(labels).sort().map(([k, v]) => `${k}="${v}"`).join(",")}}`;
    assert.ok(!values.has(key), `duplicate sample ${key}`);
    const value = Number(m[4]);
    samples.push({ key, name: m[1], labels, value });
    values.set(key, value);
  }
  assert.ok(samples.length > 0, "no samples");
  return { types, samples, values };
}

function sumWhere(m, pred) {
  return m.samples.filter(pred).reduce((a, s) => a + s.value, 0);
}

// ---- CORS ------------------------------------------------------------------------

describe("CORS with --cors-origin", () => {
  let srv;
  let star;
  before(async () => {
    [srv, star] = await Promise.all([
      startServer({ extraArgs: ["--cors-origin", "http://example.com,https://app.example.org:8443"] }),
      startServer({ extraArgs: ["--cors-origin", "*"] }),
    ]);
  });
  after(async () => {
    await Promise.all([srv?.stop(), star?.stop()]);
  });

  const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";

  test("listed origins are echoed, others are not allowed", T, async () => {
    for (const origin of ["http://example.com", "https://app.example.org:8443"]) {
      const res = await request(`${srv.url}${HANDSHAKE}`, { headers: { origin } });
      assert.equal(res.status, 200);
      assert.equal(res.headers["access-control-allow-origin"], origin);
      assert.match(String(res.headers.vary ?? ""), /origin/i, "a per-origin answer must Vary on Origin");
    }
    for (const origin of ["http://evil.test", "http://example.com.evil.test", "https://example.com", "null"]) {
      const res = await request(`${srv.url}${HANDSHAKE}`, { headers: { origin } });
      const acao = res.headers["access-control-allow-origin"];
      assert.ok(acao === undefined || (acao !== origin && acao !== "*"), `${origin} allowed: ${acao}`);
    }
  });

  test("preflight for a listed origin", T, async () => {
    const res = await request(`${srv.url}${HANDSHAKE}`, {
      method: "OPTIONS",
      headers: { origin: "http://example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    assert.equal(res.headers["access-control-allow-origin"], "http://example.com");
    assert.match(String(res.headers["access-control-allow-methods"]), /POST/);
    assert.match(String(res.headers["access-control-allow-headers"] ?? "content-type"), /content-type/i);
  });

  test("\"*\" allows any origin", T, async () => {
    const res = await request(`${star.url}${HANDSHAKE}`, { headers: { origin: "http://anything.test" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers["access-control-allow-origin"], "*");
    const pre = await request(`${star.url}${HANDSHAKE}`, {
      method: "OPTIONS",
      headers: { origin: "http://anything.test", "access-control-request-method": "POST" },
    });
    assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
    assert.equal(pre.headers["access-control-allow-origin"], "*");
  });
});

// ---- /config -----------------------------------------------------------------------

describe("/config", () => {
  test("iceServers with STUN and TURN URLs, and no TURN credential (issue 11 item 9)", T, async () => {
    const secret = token("turnsecret-");
    const srv = await startServer({
      extraArgs: [
        "--stun", "stun:stun.example.org:3478",
        "--turn", "turn:turn.example.org:3478",
        "--turn", "turns:turn.example.org:5349?transport=tcp",
        "--turn-secret", secret,
      ],
      secrets: [secret],
    });
    try {
      const res = await request(`${srv.url}/config`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^application\/json/i);
      const cfg = JSON.parse(res.text);
      assert.ok(Array.isArray(cfg.iceServers));
      const urlsOf = (e) => (Array.isArray(e.urls) ? e.urls : [e.urls]);
      const all = cfg.iceServers.flatMap(urlsOf);
      assert.ok(all.includes("stun:stun.example.org:3478"), JSON.stringify(cfg));
      assert.ok(all.includes("turn:turn.example.org:3478"), JSON.stringify(cfg));
      assert.ok(all.includes("turns:turn.example.org:5349?transport=tcp"), JSON.stringify(cfg));
      // anyone may ask /config: it hands out no credential
      for (const e of cfg.iceServers) {
        assert.equal(e.credential, undefined, JSON.stringify(e));
        assert.equal(e.username, undefined, JSON.stringify(e));
      }
      assert.ok(!res.text.includes(secret));
    } finally {
      await srv.stop();
    }
  });

  test("without STUN/TURN options iceServers is an array", T, async () => {
    const srv = await startServer();
    try {
      const res = await request(`${srv.url}/config`);
      assert.equal(res.status, 200);
      const cfg = JSON.parse(res.text);
      assert.ok(Array.isArray(cfg.iceServers));
      for (const e of cfg.iceServers) assert.equal(e.credential, undefined, "no TURN secret, so no credentials");
    } finally {
      await srv.stop();
    }
  });
});

// ---- command line and environment --------------------------------------------------

describe("configuration", () => {
  test("environment variables stand in for flags", T, async () => {
    const srv = await startServer({
      args: [],
      env: {
        PEERDROP_HOST: "127.0.0.1",
        PEERDROP_PORT: "0",
        PEERDROP_ARGON2: "min",
        PEERDROP_WEB_ROOT: webRoot,
        PEERDROP_ROOM_CAPACITY: "2",
      },
    });
    try {
      assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await request(`${srv.url}/`)).text, INDEX);
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => connect(srv.url, MODES.websocket)));
      const id = token("room-");
      const pw = srv.secret(token("pw-"));
      assert.equal((await call(a, "create-room", { roomId: id, password: pw })).ok, true);
      assert.equal((await call(b, "join-room", { roomId: id, password: pw })).ok, true);
      assert.equal((await call(c, "join-room", { roomId: id, password: pw })).error?.code, "ROOM_FULL");
      closeAll(a, b, c);
    } finally {
      await srv.stop();
    }
  });

  test("--log-json writes one JSON object per line", T, async () => {
    const srv = await startServer({ extraArgs: ["--log-json"] });
    const s = await connect(srv.url, MODES.polling);
    await call(s, "join-room", { roomId: token("room-"), password: srv.secret(token("pw-")) });
    s.close();
    await srv.stop();
    const lines = srv.stderr.split("\n").filter((l) => l !== "");
    assert.ok(lines.length >= 1);
    for (const line of lines) {
      let obj;
      assert.doesNotThrow(() => (obj = JSON.parse(line)), `not JSON: ${line}`);
      assert.equal(typeof obj, "object");
      assert.ok(obj !== null && !Array.isArray(obj), `not an object: ${line}`);
    }
    assert.ok(lines.some((l) => l.includes("listening url=")), "readiness line");
  });
});

// ---- shutdown -----------------------------------------------------------------------

describe("shutdown", () => {
  test("SIGTERM with connected clients exits 0 and disconnects them", T, async () => {
    const srv = await startServer();
    const clients = await Promise.all(Object.values(MODES).map((o) => connect(srv.url, o)));
    const id = token("room-");
    const pw = srv.secret(token("pw-"));
    assert.equal((await call(clients[0], "create-room", { roomId: id, password: pw })).ok, true);
    assert.equal((await call(clients[1], "join-room", { roomId: id, password: pw })).ok, true);
    // A held long-poll and a WebSocket are open right now.
    const gone = clients.map((c) => once(c, "disconnect", 6000));
    await srv.stop(); // asserts exit code 0 within 5 s
    await Promise.all(gone);
    closeAll(...clients);
  });
});

describe("shutdown right after start", () => {
  test("SIGTERM just after the readiness line still exits 0", T, async () => {
    // "listening" means ready, and that includes handling SIGTERM.
    for (let i = 0; i < 5; i++) {
      const srv = await startServer();
      await srv.stop();
    }
  });
});

describe("shutdown while clients are leaving", () => {
  test("SIGTERM right as WebSocket and polling clients disconnect", T, async () => {
    // Found with ASAN: a use-after-free when a WebSocket's close callback
    // runs after shutdown freed its session (about 1 round in 3).
    for (let round = 0; round < 8; round++) {
      const srv = await startServer();
      const clients = await Promise.all([...Array(4)].map((_, i) => connect(srv.url, i % 4 ? MODES.websocket : MODES.polling)));
      const id = token("room-");
      const pw = srv.secret(token("pw-"));
      assert.equal((await call(clients[1], "create-room", { roomId: id, password: pw })).ok, true);
      for (const c of [clients[0], clients[2]]) assert.equal((await call(c, "join-room", { roomId: id, password: pw })).ok, true);
      assert.equal((await call(clients[3], "leave-room", {})).error?.code, "NOT_IN_ROOM");
      closeAll(...clients); // close frames and close packets race the signal
      await srv.stop();
    }
  });
});

// ---- the product holds no test fixture (issue 13 item 5) ----------------------------

describe("test fixtures stay out of peerdrop-server", () => {
  const native = !/\.m?js$/.test(serverPath());
  test("--conformance is an unknown option (exit 2), --help does not list it", { ...T, skip: !native && "not the C server" }, () => {
    for (const mode of ["eio", "sio"]) {
      const r = spawnSync(serverPath(), ["--conformance", mode, "--port", "0"], { encoding: "utf8", timeout: 5000 });
      assert.equal(r.status, 2, `--conformance ${mode}: ${r.stderr}`);
      assert.match(r.stderr, /unknown option: --conformance/);
    }
    const help = spawnSync(serverPath(), ["--help"], { encoding: "utf8", timeout: 5000 });
    assert.equal(help.status, 0);
    assert.doesNotMatch(help.stdout, /conformance/);
  });

  test("the fixtures' events are in the test binary, not in the server", { ...T, skip: !native && "not the C server" }, () => {
    // event names only the official suites' fixtures emit (docs/server-cli.md)
    const product = fs.readFileSync(serverPath());
    const fixtures = fs.readFileSync(conformanceServerPath());
    for (const name of ["message-back", "server-ack-result"]) {
      assert.ok(!product.includes(name), `peerdrop-server contains "${name}"`);
      assert.ok(fixtures.includes(name), `peerdrop-conformance-server lacks "${name}"`);
    }
  });

  test("the test binary wants a suite name", { ...T, skip: !native && "not the C server" }, () => {
    const r = spawnSync(conformanceServerPath(), ["--port", "0"], { encoding: "utf8", timeout: 5000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: peerdrop-conformance-server eio\|sio/);
  });
});

// ---- TLS -----------------------------------------------------------------------------

describe("TLS", () => {
  let srv;
  before(async () => {
    const cert = path.join(tmp, "cert.pem");
    const key = path.join(tmp, "key.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      { stdio: "ignore", timeout: 10_000 },
    );
    srv = await startServer({ extraArgs: ["--cert", cert, "--key", key, "--web-root", webRoot] });
  });
  after(async () => {
    await srv?.stop();
  });

  test("the readiness line says https", T, async () => {
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test("/healthz and static files over HTTPS", T, async () => {
    const res = await request(`${srv.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.text.trim(), "ok");
    assert.equal((await request(`${srv.url}/`)).text, INDEX);
  });

  test("plain HTTP on the TLS port gets no HTTP answer", T, async () => {
    const plain = srv.url.replace(/^https/, "http");
    const r = await request(`${plain}/healthz`, { timeout: 3000 }).catch((e) => e);
    assert.ok(r instanceof Error || r.status !== 200, "plain HTTP must not be served on the TLS port");
    assert.equal((await request(`${srv.url}/healthz`)).status, 200);
  });

  for (const [mode, opts] of Object.entries(MODES)) {
    test(`socket.io-client over TLS, mode ${mode}`, T, async () => {
      const s = client(srv.url, { ...opts, rejectUnauthorized: false });
      const upgraded = mode === "default" ? once(s.io.engine, "upgrade", 5000) : null;
      const [a] = await Promise.all([connected(s)]);
      const b = await connect(srv.url, { ...opts, rejectUnauthorized: false });
      const id = token("room-");
      const pw = srv.secret(token("pw-"));
      assert.equal((await call(a, "create-room", { roomId: id, password: pw })).ok, true);
      const joined = once(a, "user-joined");
      assert.deepEqual(await call(b, "join-room", { roomId: id, password: pw }), { ok: true, roomId: id, peers: [a.id] });
      assert.deepEqual(await joined, [{ socketId: b.id }]);
      const body = srv.secret(token("sdp-"));
      const got = once(b, "offer");
      assert.deepEqual(await call(a, "offer", { sdp: body, targetSocketId: b.id }), { ok: true });
      assert.deepEqual(await got, [{ sdp: body, from: a.id }]);
      if (upgraded) {
        await upgraded;
        assert.equal(s.io.engine.transport.name, "websocket");
      } else {
        assert.equal(s.io.engine.transport.name, opts.transports[0]);
      }
      closeAll(a, b);
    });
  }

  test("a client that rejects the self-signed certificate cannot connect", T, async () => {
    const s = client(srv.url, { ...MODES.websocket, rejectUnauthorized: true });
    const [err] = await once(s, "connect_error", 5000);
    assert.ok(err);
    s.close();
  });
});
