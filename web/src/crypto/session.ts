/* One peer's side of the authentication that opens a data channel
 * (docs/authentication.md §7), the twin of src/pake/session.c: sans-I/O,
 * fed the peer's text messages, returning the texts to send. The offerer
 * (it opened the channel) speaks first: pake-start with its commitment to
 * Ya; the answerer only ever answers (docs/protocol.md §5.1). `hello` may
 * follow only once the state is 'done'. Anything unexpected moves to
 * 'failed' for good, with a reason; the caller then sends `error`
 * AUTH_FAILED and closes. */
import * as cp from './cpace';
import { canonicalFingerprint, commitment, commitmentMatches, confirmTag, confirmTagMatches, macKey } from './confirm';
import { channelId, ROOM_MAX, SID_LEN } from './keys';
import { decodePakeMsg, encodePakeMsg, PakeMsgError, type PakeMsg } from './messages';
import { sasDigits } from './sas';
import { utf8 } from './bytes';

export type Role = 'offerer' | 'answerer';
export type PakeState = 'wait-start' | 'wait-share' | 'wait-confirm' | 'done' | 'failed';
/** 'auth': send `error` AUTH_FAILED; 'not-pake': the text was another
 * protocol message (maybe the peer's `error`), the run failed all the same. */
export type FeedResult = 'ok' | 'auth' | 'not-pake';

export interface PakeConfig {
  role: Role;
  prs: Uint8Array;
  room: string;
  offererId: string;
  answererId: string;
  /** canonical fingerprints (canonicalFingerprint), this side's own view */
  fpOfferer: string;
  fpAnswerer: string;
}

const NO_AD = new Uint8Array(0);
const PEER_ID_MAX = 255;

function isCanonical(fp: string): boolean {
  const m = /^(sha-256|sha-384|sha-512) ([0-9a-f]+)$/.exec(fp);
  if (!m) return false;
  const [, hash, hex] = m as unknown as [string, string, string]; // both groups are not optional
  return canonicalFingerprint(`${hash} ${hex.match(/../g)?.join(':') ?? ''}`) === fp;
}

export class PakeSession {
  state: PakeState;
  reason = '';
  /** Our pake-confirm was queued: from then on the peer holds something that
   *  tests a guess of the secret (docs/authentication.md §7). */
  tagSent = false;
  private readonly role: Role;
  private prs: Uint8Array;
  private readonly ci: Uint8Array;
  private readonly fpO: string;
  private readonly fpA: string;
  private y: Uint8Array;
  private sid: Uint8Array = new Uint8Array(SID_LEN);
  private ya: Uint8Array = new Uint8Array(0);
  private yb: Uint8Array = new Uint8Array(0);
  private commit: Uint8Array = new Uint8Array(0);
  private key: Uint8Array = new Uint8Array(0);
  private code = '';
  private out: string[] = [];

  /** y: our scalar (cp.sampleScalar()); sid: the offerer's 16 random
   * bytes (the answerer learns it from pake-start). Use PakeSession.create
   * for fresh ones. Throws RangeError on a bad config. */
  constructor(c: PakeConfig, y: Uint8Array, sid?: Uint8Array) {
    const len = (s: string) => utf8(s).length;
    if (c.prs.length !== 32 || y.length !== cp.SCALAR_LEN || (c.role === 'offerer' && sid?.length !== SID_LEN) ||
        len(c.room) < 1 || len(c.room) > ROOM_MAX || len(c.offererId) < 1 || len(c.offererId) > PEER_ID_MAX ||
        len(c.answererId) < 1 || len(c.answererId) > PEER_ID_MAX || !isCanonical(c.fpOfferer) || !isCanonical(c.fpAnswerer)) {
      throw new RangeError('invalid authentication config');
    }
    this.role = c.role;
    this.prs = c.prs.slice();
    this.ci = channelId(c.room, c.offererId, c.answererId);
    this.fpO = c.fpOfferer;
    this.fpA = c.fpAnswerer;
    this.y = y.slice();
    if (c.role === 'answerer') {
      this.state = 'wait-start';
      return;
    }
    // the opener speaks first (docs/protocol.md §5.1) and commits to Ya
    this.sid = sid!.slice();
    this.ya = cp.share(this.y, this.prs, this.ci, this.sid);
    this.commit = commitment(this.sid, this.ya);
    this.state = 'wait-share';
    this.out.push(encodePakeMsg({ t: 'pake-start', sid: this.sid, commit: this.commit }));
  }

