import type { TokenAuthentication } from '../auth/token-authentication.js';
import { AppError, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MessageService } from '../messages/message-service.js';
import type { ReactionService } from '../messages/reaction-service.js';
import type { MessageSubmitter, SendRequest } from '../messages/message-writer.js';
import { secondsSince, type Metrics } from '../metrics/metrics.js';
import type { ChatClientToServerEvents } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { ReadStateService } from '../rooms/read-state.js';
import type { RoomService } from '../rooms/room-service.js';
import * as schemas from '../schemas.js';
import { joinedRoomIds, roomChannel, sessionChannel } from './channels.js';
import { sharedEventHandler, type EventOptions } from './event-handler.js';
import type { MessageDelivery } from './message-delivery.js';
import { answerUnknownEvents, CHAT_EVENTS } from './unknown-events.js';
import type { PresenceStore } from './presence.js';
import type { PresenceAnnouncer } from './presence-announcer.js';
import { SocketTyping, type TypingOptions } from './typing-state.js';
import type { SessionTimers } from './session-timer.js';
import type { ChatNamespace, ChatSocket } from './types.js';
import type { z } from 'zod';

export interface ChatDeps {
  rooms: RoomService;
  reads: ReadStateService;
  messages: MessageService;
  reactions: ReactionService;
  /** The group commit, behind the before-publish hook when one is configured. */
  writer: MessageSubmitter;
  delivery: MessageDelivery;
  presence: PresenceStore;
  limits: RateLimits;
  authentication: TokenAuthentication;
  sessionTimers: SessionTimers;
  maxMessageLength: number;
  /** Rooms one socket may be in at once; 0: no cap. */
  maxRoomsPerSocket: number;
  typing: TypingOptions;
  /** Online users listed in a join ack; the rest are paged with `room:online`. */
  joinOnlineListLimit: number;
  announcer: PresenceAnnouncer;
  logger: Logger;
  metrics?: Metrics;
}

