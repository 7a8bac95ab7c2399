import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { httpUrl, type ReceivedText, type TextStore } from '../app/texts';
import { useI18n } from '../i18n';

/* Text snippets in the room (issue 17): a box whose text goes to every
 * connected peer on Send, filled also by pasting anywhere in the room that
 * is not a field; the snippets received, each "from NAME" with a Copy
 * button. Peer text is rendered as React text only (never as HTML); a
 * snippet that is one http(s) URL gets a link that opens it without
 * giving the page a handle on us (rel="noopener noreferrer"). */

function isField(t: EventTarget | null): boolean {
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard permission (an insecure context, an old browser): a selection
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

function Received({ t: r }: { t: ReceivedText }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const url = httpUrl(r.text);
  return (
    <li className="snippet" data-testid="text-received">
      <p className="small muted snippet-from" data-testid="text-from">{t('text.from', { peer: r.from })}</p>
      <pre className="snippet-text" data-testid="text-body">{r.text}</pre>
      <div className="row">
        <button type="button" className="secondary" data-testid="text-copy" onClick={() => void copy(r.text).then(setCopied)}>
          {copied ? t('text.copied') : t('text.copy')}
        </button>
        {url && (
          <a href={url} target="_blank" rel="noopener noreferrer" className="small">
            {t('text.openLink')}
          </a>
        )}
      </div>
    </li>
  );
}

export function TextPanel({ store, onSend }: { store: TextStore; onSend(): void }) {
  const { t } = useI18n();
  const snap = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const box = useRef<HTMLTextAreaElement>(null);
  const [last] = snap.sent; // the newest sent text

  // Text pasted anywhere but in a field fills the box; the user still presses Send.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      if (isField(e.target) || !e.clipboardData || e.clipboardData.files.length > 0) return;
      const text = e.clipboardData.getData('text/plain');
      if (!text) return;
      e.preventDefault();
      store.setDraft(text);
      box.current?.focus();
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [store]);

  return (
    <section className="card" aria-labelledby="text-h">
      <h2 id="text-h">{t('text.title')}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSend();
        }}
      >
        <label htmlFor="text-box" className="small muted">
          {t('text.label')}
        </label>
        <textarea id="text-box" ref={box} rows={3} value={snap.draft} onChange={(e) => store.setDraft(e.currentTarget.value)} data-testid="text-box" />
        <div className="row">
          <button type="submit" data-testid="text-send" disabled={snap.draft.trim() === ''}>
            {t('text.send')}
          </button>
        </div>
      </form>
      {snap.error && (
        <p className="alert small" role="alert" data-testid="text-error">
          {t(snap.error)}
        </p>
      )}
      {last && (
        <p className="small muted" role="status" data-testid="text-sent">
          {last.to.length > 0 && t('text.sentTo', { count: last.to.length, delivered: last.delivered.length })}
          {last.unsupported.length > 0 && ` ${t('text.notSentTo', { names: last.unsupported.map((n) => t(n)).join(t('list.sep')) })}`}
        </p>
      )}
      {snap.received.length > 0 && (
        <ul className="snippets" aria-label={t('text.received')}>
          {snap.received.map((r) => (
            <Received key={r.key} t={r} />
          ))}
        </ul>
      )}
    </section>
  );
}
