// Read state (docs/sdk.md, "Read state and unread badges").
import type { MentionEvent, ReadReceiptEvent, ReadResult, ReadUpdatedEvent } from './protocol.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import type { Connection, ServerEvent } from './connection.js';
import { Emitter } from './emitter.js';
import { isTransient, localError, localReason, RoomcastError, toRoomcastError } from './errors.js';
import { Gate } from './gate.js';
import { newClientMsgId } from './ids.js';
import { Outbox } from './outbox.js';
import type { HistoryPage, HistoryQuery, MemberUpdate, Message, OnlinePage, OnlineUser, PresenceEvent, RoomInfo, RoomKickedEvent, RoomMutedEvent, TypingEvent } from './protocol.js';
import { MyReactions, type ReactionUpdate } from './reactions.js';
import { RoomSequencer, type RetentionPoint, type ViewPosition } from './room-sequencer.js';
import type { MessageDeleted } from './seq-release.js';
import { Thread } from './thread.js';

/** Options of `Room.send`. */
export interface SendOptions {
  /** Makes the message a reply to the message of this room with that seq (it must exist and not be deleted: `not_found` otherwise). */
  replyToSeq?: number;
}

/** Events of a joined room. */
export interface RoomEvents {
  /**
   * Each message of the room exactly once, in seq order, with no gap (the
   * app's own sends included), in its latest state as far as the client
   * knows: a message edited or deleted before the client saw it comes edited,
   * or as a tombstone (`deleted: true`, content ''), as history shows it.
   */
  message: Message;
  /**
   * A message the app has seen was edited (its newer state; `change` grows
   * with every change of the message), with its `reactions` (`me` for the
   * signed-in user).
   */
  updated: Message;
  /** A reaction was added to or removed from a message the app has seen; `reactions` are its counts after it, `me` kept by the SDK. */
  reaction: ReactionUpdate;
  /**
   * A message the app has seen was deleted (it stays in history with
   * `deleted: true`). With `message` (a deletion caught up from a page, not
   * live), that is the tombstone as history shows it, with changes the app
   * missed before the delete (a parent's `replyCount`): replace the app's copy
   * with it; without, the app's copy with `deleted: true`, content '' and no
   * reactions is the tombstone.
   */
  deleted: MessageDeleted;
  /** Someone in the room started or stopped typing. */
  typing: TypingEvent;
  /**
   * A user came online in the room or left it (first socket joined / last
   * socket left). In big rooms the server coalesces these into `presence:batch`
   * events; the SDK hands them out here one user at a time all the same.
   */
  presence: PresenceEvent;
  /** The room's settings changed (name, readOnly, archived). */
  roomUpdated: RoomInfo;
  /**
   * An admin kicked the user from the room: the handle is closed right after
   * (no rejoin on reconnect; queued sends fail with `forbidden`, `details.reason: "kicked"`).
   * `client.join(roomId)` works again once `until` has passed (null: at once).
   */
  kicked: RoomKickedEvent;
  /** An admin muted the user in this room until `until`, or lifted the mute (`until: null`); see `mutedUntil`. */
  muted: RoomMutedEvent;
  /** The user's read seq of this room moved on another device (or through REST); see `readSeq`. */
  readUpdated: ReadUpdatedEvent;
  /** Someone read the room up to `readSeq` (rooms with `readReceipts` on; at most one per user a second). */
  receipt: ReadReceiptEvent;
  /** A new message of this room mentions the user (the message itself comes as `message`, with `mentions`). */
  mention: MentionEvent;
  /**
   * Issue 14: a user became a member of this private room (invited, or a
   * first join), in change order with the messages, live or replayed by
   * catch-up after a reconnect: each change once.
   */
  memberJoined: MemberUpdate;
  /** Issue 14: a member of this private room left, was removed or kicked (as `memberJoined`). */
  memberLeft: MemberUpdate;
  /**
   * Retention (issue 19): the client's position in the room was from before
   * what the server's retention kept, so changes it missed are gone for good.
   * The room goes on (new messages still come as `message`, from the first
   * seq the room holds), but edits and deletes of messages the app holds may
   * have been missed and messages below `oldestSeq` no longer exist: drop
   * those and refetch what the view shows with `room.history()`. Not an error.
   */
  resync: RetentionPoint;
  /** A background step failed (a gap could not be filled yet, the room became unreachable). */
  error: RoomcastError;
}

