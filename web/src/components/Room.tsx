import { describeOffer, describeStorage } from '../app/sinks';
import type { RoomController, RoomSnapshot } from '../app/room';
import { SendPanel } from './SendPanel';
import { TextPanel } from './TextPanel';
import { Share } from './Share';
import { Transfers } from './Transfers';
import { Identity } from './Identity';
import { formatBytes } from '../lib/link';

export function Room({ snap, ctl }: { snap: RoomSnapshot; ctl: RoomController }) {
  return (
    <div className="room">
      {snap.error && (
        <p className="alert" role="alert">
          {snap.error}{' '}
          <button type="button" className="link" onClick={() => ctl.dismissError()}>
            Dismiss
          </button>
        </p>
      )}
      {snap.notice && <p className="note">{snap.notice}</p>}
      {snap.code ? (
        <p className="muted" data-testid="code-room">
          Joined with a short code: this room holds you and its sender only.
        </p>
      ) : (
        <Share roomId={snap.roomId} password={snap.password} />
      )}
      <section className="card" aria-labelledby="peers-h">
        <h2 id="peers-h">People in this room</h2>
        {snap.peers.length === 0 ? (
          <p className="muted" data-testid="no-peers">{snap.code ? 'Nobody else is here: the sender has left.' : 'Nobody else yet. Share the link.'}</p>
        ) : (
          <ul className="peers">
            {snap.peers.map((p) => (
              <li key={p.id} data-testid="peer" data-state={p.state}>
                <span data-testid="peer-name">{p.label}</span>
                {p.device && (
                  <>
                    {' '}
                    <span className="small muted" data-testid="peer-device">{p.device}</span>
                  </>
                )} <span className={`badge peer-${p.state.toLowerCase()}`}>{p.left ? 'Left the room' : p.state === 'CONNECTED' ? 'Connected' : p.state === 'CONNECTING' ? 'Connecting…' : p.state === 'FINISHED' ? 'Finished' : 'Not connected'}</span>
                {p.sas && (
                  <span className="small sas">
                    {' '}Verification code <span data-testid="sas" className="sas-digits">{`${p.sas.slice(0, 3)} ${p.sas.slice(3)}`}</span>
                  </span>
                )}
                {p.authFailed ? (
                  <span className="alert small" data-testid="auth-error" role="alert">{p.error}</span>
                ) : (
                  p.error && <span className="small muted"> {p.error}</span>
                )}
              </li>
            ))}
          </ul>
        )}
        <label className="check small">
          <input type="checkbox" checked={snap.relayOnly} onChange={(e) => ctl.setRelayOnly(e.currentTarget.checked)} data-testid="relay-only" />
          Relay only: connect through the server's TURN relay, so that peers never see my IP address (slower; remembered in this browser)
        </label>
        {snap.relayOnly && !snap.hasTurn && (
          <p className="alert small" role="status">
            This server offers no TURN relay, so nobody can connect while this is on.
          </p>
        )}
      </section>
      {snap.outgoing.length > 0 && (
        <section className="card" aria-labelledby="outgoing-h" data-testid="outgoing">
          <h2 id="outgoing-h">Your files</h2>
          <p className="muted small">
            {snap.peers.some((p) => p.state === 'CONNECTED') ? 'Offered to everyone here, and to each person who joins.' : 'Waiting for someone to join: they are offered to each person as soon as they connect.'}
          </p>
          <ul className="files">
            {snap.outgoing.slice(0, 20).map((f) => (
              <li key={f.id}>
                <span className="fname">{f.dir ? `${f.dir}/` : ''}{f.name}</span> <span className="small muted">{formatBytes(f.size)}</span>
              </li>
            ))}
          </ul>
          {snap.outgoing.length > 20 && <p className="muted small">and {snap.outgoing.length - 20} more</p>}
        </section>
      )}
      <SendPanel disabled={snap.sending} onFiles={(f) => ctl.sendFiles(f)} />
      <TextPanel store={ctl.texts} onSend={() => ctl.sendText()} />
      <Transfers transfers={snap.transfers} ctl={ctl} offerNote={(t) => describeOffer(snap.storage, snap.storageFree, t.files.map((f) => f.entry))} />
      <p className="muted small">Receiving: {describeStorage(snap.storage, snap.storageFree)}</p>
      <section className="card">
        <Identity name={snap.selfName} device={snap.selfDevice} onRename={(n) => ctl.setName(n)} />
      </section>
      <button type="button" className="secondary" onClick={() => ctl.leave()}>
        Leave room
      </button>
    </div>
  );
}
