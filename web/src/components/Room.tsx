import { describeOffer, describeStorage } from '../hooks/sinks';
import type { RoomController, RoomSnapshot } from '../hooks/room';
import { SendPanel } from './SendPanel';
import { TextPanel } from './TextPanel';
import { Share } from './Share';
import { Transfers } from './Transfers';

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
                <span>{p.label}</span> <span className={`badge peer-${p.state.toLowerCase()}`}>{p.left ? 'Left the room' : p.state === 'CONNECTED' ? 'Connected' : p.state === 'CONNECTING' ? 'Connecting…' : p.state === 'FINISHED' ? 'Finished' : 'Not connected'}</span>
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
      <SendPanel disabled={snap.sending} onFiles={(f) => ctl.sendFiles(f)} />
      <TextPanel store={ctl.texts} onSend={() => ctl.sendText()} />
      <Transfers transfers={snap.transfers} ctl={ctl} offerNote={(t) => describeOffer(snap.storage, snap.storageFree, t.files.map((f) => f.entry))} />
      <p className="muted small">Receiving: {describeStorage(snap.storage, snap.storageFree)}</p>
      <button type="button" className="secondary" onClick={() => ctl.leave()}>
        Leave room
      </button>
    </div>
  );
}
