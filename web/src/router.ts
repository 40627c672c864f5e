// Hash routes (#/room/<id>, #/admin): the server only ever serves index.html
// at `/`, so no fallback route is needed for client-side paths.

export type Route = { view: 'home' } | { view: 'room'; roomId: string } | { view: 'admin' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'room' && parts[1]) return { view: 'room', roomId: decodeURIComponent(parts[1]) };
  if (parts[0] === 'admin') return { view: 'admin' };
  return { view: 'home' };
}

export const roomHref = (roomId: string): string => `#/room/${encodeURIComponent(roomId)}`;
export const adminHref = '#/admin';
export const homeHref = '#/';

/** Calls `onRoute` now and on every hash change; returns the unsubscribe function. */
export function watchRoute(onRoute: (route: Route) => void): () => void {
  const listener = () => onRoute(parseRoute(window.location.hash));
  window.addEventListener('hashchange', listener);
  listener();
  return () => window.removeEventListener('hashchange', listener);
}