/** What a Room needs from its client. */
export interface RoomDeps {
  connection: Connection;
  fetchHistory(roomId: string, query: HistoryQuery): Promise<HistoryPage>;
  /** A page of a thread (`GET /api/rooms/:id/messages/:seq/replies`). */
  fetchReplies(roomId: string, seq: number, query: HistoryQuery): Promise<HistoryPage>;
  maxSendAttempts: number;
  markRead(roomId: string, seq: number): Promise<ReadResult>;
  /** The room is gone (left, or no longer reachable): drop it from the client. */
  onGone(room: Room): void;
  /** The signed-in user's id (null before sign-in): whose reactions are `me`. */
  userId(): string | null;
}

const CATCH_UP_PAGE = 200;
const REFILL_DELAY_MS = 1_000;

/**
 * A joined room. Get one with `await client.join(roomId)`. It stays joined
 * across reconnects: after each one it re-joins with `afterChange: lastChange`
 * and replays every change it missed (new messages, edits, deletes) before
 * live events go on, so `message` listeners see every message once, in
 * order, and `updated`/`deleted` every later change once, in order.
 */
export class Room extends Emitter<RoomEvents> {
  #info: RoomInfo | null = null;
  #online: OnlineUser[] = [];
  #onlineCount = 0;
  #mutedUntil: string | null = null;
  #readSeq = 0;
  #gone: RoomcastError | null = null;
  #resumeAttempt = 0;
  #started = false;
  readonly #ready = new Gate();
  readonly #sequencer: RoomSequencer;
  readonly #outbox: Outbox;
  readonly #reactions: MyReactions;
  readonly #joined: Promise<void>;
  #settleJoined!: { resolve(): void; reject(err: RoomcastError): void };

