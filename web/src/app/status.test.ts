import { describe, expect, it } from 'vitest';
import { statusLine } from './status';
import type { PeerView, RoomSnapshot, TransferView } from './types';
import { msg } from '../i18n/catalog';

const room: RoomSnapshot = {
  phase: 'IN_ROOM', status: 'IDLE', roomId: 'r', password: 'p', code: false, creator: true, selfId: 's', peers: [], transfers: [],
  error: null, notice: null, storage: 'fs', sending: false, relayOnly: false, lanes: 2, hasTurn: false, selfName: 'Blue Fox', selfDevice: 'Chrome on Linux', outgoing: [],
};
const peer = (state: PeerView['state']): PeerView => ({ id: `p${Math.random()}`, label: msg('peer.named', { name: 'Red Owl' }), state });
const xfer = (dir: 'in' | 'out', state: TransferView['state'], bytes = 0, total = 100): TransferView => ({
  key: `${dir}${Math.random()}`, dir, peerId: 'p', peerLabel: msg('peer.named', { name: 'Red Owl' }), xfer: 'x', files: [], total, bytes, state, speed: 0, eta: Infinity, saved: [], leftOut: [],
});

describe('statusLine', () => {
  it('home and entering', () => {
    expect(statusLine({ ...room, phase: 'IDLE' })).toEqual({ text: 'Ready', title: 'Peerdrop' });
    expect(statusLine({ ...room, phase: 'CONNECTING' }).text).toBe('Creating the room…');
    expect(statusLine({ ...room, phase: 'IDLE', error: msg('room.enterFailed') }).text).toBe('Error');
  });
  it('waiting, connecting, connected to N', () => {
    expect(statusLine(room)).toEqual({ text: 'Waiting for someone to join', title: 'Waiting for someone to join · Peerdrop' });
    expect(statusLine({ ...room, peers: [peer('CONNECTING')] }).text).toBe('Connecting…');
    expect(statusLine({ ...room, peers: [peer('CONNECTED')] }).text).toBe('Connected to 1 person');
    expect(statusLine({ ...room, peers: [peer('CONNECTED'), peer('CONNECTED'), peer('CONNECTING')] }).text).toBe('Connected to 2 people');
  });
  it('sending and receiving in percent, over every transfer under way', () => {
    expect(statusLine({ ...room, transfers: [xfer('out', 'WAITING')] }).text).toBe('Waiting for the receiver to accept');
    expect(statusLine({ ...room, transfers: [xfer('out', 'TRANSFERRING', 43)] })).toEqual({ text: 'Sending 43%', title: 'Sending 43% · Peerdrop' });
    expect(statusLine({ ...room, transfers: [xfer('out', 'TRANSFERRING', 100, 200), xfer('out', 'WAITING', 0, 200)] }).text).toBe('Sending 25%');
    expect(statusLine({ ...room, transfers: [xfer('in', 'TRANSFERRING', 999, 1000)] }).text).toBe('Receiving 99%');
    expect(statusLine({ ...room, transfers: [xfer('in', 'OFFERED')] }).text).toBe('Files offered to you');
  });
  it('done: received or sent, ticked', () => {
    expect(statusLine({ ...room, peers: [peer('CONNECTED')], transfers: [xfer('in', 'COMPLETED', 100)] }).text).toBe('Received ✓');
    expect(statusLine({ ...room, peers: [peer('CONNECTED')], transfers: [xfer('out', 'COMPLETED', 100), xfer('out', 'COMPLETED', 100)] }).text).toBe('Sent ✓');
    expect(statusLine({ ...room, transfers: [xfer('out', 'ERROR')] }).text).toBe('Error');
  });
  it('in the page\'s language, with its percent sign and plural', () => {
    expect(statusLine({ ...room, transfers: [xfer('out', 'TRANSFERRING', 43)] }, 'de').text).toBe('Sende 43\u00a0%');
    expect(statusLine({ ...room, peers: [peer('CONNECTED'), peer('CONNECTED')] }, 'fr').text).toBe('Connecté à 2 personnes');
    expect(statusLine({ ...room, transfers: [xfer('in', 'COMPLETED', 100)] }, 'zh-CN')).toEqual({ text: '已接收 ✓', title: '已接收 ✓ · Peerdrop' });
  });
});
