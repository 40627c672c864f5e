// An app's view of one room built only from the SDK's room events
// (`message`, `updated`, `deleted`, `reaction`, and the membership changes
// `memberJoined` / `memberLeft` of issue 14), as a chat UI builds it. It
// records every event that breaks the SDK's promise: a new message that is
// not the next seq, a change of a message never shown, a change that is not
// newer than the one shown (doubled or backwards), or a membership change
// that is not newer than the last one, or does not change the member set.
import type { MemberUpdate, Message, MessageDeleted, Room } from '../../client-sdk/src/index.js';

/**
 * A message as two views of it must agree. Reactions compare by their
 * counts: `me` is each reader's own. A tombstone compares whole (editedAt,
 * replyCount and lastReplyAt included): a live `deleted` comes after every
 * earlier change of the message, and a caught-up one carries the tombstone.
 */
export function comparable(m: Message): Message {
  return m.reactions ? { ...m, reactions: m.reactions.map((r) => ({ ...r, me: false })) } : m;
}


/**
 * What differs between a view's messages and history's (both `comparable`,
 * seq order): seqs only one side has, and per seq the fields that differ
 * (view value -> history value). At most `limit` entries, then a count.
 */
export function describeDifference(view: readonly Message[], history: readonly Message[], limit = 8): string {
  const bySeq = (list: readonly Message[]) => new Map(list.map((m) => [m.seq, m]));
  const mine = bySeq(view);
  const theirs = bySeq(history);
  const seqs = [...new Set([...mine.keys(), ...theirs.keys()])].sort((a, b) => a - b);
  const short = (value: unknown) => {
    const text = JSON.stringify(value) ?? 'undefined';
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  const found: string[] = [];
  for (const seq of seqs) {
    const a = mine.get(seq);
    const b = theirs.get(seq);
    if (!a) found.push(`s${seq} missing from the view (history: c${b!.change}${b!.deleted ? ' deleted' : ''})`);
    else if (!b) found.push(`s${seq} only in the view (c${a.change}${a.deleted ? ' deleted' : ''})`);
    else {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof Message)[];
      const fields = keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k} ${short(a[k])} -> ${short(b[k])}`);
      if (fields.length) found.push(`s${seq}: ${fields.join(', ')}`);
    }
  }
  const range = (list: readonly Message[]) => (list.length ? `s${list[0]!.seq}..s${list.at(-1)!.seq}` : 'none');
  const head = `view ${view.length} messages (${range(view)}), history ${history.length} (${range(history)})`;
  if (found.length === 0) return `${head}; the messages agree`;
  return `${head}; ${found.slice(0, limit).join('; ')}${found.length > limit ? `; and ${found.length - limit} more` : ''}`;
}

export class RoomView {
  readonly bySeq = new Map<number, Message>();
  readonly violations: string[] = [];
  /** The room's members (user ids) as the view knows them: seeded, then kept by membership changes. */
  readonly members = new Set<string>();
  /** How many events the view applied. */
  events = 0;
  #last: number | null = null;
  /** The change number of the last membership change applied. */
  #lastMember = 0;
  /** The last events, for a violation's message. */
  readonly #trace: string[] = [];

  /** Starts from messages the app already has (loaded from history), oldest first. */
  seed(messages: readonly Message[]): void {
    for (const m of messages) this.bySeq.set(m.seq, m);
    if (messages.length) this.#last = messages.at(-1)!.seq;
  }

  /** Starts from the members the app already has (GET /api/rooms/:id/members) as of change `change`. */
  seedMembers(userIds: readonly string[], change: number): void {
    for (const id of userIds) this.members.add(id);
    this.#lastMember = change;
  }

  /** Feeds this view from `room`'s events; returns the unsubscribe. */
  attach(room: Room): () => void {
    this.#note(`attach(lastSeq ${room.lastSeq}, lastChange ${room.lastChange})`);
    const offs = [
      room.on('message', (m) => this.message(m)),
      room.on('updated', (m) => this.updated(m)),
      room.on('deleted', (e) => this.deleted(e)),
      room.on('reaction', (e) => this.#change('reaction', e.seq, e.change, (old) => ({ ...old, change: e.change, reactions: e.reactions }))),
      room.on('memberJoined', (e) => this.member(e)),
      room.on('memberLeft', (e) => this.member(e)),
    ];
    return () => offs.forEach((off) => off());
  }

  message(m: Message): void {
    this.events++;
    this.#note(`message s${m.seq} c${m.change}${m.deleted ? ' deleted' : ''}${m.replyToSeq ? ` reply to s${m.replyToSeq}` : ''}${m.replyCount ? ` replies ${m.replyCount}` : ''}`);
    // The first message shown may follow messages from before the view; each later one is the next seq.
    if (this.#last !== null && m.seq !== this.#last + 1) this.#violation(`message seq ${m.seq} after ${this.#last}`);
    if (this.bySeq.has(m.seq)) this.#violation(`message seq ${m.seq} shown twice`);
    this.#last = m.seq;
    this.bySeq.set(m.seq, m);
  }

  updated(m: Message): void {
    this.#change(`updated${m.replyCount ? ` replies ${m.replyCount}` : ''}`, m.seq, m.change, () => m);
  }

  deleted(e: MessageDeleted): void {
    // A caught-up deletion carries the tombstone (with what changed before the delete, a parent's replyCount); a live one
    // comes after every earlier change, so the view's copy makes it. A tombstone shows no reactions (docs/protocol.md, "Reactions"), as history does.
    this.#change(e.message ? 'deleted (tombstone)' : 'deleted', e.seq, e.change, (old) => e.message ?? { ...old, content: '', deleted: true, change: e.change, ...(old.reactions ? { reactions: [] } : {}) });
  }

  /**
   * A membership change: each once, in change order, and each a change of
   * the set (a user joins who was not a member, leaves who was).
   */
  member(e: MemberUpdate): void {
    this.events++;
    this.#note(`member ${e.kind} ${e.username} c${e.change}`);
    if (e.change <= this.#lastMember) return this.#violation(`member change ${e.change} (${e.kind} ${e.username}) after member change ${this.#lastMember}`);
    this.#lastMember = e.change;
    if (e.kind === 'joined' ? this.members.has(e.userId) : !this.members.has(e.userId)) this.#violation(`member change ${e.change}: ${e.username} ${e.kind}, but the view had them ${e.kind === 'joined' ? 'in' : 'out'}`);
    if (e.kind === 'joined') this.members.add(e.userId);
    else this.members.delete(e.userId);
  }

  /** The view's member ids, sorted. */
  memberIds(): string[] {
    return [...this.members].sort();
  }

  /** The view's messages in seq order (tombstones `comparable`). */
  messages(): Message[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq).map(comparable);
  }

  #change(kind: string, seq: number, change: number, next: (old: Message) => Message): void {
    this.events++;
    this.#note(`${kind} s${seq} c${change}`);
    const old = this.bySeq.get(seq);
    if (!old) return this.#violation(`change ${change} of seq ${seq}, never shown`);
    if (change <= old.change) return this.#violation(`change ${change} of seq ${seq} after change ${old.change}`);
    this.bySeq.set(seq, next(old));
  }

  /** The view's last events (oldest first), for a failure's message. */
  trace(): string {
    return this.#trace.join('; ');
  }

  #note(event: string): void {
    this.#trace.push(event);
    if (this.#trace.length > 16) this.#trace.shift();
  }

  #violation(what: string): void {
    this.violations.push(`${what} (last events: ${this.#trace.join('; ')})`);
  }
}
