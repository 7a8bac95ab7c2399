// Reference signaling server: the seed design's own stack (Node + socket.io),
// implementing the contract in docs/signaling.md. It is the baseline for
// bench/run.sh and an oracle for integration tests ("does the C server behave
// like the obvious Node implementation?"). It is not shipped.
//
//   node bench/reference/server.mjs --port 0 --argon2 min --rate-limit 0
//
// Prints `listening url=http://HOST:PORT` to stderr when ready, like
// peerdrop-server (docs/server-cli.md). Options it does not need (TLS, web
// root, TURN) are accepted where harmless and otherwise refused.
//
// With --redis URL (bench/cluster), it is one node of many, the way the
// Socket.IO documentation scales: @socket.io/redis-adapter carries every
// emit to a socket on another node (a PUBLISH that every node receives),
// and the rooms live in Redis (create and join atomic, a Lua script for
// the capacity). Each node keeps a copy of the members of every room,
// kept current by the nodes' own messages (serverSideEmit), so a relay
// checks its target without a Redis round trip; a target not in the copy
// yet is looked up in Redis before PEER_NOT_FOUND.

import http from "node:http";
import { parseArgs } from "node:util";
import { Server } from "socket.io";
import { hash, verify, Algorithm } from "@node-rs/argon2";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

// ---- command line (subset of docs/server-cli.md) --------------------------

const env = process.env;
const { values: opt } = parseArgs({
  options: {
    host: { type: "string", default: env.PEERDROP_HOST ?? "127.0.0.1" },
    port: { type: "string", default: env.PEERDROP_PORT ?? "8080" },
    "room-capacity": { type: "string", default: env.PEERDROP_ROOM_CAPACITY ?? "8" },
    "max-payload": { type: "string", default: env.PEERDROP_MAX_PAYLOAD ?? "1000000" },
    "ping-interval": { type: "string", default: env.PEERDROP_PING_INTERVAL ?? "25000" },
    "ping-timeout": { type: "string", default: env.PEERDROP_PING_TIMEOUT ?? "20000" },
    "rate-limit": { type: "string", default: env.PEERDROP_RATE_LIMIT ?? "100" },
    "cors-origin": { type: "string", default: env.PEERDROP_CORS_ORIGIN },
    argon2: { type: "string", default: env.PEERDROP_ARGON2 ?? "interactive" },
    "hash-threads": { type: "string", default: env.PEERDROP_HASH_THREADS ?? "2" },
    "log-level": { type: "string", default: env.PEERDROP_LOG_LEVEL ?? "info" },
    "web-root": { type: "string" }, // accepted for CLI compatibility; not served
    redis: { type: "string", default: env.PEERDROP_REDIS },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(
    "usage: node server.mjs [--host ADDR] [--port N] [--room-capacity N] [--max-payload N]\n" +
      "  [--ping-interval MS] [--ping-timeout MS] [--rate-limit N] [--cors-origin LIST]\n" +
      "  [--argon2 interactive|moderate|sensitive|min] [--log-level debug|info|warn|error]\n" +
      "  [--redis redis://HOST:PORT]\n",
  );
  process.exit(0);
}

function intOpt(name, min, max) {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`invalid --${name}: ${opt[name]}`);
    process.exit(2);
  }
  return v;
}

const PORT = intOpt("port", 0, 65535);
const ROOM_CAPACITY = intOpt("room-capacity", 1, 10000);
const MAX_PAYLOAD = intOpt("max-payload", 1024, 1 << 30);
const PING_INTERVAL = intOpt("ping-interval", 1, 3600000);
const PING_TIMEOUT = intOpt("ping-timeout", 1, 3600000);
const RATE_LIMIT = intOpt("rate-limit", 0, 1000000);

