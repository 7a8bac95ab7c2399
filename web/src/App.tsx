import { useEffect } from 'react';
import { useRoom } from './app/useRoom';
import { statusLine } from './app/status';
import { useFinishedNotifications } from './app/notify';
import { Home } from './components/Home';
import { Room } from './components/Room';
import { SharedFiles, useShared } from './pwa/SharedFiles';
import { ThemeSwitch } from './pwa/theme';
import { useWakeLock } from './pwa/wakelock';
import { LanguageSwitch } from './components/LanguageSwitch';
import { useI18n } from './i18n';

export function App() {
  const [snap, ctl] = useRoom();
  const { locale } = useI18n();
  const { files: sharedFiles, lost: shareLost, clear: clearShared } = useShared();
  const inRoom = snap.phase === 'IN_ROOM';
  // files shared into the app are offered in the first room the user enters
  useEffect(() => {
    if (!inRoom || sharedFiles.length === 0) return;
    ctl.sendFiles(sharedFiles.map((file) => ({ file, dir: '' })));
    clearShared();
  }, [inRoom, sharedFiles, clearShared, ctl]);
  useWakeLock(snap.transfers.some((t) => t.state === 'TRANSFERRING'));
  const status = statusLine(snap, locale);
  useEffect(() => {
    document.title = status.title;
  }, [status.title]);
  useFinishedNotifications(snap.transfers, locale);
  return (
    <>
      <header className="top">
        <h1>Peerdrop</h1>
        <div className="top-actions">
          <ThemeSwitch />
          <span className={`status status-${snap.status.toLowerCase()}`} role="status" data-testid="status" data-status={snap.status}>
            {status.text}
          </span>
          <LanguageSwitch />
        </div>
      </header>
      <main>
        {!inRoom && <SharedFiles files={sharedFiles} lost={shareLost} onDiscard={clearShared} />}
        {inRoom ? <Room snap={snap} ctl={ctl} /> : <Home snap={snap} ctl={ctl} onPasteText={(text) => void ctl.textFirst(text).catch(() => {})} />}
      </main>
    </>
  );
}
