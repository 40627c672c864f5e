// The rooms the user can see (public ones and their private ones), newest
// first, a page at a time, with a name search; and a form to create one.
// Opening a room joins it (see chat-view.ts).
import type { RoomcastClient, RoomInfo, User } from '../../client-sdk/src/index.js';
import { button, field, form, h, replaceChildren } from './dom.js';
import { describeError } from './format.js';
import { roomHref } from './router.js';

export interface RoomList {
  element: HTMLElement;
  /** Highlights the open room. */
  select(roomId: string | null): void;
  refresh(): Promise<void>;
  /** The rooms as last listed (the pages loaded so far). */
  rooms(): readonly RoomInfo[];
}

/** Rooms per page: the server's answer is bounded, and a sidebar shows a few dozen at most. */
const PAGE_SIZE = 50;
/** Wait after the last keystroke before searching, so typing a name sends one request. */
const SEARCH_DELAY_MS = 250;

export function roomList(client: RoomcastClient, user: User): RoomList {
  let rooms: RoomInfo[] = [];
  let nextCursor: string | null = null;
  /** Counts loads: an answer to an older search or page arriving late is dropped. */
  let generation = 0;
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
    if (rooms.length === 0) list.append(h('li', { class: 'empty' }, search.value.trim() ? 'No room matches.' : 'No rooms yet: create the first one below.'));
    more.hidden = nextCursor === null;
  }

  /** Loads the first page (`append` false) or the next one for the current search. */
  async function load(append: boolean): Promise<void> {
    const mine = ++generation;
    const q = search.value.trim();
    try {
      const page = await client.rooms.page({ limit: PAGE_SIZE, ...(q ? { q } : {}), ...(append && nextCursor ? { cursor: nextCursor } : {}) });
      if (mine !== generation) return;
      rooms = append ? [...rooms, ...page.rooms.filter((room) => !rooms.some((r) => r.id === room.id))] : page.rooms;
      nextCursor = page.nextCursor;
      status.textContent = '';
      render();
    } catch (err) {
      if (mine === generation) status.textContent = describeError(err);
    }
  }

  const refresh = () => load(false);
  const search = h('input', { attrs: { type: 'search', name: 'room-search', maxlength: 64, placeholder: 'Find a room', 'aria-label': 'Find a room' } });
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void refresh(), SEARCH_DELAY_MS);
  });
  const more = button('More rooms', () => void load(true), { class: 'small more-rooms' });
  more.hidden = true;

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
    search,
    list,
    more,
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