// libsodium crypto_pwhash_* presets (Argon2id, parallelism 1), so hashes cost
// what the C server's do. memoryCost is in KiB.
const ARGON2_LEVELS = {
  interactive: { timeCost: 2, memoryCost: 64 * 1024 },
  moderate: { timeCost: 3, memoryCost: 256 * 1024 },
  sensitive: { timeCost: 4, memoryCost: 1024 * 1024 },
  min: { timeCost: 1, memoryCost: 8 }, // OPSLIMIT_MIN / MEMLIMIT_MIN: tests only
};
const argon2Params = ARGON2_LEVELS[opt.argon2];
if (!argon2Params) {
  console.error(`invalid --argon2: ${opt.argon2}`);
  process.exit(2);
}
const HASH_OPTIONS = { algorithm: Algorithm.Argon2id, parallelism: 1, ...argon2Params };

// @node-rs/argon2 runs on the libuv thread pool: size it like --hash-threads.
process.env.UV_THREADPOOL_SIZE ??= String(intOpt("hash-threads", 1, 64));

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };
const logLevel = LEVELS[opt["log-level"]];
if (!logLevel) {
  console.error(`invalid --log-level: ${opt["log-level"]}`);
  process.exit(2);
}
const log = (level, msg) => {
  if (LEVELS[level] >= logLevel) console.error(`${new Date().toISOString()} ${level} ${msg}`);
};

// ---- contract constants ----------------------------------------------------

const ROOM_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_PASSWORD_BYTES = 1024;
const MAX_SDP_BYTES = 65536;
const MAX_CANDIDATE_BYTES = 4096;
const PASSWORD_FAILURES_PER_MINUTE = 5;

const MESSAGES = {
  INVALID_PAYLOAD: "invalid payload",
  UNKNOWN_EVENT: "unknown event",
  ROOM_EXISTS: "room already exists",
  ROOM_NOT_FOUND: "no such room",
  BAD_PASSWORD: "wrong password",
  ROOM_FULL: "room is full",
  ALREADY_IN_ROOM: "already in a room",
  NOT_IN_ROOM: "not in a room",
  PEER_NOT_FOUND: "no such peer in this room",
  RATE_LIMITED: "rate limited",
  INTERNAL: "internal error",
};

class SignalingError extends Error {
  constructor(code, message = MESSAGES[code]) {
    super(message);
    this.code = code;
  }
}

// ---- state -------------------------------------------------------------------

/** roomId -> { hash: string, members: string[] (socket ids, oldest first) }.
 *  With --redis: the hash is in Redis; members is this node's copy. */
const rooms = new Map();

// ---- many nodes (--redis) ------------------------------------------------------

const cluster = opt.redis ? await connectCluster(opt.redis) : null;

