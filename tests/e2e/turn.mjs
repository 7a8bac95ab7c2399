// coturn (Debian's turnserver) on 127.0.0.1 for the TURN tests: coturn
// refuses loopback peers unless told otherwise (--allow-loopback-peers, for
// tests only); nothing leaves the test's namespace.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib.mjs';

export const TURN_PORT = 3478; // a private namespace: nothing else listens here

const TURNSERVER = process.env.TURNSERVER ?? '/usr/bin/turnserver';

/* Starts coturn; resolves once it says its relay ports are ready. */
export function startTurn(dir, secret, port) {
  const proc = spawn(TURNSERVER, [
    '-n', '--verbose', '--no-cli', '--no-tls', '--no-dtls', '--simple-log', '--log-file=stdout',
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--min-port=49152', '--max-port=49407',
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=peerdrop.test',
    '--allow-loopback-peers', `--pidfile=${join(dir, 'turnserver.pid')}`, `--userdb=${join(dir, 'turndb')}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => (log += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`coturn did not start:\n${log}`)), 10_000);
    proc.on('exit', (c) => reject(new Error(`coturn exited ${c}:\n${log}`)));
    const poll = setInterval(() => {
      if (!/Total General servers/.test(log)) return;
      clearInterval(poll);
      clearTimeout(t);
      // stop() resolves once coturn has exited (at most 5 s), so the next
      // suite's coturn can take the same port.
      const exited = new Promise((r) => proc.once('exit', r));
      const stop = () => {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        return exited.finally(() => clearTimeout(t));
      };
      resolve({ proc, log: () => log, stop });
    }, 50);
  });
}


/* A suite's coturn and a peerdrop-server that hands out its credentials:
 * { tmp, turn, server, secret, stop() }. */
export async function startTurnAndServer(prefix) {
  const secret = randomBytes(18).toString('base64url');
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const turn = await startTurn(tmp, secret, TURN_PORT);
  const server = await startServer(['--turn', `turn:127.0.0.1:${TURN_PORT}?transport=udp`, '--turn-secret', secret]);
  return {
    tmp,
    turn,
    server,
    secret,
    async stop() {
      server.stop();
      await turn.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
