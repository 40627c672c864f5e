import type { AuditInput, AuditStore } from '../../db/stores/audit-store.js';
import type { KickStore } from '../../db/stores/kick-store.js';
import type { MuteStore } from '../../db/stores/mute-store.js';
import type { RoomStore } from '../../db/stores/room-store.js';
import type { TokenStore } from '../../db/stores/token-store.js';
import { publicUser, type UserRecord, type UserStore } from '../../db/stores/user-store.js';
import type { SessionEnder } from '../auth/auth-service.js';
import { withCurrentBan } from '../auth/ban.js';
import { AppError, notFound } from '../errors.js';
import type {
  AuditPage,
  BanRequest,
  BroadcastRequest,
  BroadcastResult,
  KickRequest,
  MuteRequest,
  Room,
  StatsResult,
  UpdateRoomRequest,
  UpdateUserRequest,
  User,
  UsersPage,
} from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { MembershipService } from '../rooms/membership-service.js';
import type { Actor } from '../rooms/room-service.js';
import { auditDetails, type AdminActor } from './actors.js';
import type { Broadcaster, MessageDeletion, RoomEvictor, StatsSource } from './admin-ports.js';

export interface AdminDeps {
  users: UserStore;
  tokens: TokenStore;
  rooms: RoomStore;
  mutes: MuteStore;
  kicks: KickStore;
  audit: AuditStore;
  messages: MessageDeletion;
  sessions: SessionEnder;
  eviction: RoomEvictor;
  broadcaster: Broadcaster;
  stats: StatsSource;
  /** How long a kick keeps its user out when the kick does not say (KICK_BLOCK_SECONDS); 0: it only removes. */
  kickBlockSeconds: number;
  /** Membership changes (issue 14): numbered, told to the room, evicting removed members. */
  memberships: MembershipService;
  /** ADMIN_ACTION_RATE_LIMIT: spent by each change an admin makes. */
  limits: Pick<RateLimits, 'consumeAdminAction'>;
}

export type { AdminActor, ApiKeyActor, OperatorActor } from './actors.js';

/**
 * The admin use cases, shared by the REST routes and the /admin events: each
 * method checks its targets, changes the stores, tells the sockets concerned
 * and writes the audit entry. Callers have already checked the admin role
 * (or the server API key's scope).
 * Each change first spends one of the admin's actions (ADMIN_ACTION_RATE_LIMIT,
 * here so that REST and /admin share one budget); the operator at the shell
 * and a server API key have no user behind them: a key spends its own budget
 * (API_KEY_RATE_LIMIT) per call, the operator is not limited.
 */
