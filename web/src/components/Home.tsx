import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { generatePassword, newRoomId, parseRoomInput, readFragment } from '../lib/link';
import { parseReceiveInput } from '../lib/code';
import { fromClipboard } from '../app/pickers';
import { askNotifications } from '../app/notify';
import type { PickedFile, RoomController, RoomSnapshot } from '../app/room';
import { Identity } from './Identity';
import { msg, useI18n, type Msg } from '../i18n';
import { SendPanel } from './SendPanel';

/** The home page: drop first (dropping or choosing files creates a room at
 *  once and shows its link), the Receive box, and behind "Options" a room
 *  with a password of one's own or joined by id and password.
 *  `textSlot` and `onPasteText`: where the text-snippet feature plugs in (a
 *  text box under the drop zone; text pasted anywhere on the page). */
export function Home({ snap, ctl, textSlot, onPasteText }: { snap: RoomSnapshot; ctl: RoomController; textSlot?: ReactNode; onPasteText?: (text: string) => void }) {
  const { t, rich } = useI18n();
  const ids = { cpw: useId(), room: useId(), jpw: useId(), recv: useId(), recvHint: useId(), recvErr: useId() };
  const [password, setPassword] = useState(() => generatePassword());
  const [showPw, setShowPw] = useState(false);
  const [room, setRoom] = useState('');
  const [joinPw, setJoinPw] = useState('');
  const [localError, setLocalError] = useState<Msg | null>(null);
  const [recv, setRecv] = useState('');
  /* The Receive box's own error (a malformed code or link), and whether the
   * server's refusal (snap.error) answers the box: both are shown under it. */
  const [recvError, setRecvError] = useState<Msg | null>(null);
  const [viaBox, setViaBox] = useState(false);
  const tried = useRef(false);
  const busy = snap.phase === 'CONNECTING';

  // A link with #room=...&key=... joins directly; the fragment is then
  // removed from the address bar so the password does not stay in view.
  useEffect(() => {
    if (tried.current) return;
    tried.current = true;
    const f = readFragment(window.location.hash);
    if (!f) return;
    history.replaceState(null, '', window.location.pathname + window.location.search);
    // once, at the first render that has the controller: the address bar is
    // read and cleared here, outside render, so the state it fills is set here too
    // oxlint-disable-next-line react/set-state-in-effect
    if ('error' in f) return setLocalError(f.error); // never joined with a mangled key
    setRoom(f.roomId);
    setJoinPw(f.password);
    ctl.join(f.roomId, f.password).catch(() => {});
  }, [ctl]);

  const sendFirst = (picked: PickedFile[]) => {
    if (picked.length === 0) return;
    setLocalError(null);
    setViaBox(false);
    askNotifications(); // a user gesture: the only time a browser lets us ask
    ctl.sendFirst(picked).catch(() => {});
  };

  // Pasted files (or text, for the text feature) anywhere but in a field.
  useEffect(() => {
    const paste = (e: ClipboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      const picked = fromClipboard(e.clipboardData);
      if (picked.length > 0) {
        e.preventDefault();
        sendFirst(picked);
        return;
      }
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (text && onPasteText) {
        e.preventDefault();
        onPasteText(text);
      }
    };
    document.addEventListener('paste', paste);
    return () => document.removeEventListener('paste', paste);
  });

  const create = (e: React.FormEvent) => {
    e.preventDefault();
    setLocalError(null);
    setViaBox(false);
    if (password.length < 8) return setLocalError(msg('home.passwordShort', { min: 8 }));
    ctl.create(newRoomId(), password).catch(() => {});
  };
  const receive = (e: React.FormEvent) => {
    e.preventDefault();
    setLocalError(null);
    setViaBox(true);
    const r = parseReceiveInput(recv);
    if (r.kind === 'error') return setRecvError(r.error);
    setRecvError(null);
    if (r.kind === 'link') ctl.join(r.roomId, r.password).catch(() => {});
    else ctl.joinCode(r.code).catch(() => {});
  };
  const join = (e: React.FormEvent) => {
    e.preventDefault();
    setLocalError(null);
    setRecvError(null);
    setViaBox(false);
    const r = parseRoomInput(room);
    if (!r) return setLocalError(msg('home.needRoom'));
    if ('error' in r) return setLocalError(r.error);
    const pw = r.password ?? joinPw;
    if (!pw) return setLocalError(msg('home.needPassword'));
    ctl.join(r.roomId, pw).catch(() => {});
  };

  const boxError = recvError ?? (viaBox && !localError ? snap.error : null);
  const error = localError ?? (viaBox ? null : snap.error);
  return (
    <div className="home">
      {error && (
        <p className="alert" role="alert">
          {t(error)}
        </p>
      )}
      <SendPanel disabled={busy} onFiles={sendFirst} prompt={t('home.drop.prompt')} large>
        <p className="muted small">{t('home.drop.intro')}</p>
        {textSlot}
      </SendPanel>
      <section className="card" aria-labelledby="join-h">
        <h2 id="join-h">{t('home.recv.title')}</h2>
        <form onSubmit={receive} noValidate data-testid="receive-box">
          <label htmlFor={ids.recv}>{t('home.recv.label')}</label>
          <div className="row">
            <input
              id={ids.recv}
              value={recv}
              onChange={(e) => {
                setRecv(e.target.value);
                setRecvError(null);
                if (viaBox && snap.error) ctl.dismissError();
              }}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              maxLength={4096}
              aria-invalid={boxError ? true : undefined}
              aria-describedby={boxError ? `${ids.recvErr} ${ids.recvHint}` : ids.recvHint}
            />
            <button type="submit" disabled={busy}>
              {busy && viaBox ? t('home.joining') : t('home.recv.submit')}
            </button>
          </div>
          <p className="hint" id={ids.recvHint}>
            {rich('home.recv.hint', { command: <code>peerdrop send --code</code> })}
          </p>
          {boxError && (
            <p className="alert small" id={ids.recvErr} role="alert" data-testid="receive-error">
              {t(boxError)}
            </p>
          )}
        </form>
      </section>
      <section className="card">
        <Identity name={snap.selfName} device={snap.selfDevice} onRename={(n) => ctl.setName(n)} />
      </section>
      <details className="card options" data-testid="options">
        <summary>{t('home.options')}</summary>
        <h3 className="small" id="create-h">{t('home.create.title')}</h3>
        <form onSubmit={create}>
          <label htmlFor={ids.cpw}>{t('home.send.password')}</label>
          <div className="row">
            <input
              id={ids.cpw}
              type={showPw ? 'text' : 'password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
              spellCheck={false}
              minLength={8}
              maxLength={1024}
              required
            />
            <button type="button" className="secondary" onClick={() => setShowPw((s) => !s)} aria-pressed={showPw}>
              {showPw ? t('home.send.hide') : t('home.send.show')}
            </button>
            <button type="button" className="secondary" onClick={() => setPassword(generatePassword())}>
              {t('home.send.new')}
            </button>
          </div>
          <p className="hint">{t('home.send.hint')}</p>
          <button type="submit" disabled={busy}>
            {busy && snap.creator ? t('home.send.creating') : t('home.send.create')}
          </button>
        </form>
        <h3 className="small">{t('home.join.title')}</h3>
        <form onSubmit={join}>
          <label htmlFor={ids.room}>{t('home.join.room')}</label>
          <input id={ids.room} value={room} onChange={(e) => setRoom(e.target.value)} autoComplete="off" spellCheck={false} required />
          <label htmlFor={ids.jpw}>{t('home.join.password')}</label>
          <input id={ids.jpw} type="password" value={joinPw} onChange={(e) => setJoinPw(e.target.value)} autoComplete="off" />
          <button type="submit" disabled={busy}>
            {busy && !snap.creator && !viaBox ? t('home.joining') : t('home.join.submit')}
          </button>
        </form>
      </details>
    </div>
  );
}
