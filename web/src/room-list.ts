// The rooms the user can see (public ones and their private ones), newest
// first, a page at a time, with a name search; and a form to create one.
// Opening a room joins it (see chat-view.ts). Each room shows its unread
// count as a badge: from the list answer, then kept live for the open room
// (noteMessage / noteRead) and for every room when another device reads
// (`readUpdated`); the list is reloaded every REFRESH_MS while the tab is
// visible, which is how other rooms' new messages reach their badges.
import { MENTION_COUNT_CAP, UNREAD_COUNT_CAP, type RoomcastClient, type RoomInfo, type User } from '../../client-sdk/src/index.js';
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
  /** A message arrived in a room (the open one): its badge counts it unless it is `read` already (own, or seen in a visible tab). */
  noteMessage(roomId: string, seq: number, read: boolean): void;
  /** The user's read seq of a room moved (here or on another device). */
  noteRead(roomId: string, readSeq: number): void;
  /** Stops the periodic reload and the listeners. */
  dispose(): void;
}

/** Rooms per page: the server's answer is bounded, and a sidebar shows a few dozen at most. */
const PAGE_SIZE = 50;
/** Wait after the last keystroke before searching, so typing a name sends one request. */
const SEARCH_DELAY_MS = 250;
/** How often the list (and so every badge) is reloaded while the tab is visible. */
const REFRESH_MS = 30_000;

/** The badge text: the server's count saturates at UNREAD_COUNT_CAP. */
const badgeText = (count: number) => (count >= UNREAD_COUNT_CAP ? `${UNREAD_COUNT_CAP - 1}+` : String(count));

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
            h('span', { class: 'room-name' }, room.dm ? `@${room.dm.username}` : room.name),
            room.visibility === 'private' ? h('span', { class: 'tag' }, 'private') : null,
            room.readOnly ? h('span', { class: 'tag' }, 'read-only') : null,
            room.archived ? h('span', { class: 'tag' }, 'archived') : null,
            room.joined === false ? h('span', { class: 'tag join' }, 'join') : null,
            room.mentionCount ? h('span', { class: 'mentions', attrs: { 'aria-label': `${badgeText(room.mentionCount)} mentions` } }, `@${badgeText(room.mentionCount)}`) : null,
            room.unreadCount ? h('span', { class: 'unread', attrs: { 'aria-label': `${badgeText(room.unreadCount)} unread` } }, badgeText(room.unreadCount)) : null,
          ),
        ),
      ),
    );
    if (rooms.length === 0) list.append(h('li', { class: 'empty' }, search.value.trim() ? 'No room matches.' : 'No rooms yet: create the first one below.'));
    more.hidden = nextCursor === null;
  }

  /**
   * Loads the first page (`append` false) or the next one for the current
   * search; `limit` reloads as many rooms as are shown (a badge update must
   * not fold away the pages "More rooms" opened).
   */
  async function load(append: boolean, limit = PAGE_SIZE): Promise<void> {
    const mine = ++generation;
    const q = search.value.trim();
    try {
      const page = await client.rooms.page({ limit, ...(q ? { q } : {}), ...(append && nextCursor ? { cursor: nextCursor } : {}) });
      if (mine !== generation) return;
      // A read that landed while this answer was on its way is newer than the answer.
      for (const room of page.rooms) {
        const known = rooms.find((r) => r.id === room.id)?.readSeq ?? 0;
        if (known > (room.readSeq ?? 0) && known >= room.lastSeq) Object.assign(room, { readSeq: known, unreadCount: 0, mentionCount: 0 });
      }
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
  /** Reloads the rooms shown (at most a server page, 200), for their badges. */
  const recountShown = () => load(false, Math.min(200, Math.max(PAGE_SIZE, rooms.length)));
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible' && !search.value.trim()) void recountShown();
  }, REFRESH_MS);
  /** A read that leaves messages unread elsewhere in the room: the count comes from the server. */
  let recount: ReturnType<typeof setTimeout> | undefined;
  const offReadUpdated = client.on('readUpdated', ({ roomId, readSeq }) => noteRead(roomId, readSeq));
  // A mention in a room not open here: one more on its badge (the open room is read as it shows).
  const offMention = client.on('mention', ({ roomId, seq }) => {
    const room = rooms.find((r) => r.id === roomId);
    if (!room || roomId === selected || seq <= (room.readSeq ?? 0)) return;
    room.mentionCount = Math.min(MENTION_COUNT_CAP, (room.mentionCount ?? 0) + 1);
    render();
  });

  function noteRead(roomId: string, readSeq: number): void {
    const room = rooms.find((r) => r.id === roomId);
    if (!room || readSeq <= (room.readSeq ?? 0)) return;
    room.readSeq = readSeq;
    if (readSeq >= room.lastSeq) Object.assign(room, { unreadCount: 0, mentionCount: 0 });
    else {
      clearTimeout(recount);
      recount = setTimeout(() => void recountShown(), SEARCH_DELAY_MS);
    }
    render();
  }

  return {
    element,
    select(roomId) {
      selected = roomId;
      render();
    },
    refresh,
    rooms: () => rooms,
    noteMessage(roomId, seq, read) {
      const room = rooms.find((r) => r.id === roomId);
      if (!room || seq <= room.lastSeq) return;
      room.lastSeq = seq;
      if (!read && seq > (room.readSeq ?? 0)) room.unreadCount = Math.min(UNREAD_COUNT_CAP, (room.unreadCount ?? 0) + 1);
      render();
    },
    noteRead,
    dispose() {
      clearInterval(timer);
      clearTimeout(recount);
      offReadUpdated();
      offMention();
    },
  };
}
