import { describeOffer, describeStorage } from '../app/sinks';
import type { RoomController, RoomSnapshot } from '../app/room';
import { SendPanel } from './SendPanel';
import { TextPanel } from './TextPanel';
import { Share } from './Share';
import { Transfers } from './Transfers';
import { Identity } from './Identity';
import { useI18n, type MessageKey } from '../i18n';
import type { PeerView } from '../app/types';

function peerBadge(p: PeerView): MessageKey {
  if (p.left) return 'peer.left';
  if (p.state === 'CONNECTED') return 'peer.connected';
  if (p.state === 'CONNECTING') return 'peer.connecting';
  if (p.state === 'FINISHED') return 'peer.finished';
  return 'peer.notConnected';
}

export function Room({ snap, ctl }: { snap: RoomSnapshot; ctl: RoomController }) {
  const { t, rich, bytes } = useI18n();
  return (
    <div className="room">
      {snap.error && (
        <p className="alert" role="alert">
          {t(snap.error)}{' '}
          <button type="button" className="link" onClick={() => ctl.dismissError()}>
            {t('room.dismiss')}
          </button>
        </p>
      )}
      {snap.notice && <p className="note">{t(snap.notice)}</p>}
      {snap.code ? (
        <p className="muted" data-testid="code-room">
          {t('room.codeRoom')}
        </p>
      ) : (
        <Share roomId={snap.roomId} password={snap.password} />
      )}
      <section className="card" aria-labelledby="peers-h">
        <h2 id="peers-h">{t('room.peers')}</h2>
        {snap.peers.length === 0 ? (
          <p className="muted" data-testid="no-peers">{snap.code ? t('room.senderLeft') : t('room.nobodyYet')}</p>
        ) : (
          <ul className="peers">
            {snap.peers.map((p) => (
              <li key={p.id} data-testid="peer" data-state={p.state} data-lanes={p.lanes ?? 0}>
                <span data-testid="peer-name">{t(p.label)}</span>
                {p.device && (
                  <>
                    {' '}
                    <span className="small muted" data-testid="peer-device">{p.device}</span>
                  </>
                )} <span className={`badge peer-${p.state.toLowerCase()}`}>{t(peerBadge(p))}</span>
                {p.sas && (
                  <span className="small sas">
                    {' '}
                    {rich('peer.sas', { code: <span data-testid="sas" className="sas-digits">{`${p.sas.slice(0, 3)} ${p.sas.slice(3)}`}</span> })}
                  </span>
                )}
                {p.authFailed ? (
                  <span className="alert small" data-testid="auth-error" role="alert">{p.error && t(p.error)}</span>
                ) : (
                  p.error && <span className="small muted"> {t(p.error)}</span>
                )}
              </li>
            ))}
          </ul>
        )}
        <label className="check small">
          <input type="checkbox" checked={snap.relayOnly} onChange={(e) => ctl.setRelayOnly(e.currentTarget.checked)} data-testid="relay-only" />
          {t('room.relayOnly')}
        </label>
        {snap.relayOnly && !snap.hasTurn && (
          <p className="alert small" role="status">
            {t('room.noTurn')}
          </p>
        )}
      </section>
      {snap.outgoing.length > 0 && (
        <section className="card" aria-labelledby="outgoing-h" data-testid="outgoing">
          <h2 id="outgoing-h">{t('room.yourFiles')}</h2>
          <p className="muted small">
            {snap.peers.some((p) => p.state === 'CONNECTED') ? t('room.offeredToAll') : t('room.offeredWhenJoined')}
          </p>
          <ul className="files">
            {snap.outgoing.slice(0, 20).map((f) => (
              <li key={f.id}>
                <span className="fname">{f.dir ? `${f.dir}/` : ''}{f.name}</span> <span className="small muted">{bytes(f.size)}</span>
              </li>
            ))}
          </ul>
          {snap.outgoing.length > 20 && <p className="muted small">{t('room.andMore', { count: snap.outgoing.length - 20 })}</p>}
        </section>
      )}
      <SendPanel disabled={snap.sending} onFiles={(f) => ctl.sendFiles(f)} />
      <TextPanel store={ctl.texts} onSend={() => ctl.sendText()} />
      <Transfers transfers={snap.transfers} ctl={ctl} offerNote={(x) => describeOffer(snap.storage, snap.storageFree, x.files.map((f) => f.entry))} />
      <p className="muted small">{t('room.receiving', { how: describeStorage(snap.storage, snap.storageFree) })}</p>
      <p>
        <label className="check small">
          {t('room.lanes')}{' '}
          <input type="number" min={0} max={7} step={1} value={snap.lanes} onChange={(e) => ctl.setLanes(e.currentTarget.valueAsNumber)} data-testid="lanes" />
        </label>
      </p>
      <section className="card">
        <Identity name={snap.selfName} device={snap.selfDevice} onRename={(n) => ctl.setName(n)} />
      </section>
      <button type="button" className="secondary" onClick={() => ctl.leave()}>
        {t('room.leave')}
      </button>
    </div>
  );
}
