/* The files a share sheet sent to Peerdrop (share.ts), shown on the home
 * page until the user creates or joins a room; then they are offered
 * there, as if dropped. */

import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { takeShared, type Shared } from './share';

/** Text that came with a share travels as a small text file. */
function withText(s: Shared): File[] {
  if (!s.text) return s.files;
  return [...s.files, new File([s.text + '\n'], 'shared-text.txt', { type: 'text/plain' })];
}

/** The shared files waiting to be sent (and whether a share was lost), and a way to let them go. */
export function useShared(): { files: File[]; lost: boolean; clear: () => void } {
  const [state, setState] = useState<{ files: File[]; lost: boolean }>({ files: [], lost: false });
  useEffect(() => {
    let live = true;
    void takeShared().then((s) => live && s && setState({ files: withText(s), lost: s.lost }));
    return () => {
      live = false;
    };
  }, []);
  const clear = useCallback(() => setState({ files: [], lost: false }), []);
  return { ...state, clear };
}

export function SharedFiles({ files, lost, onDiscard }: { files: File[]; lost: boolean; onDiscard: () => void }) {
  const { t, bytes } = useI18n();
  if (lost)
    return (
      <p className="alert" role="alert" data-testid="share-lost">
        {t('shared.lost')}{' '}
        <button type="button" className="link" onClick={onDiscard}>
          {t('room.dismiss')}
        </button>
      </p>
    );
  if (files.length === 0) return null;
  const total = files.reduce((s, f) => s + f.size, 0);
  return (
    <section className="card shared" aria-labelledby="shared-h" data-testid="shared">
      <h2 id="shared-h">{t('shared.title')}</h2>
      <p className="muted">
        {t('shared.files', { count: files.length, size: bytes(total) })}
      </p>
      <ul className="files">
        {files.slice(0, 20).map((f, i) => (
          <li key={i} data-testid="shared-file">
            <span className="fname">{f.name}</span> <span className="small muted">{bytes(f.size)}</span>
          </li>
        ))}
        {files.length > 20 && <li className="small muted">{t('room.andMore', { count: files.length - 20 })}</li>}
      </ul>
      <button type="button" className="secondary" onClick={onDiscard}>
        {t('shared.discard')}
      </button>
    </section>
  );
}
