// The rooms the user can see (public ones and their private ones), and a
// form to create one. Opening a room joins it (see chat-view.ts).
import type { RoomcastClient, RoomInfo, User } from '../../client-sdk/src/index.js';
import { button, field, form, h, replaceChildren } from './dom.js';
import { describeError } from './format.js';
import { roomHref } from './router.js';

export interface RoomList {
  element: HTMLElement;
  /** Highlights the open room. */
  select(roomId: string | null): void;
  refresh(): Promise<void>;
  /** The rooms as last listed. */
  rooms(): readonly RoomInfo[];
}

export function roomList(client: RoomcastClient, user: User): RoomList {
  let rooms: RoomInfo[] = [];
  let selected: string | null = null;
  const list = h('ul', { class: 'room-list' });
  const status = h('p', { class: 'form-error', attrs: { role: 'alert' } });

  function render(): void {
    replaceChildren(
      list,
      ...rooms.map((room) =>
        h(
          'li',
          {},
          h(
            'a',
            { class: room.id === selected ? 'room-link selected' : 'room-link', attrs: { href: roomHref(room.id), 'aria-current': room.id === selected ? 'page' : undefined } },
            h('span', { class: 'room-name' }, room.name),
            room.visibility === 'private' ? h('span', { class: 'tag' }, 'private') : null,
            room.readOnly ? h('span', { class: 'tag' }, 'read-only') : null,
            room.archived ? h('span', { class: 'tag' }, 'archived') : null,
            room.joined === false ? h('span', { class: 'tag join' }, 'join') : null,
          ),
        ),
      ),
    );
    if (rooms.length === 0) list.append(h('li', { class: 'empty' }, 'No rooms yet: create the first one below.'));
  }

  async function refresh(): Promise<void> {
    try {
      rooms = await client.rooms.list();
      status.textContent = '';
      render();
    } catch (err) {
      status.textContent = describeError(err);
    }
  }

  const name = h('input', { attrs: { name: 'room-name', required: true, maxlength: 64, placeholder: 'New room name' } });
  const visibility = h('select', { attrs: { name: 'visibility' } }, h('option', { attrs: { value: 'public' } }, 'public'), h('option', { attrs: { value: 'private' } }, 'private'));
  const readOnly = h('input', { attrs: { type: 'checkbox', name: 'read-only' } });
  const isAdmin = user.role === 'admin';
  const create = form(
    () => void createRoom(),
    { class: 'create-room' },
    field('Room name', name),
    // Private and read-only rooms are for admins (the server says so too).
    isAdmin ? field('Visibility', visibility) : null,
    isAdmin ? h('label', { class: 'check' }, readOnly, 'read-only') : null,
    h('button', { attrs: { type: 'submit' } }, 'Create room'),
  );

  async function createRoom(): Promise<void> {
    const roomName = name.value.trim();
    if (!roomName) return;
    try {
      const room = await client.rooms.create({
        name: roomName,
        ...(isAdmin ? { visibility: visibility.value === 'private' ? 'private' : 'public', readOnly: readOnly.checked } : {}),
      });
      name.value = '';
      await refresh();
      window.location.hash = roomHref(room.id);
    } catch (err) {
      status.textContent = describeError(err);
    }
  }

  const element = h(
    'nav',
    { class: 'sidebar', attrs: { 'aria-label': 'Rooms' } },
    h('div', { class: 'sidebar-head' }, h('h2', {}, 'Rooms'), button('Refresh', () => void refresh(), { class: 'small', attrs: { 'aria-label': 'Refresh the room list' } })),
    list,
    status,
    create,
  );
  void refresh();
  return {
    element,
    select(roomId) {
      selected = roomId;
      render();
    },
    refresh,
    rooms: () => rooms,
  };
}