async function connectCluster(url) {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (err) => log("error", `redis: ${err.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  // KEYS room, members; ARGV member, capacity: -1 no room, -2 full, else
  // the members before the joiner
  const JOIN = `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local peers = redis.call('LRANGE', KEYS[2], 0, -1)
if #peers >= tonumber(ARGV[2]) then return -2 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return peers`;
  // KEYS room, members; ARGV member: the members left
  const LEAVE = `redis.call('LREM', KEYS[2], 0, ARGV[1])
local left = redis.call('LRANGE', KEYS[2], 0, -1)
if #left == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
return left`;
  const key = (roomId) => [`ref:room:${roomId}`, `ref:room:${roomId}:m`];
  return {
    pub,
    sub,
    /** true if created (the hash stored, the creator its first member) */
    async create(roomId, passwordHash, member) {
      const [k, m] = key(roomId);
      if (!(await pub.hSetNX(k, "h", passwordHash))) return false;
      await pub.rPush(m, member);
      return true;
    },
    hash: (roomId) => pub.hGet(key(roomId)[0], "h"),
    join: (roomId, member) => pub.eval(JOIN, { keys: key(roomId), arguments: [member, String(ROOM_CAPACITY)] }),
    leave: (roomId, member) => pub.eval(LEAVE, { keys: key(roomId), arguments: [member] }),
    isMember: async (roomId, member) => (await pub.lPos(key(roomId)[1], member)) !== null,
  };
}

/** This node's copy of a room's members (with --redis). */
function copyOf(roomId) {
  let room = rooms.get(roomId);
  if (!room) rooms.set(roomId, (room = { members: [] }));
  return room;
}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isOptStringOrNull = (v) => v === undefined || v === null || typeof v === "string";

function checkRoomRequest(payload) {
  if (!isObject(payload)) throw new SignalingError("INVALID_PAYLOAD");
  const { roomId, password } = payload;
  if (typeof roomId !== "string" || !ROOM_ID_RE.test(roomId))
    throw new SignalingError("INVALID_PAYLOAD", "roomId must be 1-128 characters of [A-Za-z0-9_-]");
  if (typeof password !== "string" || password.length === 0 || Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
    throw new SignalingError("INVALID_PAYLOAD", "password must be a string of 1-1024 bytes");
  return { roomId, password };
}

function checkTarget(socket, targetSocketId) {
  if (typeof targetSocketId !== "string") throw new SignalingError("INVALID_PAYLOAD", "targetSocketId must be a string");
  const roomId = socket.data.roomId;
  if (roomId === undefined) throw new SignalingError("NOT_IN_ROOM");
  const room = rooms.get(roomId);
  if (targetSocketId !== socket.id && room?.members.includes(targetSocketId)) return targetSocketId;
  if (cluster && targetSocketId !== socket.id) return lookUpTarget(roomId, targetSocketId);
  throw new SignalingError("PEER_NOT_FOUND");
}

// A member this node has not heard of yet (its node's message is on its way)
async function lookUpTarget(roomId, targetSocketId) {
  if (!(await cluster.isMember(roomId, targetSocketId))) throw new SignalingError("PEER_NOT_FOUND");
  const room = copyOf(roomId);
  if (!room.members.includes(targetSocketId)) room.members.push(targetSocketId);
  return targetSocketId;
}

function leaveRoom(socket) {
  const roomId = socket.data.roomId;
  if (roomId === undefined) return false;
  socket.data.roomId = undefined;
  if (cluster) {
    forget(roomId, socket.id);
    io.serverSideEmit("ref-left", roomId, socket.id);
    cluster
      .leave(roomId, socket.id)
      .then((left) => {
        for (const id of left) io.to(id).emit("user-left", { socketId: socket.id });
      })
      .catch((err) => log("error", `leave: ${err.message}`));
    return true;
  }
  const room = rooms.get(roomId);
  room.members = room.members.filter((id) => id !== socket.id);
  if (room.members.length === 0) {
    rooms.delete(roomId); // the hash goes with it: nothing persists
  } else {
    for (const id of room.members) io.to(id).emit("user-left", { socketId: socket.id });
  }
  return true;
}

function forget(roomId, socketId) {
  const room = rooms.get(roomId);
  if (!room) return;
  room.members = room.members.filter((id) => id !== socketId);
  if (room.members.length === 0) rooms.delete(roomId);
}

// ---- event handlers: each returns the extra ack fields or throws -------------

const handlers = {
  async "create-room"(socket, payload) {
    const { roomId, password } = checkRoomRequest(payload);
    if (socket.data.roomId !== undefined) throw new SignalingError("ALREADY_IN_ROOM");
    if (cluster) return createInRedis(socket, roomId, password);
    if (rooms.has(roomId)) throw new SignalingError("ROOM_EXISTS");
    const passwordHash = await hash(password, HASH_OPTIONS);
    if (!socket.connected) return null;
    // Re-check: the room may have been created while we were hashing.
    if (rooms.has(roomId)) throw new SignalingError("ROOM_EXISTS");
    rooms.set(roomId, { hash: passwordHash, members: [socket.id] });
    socket.data.roomId = roomId;
    return { reply: { roomId }, after: () => socket.emit("room-created", { roomId }) };
  },

  async "join-room"(socket, payload) {
    const { roomId, password } = checkRoomRequest(payload);
    if (socket.data.roomId !== undefined) throw new SignalingError("ALREADY_IN_ROOM");
    const now = Date.now();
    socket.data.failures = socket.data.failures.filter((t) => now - t < 60_000);
    if (socket.data.failures.length >= PASSWORD_FAILURES_PER_MINUTE)
      throw new SignalingError("RATE_LIMITED", "too many password attempts");
    if (cluster) return joinInRedis(socket, roomId, password);
    let room = rooms.get(roomId);
    if (!room) throw new SignalingError("ROOM_NOT_FOUND");
    if (room.members.length >= ROOM_CAPACITY) throw new SignalingError("ROOM_FULL");
    const ok = await verify(room.hash, password);
    if (!socket.connected) return null;
    if (!ok) {
      socket.data.failures.push(Date.now());
      throw new SignalingError("BAD_PASSWORD");
    }
    // Re-check after the await: the room may have emptied or filled meanwhile.
    room = rooms.get(roomId);
    if (!room) throw new SignalingError("ROOM_NOT_FOUND");
    if (room.members.length >= ROOM_CAPACITY) throw new SignalingError("ROOM_FULL");
    const peers = [...room.members];
    room.members.push(socket.id);
    socket.data.roomId = roomId;
    return {
      reply: { roomId, peers },
      after: () => {
        socket.emit("join-success", { roomId, peers });
        for (const id of peers) io.to(id).emit("user-joined", { socketId: socket.id });
      },
    };
  },

  offer: (socket, payload) => relaySdp(socket, "offer", payload),
  answer: (socket, payload) => relaySdp(socket, "answer", payload),

  "ice-candidate"(socket, payload) {
    if (!isObject(payload) || !("candidate" in payload)) throw new SignalingError("INVALID_PAYLOAD");
    const c = payload.candidate;
    let candidate = null;
    if (c !== null) {
      if (
        !isObject(c) ||
        typeof c.candidate !== "string" ||
        Buffer.byteLength(c.candidate) > MAX_CANDIDATE_BYTES ||
        !isOptStringOrNull(c.sdpMid) ||
        !(c.sdpMLineIndex === undefined || c.sdpMLineIndex === null || Number.isFinite(c.sdpMLineIndex)) ||
        !isOptStringOrNull(c.usernameFragment)
      )
        throw new SignalingError("INVALID_PAYLOAD", "candidate must be an RTCIceCandidateInit or null");
      candidate = { candidate: c.candidate };
      for (const k of ["sdpMid", "sdpMLineIndex", "usernameFragment"]) if (c[k] !== undefined) candidate[k] = c[k];
    }
    const target = checkTarget(socket, payload.targetSocketId);
    const relay = (t) => {
      io.to(t).emit("ice-candidate", { candidate, from: socket.id });
      return { reply: {} };
    };
    return typeof target === "string" ? relay(target) : target.then(relay);
  },

  "leave-room"(socket, payload) {
    if (payload != null && !isObject(payload)) throw new SignalingError("INVALID_PAYLOAD");
    if (!leaveRoom(socket)) throw new SignalingError("NOT_IN_ROOM");
    return { reply: {} };
  },
};

async function createInRedis(socket, roomId, password) {
  const passwordHash = await hash(password, HASH_OPTIONS);
  if (!socket.connected) return null;
  if (!(await cluster.create(roomId, passwordHash, socket.id))) throw new SignalingError("ROOM_EXISTS");
  copyOf(roomId).members = [socket.id];
  socket.data.roomId = roomId;
  return { reply: { roomId }, after: () => socket.emit("room-created", { roomId }) };
}

async function joinInRedis(socket, roomId, password) {
  const passwordHash = await cluster.hash(roomId);
  if (!passwordHash) throw new SignalingError("ROOM_NOT_FOUND");
  const ok = await verify(passwordHash, password);
  if (!socket.connected) return null;
  if (!ok) {
    socket.data.failures.push(Date.now());
    throw new SignalingError("BAD_PASSWORD");
  }
  const peers = await cluster.join(roomId, socket.id);
  if (peers === -1) throw new SignalingError("ROOM_NOT_FOUND");
  if (peers === -2) throw new SignalingError("ROOM_FULL");
  copyOf(roomId).members = [...peers, socket.id];
  socket.data.roomId = roomId;
  io.serverSideEmit("ref-joined", roomId, socket.id);
  return {
    reply: { roomId, peers },
    after: () => {
      socket.emit("join-success", { roomId, peers });
      for (const id of peers) io.to(id).emit("user-joined", { socketId: socket.id });
    },
  };
}

function relaySdp(socket, event, payload) {
  if (!isObject(payload) || typeof payload.sdp !== "string" || Buffer.byteLength(payload.sdp) > MAX_SDP_BYTES)
    throw new SignalingError("INVALID_PAYLOAD", "sdp must be a string of at most 65536 bytes");
  const target = checkTarget(socket, payload.targetSocketId);
  const relay = (t) => {
    io.to(t).emit(event, { sdp: payload.sdp, from: socket.id });
    return { reply: {} };
  };
  return typeof target === "string" ? relay(target) : target.then(relay);
}

// ---- server ------------------------------------------------------------------

const httpServer = http.createServer((req, res) => {
  const path = req.url.split("?")[0];
  if (req.method === "GET" && path === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  } else if (req.method === "GET" && path === "/config") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ iceServers: [] }));
  } else if (req.method === "GET" && path === "/metrics") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(
      `# TYPE peerdrop_connections gauge\npeerdrop_connections ${io.engine.clientsCount}\n` +
        `# TYPE peerdrop_rooms gauge\npeerdrop_rooms ${rooms.size}\n`,
    );
  } else {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
});

