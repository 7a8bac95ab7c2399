/* What the web app sends the server for a room secret (issue 14): the
 * create-room / join-room payload carries the admission value of the
 * shared key-schedule vectors (auth-vectors.json, which the C CLI replays
 * too, so both clients send the same value for the same room), never the
 * secret; a password typed decomposed (NFD) gives the NFC value. */
import { describe, expect, it } from 'vitest';
import vectors from '../crypto/auth-vectors.json';
import { laneOf, roomRequest, sdpOf, SignalingError } from './signaling';
import { must } from '../testing/must';

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const schedule = vectors.keySchedule;
const link = must(schedule[0], 'keySchedule[0]'); // the generated link key
const nonAscii = must(schedule[3], 'keySchedule[3]'); // "Pässwörd 🔑" in NFC

describe('roomRequest: the admission value, never the secret', () => {
  it('a link key gives the vector admission value and PRS', { timeout: 30_000 }, async () => {
    const r = await roomRequest(link.room, link.secret);
    expect(r.payload).toEqual({ roomId: link.room, password: link.admission });
    expect(bytesHex(r.prs)).toBe(link.prs);
    expect(JSON.stringify(r.payload)).not.toContain(link.secret);
  });

  it('a decomposed password opens the room of its NFC form', { timeout: 30_000 }, async () => {
    const nfd = nonAscii.secret.normalize('NFD');
    expect(nfd).not.toBe(nonAscii.secret);
    const r = await roomRequest(nonAscii.room, nfd);
    expect(r.payload).toEqual({ roomId: nonAscii.room, password: nonAscii.admission });
  });

  it('a secret over 1024 bytes is INVALID_PAYLOAD, as the server says', async () => {
    const e = await roomRequest('room-42', 'x'.repeat(1025)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SignalingError);
    expect((e as SignalingError).code).toBe('INVALID_PAYLOAD');
  });
});

describe('sdpOf: a relayed description in either shape (docs/signaling.md)', () => {
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n';
  it('takes the string, and an RTCSessionDescriptionInit of the same type', () => {
    expect(sdpOf(sdp, 'offer')).toBe(sdp);
    expect(sdpOf({ type: 'offer', sdp }, 'offer')).toBe(sdp);
    expect(sdpOf({ type: 'answer', sdp, extra: 1 }, 'answer')).toBe(sdp);
  });
  it('refuses another type, a missing or non-string sdp, and anything else', () => {
    expect(sdpOf({ type: 'answer', sdp }, 'offer')).toBe(null);
    expect(sdpOf({ type: 'pranswer', sdp }, 'answer')).toBe(null);
    expect(sdpOf({ type: 'offer' }, 'offer')).toBe(null);
    expect(sdpOf({ type: 'offer', sdp: 5 }, 'offer')).toBe(null);
    expect(sdpOf(null, 'offer')).toBe(null);
    expect(sdpOf(['offer', sdp], 'offer')).toBe(null);
    expect(sdpOf(undefined, 'offer')).toBe(null);
  });
});

describe('laneOf: the lane of a relayed offer, answer or candidate (docs/signaling.md, Lanes)', () => {
  it('absent is the main connection; 0 … 15 as given; anything else is ignored', () => {
    expect(laneOf({ sdp: 'x', from: 'a' })).toBe(0);
    for (const k of [0, 1, 7, 8, 15]) expect(laneOf({ lane: k })).toBe(k);
    for (const bad of [16, -1, 1.5, '1', null, true, {}]) expect(laneOf({ lane: bad }), String(bad)).toBeNull();
    expect(laneOf(null)).toBe(0);
  });
});
