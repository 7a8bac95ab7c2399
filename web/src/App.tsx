import { useRoom } from './hooks/useRoom';
import { Home } from './components/Home';
import { Room } from './components/Room';
import { LanguageSwitch } from './components/LanguageSwitch';
import { useI18n, type MessageKey } from './i18n';
import type { Status } from './hooks/room';

const STATUS_TEXT: Record<Status, MessageKey> = {
  IDLE: 'status.idle',
  CONNECTING: 'status.connecting',
  TRANSFERRING: 'status.transferring',
  COMPLETED: 'status.completed',
  ERROR: 'status.error',
};

export function App() {
  const [snap, ctl] = useRoom();
  const { t } = useI18n();
  return (
    <>
      <header className="top">
        <h1>Peerdrop</h1>
        <span className={`status status-${snap.status.toLowerCase()}`} role="status" data-testid="status" data-status={snap.status}>
          {t(STATUS_TEXT[snap.status])}
        </span>
        <LanguageSwitch />
      </header>
      <main>{snap.phase === 'IN_ROOM' ? <Room snap={snap} ctl={ctl} /> : <Home snap={snap} ctl={ctl} />}</main>
    </>
  );
}
