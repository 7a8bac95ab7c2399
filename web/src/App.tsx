import { useRoom } from './app/useRoom';
import { Home } from './components/Home';
import { Room } from './components/Room';

const STATUS_TEXT = {
  IDLE: 'Idle',
  CONNECTING: 'Connecting',
  TRANSFERRING: 'Transferring',
  COMPLETED: 'Completed',
  ERROR: 'Error',
} as const;

export function App() {
  const [snap, ctl] = useRoom();
  return (
    <>
      <header className="top">
        <h1>Peerdrop</h1>
        <span className={`status status-${snap.status.toLowerCase()}`} role="status" data-testid="status" data-status={snap.status}>
          {STATUS_TEXT[snap.status]}
        </span>
      </header>
      <main>{snap.phase === 'IN_ROOM' ? <Room snap={snap} ctl={ctl} /> : <Home snap={snap} ctl={ctl} />}</main>
    </>
  );
}
