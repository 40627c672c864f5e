// One open room: join it through the SDK, then show the conversation, who is
// online, who is typing, and the message box. Leaving the view leaves the room.
import type { Room, RoomcastClient, SystemBroadcastEvent, User } from '../../client-sdk/src/index.js';
import { composer } from './composer.js';
import { button, h } from './dom.js';
import { describeError } from './format.js';
import { MessageList } from './message-list.js';
import { onlineList, typingLine } from './presence-view.js';
import { readMarker } from './read-marker.js';
import { homeHref, roomHref } from './router.js';
import { membersPanel } from './members-view.js';

export interface ChatView {
  element: HTMLElement;
  readonly roomId: string;
  showSystem(event: SystemBroadcastEvent): void;
  dispose(): void;
}

export interface ChatViewHooks {
  /** The room was joined (the room list may show it as joined now). */
  onJoined(): void;
  /** Open the room again (after an admin removed the user from it). */
  reopen(): void;
  /** A message arrived live; `read`: it counts as read at once (the user's own, or shown in a visible tab). */
  onMessage(roomId: string, seq: number, read: boolean): void;
  /** The user's read seq of the room moved (this view marked it read). */
  onRead(roomId: string, readSeq: number): void;
}

export function chatView(client: RoomcastClient, user: User, roomId: string, hooks: ChatViewHooks): ChatView {
  const title = h('h2', { class: 'room-title' }, 'Joining…');
  const body = h('div', { class: 'chat-body' }, h('p', { class: 'loading' }, 'Joining the room…'));
  const element = h(
    'section',
    { class: 'chat', attrs: { 'aria-labelledby': 'room-title' } },
    h('header', { class: 'chat-head' }, h('a', { class: 'back', attrs: { href: homeHref } }, '← Rooms'), title),
    body,
  );
  title.id = 'room-title';
  const cleanups: (() => void)[] = [];
  let room: Room | null = null;
  let list: MessageList | null = null;
  let disposed = false;
  const early: SystemBroadcastEvent[] = [];

  void (async () => {
    try {
      room = await client.join(roomId);
    } catch (err) {
      if (disposed) return;
      title.textContent = 'Room unavailable';
      body.replaceChildren(h('p', { class: 'form-error', attrs: { role: 'alert' } }, describeError(err)));
      return;
    }
    if (disposed) return void room.leave().catch(() => {});
    hooks.onJoined();
    const info = room.info;
    title.textContent = info?.dm ? `@${info.dm.username}` : (info?.name ?? 'Room');
    list = new MessageList(room, user, (message) => box.replyTo(message));
    const online = onlineList(room, {
      meId: user.id,
      open: (userId) =>
        void client.rooms.dm(userId).then(
          (direct) => (window.location.hash = roomHref(direct.id)),
          (err: unknown) => list?.showSystem({ content: `Could not open a direct room: ${describeError(err)}`, roomId, createdAt: new Date().toISOString() }),
        ),
    });
    // Issue 14: a private room (not a direct one) shows its members; its owner and admins invite and remove.
    const members = info?.visibility === 'private' && !info.dm ? membersPanel(client, room, user) : null;
    const typing = typingLine(room, user);
    const readOnly = info?.readOnly && user.role !== 'admin' ? 'This room is read-only.' : info?.archived ? 'This room is archived.' : null;
    const box = composer(room, (content, replyTo) => list?.send(content, replyTo), readOnly);
    const readAtOpen = room.readSeq;
    const joined = room;
    const marker = readMarker(room, () => list?.latestSeq() ?? null, (readSeq) => hooks.onRead(roomId, readSeq));
    const removed = (content: string) => {
      list?.showSystem({ content, roomId, createdAt: new Date().toISOString() });
      box.element.replaceWith(h('div', { class: 'composer' }, button('Rejoin the room', hooks.reopen, { class: 'primary' })));
    };
    cleanups.push(
      () => list?.dispose(),
      marker.dispose,
      joined.on('message', (message) => {
        hooks.onMessage(roomId, message.seq, message.userId === user.id || document.visibilityState === 'visible');
        marker.seen();
      }),
      online.dispose,
      () => members?.dispose(),
      typing.dispose,
      box.dispose,
      room.on('roomUpdated', (updated) => {
        title.textContent = updated.name;
      }),
      // A kick says so (and until when); the SDK has closed the room already.
      room.on('kicked', ({ until }) => {
        removed(until ? `An admin removed you from this room; you may rejoin after ${new Date(until).toLocaleTimeString()}.` : 'An admin removed you from this room.');
      }),
      // A removal from a private room takes this user's sockets out of it; the room then says they went offline.
      room.on('presence', ({ userId, online: isOnline }) => {
        if (userId !== user.id || isOnline || !room) return;
        void room.leave().catch(() => {});
        removed('An admin removed you from this room.');
      }),
    );
    body.replaceChildren(h('div', { class: 'conversation' }, list.element, typing.element, box.element), h('div', { class: 'side' }, online.element, ...(members ? [members.element] : [])));
    for (const event of early.splice(0)) list.showSystem(event);
    box.focus();
    try {
      await list.start();
      list.markNewAfter(readAtOpen);
      marker.seen();
    } catch (err) {
      list.showSystem({ content: `Could not load the history: ${describeError(err)}`, roomId, createdAt: new Date().toISOString() });
    }
  })();

  return {
    element,
    roomId,
    showSystem(event) {
      if (list) list.showSystem(event);
      else early.push(event);
    },
    dispose() {
      disposed = true;
      for (const cleanup of cleanups) cleanup();
      void room?.leave().catch(() => {});
    },
  };
}
