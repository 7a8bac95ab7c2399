import type { FileView, RoomController, TransferView } from '../app/room';
import { askNotifications } from '../app/notify';
import { useI18n, type I18n, type MessageKey, type Msg } from '../i18n';

const STATE_LABEL: Record<TransferView['state'], MessageKey> = {
  OFFERED: 'xfer.state.offered',
  WAITING: 'xfer.state.waiting',
  TRANSFERRING: 'xfer.state.transferring',
  INTERRUPTED: 'xfer.state.interrupted',
  COMPLETED: 'xfer.state.completed',
  ERROR: 'xfer.state.error',
  CANCELLED: 'xfer.state.cancelled',
  DECLINED: 'xfer.state.declined',
};

function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 100;
  return (
    <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(pct)}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}

function fileState(i: I18n, f: FileView): string {
  if (f.state === 'done') return i.t('file.verified');
  if (f.state === 'failed') return i.t('file.failed');
  if (f.state === 'skipped') return f.hidden ? i.t('file.skippedHidden') : i.t('file.skipped');
  return i.t('file.progress', { done: i.bytes(f.bytes), total: i.bytes(f.entry.size) });
}

/** The line under a transfer's bar: bytes, then speed and time left, where it is saved, what a resumption kept. */
function progressLine(i: I18n, x: TransferView): string {
  const parts = [i.t('xfer.bytes', { done: i.bytes(x.bytes), total: i.bytes(x.total), percent: i.percent(x.total > 0 ? x.bytes / x.total : 1) })];
  if (x.state === 'TRANSFERRING') parts.push(i.t('xfer.speed', { speed: i.speed(x.speed) }), i.t('xfer.left', { time: i.duration(x.eta) }));
  if (x.where) parts.push(i.t('xfer.where', { where: x.where }));
  if (x.resumedFrom !== undefined) parts.push(i.t(x.earlierVerified !== undefined ? 'xfer.continued' : 'xfer.resumed', { kept: i.bytes(x.resumedFrom) }));
  return parts.join(' · ');
}

export function Transfers({ transfers, ctl, offerNote }: { transfers: TransferView[]; ctl: RoomController; offerNote: (t: TransferView) => Msg }) {
  const i = useI18n();
  const { t } = i;
  if (transfers.length === 0) return null;
  return (
    <section className="card" aria-labelledby="xfers-h">
      <h2 id="xfers-h">{t('xfer.title')}</h2>
      <ul className="transfers">
        {transfers.map((x) => (
          <li key={x.key} className={`transfer state-${x.state.toLowerCase()}`} data-testid={`transfer-${x.dir}`} data-state={x.state}>
            <div className="row spread">
              <strong>{t(x.dir === 'out' ? 'xfer.to' : 'xfer.from', { peer: x.peerLabel, count: x.files.length, size: i.bytes(x.total) })}</strong>
              <span className="badge">{t(STATE_LABEL[x.state])}</span>
            </div>
            {x.state === 'OFFERED' && x.dir === 'in' && <p className="note small" data-testid="offer-note">{t(offerNote(x))}</p>}
            {x.state === 'OFFERED' && x.dir === 'in' && x.earlierVerified !== undefined && (
              <p className="note small" data-testid="continue-earlier">
                {x.earlierVerified > 0 ? t('xfer.earlierSome', { count: x.files.length, verified: x.earlierVerified }) : t('xfer.earlier')}
              </p>
            )}
            {x.leftOut.length > 0 && (
              <p className="note small" data-testid="left-out">
                {t(x.state === 'OFFERED' ? 'xfer.leftOutWillNot' : 'xfer.leftOutWasNot', {
                  count: x.leftOut.length,
                  names: [...x.leftOut.slice(0, 3), ...(x.leftOut.length > 3 ? ['…'] : [])].join(t('list.sep')),
                })}
              </p>
            )}
            {x.state === 'OFFERED' && x.dir === 'in' && (
              <div className="row">
                <button
                  type="button"
                  onClick={() => {
                    askNotifications();
                    void ctl.accept(x.key);
                  }}
                  data-testid="accept"
                >
                  {x.earlierVerified !== undefined ? t('xfer.continue') : t('xfer.accept')}
                </button>
                <button type="button" className="secondary" onClick={() => ctl.decline(x.key)}>
                  {t('xfer.decline')}
                </button>
              </div>
            )}
            <Bar value={x.bytes} max={x.total} label={t(x.dir === 'out' ? 'xfer.progressTo' : 'xfer.progressFrom', { peer: x.peerLabel })} />
            <p className="muted small" aria-live="off">
              {progressLine(i, x)}
            </p>
            {x.error && (
              <p className={x.state === 'ERROR' ? 'alert' : 'note'} role={x.state === 'ERROR' ? 'alert' : undefined}>
                {t(x.error)}
              </p>
            )}
            {(x.state === 'TRANSFERRING' || x.state === 'WAITING' || x.state === 'INTERRUPTED') && (
              <button type="button" className="secondary" onClick={() => ctl.cancel(x.key)}>
                {t('xfer.cancel')}
              </button>
            )}
            <details open={x.files.length <= 5}>
              <summary>{t('xfer.files')}</summary>
              <ul className="files">
                {x.files.map((f) => (
                  <li key={f.entry.id} data-file-state={f.state}>
                    <span className="fname">{f.entry.dir ? `${f.entry.dir}/` : ''}{f.entry.name}</span>
                    <span className="small muted">{fileState(i, f)}</span>
                    <Bar value={f.bytes} max={f.entry.size} label={t('file.progressOf', { name: f.entry.name })} />
                    {f.error && <span className="alert small">{t(f.error)}</span>}
                  </li>
                ))}
              </ul>
            </details>
            {x.saved.some((s) => s.url) && (
              <ul className="saved">
                {x.saved.filter((s) => s.url).map((s) => (
                  <li key={s.name}>
                    <a href={s.url} download={s.name.split('/').pop()}>
                      {t('xfer.save', { name: s.name })}
                    </a>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
