import type { MessageStore, RetainedChangesPage } from '../../db/stores/message-store.js';
import type { RoomStore, Viewer } from '../../db/stores/room-store.js';
import { AppError, notFound } from '../errors.js';
import { DEFAULT_CHANGES_PAGE_SIZE, type ChangesPage, type CreateRoomRequest, type HistoryPage, type HistoryQuery, type JoinResult, type Role, type RoomInfo, type RoomsPage } from '../protocol.js';
import type { MemberPublisher } from './membership-ports.js';
import type { RoomAccess } from './room-access.js';

/** The caller, as the rules about rooms need them. */
export interface Actor {
  userId: string;
  role: Role;
}

/**
 * The per-user budgets of what a member can create or request (RateLimits;
 * cluster-wide with Redis). Each throws `rate_limited` once the budget is gone.
 */
export interface RoomLimits {
  consumeRoomCreate(userId: string): Promise<void>;
  consumeHistory(userId: string): Promise<void>;
  consumeJoin(userId: string): Promise<void>;
}

/** One page of the room list: `q` filters by name, `cursor` continues after a previous page. */
export interface RoomListQuery {
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const viewerOf = (actor: Actor): Viewer => ({ userId: actor.userId, isAdmin: actor.role === 'admin' });

/**
 * Retention (issue 19): a catch-up after change `after` is whole only if
 * retention deleted no message whose latest change is above it; otherwise
 * changes after it are gone for good and the client must refetch history.
 */
const changesExpired = (read: RetainedChangesPage, after: number) => after < read.prunedChange;

/** The page of a catch-up, or `changes_expired` (with where the room now starts and stands), or `not_found` for no such room. */
function retainedPage(read: RetainedChangesPage | null, after: number): ChangesPage {
  if (!read) throw notFound('room not found');
  if (changesExpired(read, after)) {
    throw new AppError('changes_expired', 'changes after this point were deleted by retention: refetch history', {
      oldestSeq: read.oldestSeq,
      lastChange: read.page.lastChange,
    });
  }
  return read.page;
}

/** Room rules shared by REST and sockets: who sees, creates and reads what. */
export class RoomService {
  constructor(
    private readonly rooms: RoomStore,
    private readonly messages: MessageStore,
    private readonly access: RoomAccess,
    private readonly limits: RoomLimits,
    /** Tells a room of a first join (a membership change, issue 14). */
    private readonly members: MemberPublisher = { publishMembers: () => {} },
  ) {}

  /** A page of the rooms the actor may see, newest first (so a new room is on the first page). */
  list(actor: Actor, query: RoomListQuery): Promise<RoomsPage> {
    return this.rooms.listVisible(viewerOf(actor), query);
  }

  /**
   * Anyone creates public and private rooms; read-only rooms are for admins.
   * Every creation, by any entry point and any role, spends the creator's
   * budget first: one member created 2,500 rooms in 5 s before.
   */
  async create(actor: Actor, input: CreateRoomRequest): Promise<RoomInfo> {
    const visibility = input.visibility ?? 'public';
    const readOnly = input.readOnly ?? false;
    // Members create private rooms too (issue 14): they invite into them as their owner.
    if (readOnly && actor.role !== 'admin') {
      throw new AppError('forbidden', 'only admins create read-only rooms');
    }
    await this.limits.consumeRoomCreate(actor.userId);
    return this.rooms.create({ name: input.name, visibility, readOnly, createdBy: actor.userId });
  }

  /**
   * A room made by the app's backend (server API, `rooms` scope): it may make
   * any kind of room, as an admin may, and has no creating user, so no
   * member either. Its budget is the key's, spent by the caller.
   */
  createUnowned(input: CreateRoomRequest): Promise<RoomInfo> {
    return this.rooms.create({ name: input.name, visibility: input.visibility ?? 'public', readOnly: input.readOnly ?? false, createdBy: null });
  }

  /** The room if the actor may see it; `not_found` for absent and hidden rooms alike. */
  async get(actor: Actor, roomId: string): Promise<RoomInfo> {
    const room = await this.rooms.findVisible(roomId, viewerOf(actor));
    if (!room) throw notFound('room not found');
    return room;
  }

  /**
   * REST and room:history share this, so they share the user's one budget,
   * spent before the database is asked: 1,050 reads of 200 messages in 8 s
   * slowed everyone else's history 70-fold.
   */
  async history(actor: Actor, roomId: string, query: HistoryQuery & { limit: number }): Promise<HistoryPage> {
    await this.limits.consumeHistory(actor.userId);
    await this.get(actor, roomId);
    return this.messages.history(roomId, query, actor.userId);
  }

