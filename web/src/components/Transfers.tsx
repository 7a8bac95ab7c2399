import { formatBytes, formatDuration } from '../lib/link';
import type { RoomController, TransferView } from '../app/room';
import { askNotifications } from '../app/notify';

const STATE_LABEL: Record<TransferView['state'], string> = {
  OFFERED: 'Offered',
  WAITING: 'Waiting for the receiver',
  TRANSFERRING: 'Transferring',
  INTERRUPTED: 'Interrupted',
  COMPLETED: 'Completed',
  ERROR: 'Error',
  CANCELLED: 'Cancelled',
  DECLINED: 'Declined',
};

function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 100;
  return (
    <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(pct)}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Transfers({ transfers, ctl, offerNote }: { transfers: TransferView[]; ctl: RoomController; offerNote: (t: TransferView) => string }) {
  if (transfers.length === 0) return null;
  return (
    <section className="card" aria-labelledby="xfers-h">
      <h2 id="xfers-h">Transfers</h2>
      <ul className="transfers">
        {transfers.map((t) => (
          <li key={t.key} className={`transfer state-${t.state.toLowerCase()}`} data-testid={`transfer-${t.dir}`} data-state={t.state}>
            <div className="row spread">
              <strong>
                {t.dir === 'out' ? `To ${t.peerLabel}` : `From ${t.peerLabel}`} · {t.files.length} file{t.files.length > 1 ? 's' : ''}, {formatBytes(t.total)}
              </strong>
              <span className="badge">{STATE_LABEL[t.state]}</span>
            </div>
            {t.state === 'OFFERED' && t.dir === 'in' && <p className="note small" data-testid="offer-note">{offerNote(t)}</p>}
            {t.state === 'OFFERED' && t.dir === 'in' && t.earlierVerified !== undefined && (
              <p className="note small" data-testid="continue-earlier">
                Part of this transfer was received here before the page closed
                {t.earlierVerified > 0 && ` (${t.earlierVerified} of ${t.files.length} file${t.files.length > 1 ? 's' : ''} verified)`}: continuing saves the rest in the same
                place, without receiving verified files again.
              </p>
            )}
            {t.leftOut.length > 0 && (
              <p className="note small" data-testid="left-out">
                {t.leftOut.length} hidden file{t.leftOut.length > 1 ? 's' : ''} ({t.leftOut.slice(0, 3).join(', ')}
                {t.leftOut.length > 3 ? ', …' : ''}) {t.state === 'OFFERED' ? 'will not be saved' : t.leftOut.length > 1 ? 'were not saved' : 'was not saved'}: names starting with “.” are
                often read by programs without you seeing them, so this app leaves them out.
              </p>
            )}
            {t.state === 'OFFERED' && t.dir === 'in' && (
              <div className="row">
                <button
                  type="button"
                  onClick={() => {
                    askNotifications();
                    void ctl.accept(t.key);
                  }}
                  data-testid="accept"
                >
                  {t.earlierVerified !== undefined ? 'Continue' : 'Accept and save'}
                </button>
                <button type="button" className="secondary" onClick={() => ctl.decline(t.key)}>
                  Decline
                </button>
              </div>
            )}
            <Bar value={t.bytes} max={t.total} label={`Overall progress ${t.dir === 'out' ? 'to' : 'from'} ${t.peerLabel}`} />
            <p className="muted small" aria-live="off">
              {formatBytes(t.bytes)} of {formatBytes(t.total)}
              {t.state === 'TRANSFERRING' && ` · ${formatBytes(t.speed)}/s · ${formatDuration(t.eta)} left`}
              {t.where && ` · saving to ${t.where}`}
              {t.resumedFrom !== undefined && ` · ${t.earlierVerified !== undefined ? 'continued from an earlier page' : 'resumed after a drop'}, ${formatBytes(t.resumedFrom)} kept`}
            </p>
            {t.error && (
              <p className={t.state === 'ERROR' ? 'alert' : 'note'} role={t.state === 'ERROR' ? 'alert' : undefined}>
                {t.error}
              </p>
            )}
            {(t.state === 'TRANSFERRING' || t.state === 'WAITING' || t.state === 'INTERRUPTED') && (
              <button type="button" className="secondary" onClick={() => ctl.cancel(t.key)}>
                Cancel
              </button>
            )}
            <details open={t.files.length <= 5}>
              <summary>Files</summary>
              <ul className="files">
                {t.files.map((f) => (
                  <li key={f.entry.id} data-file-state={f.state}>
                    <span className="fname">{f.entry.dir ? `${f.entry.dir}/` : ''}{f.entry.name}</span>
                    <span className="small muted">
                      {f.state === 'done' ? '✓ verified' : f.state === 'failed' ? '✗ failed' : f.state === 'skipped' ? (f.hidden ? 'skipped: hidden name' : 'skipped') : `${formatBytes(f.bytes)} / ${formatBytes(f.entry.size)}`}
                    </span>
                    <Bar value={f.bytes} max={f.entry.size} label={`Progress of ${f.entry.name}`} />
                    {f.error && <span className="alert small">{f.error}</span>}
                  </li>
                ))}
              </ul>
            </details>
            {t.saved.some((s) => s.url) && (
              <ul className="saved">
                {t.saved.filter((s) => s.url).map((s) => (
                  <li key={s.name}>
                    <a href={s.url} download={s.name.split('/').pop()}>
                      Save {s.name}
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
