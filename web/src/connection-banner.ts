// The connection state, always visible: a small "Connected" mark in the
// header, a bar while (re)connecting. The SDK reconnects and catches up on
// its own; this only shows what it is doing.
import type { ConnectionState, RoomcastClient } from '../../client-sdk/src/index.js';
import { h } from './dom.js';

const LABEL: Record<ConnectionState, string> = {
  disconnected: 'Offline',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Connection lost: reconnecting…',
  closed: 'Disconnected',
};

export function connectionBanner(client: RoomcastClient): { element: HTMLElement; dispose(): void } {
  const element = h('div', { class: 'connection', attrs: { role: 'status', 'aria-live': 'polite' } });
  const show = (state: ConnectionState) => {
    element.dataset.state = state;
    element.textContent = LABEL[state];
  };
  show(client.state);
  const off = client.on('state', ({ state }) => show(state));
  return { element, dispose: off };
}