export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  async listUsers(query: { q?: string; limit: number; cursor?: string }): Promise<UsersPage> {
    const page = await this.deps.users.search(query);
    return { users: page.users.map((user) => publicUser(withCurrentBan(user), true)), nextCursor: page.nextCursor };
  }

  /**
   * Changes role and/or ban. Either one revokes the user's refresh tokens and
   * ends every socket of theirs (ban wins as the reason when both change).
   */
  async updateUser(actor: AdminActor, userId: string, patch: UpdateUserRequest): Promise<User> {
    await this.spend(actor);
    const before = await this.user(userId);
    const roleChanged = patch.role !== undefined && patch.role !== before.role;
    if (actor.userId === userId && (patch.banned === true || (roleChanged && patch.role !== 'admin'))) {
      throw new AppError('forbidden', 'you cannot ban or demote yourself');
    }
    const bannedUntil = patch.banned === true && patch.bannedUntil !== undefined ? new Date(patch.bannedUntil) : null;
    const after = (await this.deps.users.update(userId, { role: patch.role, banned: patch.banned, bannedUntil })) ?? this.gone();

    if (patch.banned === true || roleChanged) {
      await this.deps.tokens.revokeAllForUser(userId);
      this.deps.sessions.endUserSessions(userId, patch.banned === true ? 'banned' : 'role_changed');
    }
    if (patch.banned !== undefined) {
      // A timed ban says its end; it is lifted (and audited as `unban`) by BanExpiry.
      const details = patch.banned ? { until: bannedUntil?.toISOString() ?? null } : {};
      await this.record(actor, { action: patch.banned ? 'ban' : 'unban', targetType: 'user', targetId: userId, details });
    }
    if (roleChanged) {
      await this.record(actor, { action: 'role_change', targetType: 'user', targetId: userId, details: { from: before.role, to: after.role } });
    }
    return publicUser(withCurrentBan(after), true);
  }

  /** admin:ban; `minutes` (with banned: true) makes the ban lift by itself. */
  async setBanned(actor: AdminActor, { userId, banned, minutes }: BanRequest): Promise<User> {
    const bannedUntil = banned && minutes !== undefined ? new Date(Date.now() + minutes * 60_000).toISOString() : undefined;
    return this.updateUser(actor, userId, bannedUntil === undefined ? { banned } : { banned, bannedUntil });
  }

  /** Sends `system:broadcast` to every /chat socket, or to one room's; answers how many were targeted. */
  async broadcast(actor: Actor, { content, roomId }: BroadcastRequest): Promise<BroadcastResult> {
    await this.spend(actor);
    if (roomId !== undefined) await this.room(roomId);
    const delivered = await this.deps.broadcaster.send(content, roomId ?? null);
    await this.record(actor, {
      action: 'broadcast',
      targetType: roomId ? 'room' : 'broadcast',
      targetId: roomId ?? 'all',
      details: { content, roomId: roomId ?? null, delivered },
    });
    return { delivered };
  }

  /**
   * Removes the user from the room: the membership ends (so a private room is
   * gone for them and `joined` is false), and for `minutes` (default
   * KICK_BLOCK_SECONDS; 0 only removes) they may neither join it again nor
   * send to it, on every node (the block is in the database). Their sockets in
   * the room get `room:kicked` and leave it, on every node.
   */
  async kick(actor: Actor, { userId, roomId, minutes }: KickRequest): Promise<void> {
    await this.spend(actor);
    await Promise.all([this.user(userId), this.room(roomId)]);
    const seconds = minutes === undefined ? this.deps.kickBlockSeconds : minutes * 60;
    const until = seconds > 0 ? new Date(Date.now() + seconds * 1000) : null;
    const { removed, change } = await this.deps.kicks.kick(roomId, userId, until);
    this.deps.memberships.published(change);
    const sockets = await this.deps.eviction.evict(userId, roomId, { roomId, until: until?.toISOString() ?? null });
    await this.record(actor, {
      action: 'kick',
      targetType: 'user',
      targetId: userId,
      details: { roomId, sockets, membershipRemoved: removed, until: until?.toISOString() ?? null },
    });
  }

  /** Mutes the user in the room for `minutes`; 0 lifts the mute. The user's sockets hear it (`room:muted`). */
  async mute(actor: Actor, { userId, roomId, minutes }: MuteRequest): Promise<void> {
    await this.spend(actor);
    await Promise.all([this.user(userId), this.room(roomId)]);
    await this.deps.mutes.set(roomId, userId, minutes);
    const expiresAt = minutes === 0 ? null : new Date(Date.now() + minutes * 60_000).toISOString();
    this.deps.broadcaster.userMuted(userId, { roomId, until: expiresAt });
    await this.record(actor, { action: 'mute', targetType: 'user', targetId: userId, details: { roomId, minutes, expiresAt } });
  }

  /** Soft-deletes a message; MessageService tells the room and audits deletions by admins. */
  async deleteMessage(actor: Actor, messageId: string): Promise<void> {
    await this.spend(actor);
    await this.deps.messages.delete(actor, messageId);
  }

  auditLog(query: { limit: number; cursor?: string }): Promise<AuditPage> {
    return this.deps.audit.list(query);
  }

  stats(): Promise<StatsResult> {
    return this.deps.stats.collect();
  }

  /** Renames, (un)sets read-only, (un)archives a room or switches its read receipts, and tells its sockets with `room:updated`. */
  async updateRoom(actor: AdminActor, roomId: string, patch: UpdateRoomRequest): Promise<Room> {
    await this.spend(actor);
    const room = await this.deps.rooms.update(roomId, patch);
    if (!room) throw notFound('room not found');
    this.deps.broadcaster.roomUpdated(room);
    await this.record(actor, { action: 'room_update', targetType: 'room', targetId: roomId, details: { ...patch } });
    return room;
  }

  /** Makes the user a member (the way into a private room); adding twice is harmless. */
  async addMember(actor: AdminActor, roomId: string, userId: string): Promise<void> {
    await this.spend(actor);
    await Promise.all([this.room(roomId), this.user(userId)]);
    await this.deps.memberships.addMember(roomId, userId);
    await this.record(actor, { action: 'member_add', targetType: 'room', targetId: roomId, details: { userId } });
  }

  /**
   * Ends the membership. In a private room a member who is not an admin can
   * no longer see it, so their sockets leave it at once, on every node.
   */
  async removeMember(actor: AdminActor, roomId: string, userId: string): Promise<void> {
    await this.spend(actor);
    const [room, user] = await Promise.all([this.room(roomId), this.user(userId)]);
    const { removed, sockets } = await this.deps.memberships.removeMember(room, user);
    await this.record(actor, { action: 'member_remove', targetType: 'room', targetId: roomId, details: { userId, removed, sockets } });
  }

  /**
   * Ends every socket of the user, on every node (`session:revoked` with
   * `kicked`); their logins stay, so they may connect again.
   */
  async endSessions(actor: AdminActor, userId: string): Promise<void> {
    await this.spend(actor);
    await this.user(userId);
    this.deps.sessions.endUserSessions(userId, 'kicked');
    await this.record(actor, { action: 'sessions_end', targetType: 'user', targetId: userId, details: {} });
  }

  private async spend(actor: AdminActor): Promise<void> {
    if (actor.userId !== null) await this.deps.limits.consumeAdminAction(actor.userId);
  }

  private async user(userId: string): Promise<UserRecord> {
    return (await this.deps.users.findById(userId)) ?? this.gone();
  }

  private async room(roomId: string): Promise<Room> {
    const room = await this.deps.rooms.findById(roomId);
    if (!room) throw notFound('room not found');
    return room;
  }

  private gone(): never {
    throw notFound('user not found');
  }

  private record(actor: AdminActor, entry: Omit<AuditInput, 'actorId'>): Promise<void> {
    return this.deps.audit.record({ actorId: actor.userId, ...entry, details: auditDetails(actor, entry.details) });
  }
}
