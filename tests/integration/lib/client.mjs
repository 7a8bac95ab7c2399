// socket.io-client helpers: connect with a deadline, wait for events with a
// deadline, assert that an event does not come. Every wait is bounded.

import { io } from "socket.io-client";

export const MODES = {
  default: {}, // polling first, then upgrade to WebSocket
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
};

const BASE_OPTS = { forceNew: true, reconnection: false, timeout: 5000, rejectUnauthorized: false };

/** Creates a client (not yet awaited). */
export function client(url, opts = {}) {
  return io(url, { ...BASE_OPTS, ...opts });
}

/** Resolves the socket once connected; rejects on connect_error or timeout. */
export function connected(socket, timeout = 5000) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no connect within ${timeout} ms`));
    }, timeout);
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`connect_error: ${err.message}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

export async function connect(url, opts = {}) {
  const s = client(url, opts);
  try {
    return await connected(s);
  } catch (e) {
    s.close();
    throw e;
  }
}

/** Resolves the args array of the next `event` on `emitter`. */
export function once(emitter, event, timeout = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no "${event}" within ${timeout} ms`));
    }, timeout);
    const handler = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, handler);
  });
}

/** Emits with an ack; resolves the ack's first argument. */
export function call(socket, event, payload, timeout = 5000) {
  return socket.timeout(timeout).emitWithAck(event, payload);
}

/** Records every event a socket receives (socket.onAny). */
export function recorder(socket) {
  const events = [];
  socket.onAny((event, ...args) => events.push({ event, args }));
  return {
    events,
    clear() {
      events.length = 0;
    },
    /** Next recorded `event` (waits up to `timeout`), removed from the record. */
    async take(event, timeout = 3000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const i = events.findIndex((e) => e.event === event);
        if (i >= 0) return events.splice(i, 1)[0].args;
        if (Date.now() > deadline) {
          throw new Error(`no "${event}" within ${timeout} ms; got ${JSON.stringify(events.map((e) => e.event))}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

export function toBuffer(x) {
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof ArrayBuffer) return Buffer.from(x);
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new Error(`not binary: ${typeof x} ${JSON.stringify(x)}`);
}

export function closeAll(...sockets) {
  for (const s of sockets) s?.close();
}
