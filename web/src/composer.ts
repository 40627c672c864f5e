// The message box: Enter sends, Shift+Enter adds a line. While the user
// types, the room is told (typing: true), and told again when they stop.
import type { Message, Room } from '../../client-sdk/src/index.js';
import { button, form, h } from './dom.js';
import { snippet } from './message-view.js';
import { maxMessageLength } from './server-settings.js';

/** Typing stops counting after this long without a key press. */
const TYPING_IDLE_MS = 3_000;
/** While the user keeps typing, the hint is renewed this often: the server ends one not renewed within TYPING_TIMEOUT (6 s). */
const TYPING_RENEW_MS = 3_000;

export interface Composer {
  element: HTMLElement;
  focus(): void;
  /** Replies (issue 14): the next message replies to `message` (shown above the box until sent or cancelled). */
  replyTo(message: Message): void;
  dispose(): void;
}

export function composer(room: Room, onSend: (content: string, replyTo: Message | null) => void, disabledReason: string | null): Composer {
  const input = h('textarea', { attrs: { name: 'message', rows: 1, maxlength: maxMessageLength(), placeholder: disabledReason ?? 'Write a message… (Enter to send)', 'aria-label': 'Message', disabled: disabledReason !== null } });
  let typing = false;
  let sentAt = 0;
  let idle: ReturnType<typeof setTimeout> | null = null;
  let replyingTo: Message | null = null;
  const replyBar = h('div', { class: 'reply-bar', attrs: { hidden: true, role: 'status' } });
  const setReply = (message: Message | null) => {
    replyingTo = message;
    replyBar.hidden = message === null;
    replyBar.replaceChildren(
      ...(message
        ? [h('span', {}, `Replying to ${message.username}: ${snippet(message)}`), ' ', button('Cancel reply', () => setReply(null), { class: 'small', attrs: { 'aria-label': 'Cancel the reply' } })]
        : []),
    );
  };

  const setTyping = (next: boolean) => {
    if (idle) clearTimeout(idle);
    idle = next ? setTimeout(() => setTyping(false), TYPING_IDLE_MS) : null;
    if (typing === next && !(next && Date.now() - sentAt >= TYPING_RENEW_MS)) return;
    typing = next;
    sentAt = Date.now();
    room.setTyping(next).catch(() => {}); // best effort: a lost typing hint does no harm
  };

  const send = () => {
    const content = input.value.trim();
    if (!content) return;
    input.value = '';
    setTyping(false);
    onSend(content, replyingTo);
    setReply(null);
  };

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  input.addEventListener('input', () => setTyping(input.value.length > 0));

  const element = form(
    send,
    { class: 'composer' },
    replyBar,
    input,
    h('button', { class: 'primary', attrs: { type: 'submit', disabled: disabledReason !== null } }, 'Send'),
  );
  return {
    element,
    focus: () => input.focus(),
    replyTo: (message) => {
      setReply(message);
      input.focus();
    },
    dispose: () => {
      if (idle) clearTimeout(idle);
    },
  };
}
