// Marks the open room read up to the newest message shown, but only while
// the tab is visible (document.visibilityState): a message that arrives in a
// background tab stays unread until the user comes back to it.
import type { Room } from '../../client-sdk/src/index.js';

/** Reads within this window go out as one room:read (the last seq wins). */
const MARK_DELAY_MS = 250;

export interface ReadMarker {
  /** New messages may be on screen: mark them read if the tab is visible. */
  seen(): void;
  dispose(): void;
}

export function readMarker(room: Room, latestSeq: () => number | null, onRead: (readSeq: number) => void): ReadMarker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const mark = async () => {
    const seq = latestSeq();
    if (seq === null || seq <= room.readSeq || !room.active) return;
    try {
      onRead(await room.markRead(seq));
    } catch {
      /* offline or refused: the next message or visit marks it again */
    }
  };
  const seen = () => {
    if (document.visibilityState !== 'visible') return;
    clearTimeout(timer);
    timer = setTimeout(() => void mark(), MARK_DELAY_MS);
  };
  document.addEventListener('visibilitychange', seen);
  return {
    seen,
    dispose() {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', seen);
    },
  };
}
