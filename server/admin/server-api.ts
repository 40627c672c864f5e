import type { AuditInput, AuditStore } from '../../db/stores/audit-store.js';
import type { UserStore } from '../../db/stores/user-store.js';
import { banInForce } from '../auth/ban.js';
import { AppError, notFound } from '../errors.js';
import type { MessageSubmitter } from '../messages/message-writer.js';
import type { ChangesPage, CreateRoomRequest, HistoryPage, HistoryQuery, Message, RoomInfo, ServerPresencePage, ServerPublishRequest } from '../protocol.js';
import type { RoomService } from '../rooms/room-service.js';
import { auditDetails, type ApiKeyActor } from './actors.js';
import type { AdminService } from './admin-service.js';

/** Who is online in a room, cluster-wide (server/realtime's presence store). */
export interface PresenceReader {
  page(roomId: string, after: string | null, limit: number): Promise<{ online: { userId: string; username: string }[]; nextCursor: string | null; count: number }>;
}

export interface ServerApiDeps {
  admin: AdminService;
  rooms: RoomService;
  /** The group commit, behind the before-publish hook when one is configured. */
  writer: MessageSubmitter;
  users: UserStore;
  audit: AuditStore;
  presence: PresenceReader;
}

/**
 * The server API's use cases (`/api/server/`, called by the app's backend
 * with a key whose scope the entry point has checked). No rule of its own:
 * each call goes to the use case a socket or an admin would reach
 * (RoomService, AdminService, the MessageWriter's group commit), with the
 * key as the actor, and is audited with the key as actor.
 */
export class ServerApi {
  constructor(private readonly deps: ServerApiDeps) {}

  async createRoom(key: ApiKeyActor, input: CreateRoomRequest): Promise<RoomInfo> {
    const room = await this.deps.rooms.createUnowned(input);
    await this.record(key, { action: 'room_create', targetType: 'room', targetId: room.id, details: { name: room.name, visibility: room.visibility, readOnly: room.readOnly } });
    return room;
  }

  /**
   * Sends as `userId` (their role, mutes, kicks and the room's rules apply,
   * as to their own socket), or as the system user when absent. The same
   * (sender, clientMsgId) again answers the stored message. Resolves after
   * commit; the room hears it exactly as a socket send (message:new in seq
   * order on every node).
   */
  async publish(key: ApiKeyActor, roomId: string, { userId, content, clientMsgId, replyToSeq }: ServerPublishRequest): Promise<Message> {
    const sender = userId === undefined ? await this.deps.users.ensureSystemUser() : await this.deps.users.findById(userId);
    if (!sender) throw notFound('user not found');
    if (banInForce(sender)) throw new AppError('banned', 'this user is banned');
    const message = await this.deps.writer.submit({
      roomId,
      userId: sender.id,
      username: sender.username,
      role: sender.role,
      content,
      clientMsgId,
      ...(replyToSeq === undefined ? {} : { replyToSeq }),
      originSocketId: null,
    });
    await this.record(key, {
      action: 'message_publish',
      targetType: 'message',
      targetId: message.id,
      details: { roomId: message.roomId, seq: message.seq, userId: message.userId, clientMsgId },
    });
    return message;
  }

  async presence(key: ApiKeyActor, roomId: string, page: { cursor?: string | undefined; limit: number }): Promise<ServerPresencePage> {
    await this.deps.rooms.anyRoom(roomId);
    const found = await this.deps.presence.page(roomId, page.cursor ?? null, page.limit);
    await this.record(key, { action: 'presence_read', targetType: 'room', targetId: roomId, details: { count: found.count } });
    return found;
  }

  async history(key: ApiKeyActor, roomId: string, query: HistoryQuery & { limit: number }): Promise<HistoryPage> {
    const page = await this.deps.rooms.historyOfAnyRoom(roomId, query);
    await this.record(key, { action: 'history_read', targetType: 'room', targetId: roomId, details: { ...query, returned: page.messages.length } });
    return page;
  }

  async changes(key: ApiKeyActor, roomId: string, query: { after: number; limit: number }): Promise<ChangesPage> {
    const page = await this.deps.rooms.changesOfAnyRoom(roomId, query);
    await this.record(key, { action: 'changes_read', targetType: 'room', targetId: roomId, details: { ...query, returned: page.changes.length } });
    return page;
  }

  private record(key: ApiKeyActor, entry: Omit<AuditInput, 'actorId'>): Promise<void> {
    return this.deps.audit.record({ actorId: null, ...entry, details: auditDetails(key, entry.details) });
  }
}
