import { useId, useState } from 'react';
import { useI18n } from '../i18n';

/** Who this browser is for the people it sends to: its name (editable,
 *  remembered in this browser) and its kind. Never sent to the server. */
export function Identity({ name, device, onRename }: { name: string; device: string; onRename(name: string): void }) {
  const { t, rich } = useI18n();
  const id = useId();
  const hint = useId();
  const [draft, setDraft] = useState(name);
  // a new name from outside (saved, or cleaned by the controller) replaces
  // the draft during render, as React advises for state that follows a prop
  const [shown, setShown] = useState(name);
  if (shown !== name) {
    setShown(name);
    setDraft(name);
  }
  const save = (e?: React.FormEvent) => {
    e?.preventDefault();
    if (draft.trim() === '') return setDraft(name);
    onRename(draft);
  };
  return (
    <form className="identity" onSubmit={save} data-testid="identity">
      <label htmlFor={id}>{t('identity.name')}</label>
      <div className="row">
        <input id={id} value={draft} onChange={(e) => setDraft(e.target.value)} onBlur={() => save()} maxLength={64} autoComplete="off" spellCheck={false} aria-describedby={hint} data-testid="self-name" />
        <button type="submit" className="secondary" disabled={draft === name}>
          {t('identity.save')}
        </button>
      </div>
      <p className="hint" id={hint}>
        {rich('identity.hint', { device: <span data-testid="self-device">{device}</span> })}
      </p>
    </form>
  );
}
