import { useEffect, useState, useSyncExternalStore } from 'react';
import { RoomController, type RoomSnapshot } from './room';

/** One RoomController for the page, as React state. */
export function useRoom(): [RoomSnapshot, RoomController] {
  const [ctl] = useState(() => new RoomController());
  const snap = useSyncExternalStore(ctl.subscribe, ctl.getSnapshot);
  useEffect(() => {
    const bye = () => ctl.leave();
    window.addEventListener('pagehide', bye);
    // Expose the controller to tests (read-only use: snapshots, closing channels).
    (window as unknown as { peerdrop?: RoomController }).peerdrop = ctl;
    return () => window.removeEventListener('pagehide', bye);
  }, [ctl]);
  return [snap, ctl];
}
