// The conversation of one room: history pages loaded upward as the user
// scrolls back (infinite scroll, plus a button for keyboard users), live
// messages from the SDK, edits, deletions and reactions, system broadcasts, and the
// user's own sends with their pending / failed state until the server acks.
//
// The SDK hands each live message to `room.on('message')` exactly once, in
// seq order, and later changes to `updated`/`deleted`; after a reconnect it
// replays every change made meanwhile (edits and deletes too). History pages
// come from `room.history()`. The two can overlap around the join, so items
// are keyed by seq: showing the same seq again updates it, unless what is
// shown is newer (a higher `change`: a history page read before an edit).
import type { Message, Room, SystemBroadcastEvent, User } from '../../client-sdk/src/index.js';
import { button, h } from './dom.js';
import { describeError } from './format.js';
import { editForm, messageItem, snippet, systemItem } from './message-view.js';

const PAGE_SIZE = 50;
/** Start loading the previous page when the user is this close to the top (px). */
const LOAD_MARGIN_PX = 120;
/** Pages loaded at most to fill a tall screen without scrolling. */
const MAX_FILL_PAGES = 5;

export class MessageList {
  /** The scrolling container. */
  readonly element: HTMLElement;
  readonly #list = h('ol', { class: 'messages', attrs: { 'aria-label': 'Messages' } });
  readonly #outbox = h('ol', { class: 'messages outbox', attrs: { 'aria-label': 'Messages being sent' } });
  readonly #older: HTMLButtonElement;
  readonly #start = h('p', { class: 'history-start', attrs: { hidden: true } }, 'This is the beginning of the room.');
  readonly #items = new Map<number, { item: HTMLLIElement; message: Message }>();
  readonly #unsubscribe: (() => void)[] = [];
  #oldestSeq: number | null = null;
  #hasMore = true;
  #loading = false;

