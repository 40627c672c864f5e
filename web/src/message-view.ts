// One message as a list item: author, time, content (as text), and the
// edit/delete buttons its author (or an admin) gets. Pure rendering.
import type { Message, SystemBroadcastEvent } from '../../client-sdk/src/index.js';
import { button, form, h } from './dom.js';
import { formatTime } from './format.js';
import { maxMessageLength } from './server-settings.js';

export interface MessageActions {
  /** Shown on the user's own messages. */
  edit?(message: Message): void;
  /** Shown on own messages, and on every message for admins. */
  delete?(message: Message): void;
  /** Replies (issue 14): shown on every message not deleted. */
  reply?(message: Message): void;
  /** Adds (`me` false) or removes (`me` true) the user's reaction. */
  toggleReaction?(message: Message, emoji: string, me: boolean): void;
}

/** The emojis the "add a reaction" row offers (any other one can come from other clients). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀'] as const;

/** The reactions under a message: one toggle per emoji (pressed when the user reacted), then the quick emojis not there yet. */
function reactionBar(message: Message, toggle: NonNullable<MessageActions['toggleReaction']>): HTMLElement {
  const reactions = message.reactions ?? [];
  const present = new Set(reactions.map((r) => r.emoji));
  return h(
    'div',
    { class: 'reactions', attrs: { role: 'group', 'aria-label': `Reactions to message ${message.seq}` } },
    ...reactions.map(({ emoji, count, me }) =>
      button(`${emoji} ${count}`, () => toggle(message, emoji, me), {
        class: me ? 'reaction mine' : 'reaction',
        attrs: { 'aria-pressed': String(me), 'aria-label': `${emoji} ${count}${me ? ', yours: remove' : ': add yours'}`, 'data-emoji': emoji },
      }),
    ),
    ...QUICK_REACTIONS.filter((emoji) => !present.has(emoji)).map((emoji) =>
      button(emoji, () => toggle(message, emoji, false), { class: 'reaction add', attrs: { 'aria-label': `React with ${emoji}`, 'data-emoji': emoji } }),
    ),
  );
}

/** A short line of a message, for quotes. */
export const snippet = (message: Message): string => (message.deleted ? 'message deleted' : message.content.length > 80 ? `${message.content.slice(0, 80)}…` : message.content);

/**
 * `parent`: the message this one replies to, when it is shown (the quote
 * then has its author and text; otherwise only its number). `me`: the user's
 * name when the message mentions them (by id, as the server resolved it, so
 * an edit that drops the text still shows it), else null.
 */
export function messageItem(message: Message, own: boolean, actions: MessageActions, parent?: Message, me: string | null = null): HTMLLIElement {
  const classes = ['message', own ? 'own' : '', message.deleted ? 'deleted' : '', me ? 'mentions-me' : ''].filter(Boolean).join(' ');
  const item = h(
    'li',
    { class: classes, attrs: { 'data-seq': message.seq, 'data-id': message.id } },
    h(
      'div',
      { class: 'meta' },
      h('span', { class: 'author' }, message.username),
      ' ',
      h('time', { attrs: { datetime: message.createdAt, title: message.createdAt } }, formatTime(message.createdAt)),
      message.editedAt && !message.deleted ? h('span', { class: 'edited' }, ' (edited)') : null,
      me ? h('span', { class: 'mention-tag' }, ' mentions you') : null,
    ),
    message.replyToSeq !== null
      ? h(
          'blockquote',
          { class: 'reply-quote', attrs: { 'data-reply-to': message.replyToSeq } },
          parent ? `↪ ${parent.username}: ${snippet(parent)}` : `↪ reply to message #${message.replyToSeq}`,
        )
      : null,
    h('p', { class: 'content' }, ...(message.deleted ? ['message deleted'] : me ? markMentions(message.content, me) : [message.content])),
    message.replyCount > 0 ? h('span', { class: 'reply-count' }, message.replyCount === 1 ? '1 reply' : `${message.replyCount} replies`) : null,
  );
  if (!message.deleted && actions.toggleReaction) item.append(reactionBar(message, actions.toggleReaction));
  if (!message.deleted && (actions.edit || actions.delete || actions.reply)) {
    const name = `message ${message.seq} from ${message.username}`;
    item.append(
      h(
        'div',
        { class: 'actions' },
        actions.reply ? button('Reply', () => actions.reply?.(message), { class: 'small', attrs: { 'aria-label': `Reply to ${name}` } }) : null,
        actions.edit ? button('Edit', () => actions.edit?.(message), { class: 'small', attrs: { 'aria-label': `Edit ${name}` } }) : null,
        actions.delete ? button('Delete', () => actions.delete?.(message), { class: 'small danger', attrs: { 'aria-label': `Delete ${name}` } }) : null,
      ),
    );
  }
  return item;
}

/** The content as text nodes, with each `@me` (any letter case) in a <mark>. */
function markMentions(content: string, me: string): (string | HTMLElement)[] {
  const parts: (string | HTMLElement)[] = [];
  const needle = `@${me}`.toLowerCase();
  const lower = content.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + needle.length)) {
    parts.push(content.slice(from, at), h('mark', { class: 'mention' }, content.slice(at, at + needle.length)));
    from = at + needle.length;
  }
  parts.push(content.slice(from));
  return parts.filter((part) => part !== '');
}

/** An admin's system broadcast: shown apart from the conversation. */
export function systemItem(event: SystemBroadcastEvent): HTMLLIElement {
  return h(
    'li',
    { class: 'system', attrs: { role: 'note' } },
    h('span', { class: 'system-label' }, event.roomId ? 'Announcement' : 'Announcement to everyone'),
    ' ',
    h('time', { attrs: { datetime: event.createdAt } }, formatTime(event.createdAt)),
    h('p', { class: 'content' }, event.content),
  );
}

/** The inline editor that replaces a message's content while editing. */
export function editForm(initial: string, save: (content: string) => Promise<void>, cancel: () => void): HTMLFormElement {
  const input = h('input', { attrs: { 'aria-label': 'Edit message', maxlength: maxMessageLength(), required: true } });
  input.value = initial;
  const status = h('span', { class: 'form-error', attrs: { role: 'alert' } });
  const editor = form(
    () => {
      const content = input.value.trim();
      if (!content) return;
      save(content).catch((err: unknown) => {
        status.textContent = err instanceof Error ? err.message : String(err);
      });
    },
    {
      class: 'edit-form',
      on: {
        keydown: (event) => {
          if (event.key === 'Escape') cancel();
        },
      },
    },
    input,
    h('button', { class: 'small', attrs: { type: 'submit' } }, 'Save'),
    button('Cancel', cancel, { class: 'small' }),
    status,
  );
  queueMicrotask(() => input.focus());
  return editor;
}
