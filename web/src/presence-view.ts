// Who is online in the room, and who is typing.
import type { OnlineUser, Room, User } from '../../client-sdk/src/index.js';
import { button, h, replaceChildren } from './dom.js';

/** A typing hint is dropped if not renewed within this time (the typer may have vanished). */
const TYPING_TTL_MS = 6_000;
/** The SDK refreshes the online list on every re-join; the view re-reads it this often. */
const ONLINE_REFRESH_MS = 3_000;

/** `direct`: starts a direct room with an online user (issue 14); the user's own entry has no button. */
export function onlineList(room: Room, direct?: { meId: string; open(userId: string): void }): { element: HTMLElement; dispose(): void } {
  const list = h('ul', { class: 'online-list' });
  const count = h('span', { class: 'count' });
  const render = () => {
    const users: readonly OnlineUser[] = [...room.online].sort((a, b) => a.username.localeCompare(b.username));
    // The list may be the first page only (big rooms); the count is everyone.
    count.textContent = String(Math.max(room.onlineCount, users.length));
    const entry = (u: OnlineUser) =>
      direct && u.userId !== direct.meId
        ? h('li', {}, h('span', { class: 'online-name' }, u.username), ' ', button('Message', () => direct.open(u.userId), { class: 'start-dm', attrs: { 'aria-label': `Message ${u.username}` } }))
        : h('li', {}, h('span', { class: 'online-name' }, u.username));
    replaceChildren(list, ...users.map(entry));
  };
  render();
  const off = room.on('presence', render);
  const timer = setInterval(render, ONLINE_REFRESH_MS);
  const element = h('section', { class: 'online', attrs: { 'aria-label': 'Online in this room' } }, h('h3', {}, 'Online ', count), list);
  return {
    element,
    dispose: () => {
      off();
      clearInterval(timer);
    },
  };
}

export function typingLine(room: Room, me: User): { element: HTMLElement; dispose(): void } {
  const element = h('p', { class: 'typing', attrs: { 'aria-live': 'polite' } });
  const typers = new Map<string, { username: string; timer: ReturnType<typeof setTimeout> }>();
  const render = () => {
    const names = [...typers.values()].map((t) => t.username);
    element.textContent =
      names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length <= 3 ? `${names.join(', ')} are typing…` : 'Several people are typing…';
  };
  const drop = (userId: string) => {
    const entry = typers.get(userId);
    if (entry) clearTimeout(entry.timer);
    typers.delete(userId);
  };
  const off = [
    room.on('typing', ({ userId, username, typing }) => {
      if (userId === me.id) return;
      drop(userId);
      if (typing) typers.set(userId, { username, timer: setTimeout(() => (drop(userId), render()), TYPING_TTL_MS) });
      render();
    }),
    // Someone who sent a message or left is no longer typing.
    room.on('message', ({ userId }) => (drop(userId), render())),
    room.on('presence', ({ userId, online }) => {
      if (!online) (drop(userId), render());
    }),
  ];
  return {
    element,
    dispose: () => {
      for (const f of off) f();
      for (const userId of [...typers.keys()]) drop(userId);
    },
  };
}