  static create(c: PakeConfig): PakeSession {
    return new PakeSession(c, cp.sampleScalar(), crypto.getRandomValues(new Uint8Array(SID_LEN)));
  }

  /** The messages to send, in order (drain after every feed). */
  takeOutput(): string[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  /** The 6-digit code once 'done'. */
  get sas(): string | null {
    return this.state === 'done' ? this.code : null;
  }

  /** Ends the run from outside (deadline, channel closed): wipes the
   * secrets; a no-op once done or failed. */
  abort(reason: string): void {
    if (this.state !== 'done' && this.state !== 'failed') this.fail('auth', reason);
  }

  private wipe(): void {
    this.prs.fill(0);
    this.y.fill(0);
    this.key.fill(0);
  }

  private fail(result: FeedResult, reason: string): FeedResult {
    this.state = 'failed';
    this.reason = reason;
    this.wipe();
    this.code = '';
    this.out = [];
    return result;
  }

  private derive(): FeedResult | null {
    let isk: Uint8Array;
    try {
      isk = cp.finish('ir', this.role === 'offerer' ? 'A' : 'B', this.y, this.sid, this.ya, NO_AD, this.yb, NO_AD);
    } catch {
      this.y.fill(0);
      return this.fail('auth', "the peer's share is invalid");
    }
    this.y.fill(0);
    this.prs.fill(0);
    this.key = macKey(this.sid, isk);
    this.code = sasDigits(isk);
    isk.fill(0);
    return null;
  }

  private ownTag(): string {
    const mine = this.role === 'offerer' ? this.ya : this.yb;
    this.tagSent = true;
    return encodePakeMsg({ t: 'pake-confirm', mac: confirmTag(this.key, mine, NO_AD, this.fpO, this.fpA) });
  }

  feed(text: string): FeedResult {
    if (this.state === 'done' || this.state === 'failed') throw new Error('authentication is over');
    let m: PakeMsg;
    try {
      m = decodePakeMsg(text);
    } catch (e) {
      const p = e instanceof PakeMsgError ? e.problem : 'MSG';
      if (p === 'NOT_PAKE' || p === 'TOO_BIG') return this.fail('not-pake', 'the peer did not authenticate');
      if (p === 'SUITE') return this.fail('auth', 'the peer uses another authentication suite');
      return this.fail('auth', 'malformed authentication message');
    }
    if (this.role === 'answerer' && this.state === 'wait-start' && m.t === 'pake-start') {
      this.sid = m.sid;
      this.commit = m.commit;
      this.yb = cp.share(this.y, this.prs, this.ci, this.sid);
      this.state = 'wait-share';
      this.out.push(encodePakeMsg({ t: 'pake-share', y: this.yb }));
      return 'ok';
    }
    if (this.role === 'offerer' && this.state === 'wait-share' && m.t === 'pake-share') {
      this.yb = m.y;
      const r = this.derive();
      if (r) return r;
      this.out.push(encodePakeMsg({ t: 'pake-share', y: this.ya }), this.ownTag());
      this.state = 'wait-confirm';
      return 'ok';
    }
    if (this.role === 'answerer' && this.state === 'wait-share' && m.t === 'pake-share') {
      this.ya = m.y;
      if (!commitmentMatches(this.commit, this.sid, this.ya)) return this.fail('auth', "the peer's share does not match its commitment");
      const r = this.derive();
      if (r) return r;
      this.state = 'wait-confirm';
      return 'ok';
    }
    if (this.state === 'wait-confirm' && m.t === 'pake-confirm') {
      const theirs = this.role === 'offerer' ? this.yb : this.ya;
      if (!confirmTagMatches(m.mac, this.key, theirs, NO_AD, this.fpO, this.fpA)) {
        return this.fail('auth', 'key confirmation failed: the connection may be intercepted, or the other side used a different password');
      }
      if (this.role === 'answerer') this.out.push(this.ownTag());
      this.state = 'done';
      this.key.fill(0);
      this.prs.fill(0);
      return 'ok';
    }
    return this.fail('auth', 'unexpected authentication message');
  }
}
