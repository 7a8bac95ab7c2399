/* The files a share sheet sent to Peerdrop (share.ts), shown on the home
 * page until the user creates or joins a room; then they are offered
 * there, as if dropped. */

import { useCallback, useEffect, useState } from 'react';
import { formatBytes } from '../lib/link';
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
  if (lost)
    return (
      <p className="alert" role="alert" data-testid="share-lost">
        The shared files did not reach Peerdrop. Share them again, or create a room and choose them there.{' '}
        <button type="button" className="link" onClick={onDiscard}>
          Dismiss
        </button>
      </p>
    );
  if (files.length === 0) return null;
  const total = files.reduce((s, f) => s + f.size, 0);
  return (
    <section className="card shared" aria-labelledby="shared-h" data-testid="shared">
      <h2 id="shared-h">Shared with Peerdrop</h2>
      <p className="muted">
        {files.length} file{files.length > 1 ? 's' : ''}, {formatBytes(total)}: offered in the room you create or join next.
      </p>
      <ul className="files">
        {files.slice(0, 20).map((f, i) => (
          <li key={i} data-testid="shared-file">
            <span className="fname">{f.name}</span> <span className="small muted">{formatBytes(f.size)}</span>
          </li>
        ))}
        {files.length > 20 && <li className="small muted">and {files.length - 20} more</li>}
      </ul>
      <button type="button" className="secondary" onClick={onDiscard}>
        Discard
      </button>
    </section>
  );
}