const corsOrigin = opt["cors-origin"];
const io = new Server(httpServer, {
  serveClient: false,
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  maxHttpBufferSize: MAX_PAYLOAD,
  cors: corsOrigin
    ? { origin: corsOrigin === "*" ? "*" : corsOrigin.split(","), credentials: corsOrigin !== "*" }
    : undefined,
});

if (cluster) {
  io.adapter(createAdapter(cluster.pub, cluster.sub));
  // other nodes' joins and leaves, for this node's copy of the rooms
  io.on("ref-joined", (roomId, socketId) => {
    const room = copyOf(roomId);
    if (!room.members.includes(socketId)) room.members.push(socketId);
  });
  io.on("ref-left", (roomId, socketId) => forget(roomId, socketId));
}

io.on("connection", (socket) => {
  socket.data.roomId = undefined;
  socket.data.failures = []; // timestamps of failed password attempts
  socket.data.busy = false; // a create/join is hashing
  let windowStart = 0;
  let windowCount = 0;

  // Every event lands here: known events go to their handler, the rest are
  // UNKNOWN_EVENT. The ack, if any, is the last argument.
  socket.onAny(async (event, ...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : undefined;
    const reply = (body) => ack?.(body);
    const fail = (err) => {
      const code = err instanceof SignalingError ? err.code : "INTERNAL";
      const message = err instanceof SignalingError ? err.message : MESSAGES.INTERNAL;
      if (!(err instanceof SignalingError)) log("error", `${event}: ${err?.stack ?? err}`);
      if (ack) ack({ ok: false, error: { code, message } });
      else socket.emit("signaling-error", { event, code, message });
    };

    if (RATE_LIMIT > 0) {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        windowCount = 0;
      }
      if (++windowCount > RATE_LIMIT) return fail(new SignalingError("RATE_LIMITED", "too many events"));
    }
    const handler = Object.hasOwn(handlers, event) ? handlers[event] : undefined;
    if (!handler) return fail(new SignalingError("UNKNOWN_EVENT", `unknown event: ${String(event).slice(0, 64)}`));

    const isRoomRequest = event === "create-room" || event === "join-room";
    if (isRoomRequest && socket.data.busy)
      return fail(new SignalingError("RATE_LIMITED", "a room request is already in progress"));
    try {
      if (isRoomRequest) socket.data.busy = true;
      const result = await handler(socket, args[0]);
      if (result) {
        reply({ ok: true, ...result.reply });
        result.after?.();
      }
    } catch (err) {
      if (socket.connected) fail(err);
    } finally {
      if (isRoomRequest) socket.data.busy = false;
    }
  });

  socket.on("disconnect", () => leaveRoom(socket));
});

httpServer.listen(PORT, opt.host, () => {
  const { address, port } = httpServer.address();
  const host = address.includes(":") ? `[${address}]` : address;
  console.error(`listening url=http://${host}:${port}`);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    io.close();
    httpServer.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
