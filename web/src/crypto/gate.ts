/* The authentication gate in front of the transfer protocol on one data
 * channel (docs/authentication.md §7; protocol version 2): sans-I/O, fed
 * whatever arrives on the channel before authentication is done, returning
 * the texts to send. Authentication is not negotiable: until the PAKE is
 * done, the only acceptable messages are the PAKE ones. A `hello` (any
 * version), an `offer`, a binary message, the peer's `error`, a PAKE
 * failure or the deadline all end the gate in 'failed' with one `error`
 * AUTH_FAILED to send; the caller then closes the channel and never hands
 * the transfer session anything from it. Once 'done', everything that
 * arrives goes to the transfer session (the offerer sends `hello` first).
 *
 * The deadline or a closed channel *before this side sent its
 * pake-confirm* ends in 'lost' instead, with nothing to send: until our tag
 * is out the peer holds nothing that tests a guess of the secret (the
 * shares are uniformly random points, the offerer's commitment hides Ya),
 * so it is a dropped connection, not a failed authentication: no warning,
 * and the peers connect again as after any drop (src/pake/gate.h says the
 * same for the CLI). Seen in CI: a message lost at a channel's opening left
 * both sides waiting out the deadline and then warning of an interception. */
import { encodeControl } from '../protocol/codec';
import { AUTH_DEADLINE_MS } from '../protocol/types';
import { PakeSession, type PakeConfig } from './session';

export type GateState = 'running' | 'done' | 'failed' | 'lost';

/** What the peer is sent when the gate fails (docs/protocol.md §8). */
export const AUTH_FAILED_TEXT = encodeControl({ t: 'error', code: 'AUTH_FAILED', message: 'authentication failed' });

export class AuthGate {
  state: GateState = 'running';
  /** Why it failed, for the developer console (never shown raw: the UI
   *  shows one message for every failure, since a wrong password and an
   *  interception look the same). */
  reason = '';
  /** The time (same clock as `now`) by which the gate must be done. */
  readonly deadline: number;
  private pake: PakeSession | null = null;
  private out: string[] = [];
  private code = '';

  /** `config` builds this side's PAKE configuration (it may throw: a
   *  missing or ambiguous fingerprint fails the gate). `make` is
   *  PakeSession.create, or a deterministic one in tests. */
  constructor(config: () => PakeConfig, now: number, make: (c: PakeConfig) => PakeSession = PakeSession.create) {
    this.deadline = now + AUTH_DEADLINE_MS;
    try {
      this.pake = make(config());
    } catch (e) {
      this.fail(e instanceof Error ? e.message : 'invalid authentication config');
      return;
    }
    this.drain();
  }

  /** The six digits both sides show, once done. */
  get sas(): string | null {
    return this.state === 'done' ? this.code : null;
  }

  /** Texts to send, in order; drain after every call. */
  takeOutput(): string[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  onText(text: string): void {
    if (this.state !== 'running' || !this.pake) return;
    const r = this.pake.feed(text);
    if (r !== 'ok') return this.fail(this.pake.reason);
    this.drain();
  }

  /** A binary message can only be file data: never before authentication. */
  onBinary(): void {
    if (this.state === 'running') this.fail('binary message before authentication');
  }

  /** Call when the deadline timer fires (or any time: a no-op before it). */
  expire(now: number): void {
    if (this.state !== 'running' || now < this.deadline) return;
    if (!this.tagSent) this.lose("the peer's messages did not arrive in time");
    else this.fail('authentication deadline passed');
  }

  /** The channel closed: the run ends without a result, its secrets wiped;
   *  'failed' once our tag was out, else 'lost'. Returns the state. */
  close(): GateState {
    if (this.state !== 'running') return this.state;
    const counted = this.tagSent;
    this.pake?.abort('channel closed');
    this.pake = null;
    this.state = counted ? 'failed' : 'lost';
    this.reason = 'channel closed before authentication';
    this.out = [];
    return this.state;
  }

  /** This side has sent its pake-confirm (the run could have tested a guess).
   *  The session queues its tag only on a message it accepted, and every
   *  accepted message is drained, so drain() is where it is learnt. */
  get tagSent(): boolean {
    return this.sentTag;
  }

  private sentTag = false;

  private lose(reason: string): void {
    this.pake?.abort(reason);
    this.pake = null;
    this.state = 'lost';
    this.reason = reason;
    this.out = [];
  }

  private drain(): void {
    const p = this.pake!;
    this.sentTag ||= p.tagSent;
    this.out.push(...p.takeOutput());
    if (p.state === 'done') {
      this.state = 'done';
      this.code = p.sas ?? '';
      this.pake = null;
    }
  }

  private fail(reason: string): void {
    this.pake?.abort(reason);
    this.pake = null;
    this.state = 'failed';
    this.reason = reason;
    this.out = [AUTH_FAILED_TEXT];
  }
}
