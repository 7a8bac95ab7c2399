import { useEffect } from 'react';
import { useRoom } from './app/useRoom';
import { statusLine } from './app/status';
import { useFinishedNotifications } from './app/notify';
import { Home } from './components/Home';
import { Room } from './components/Room';

export function App() {
  const [snap, ctl] = useRoom();
  const status = statusLine(snap);
  useEffect(() => {
    document.title = status.title;
  }, [status.title]);
  useFinishedNotifications(snap.transfers);
  return (
    <>
      <header className="top">
        <h1>Peerdrop</h1>
        <span className={`status status-${snap.status.toLowerCase()}`} role="status" data-testid="status" data-status={snap.status}>
          {status.text}
        </span>
      </header>
      <main>{snap.phase === 'IN_ROOM' ? <Room snap={snap} ctl={ctl} /> : <Home snap={snap} ctl={ctl} />}</main>
    </>
  );
}
