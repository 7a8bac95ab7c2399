import { useRef, useState } from 'react';
import { fromDrop, fromInput } from '../app/pickers';
import type { PickedFile } from '../app/room';

export function SendPanel({ disabled, onFiles }: { disabled: boolean; onFiles(f: PickedFile[]): void }) {
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
      <h2 id="send-h">Send</h2>
      <div
        className={`drop${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
        data-testid="drop-zone"
      >
        <p>{disabled ? 'A transfer is in progress.' : 'Drop files or folders here, or choose them:'}</p>
        <div className="row center">
          <button type="button" disabled={disabled} onClick={() => files.current?.click()}>
            Choose files
          </button>
          <button type="button" className="secondary" disabled={disabled} onClick={() => folder.current?.click()}>
            Choose a folder
          </button>
        </div>
      </div>
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