  constructor(
    private readonly room: Room,
    private readonly user: User,
    /** Replies (issue 14): the user chose to reply to a message (the composer quotes it). */
    private readonly onReply?: (message: Message) => void,
  ) {
    this.#older = button('Load older messages', () => void this.loadOlder(), { class: 'small load-older' });
    this.element = h('section', { class: 'message-scroll', attrs: { role: 'log', 'aria-label': 'Conversation', tabindex: 0 } }, this.#start, this.#older, this.#list, this.#outbox);
    this.element.addEventListener('scroll', () => {
      if (this.element.scrollTop < LOAD_MARGIN_PX) void this.loadOlder();
    });
    this.#unsubscribe.push(
      room.on('message', (message) => this.#showLive(message)),
      room.on('updated', (message) => this.show(message)),
      room.on('deleted', ({ seq, change, message }) => {
        // A caught-up deletion carries its tombstone (a parent's replyCount the list may have missed).
        const entry = this.#items.get(seq);
        if (entry) this.show(message ?? { ...entry.message, deleted: true, content: '', change });
      }),
      room.on('reaction', ({ seq, change, reactions }) => {
        const entry = this.#items.get(seq);
        if (entry) this.show({ ...entry.message, reactions, change });
      }),
    );
  }

  /** Loads the latest page, then older ones while the screen is not full. */
  async start(): Promise<void> {
    const page = await this.room.history({ limit: PAGE_SIZE });
    for (const message of page.messages) this.show(message);
    this.#setHasMore(page.hasMore, page.messages[0]?.seq ?? null);
    this.scrollToBottom();
    for (let pages = 0; pages < MAX_FILL_PAGES && this.#hasMore && this.element.scrollHeight <= this.element.clientHeight; pages++) {
      await this.loadOlder();
    }
  }

  /** Loads the page before the oldest message shown, keeping the view where it was. */
  async loadOlder(): Promise<void> {
    if (this.#loading || !this.#hasMore || this.#oldestSeq === null) return;
    this.#loading = true;
    this.#older.disabled = true;
    try {
      const page = await this.room.history({ beforeSeq: this.#oldestSeq, limit: PAGE_SIZE });
      const heightBefore = this.element.scrollHeight;
      for (const message of page.messages) this.show(message);
      this.element.scrollTop += this.element.scrollHeight - heightBefore;
      this.#setHasMore(page.hasMore, page.messages[0]?.seq ?? this.#oldestSeq);
    } catch (err) {
      this.#older.textContent = `Could not load older messages (${describeError(err)}): try again`;
    } finally {
      this.#loading = false;
      this.#older.disabled = false;
    }
  }

  /** Shows a message (or updates it if its seq is already shown in an older state), in seq order. */
  show(incoming: Message): void {
    const shown = this.#items.get(incoming.seq)?.message;
    if (shown && shown.change > incoming.change) return;
    // A message state without reactions (a server without them): keep the ones shown.
    const message = incoming.reactions || !shown?.reactions ? incoming : { ...incoming, reactions: shown.reactions };
    const own = message.userId === this.user.id;
    const parent = message.replyToSeq === null ? undefined : this.#items.get(message.replyToSeq)?.message;
    const item = messageItem(
      message,
      own,
      {
        toggleReaction: (m: Message, emoji: string, me: boolean) => void this.#toggleReaction(m, emoji, me),
        ...(own ? { edit: (m: Message) => this.#startEdit(m) } : {}),
        ...(own || this.user.role === 'admin' ? { delete: (m: Message) => void this.#delete(m) } : {}),
        ...(this.onReply ? { reply: this.onReply } : {}),
      },
      parent,
      message.mentions?.includes(this.user.id) ? this.user.username : null,
    );
    const existing = this.#items.get(message.seq);
    this.#items.set(message.seq, { item, message });
    if (existing) return existing.item.replaceWith(item);
    this.#list.insertBefore(item, this.#firstAfter(message.seq));
  }

  /** The newest seq shown (null: none yet). */
  latestSeq(): number | null {
    let latest: number | null = null;
    for (const seq of this.#items.keys()) if (latest === null || seq > latest) latest = seq;
    return latest;
  }

  /**
   * The "new messages" divider above the first message after `readSeq` that
   * is not the user's own (none when there is none); it stays where it is
   * while the user reads on, and scrolls into view.
   */
  markNewAfter(readSeq: number): void {
    const first = [...this.#items.entries()]
      .filter(([seq, { message }]) => seq > readSeq && message.userId !== this.user.id)
      .sort(([a], [b]) => a - b)[0];
    if (!first) return;
    const divider = h('li', { class: 'new-divider', attrs: { role: 'separator', 'aria-label': 'New messages' } }, h('span', {}, 'New messages'));
    this.#list.insertBefore(divider, first[1].item);
    divider.scrollIntoView({ block: 'center' });
  }

  /** An admin's announcement, at the bottom of the conversation. */
  showSystem(event: SystemBroadcastEvent): void {
    const stick = this.#nearBottom();
    this.#list.append(systemItem(event));
    if (stick) this.scrollToBottom();
  }

  /**
   * Sends a message: it shows at once as pending, becomes a normal message
   * when the server has stored it, or shows why it failed with Retry/Discard.
   * While offline the SDK queues it and sends it after the reconnect.
   */
  send(content: string, replyTo: Message | null = null): void {
    const status = h('span', { class: 'send-status' }, 'sending…');
    const actions = h('div', { class: 'actions' });
    const item = h(
      'li',
      { class: 'message own pending' },
      h('div', { class: 'meta' }, h('span', { class: 'author' }, this.user.username), ' ', status),
      replyTo ? h('blockquote', { class: 'reply-quote' }, `↪ ${replyTo.username}: ${snippet(replyTo)}`) : null,
      h('p', { class: 'content' }, content),
      actions,
    );
    const attempt = () => {
      item.className = 'message own pending';
      status.textContent = 'sending…';
      actions.replaceChildren();
      this.room.send(content, replyTo ? { replyToSeq: replyTo.seq } : {}).then(
        (message) => {
          item.remove();
          this.#showLive(message);
        },
        (err: unknown) => {
          item.className = 'message own failed';
          status.textContent = `not sent: ${describeError(err)}`;
          actions.replaceChildren(
            button('Retry', attempt, { class: 'small', attrs: { 'aria-label': 'Retry sending' } }),
            button('Discard', () => item.remove(), { class: 'small', attrs: { 'aria-label': 'Discard the unsent message' } }),
          );
        },
      );
    };
    this.#outbox.append(item);
    this.scrollToBottom();
    attempt();
  }

  scrollToBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
  }

  #showLive(message: Message): void {
    const stick = this.#nearBottom() || message.userId === this.user.id;
    this.show(message);
    if (this.#oldestSeq === null) this.#oldestSeq = message.seq;
    if (stick) this.scrollToBottom();
  }

  #setHasMore(hasMore: boolean, oldestSeq: number | null): void {
    this.#hasMore = hasMore && oldestSeq !== null;
    this.#oldestSeq = oldestSeq;
    this.#older.hidden = !this.#hasMore;
    this.#older.textContent = 'Load older messages';
    this.#start.hidden = this.#hasMore;
  }

  /**
   * The message item to insert a message with `seq` before (null: append).
   * Scans from the end, since new messages are the common case. System notices
   * stay below the message they followed.
   */
  #firstAfter(seq: number): Element | null {
    let after: Element | null = null;
    for (let node = this.#list.lastElementChild; node; node = node.previousElementSibling) {
      const other = (node as HTMLElement).dataset.seq;
      if (other === undefined) continue;
      if (Number(other) < seq) break;
      after = node;
    }
    return after;
  }

  #nearBottom(): boolean {
    return this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < 80;
  }

  #startEdit(message: Message): void {
    const entry = this.#items.get(message.seq);
    const content = entry?.item.querySelector('.content');
    if (!entry || !content) return;
    const restore = () => this.show(this.#items.get(message.seq)?.message ?? message);
    content.replaceWith(
      editForm(
        message.content,
        async (next) => {
          try {
            this.show(await this.room.edit(message.id, next));
          } catch (err) {
            throw new Error(describeError(err));
          }
        },
        restore,
      ),
    );
  }

  async #toggleReaction(message: Message, emoji: string, me: boolean): Promise<void> {
    try {
      this.show(await (me ? this.room.unreact(message.id, emoji) : this.room.react(message.id, emoji)));
    } catch (err) {
      this.showSystem({ content: `Could not ${me ? 'remove' : 'add'} the reaction: ${describeError(err)}`, roomId: this.room.id, createdAt: new Date().toISOString() });
    }
  }

  async #delete(message: Message): Promise<void> {
    try {
      await this.room.delete(message.id);
      this.show({ ...message, deleted: true, content: '' });
    } catch (err) {
      this.showSystem({ content: `Could not delete the message: ${describeError(err)}`, roomId: this.room.id, createdAt: new Date().toISOString() });
    }
  }
}