/** Namespace /chat: rooms, messages, typing and presence for every signed-in user. */
export function registerChatNamespace(chat: ChatNamespace, deps: ChatDeps): void {
  const content = schemas.contentSchemas(deps.maxMessageLength);
  chat.on('messages:committed', (batch) => deps.delivery.receive(batch));
  chat.on('members:committed', (batch) => deps.delivery.receive(batch));

  // Every listener is made once here and shared by all sockets (issue 18:
  // no closures per socket); each handler gets its socket as an argument.
  const listeners: Array<[string, (this: ChatSocket, ...args: unknown[]) => void]> = [];
  const on = <E extends keyof ChatClientToServerEvents, S extends z.ZodType>(
    event: E,
    options: EventOptions<S>,
    handler: Parameters<typeof sharedEventHandler<ChatClientToServerEvents, E, S, ChatSocket>>[3],
  ) => listeners.push([event, sharedEventHandler<ChatClientToServerEvents, E, S, ChatSocket>(deps.logger, event, options, handler)]);
  // A socket's typing state, made at its first typing event.
  const typingStates = new WeakMap<ChatSocket, SocketTyping>();
  const typingOf = (socket: ChatSocket) => {
    let typing = typingStates.get(socket);
    if (!typing) {
      typing = new SocketTyping(deps.typing, (roomId, on) =>
        socket.nsp.to(roomChannel(roomId)).except(socket.id).emit('typing', { roomId, ...user(socket), typing: on }),
      );
      typingStates.set(socket, typing);
    }
    return typing;
  };

  on('room:join', { schema: schemas.roomJoinSchema }, async (socket, { roomId, afterChange }) => {
    checkRoomCap(socket, roomId, deps);
    const visible = await deps.rooms.beginJoin(actor(socket), roomId);
    // The socket may have gone while the database answered: its
    // 'disconnecting' has run already, so nothing would ever remove what a
    // late join adds (a ghost "online" that also hides the user's real
    // comings and goings). The ack reaches no one; it only has to be valid.
    if (!socket.connected) return { room: visible, online: [], onlineCount: 0, lastChange: 0 };
    // Checked again at the join itself: parallel joins all passed the first check.
    checkRoomCap(socket, roomId, deps);
    // Join the Socket.IO room first and read lastSeq/lastChange after: every
    // change committed from here on is either in what the socket reads up
    // to lastChange or delivered live (or both; clients drop repeats).
    socket.join(roomChannel(roomId));
    try {
      const { room, lastChange } = await deps.rooms.recordJoin(actor(socket), roomId);
      if (!socket.connected) return { room, online: [], onlineCount: 0, lastChange };
      deps.delivery.track(roomId, lastChange);
      const first = await deps.presence.add(roomId, user(socket), socket.id);
      if (!socket.connected) {
        // Gone while the store answered: 'disconnecting' may have looked before the add
        // landed, so remove it here (harmless when it is gone already) and announce nothing.
        await deps.presence.remove(roomId, socket.data.userId, socket.id);
        return { room, online: [], onlineCount: 0, lastChange };
      }
      const { online, count } = await deps.presence.page(roomId, null, deps.joinOnlineListLimit);
      deps.announcer.noteCount(roomId, count);
      if (first) deps.announcer.announce(roomId, user(socket), true, socket.id);
      if (afterChange === undefined) return { room, online, onlineCount: count, lastChange };
      // Catch-up (issue 13): the changes after afterChange up to lastChange; later ones come live.
      const catchUp = await deps.rooms.joinChanges(roomId, afterChange, lastChange, socket.data.userId);
      return { room, online, onlineCount: count, lastChange, ...catchUp };
    } catch (err) {
      socket.leave(roomChannel(roomId));
      throw err;
    }
  });

  on('room:leave', { schema: schemas.roomRefSchema }, async (socket, { roomId }) => {
    if (!socket.rooms.has(roomChannel(roomId))) return {};
    socket.leave(roomChannel(roomId));
    typingStates.get(socket)?.left(roomId);
    await leavePresence(socket, roomId, deps);
    return {};
  });

  on('room:online', { schema: schemas.onlineRequestSchema }, async (socket, { roomId, cursor, limit }) => {
    if (!socket.rooms.has(roomChannel(roomId))) throw notFound('join the room first');
    const page = await deps.presence.page(roomId, cursor ?? null, limit);
    return { online: page.online, nextCursor: page.nextCursor };
  });

  on('room:history', { schema: schemas.historyRequestSchema }, (socket, { roomId, ...query }) => {
    if (query.afterSeq !== undefined) deps.metrics?.historyCatchUp('socket');
    return deps.rooms.history(actor(socket), roomId, query);
  });

  on('room:changes', { schema: schemas.changesRequestSchema }, (socket, { roomId, after, limit }) => deps.rooms.changes(actor(socket), roomId, { after, limit }));
  on('room:read', { schema: schemas.readRequestSchema }, (socket, { roomId, seq }) => deps.reads.markRead(actor(socket), roomId, seq, socket.id));

  on('message:send', { schema: content.send }, async (socket, { roomId, content: text, clientMsgId, replyToSeq }) => {
    const started = performance.now();
    try {
      // Nothing to await when the limit is off (issue 18: no promise per send for it).
      const limited = deps.limits.consumeMessage(socket.data.userId);
      if (limited) await limited;
      const request: SendRequest = {
        roomId,
        userId: socket.data.userId,
        username: socket.data.username,
        role: socket.data.role,
        content: text,
        clientMsgId,
        originSocketId: socket.id,
      };
      if (replyToSeq !== undefined) request.replyToSeq = replyToSeq;
      return { message: await deps.writer.submit(request) };
    } finally {
      deps.metrics?.sendAckSeconds.observe(secondsSince(started));
    }
  });

  on('message:edit', { schema: content.edit }, async (socket, { messageId, content: text }) => ({
    message: await deps.messages.edit({ ...actor(socket), username: socket.data.username }, messageId, text),
  }));

  on('message:delete', { schema: schemas.deleteMessageSchema }, async (socket, { messageId }) => {
    await deps.messages.delete(actor(socket), messageId);
    return {};
  });

  on('message:react', { schema: schemas.reactionSchema }, async (socket, { messageId, emoji }) => ({
    message: await deps.reactions.react(actor(socket), messageId, emoji),
  }));

  on('message:unreact', { schema: schemas.reactionSchema }, async (socket, { messageId, emoji }) => ({
    message: await deps.reactions.unreact(actor(socket), messageId, emoji),
  }));

  on('typing', { schema: schemas.typingSchema }, (socket, { roomId, typing: on }) => {
    if (!socket.rooms.has(roomChannel(roomId))) throw notFound('join the room first');
    // Acked either way: a client typing too fast needs no error, only fewer events.
    return typingOf(socket).relay(roomId, on) ? {} : { dropped: true as const };
  });

  on('auth:refresh', { schema: schemas.authRefreshSchema, allowExpired: true }, async (socket, { token }) => {
    // The handshake's checks, so a banned or logged-out user cannot renew an open socket.
    const principal = await deps.authentication.authenticate(token);
    if (principal.userId !== socket.data.userId) throw new AppError('forbidden', 'the token belongs to another user');
    socket.data.tokenExpiresAt = principal.tokenExpiresAt;
    // A token of another login moves the socket to that login's channel, so
    // logging out that login (not the old one) ends it.
    if (principal.sessionId && principal.sessionId !== socket.data.sessionId) {
      if (socket.data.sessionId) socket.leave(sessionChannel(socket.data.sessionId));
      socket.join(sessionChannel(principal.sessionId));
      socket.data.sessionId = principal.sessionId;
    }
    // The check awaits the database: a socket gone meanwhile must not get a timer again.
    if (socket.connected) deps.sessionTimers.arm(socket);
    return { expiresIn: Math.max(0, Math.round((principal.tokenExpiresAt - Date.now()) / 1000)) };
  });

  function onDisconnecting(this: ChatSocket) {
    typingStates.get(this)?.disconnected();
    for (const roomId of joinedRoomIds(this.rooms)) void leavePresence(this, roomId, deps);
  }

  chat.on('connection', (socket) => {
    deps.sessionTimers.arm(socket);
    answerUnknownEvents(socket, CHAT_EVENTS);
    for (const [event, listener] of listeners) socket.on(event as never, listener as never);
    socket.on('disconnecting', onDisconnecting);
  });
}

const actor = (socket: ChatSocket) => ({ userId: socket.data.userId, role: socket.data.role });
const user = (socket: ChatSocket) => ({ userId: socket.data.userId, username: socket.data.username });

/** Refuses a join that would put the socket in more than `max` rooms (a room it is in already does not count twice). */
function checkRoomCap(socket: ChatSocket, roomId: string, deps: ChatDeps): void {
  const max = deps.maxRoomsPerSocket;
  if (max === 0 || socket.rooms.has(roomChannel(roomId))) return;
  if (joinedRoomIds(socket.rooms).length >= max) {
    deps.metrics?.refused('rooms');
    throw new AppError('rate_limited', `a socket may be in at most ${max} rooms; leave one first`, { reason: 'too_many_rooms', limit: max });
  }
}

async function leavePresence(socket: ChatSocket, roomId: string, deps: ChatDeps): Promise<void> {
  try {
    if (await deps.presence.remove(roomId, socket.data.userId, socket.id)) {
      deps.announcer.announce(roomId, { userId: socket.data.userId, username: socket.data.username }, false, socket.id);
    }
  } catch (err) {
    deps.logger.warn('presence update failed', { socketId: socket.id, roomId, err });
  }
}