  /**
   * A thread (issue 14): the replies to message `seq` of the room, paged as
   * history is, with history's permission and budget. A seq the room never
   * reached is `not_found` (seqs have no gaps, so a seq up to lastSeq is a
   * message, deleted or not: a deleted parent's thread stays readable).
   */
  async replies(actor: Actor, roomId: string, seq: number, query: HistoryQuery & { limit: number }): Promise<HistoryPage> {
    await this.limits.consumeHistory(actor.userId);
    const room = await this.get(actor, roomId);
    if (seq > room.lastSeq) throw notFound('message not found');
    return this.messages.replies(roomId, seq, query);
  }

  /** Any room, whoever may see it, for the app's backend (server API); `not_found` for no such room. */
  async anyRoom(roomId: string): Promise<RoomInfo> {
    const room = await this.rooms.findById(roomId);
    if (!room) throw notFound('room not found');
    return room;
  }

  /** A page of any room's change log, for the app's backend (server API, `history` scope); `not_found` for no such room. */
  async changesOfAnyRoom(roomId: string, query: { after: number; limit: number }): Promise<ChangesPage> {
    return retainedPage(await this.messages.retainedChanges(roomId, query), query.after);
  }

  /** Any room's history, for the app's backend (server API, `history` scope). */
  async historyOfAnyRoom(roomId: string, query: HistoryQuery & { limit: number }): Promise<HistoryPage> {
    await this.anyRoom(roomId);
    return this.messages.history(roomId, query);
  }

  /**
   * A page of the room's change log (issue 13), by the rule and the budget
   * of history (REST `GET /api/rooms/:id/changes` and `room:changes`): a
   * room the actor may not see is `not_found`; `after` beyond the room's
   * last change answers an empty page with `lastChange`; `after` from before
   * what retention kept is `changes_expired` (see retainedPage).
   */
  async changes(actor: Actor, roomId: string, query: { after: number; limit: number }): Promise<ChangesPage> {
    await this.limits.consumeHistory(actor.userId);
    await this.get(actor, roomId);
    return retainedPage(await this.messages.retainedChanges(roomId, query, actor.userId), query.after);
  }

  /**
   * The first page of a room:join with `afterChange`: the changes after it up
   * to the `lastChange` the join read (the socket gets every later one live).
   * The join checked visibility and spent its budget already. From before
   * what retention kept, the join still succeeds, with `changesExpired`
   * instead of a page (the client refetches history; see retainedPage).
   */
  async joinChanges(
    roomId: string,
    afterChange: number,
    lastChange: number,
    viewerId: string | null = null,
  ): Promise<Pick<JoinResult, 'changes' | 'hasMore' | 'members' | 'changesExpired'>> {
    const read = await this.messages.retainedChanges(roomId, { after: afterChange, upTo: lastChange, limit: DEFAULT_CHANGES_PAGE_SIZE }, viewerId);
    if (!read) throw notFound('room not found');
    if (changesExpired(read, afterChange)) return { changesExpired: true };
    const { page } = read;
    return { changes: page.changes, hasMore: page.hasMore, ...(page.members ? { members: page.members } : {}) };
  }

  /**
   * The start of a room:join: spends one of the user's joins (before the
   * work, so a refused join costs as much as one that succeeds), then the
   * room if the actor may see it and join it now (`forbidden` while a kick
   * keeps them out).
   */
  async beginJoin(actor: Actor, roomId: string): Promise<RoomInfo> {
    await this.limits.consumeJoin(actor.userId);
    const room = await this.get(actor, roomId);
    await this.access.assertMayJoin(actor.userId, roomId);
    return room;
  }

  /**
   * For a caller that has just checked visibility (room:join): records the
   * actor as a member and reads the room as it is now, with its change
   * number, in one statement.
   */
  async recordJoin(actor: Actor, roomId: string): Promise<{ room: RoomInfo; lastChange: number }> {
    const joined = await this.rooms.joinAndRead(roomId, actor.userId);
    if (!joined) throw notFound('room not found');
    if (joined.joinedChange) this.members.publishMembers([joined.joinedChange]);
    // Again, now that the socket is in the room: a kick that committed since
    // the first check found the socket there already (and took it out), or
    // it is refused here, so no join slips between a kick and its eviction.
    await this.access.assertMayJoin(actor.userId, roomId);
    return { room: joined.room, lastChange: joined.lastChange };
  }
}
