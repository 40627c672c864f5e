import type { AuditInput } from '../../db/stores/audit-store.js';
import type { MembershipStore } from '../../db/stores/membership-store.js';
import type { UserRecord } from '../../db/stores/user-store.js';
import { AppError, notFound } from '../errors.js';
import type { MemberChange, MembersPage, RoomInfo } from '../protocol.js';
import type { MemberEvictor, MemberPublisher, OnlineReader } from './membership-ports.js';
import type { Actor, RoomService } from './room-service.js';

export interface MembershipDeps {
  store: MembershipStore;
  rooms: RoomService;
  users: { findById(id: string): Promise<UserRecord | null> };
  /** Whether a user's ban holds now (server/auth/ban.ts's rule, passed in: rooms use no other domain folder). */
  banInForce(user: UserRecord): boolean;
  publisher: MemberPublisher;
  eviction: MemberEvictor;
  online: OnlineReader;
  audit: { record(entry: AuditInput): Promise<void> };
  limits: { consumeMembership(userId: string): Promise<void>; consumeAdminAction(adminId: string): Promise<void> };
}

/**
 * Members of rooms (issue 14), one rule for every way in: the room's creator
 * (owner) and admins invite and remove members; a member leaves; any user
 * opens a direct room with another. Every change is a numbered change of the
 * room (the store numbers it in its transaction), published to the room in
 * change order; a removed member's sockets leave the room at once on every
 * node. AdminService (admin routes, server API, kicks) reaches the same
 * `addMember` / `removeMember` / `published` below.
 */
export class MembershipService {
  constructor(private readonly deps: MembershipDeps) {}

  /** POST /api/rooms/:id/members: the owner or an admin makes a user a member. */
  async invite(actor: Actor, roomId: string, userId: string): Promise<void> {
    const room = await this.manageable(actor, roomId);
    await this.spendManaging(actor);
    await this.existingUser(userId);
    await this.addMember(room.id, userId);
    await this.record(actor, 'member_add', roomId, { userId });
  }

  /** DELETE /api/rooms/:id/members/:userId: the owner or an admin ends a membership. */
  async remove(actor: Actor, roomId: string, userId: string): Promise<void> {
    const room = await this.manageable(actor, roomId);
    await this.spendManaging(actor);
    const user = await this.existingUser(userId);
    const outcome = await this.removeMember(room, user);
    await this.record(actor, 'member_remove', roomId, { userId, removed: outcome.removed, sockets: outcome.sockets });
  }

  /** POST /api/rooms/:id/leave: the caller ends their own membership (not of a direct room: its pair is fixed). */
  async leave(actor: Actor, roomId: string): Promise<void> {
    const room = await this.deps.rooms.get(actor, roomId);
    if (room.dm) throw new AppError('forbidden', 'a direct room cannot be left');
    await this.deps.limits.consumeMembership(actor.userId);
    if (!(await this.deps.store.isMember(roomId, actor.userId))) throw notFound('you are not a member of this room');
    const user = await this.existingUser(actor.userId);
    await this.removeMember(room, user);
  }

  /** GET /api/rooms/:id/members: whoever may see the room pages its members, with their online state. */
  async members(actor: Actor, roomId: string, page: { cursor?: string | undefined; limit: number }): Promise<MembersPage> {
    await this.deps.rooms.get(actor, roomId);
    const found = await this.deps.store.page(roomId, page.cursor ?? null, page.limit);
    // Online users in the page's id range: the presence store pages by user id too.
    const online = await this.deps.online.page(roomId, page.cursor ?? null, page.limit * 2 + 20);
    const ids = new Set(online.online.map((o) => o.userId));
    return { members: found.members.map((m) => ({ ...m, online: ids.has(m.userId) })), nextCursor: found.nextCursor };
  }

  /**
   * POST /api/dms: the caller's direct room with `userId`, made on first use.
   * `created` says this call made it (201) rather than found it (200).
   */
  async openDirect(actor: Actor & { username: string }, userId: string): Promise<{ room: RoomInfo; created: boolean }> {
    if (userId === actor.userId) throw new AppError('validation_failed', 'a direct room needs another user', [{ path: 'userId', message: 'must not be your own id' }]);
    await this.deps.limits.consumeMembership(actor.userId);
    const other = await this.deps.users.findById(userId);
    if (!other) throw notFound('user not found');
    if (this.deps.banInForce(other)) throw new AppError('forbidden', 'this user is banned', { reason: 'banned' });
    const { roomId, created } = await this.deps.store.openDirect({ id: actor.userId, username: actor.username }, { id: other.id, username: other.username });
    return { room: await this.deps.rooms.get(actor, roomId), created };
  }

  /** Makes the user a member and tells the room; harmless when they are one. `not_found` for no such room. */
  async addMember(roomId: string, userId: string): Promise<void> {
    const outcome = await this.deps.store.add(roomId, userId);
    if (!outcome) throw notFound('room not found');
    if (outcome.change) this.published(outcome.change);
  }

  /**
   * Ends the membership and tells the room. In a private room a user who is
   * not an admin can no longer see it, so their sockets leave it at once, on
   * every node (after the change is published, so they hear their own
   * `member:left` when they were in the room).
   */
  async removeMember(room: RoomInfo, user: Pick<UserRecord, 'id' | 'role'>): Promise<{ removed: boolean; sockets: number }> {
    const outcome = await this.deps.store.remove(room.id, user.id);
    if (!outcome) throw notFound('room not found');
    if (outcome.change) this.published(outcome.change);
    const sockets = room.visibility === 'private' && user.role !== 'admin' ? await this.deps.eviction.evict(user.id, room.id) : 0;
    return { removed: outcome.removed === true, sockets };
  }

  /** A membership change committed elsewhere in the domain (a kick, a first join): to the room's sockets. */
  published(change: MemberChange | null | undefined): void {
    if (change) this.deps.publisher.publishMembers([change]);
  }

  /**
   * An admin's invite or removal is an admin change, as it was before owners
   * could make them (ADMIN_ACTION_RATE_LIMIT, shared with /admin and the admin
   * routes); an owner's spends their MEMBERSHIP_RATE_LIMIT.
   */
  private spendManaging(actor: Actor): Promise<void> {
    return actor.role === 'admin' ? this.deps.limits.consumeAdminAction(actor.userId) : this.deps.limits.consumeMembership(actor.userId);
  }

  /** The room, if the actor may manage its members: its owner or an admin; not a direct room. */
  private async manageable(actor: Actor, roomId: string): Promise<RoomInfo> {
    const room = await this.deps.rooms.get(actor, roomId);
    if (room.dm) throw new AppError('forbidden', 'the members of a direct room are its pair');
    if (actor.role !== 'admin' && (await this.deps.store.ownerOf(roomId)) !== actor.userId) {
      throw new AppError('forbidden', "only the room's owner and admins manage its members");
    }
    return room;
  }

  private async existingUser(userId: string): Promise<UserRecord> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw notFound('user not found');
    return user;
  }

  private record(actor: Actor, action: 'member_add' | 'member_remove', roomId: string, details: Record<string, unknown>): Promise<void> {
    return this.deps.audit.record({ actorId: actor.userId, action, targetType: 'room', targetId: roomId, details });
  }
}