  /** @internal Created by the client; apps call `client.join(roomId)`. */
  constructor(
    /** The room id. */
    readonly id: string,
    private readonly deps: RoomDeps,
    position: ViewPosition = { lastSeq: null, lastChange: null },
  ) {
    super();
    this.#joined = new Promise<void>((resolve, reject) => {
      this.#settleJoined = { resolve, reject };
    });
    this.#joined.catch(() => {});
    this.#reactions = new MyReactions(deps.userId);
    this.#sequencer = new RoomSequencer(
      {
        member: (change) => this.emit(change.kind === 'joined' ? 'memberJoined' : 'memberLeft', change),
        sink: {
          message: (message) => {
            this.#reactions.learn(message);
            this.emit('message', message);
          },
          updated: (message) => {
            this.#reactions.learn(message);
            this.emit('updated', message);
          },
          deleted: (event) => this.emit('deleted', event),
          reaction: (event) => this.emit('reaction', this.#reactions.apply(event)),
        },
        fetchChanges: (after) => deps.connection.request('room:changes', { roomId: id, after, limit: CATCH_UP_PAGE }),
        fetchHistory: (seq) => deps.connection.request('room:history', { roomId: id, afterSeq: seq, limit: CATCH_UP_PAGE }),
        onFillError: (err) => this.#onFillError(err),
        resync: (point) => this.emit('resync', point),
      },
      position,
    );
    this.#outbox = new Outbox({
      ready: () => this.#ready.wait(),
      send: async (content, clientMsgId, replyToSeq) =>
        (await deps.connection.request('message:send', { roomId: id, content, clientMsgId, ...(replyToSeq === undefined ? {} : { replyToSeq }) })).message,
      // The sender gets no message:new for its own message: the ack's change counts as applied.
      acked: (message) => this.#sequencer.acceptMessage(message),
      maxAttempts: deps.maxSendAttempts,
      newId: newClientMsgId,
    });
  }

  /** The room as the server last described it (null until the first join answer). */
  get info(): RoomInfo | null {
    return this.#info;
  }

  /**
   * Who is online in the room now, as far as the client knows: the join
   * answer lists the first users only (the server's JOIN_ONLINE_LIST_LIMIT,
   * default 100), kept up to date by presence events; `onlineUsers()` pages
   * through all of them.
   */
  get online(): readonly OnlineUser[] {
    return this.#online;
  }

  /** How many users are online in the room (all of them, also those `online` does not list). */
  get onlineCount(): number {
    return this.#onlineCount;
  }

  /**
   * A page of the room's online users, ordered by userId: pass the previous
   * page's `nextCursor` for the next one (null: that was the last).
   */
  async onlineUsers(options: { cursor?: string; limit?: number } = {}): Promise<OnlinePage> {
    await this.#whenReady();
    const { online, nextCursor } = await this.deps.connection.request('room:online', { roomId: this.id, ...options });
    return { online, nextCursor };
  }

  /** When the user's mute in this room ends, as the server last said (`room:muted`); null: not muted as far as this handle heard. */
  get mutedUntil(): string | null {
    return this.#mutedUntil !== null && Date.parse(this.#mutedUntil) > Date.now() ? this.#mutedUntil : null;
  }

  /** The seq of the last message handed to `message` listeners (null before the first join answer). */
  get lastSeq(): number | null {
    return this.#sequencer.lastSeq;
  }

  /** The user's last-read seq of this room as far as the handle knows (join answer, `markRead`, `readUpdated`); 0: nothing read. */
  get readSeq(): number {
    return this.#readSeq;
  }

  /**
   * Marks the room read up to `seq` (0..lastSeq; a lower seq than the stored
   * one is ignored) and resolves with the stored read seq. The user's other
   * devices hear `readUpdated`.
   * @example
   * room.on('message', (m) => { if (document.visibilityState === 'visible') void room.markRead(m.seq); });
   */
  async markRead(seq: number): Promise<number> {
    const { readSeq } = await this.deps.markRead(this.id, seq);
    this.#readSeq = Math.max(this.#readSeq, readSeq);
    return readSeq;
  }

  /**
   * The room's change number the app's view is at: every change up to it was
   * handed to the listeners (null before the first join answer). An app that
   * persists its view stores it with `lastSeq` and resumes with
   * `client.join(roomId, { afterSeq, afterChange })`.
   */
  get lastChange(): number | null {
    return this.#sequencer.lastChange;
  }

  /**
   * Adds the user's `emoji` (one emoji, or a `:name:`) to a message; resolves
   * with the message and its `reactions` as the user sees them. Already
   * there: nothing changes. Listeners hear the change as `reaction`.
   * @example
   * room.on('reaction', (r) => render(r.messageId, r.reactions));
   * await room.react(message.id, '👍');
   */
  async react(messageId: string, emoji: string): Promise<Message> {
    const { message } = await this.deps.connection.request('message:react', { messageId, emoji });
    this.#reactions.learn(message);
    return message;
  }

  /**
   * Removes the user's `emoji` from a message (not there: nothing changes).
   * @example
   * await room.unreact(message.id, '👍');
   */
  async unreact(messageId: string, emoji: string): Promise<Message> {
    const { message } = await this.deps.connection.request('message:unreact', { messageId, emoji });
    this.#reactions.learn(message);
    return message;
  }

  /** Whether the room is usable (joined, not left). */
  get active(): boolean {
    return !this.#gone;
  }

  /**
   * Sends a message; resolves once, with the stored message. Sent in order of
   * calls; queued while offline; retried with the same clientMsgId after an
   * ack timeout or a reconnect. Rejects with a RoomcastError when the server
   * refuses it (`read_only`, `muted`, `rate_limited`, …) or it cannot be sent.
   * `replyToSeq` makes it a reply (see `thread`).
   * @example
   * const question = await room.send('lunch?');
   * await room.send('yes', { replyToSeq: question.seq });
   */
  send(content: string, options: SendOptions = {}): Promise<Message> {
    if (typeof content !== 'string' || content.length === 0) {
      return Promise.reject(new RoomcastError('validation_failed', 'content must be a non-empty string'));
    }
    return this.#outbox.push(content, options.replyToSeq);
  }

  /**
   * A thread handle: the replies to message `parentSeq` of this room, its
   * latest page loaded, then every live reply in seq order (also those
   * replayed after a reconnect), and the parent's `replyCount` kept current.
   * @example
   * const thread = await room.thread(question.seq);
   * thread.on('reply', (m) => show(m));
   * thread.on('parent', (p) => badge(p.replyCount));
   */
  async thread(parentSeq: number, options: { limit?: number } = {}): Promise<Thread> {
    const parentPage = await this.history({ afterSeq: parentSeq - 1, limit: 1 });
    const parent = parentPage.messages.find((m) => m.seq === parentSeq) ?? null;
    const thread = new Thread(
      parentSeq,
      {
        on: (event, listener) => this.on(event, listener),
        fetchReplies: (query) => this.deps.fetchReplies(this.id, parentSeq, query),
        sendReply: (content) => this.send(content, { replyToSeq: parentSeq }),
      },
      parent,
    );
    await thread.loadOlder(options.limit);
    return thread;
  }

  /** How many sends are waiting for their ack (queued offline included). */
  get pendingSends(): number {
    return this.#outbox.size;
  }

  /** Edits a message (its author, or an admin); `updated` listeners get the change too (once). */
  async edit(messageId: string, content: string): Promise<Message> {
    await this.#whenReady();
    const { message } = await this.deps.connection.request('message:edit', { messageId, content });
    this.#sequencer.acceptMessage(message);
    return message;
  }

  /** Deletes a message (its author, or an admin). */
  async delete(messageId: string): Promise<void> {
    await this.#whenReady();
    await this.deps.connection.request('message:delete', { messageId });
  }

  /**
   * A page of history, oldest first: `beforeSeq` pages back from a seq (use the
   * first message's seq of the previous page), `afterSeq` forward; neither
   * gives the latest `limit` (1-200, default 50).
   */
  history(query: HistoryQuery = {}): Promise<HistoryPage> {
    return this.deps.fetchHistory(this.id, query);
  }

  /** Tells the room the user is (or stopped) typing; a no-op while offline. */
  async setTyping(typing: boolean): Promise<void> {
    if (!this.#ready.isOpen) return;
    try {
      await this.deps.connection.request('typing', { roomId: this.id, typing });
    } catch (err) {
      if (localReason(err) !== 'disconnected') throw err;
    }
  }

  /** Leaves the room: no more events; sends still queued are rejected. */
  async leave(): Promise<void> {
    if (this.#gone) return;
    this.close(localError('left', 'the room was left'));
    try {
      if (this.deps.connection.socketId) await this.deps.connection.request('room:leave', { roomId: this.id });
    } catch (err) {
      if (localReason(err) !== 'disconnected') throw err;
    }
  }

  /** @internal Resolves after the first successful join; rejects if the room cannot be joined. */
  joined(): Promise<void> {
    return this.#joined;
  }

  /** @internal The connection is up (again): join, catch up, let sends go. */
  async resume(): Promise<void> {
    if (this.#gone) return;
    const epoch = this.deps.connection.epoch;
    try {
      const afterChange = this.#sequencer.lastChange;
      const joined = await this.deps.connection.request('room:join', { roomId: this.id, ...(afterChange === null ? {} : { afterChange }) });
      if (this.#gone || epoch !== this.deps.connection.epoch) return;
      const { room, online, onlineCount, lastChange, changes, hasMore, members, changesExpired } = joined;
      this.#resumeAttempt = 0;
      this.#info = room;
      this.#readSeq = Math.max(this.#readSeq, room.readSeq ?? 0);
      this.#online = online;
      // A server before onlineCount existed listed everyone.
      this.#onlineCount = onlineCount ?? online.length;
      this.#ready.open();
      // The position is the join's from now on, even if the socket drops before the changes are handed out.
      this.#sequencer.anchor({ lastSeq: room.lastSeq, lastChange });
      if (!this.#started) {
        // The first answer: let `await client.join()` return and the app add its listeners before any change is handed out.
        this.#settleJoined.resolve();
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#gone || epoch !== this.deps.connection.epoch) return;
        this.#started = true;
      }
      this.#sequencer.start({
        lastSeq: room.lastSeq,
        lastChange,
        ...(changes ? { changes, hasMore } : {}),
        ...(members ? { members } : {}),
        ...(changesExpired ? { changesExpired, oldestSeq: room.oldestSeq ?? 1 } : {}),
      });
    } catch (err) {
      if (this.#gone || epoch !== this.deps.connection.epoch) return;
      const error = toRoomcastError(err);
      const reason = localReason(error);
      if (reason === 'disconnected') return; // the next connection resumes
      if (reason === 'timeout' || isTransient(error) || error.code === 'token_expired' || error.code === 'rate_limited') {
        setTimeout(() => {
          if (epoch === this.deps.connection.epoch) void this.resume();
        }, backoffDelay(this.#resumeAttempt++, DEFAULT_BACKOFF));
        return;
      }
      this.emit('error', error);
      this.close(error);
    }
  }

  /** @internal The connection dropped: hold sends until the next join. */
  suspend(): void {
    this.#ready.shut();
    this.#sequencer.suspend();
  }

  /** @internal A /chat event for this room. */
  dispatch(event: ServerEvent): void {
    if (this.#gone) return;
    switch (event.event) {
      case 'message:new':
        return this.#sequencer.acceptMessage(event.payload);
      case 'message:updated':
        // A broadcast: its reactions' `me` is nobody's; the SDK knows the user's.
        return this.#sequencer.acceptMessage(this.#reactions.own(event.payload));
      case 'message:deleted':
        return this.#sequencer.acceptDeleted(event.payload);
      case 'message:reaction':
        return this.#sequencer.acceptReaction(event.payload);
      case 'member:joined':
      case 'member:left':
        return this.#sequencer.acceptMember({ ...event.payload, kind: event.event === 'member:joined' ? 'joined' : 'left' });
      case 'typing':
        return this.emit('typing', event.payload);
      case 'presence':
        return this.#presence(event.payload);
      case 'presence:batch': {
        const { roomId, joined, left } = event.payload;
        for (const user of left) this.#presence({ roomId, ...user, online: false });
        for (const user of joined) this.#presence({ roomId, ...user, online: true });
        return;
      }
      case 'room:updated':
        this.#info = event.payload;
        return this.emit('roomUpdated', event.payload);
      case 'read:updated':
        this.#readSeq = Math.max(this.#readSeq, event.payload.readSeq);
        return this.emit('readUpdated', event.payload);
      case 'read:receipt':
        return this.emit('receipt', event.payload);
      case 'mention':
        return this.emit('mention', event.payload);
      case 'room:muted':
        this.#mutedUntil = event.payload.until;
        return this.emit('muted', event.payload);
      case 'room:kicked': {
        const { until } = event.payload;
        this.emit('kicked', event.payload);
        // Closed, so the client forgets it: a reconnect does not join it again.
        return this.close(new RoomcastError('forbidden', 'an admin kicked you from this room', { reason: 'kicked', until }));
      }
      default:
        return;
    }
  }

  /** @internal Ends the room: queued sends and waiters are rejected with `err`. */
  close(err: RoomcastError): void {
    if (this.#gone) return;
    this.#gone = err;
    this.#sequencer.stop();
    this.#ready.fail(err);
    this.#outbox.close(err);
    this.#settleJoined.reject(err);
    this.deps.onGone(this);
  }

  #presence(event: PresenceEvent): void {
    const { userId, username, online } = event;
    const known = this.#online.some((u) => u.userId === userId);
    this.#online = this.#online.filter((u) => u.userId !== userId);
    if (online) this.#online.push({ userId, username });
    // The list may be partial: a user not in it still changes the count.
    if (online && !known) this.#onlineCount++;
    else if (!online && this.#onlineCount > 0 && (known || this.#online.length < this.#onlineCount)) this.#onlineCount--;
    this.emit('presence', event);
  }

  async #whenReady(): Promise<void> {
    if (this.#gone) throw this.#gone;
    await this.#ready.wait();
  }

  #onFillError(err: unknown): void {
    if (localReason(err) === 'disconnected' || this.#gone) return; // resume() catches up
    this.emit('error', toRoomcastError(err));
    const epoch = this.deps.connection.epoch;
    setTimeout(() => {
      if (!this.#gone && epoch === this.deps.connection.epoch) void this.#sequencer.fill();
    }, REFILL_DELAY_MS);
  }
}
