import { useRef, useState, type ReactNode } from 'react';
import { fromDrop, fromInput } from '../app/pickers';
import type { PickedFile } from '../app/room';
import { useI18n } from '../i18n';

/** The drop zone and its pickers. On the home page it is the first thing
 *  (`prompt` says what dropping does); `children` go below the buttons (the
 *  home page's text box slot). */
export function SendPanel({ disabled, onFiles, prompt, large, children }: { disabled: boolean; onFiles(f: PickedFile[]): void; prompt?: string; large?: boolean; children?: ReactNode }) {
  const { t } = useI18n();
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const drop = async (e: React.DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    onFiles(await fromDrop(e.dataTransfer));
  };

  return (
    <section className="card" aria-labelledby="send-h">
      <h2 id="send-h">{t('send.title')}</h2>
      <div
        className={`drop${large ? ' large' : ''}${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
        data-testid="drop-zone"
      >
        <p>{disabled ? t('send.busy') : (prompt ?? t('send.drop'))}</p>
        <div className="row center">
          <button type="button" disabled={disabled} onClick={() => files.current?.click()}>
            {t('send.chooseFiles')}
          </button>
          <button type="button" className="secondary" disabled={disabled} onClick={() => folder.current?.click()}>
            {t('send.chooseFolder')}
          </button>
        </div>
      </div>
      {children}
      <input
        ref={files}
        type="file"
        multiple
        hidden
        data-testid="file-input"
        onChange={(e) => {
          onFiles(fromInput(e.currentTarget.files));
          e.currentTarget.value = '';
        }}
      />
      <input
        ref={folder}
        type="file"
        hidden
        data-testid="folder-input"
        {...({ webkitdirectory: '' } as object)}
        onChange={(e) => {
          onFiles(fromInput(e.currentTarget.files));
          e.currentTarget.value = '';
        }}
      />
    </section>
  );
}
