// The app shell: restores or asks for a sign-in, then lays out the header
// (connection state, user, admin link, sign out), the room list and the main
// view chosen by the hash route. One SDK client per sign-in: signing out or a
// session the server ended closes it, and the next sign-in gets a new one.
import type { RoomcastClient, SystemBroadcastEvent, User } from '../../client-sdk/src/index.js';
import { adminView } from './admin-view.js';
import { authView } from './auth-view.js';
import { chatView, type ChatView } from './chat-view.js';
import { connectionBanner } from './connection-banner.js';
import { button, h } from './dom.js';
import { describeError, describeSessionEnd } from './format.js';
import { roomList } from './room-list.js';
import { adminHref, homeHref, watchRoute, type Route } from './router.js';
import { newClient, rememberSignIn, restoreSession } from './session.js';

export class App {
  /** Undo steps of the signed-in shell (listeners, views), run on sign-out. */
  #teardown: (() => void)[] = [];

  constructor(private readonly root: HTMLElement) {}

  async start(): Promise<void> {
    this.root.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    const client = newClient();
    try {
      const user = await restoreSession(client);
      if (user) return this.#signedIn(client, user);
      client.close(); // the failed restore closed its session: sign in on a fresh client
      this.#showAuth();
    } catch (err) {
      client.close();
      this.root.replaceChildren(
        h('main', { class: 'auth' }, h('p', { class: 'form-error', attrs: { role: 'alert' } }, describeError(err)), button('Try again', () => void this.start(), { class: 'primary' })),
      );
    }
  }

  #showAuth(client: RoomcastClient = newClient(), notice?: string): void {
    this.root.replaceChildren(authView({ client, ...(notice ? { notice } : {}), onSignedIn: (user) => this.#signedIn(client, user) }));
  }

  #signedIn(client: RoomcastClient, user: User): void {
    rememberSignIn(true);
    const banner = connectionBanner(client);
    const rooms = roomList(client, user);
    const main = h('div', { class: 'main-view' });
    const notices = h('div', { class: 'notices', attrs: { 'aria-live': 'polite' } });
    const layout = h('div', { class: 'layout' }, rooms.element, main);
    const header = h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'brand', attrs: { href: homeHref } }, 'Roomcast'),
      banner.element,
      h('span', { class: 'spacer' }),
      h('span', { class: 'whoami' }, user.username, user.role === 'admin' ? h('span', { class: 'tag' }, 'admin') : null),
      user.role === 'admin' ? h('a', { class: 'nav-link', attrs: { href: adminHref } }, 'Admin') : null,
      button('Sign out', () => void this.#signOut(client), { class: 'small' }),
    );
    this.root.replaceChildren(header, notices, layout);

    let view: { element: HTMLElement; dispose(): void } | null = null;
    let chat: ChatView | null = null;
    const show = (route: Route, force = false) => {
      if (route.view === 'room' && chat?.roomId === route.roomId && !force) return;
      view?.dispose();
      chat = null;
      if (route.view === 'room') {
        view = chat = chatView(client, user, route.roomId, {
          onJoined: () => void rooms.refresh(),
          reopen: () => show(route, true),
          onMessage: (roomId, seq, read) => rooms.noteMessage(roomId, seq, read),
          onRead: (roomId, readSeq) => rooms.noteRead(roomId, readSeq),
        });
      } else if (route.view === 'admin' && user.role === 'admin') view = adminView(client, user, rooms.rooms);
      else view = { element: h('div', { class: 'placeholder' }, h('p', {}, 'Pick a room, or create one.')), dispose: () => {} };
      layout.dataset.view = route.view;
      rooms.select(route.view === 'room' ? route.roomId : null);
      main.replaceChildren(view.element);
    };
    const showBroadcast = (event: SystemBroadcastEvent) => {
      if (chat && (event.roomId === null || event.roomId === chat.roomId)) return chat.showSystem(event);
      if (event.roomId !== null) return; // for a room that is not open here
      const note = h('p', { class: 'system-banner', attrs: { role: 'note' } }, h('strong', {}, 'Announcement: '), event.content, ' ', button('Dismiss', () => note.remove(), { class: 'small' }));
      notices.append(note);
    };

    this.#teardown = [
      banner.dispose,
      client.on('broadcast', showBroadcast),
      client.on('sessionEnded', ({ reason }) => this.#leave(client, describeSessionEnd(reason))),
      watchRoute(show),
      rooms.dispose,
      () => view?.dispose(),
    ];
    client.connect().catch(() => {}); // failures show in the banner, or end the session
  }

  async #signOut(client: RoomcastClient): Promise<void> {
    try {
      await client.logout();
    } catch {
      /* the server may be unreachable: the page forgets the session anyway */
    }
    this.#leave(client, 'You signed out.');
  }

  #leave(client: RoomcastClient, notice: string): void {
    for (const undo of this.#teardown.splice(0)) undo();
    client.close();
    rememberSignIn(false);
    window.location.hash = homeHref;
    this.#showAuth(newClient(), notice);
  }
}
