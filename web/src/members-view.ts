// The members of a private room (issue 14): who is in it and online; its
// owner and admins invite (by user id) and remove. Refreshed on every
// membership change the SDK hands out (live or replayed).
import type { Room, RoomcastClient, RoomMember, User } from '../../client-sdk/src/index.js';
import { button, h, replaceChildren } from './dom.js';
import { describeError } from './format.js';

/** Members shown at most (one page); the panel says when there are more. */
const PAGE = 100;

export function membersPanel(client: RoomcastClient, room: Room, me: User): { element: HTMLElement; dispose(): void } {
  const list = h('ul', { class: 'member-list' });
  const status = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  const input = h('input', { attrs: { type: 'text', placeholder: 'user id', 'aria-label': 'User id to invite', class: 'invite-id' } });
  let manager = me.role === 'admin';
  const act = async (work: () => Promise<void>) => {
    status.textContent = '';
    try {
      await work();
      await render();
    } catch (err) {
      status.textContent = describeError(err);
    }
  };
  const row = (member: RoomMember) => {
    if (member.owner && member.userId === me.id) manager = true;
    const label = `${member.username}${member.owner ? ' (owner)' : ''}${member.online ? ' ●' : ''}`;
    const remove = button('Remove', () => void act(() => client.rooms.remove(room.id, member.userId)), { class: 'remove-member' });
    return h('li', { attrs: { 'data-user-id': member.userId } }, label, ...(manager && member.userId !== me.id ? [' ', remove] : []));
  };
  const invite = h(
    'form',
    {
      class: 'invite',
      on: {
        submit: (event) => {
          event.preventDefault();
          const userId = input.value.trim();
          if (userId) void act(async () => {
            await client.rooms.invite(room.id, userId);
            input.value = '';
          });
        },
      },
    },
    input,
    h('button', { attrs: { type: 'submit' } }, 'Invite'),
  );
  const render = async () => {
    const page = await client.rooms.members(room.id, { limit: PAGE });
    const ordered = [...page.members].sort((a, b) => Number(b.owner) - Number(a.owner));
    manager ||= ordered.some((m) => m.owner && m.userId === me.id);
    replaceChildren(list, ...ordered.map(row), ...(page.nextCursor ? [h('li', {}, '…')] : []));
    invite.hidden = !manager;
  };
  void render().catch((err) => (status.textContent = describeError(err)));
  const refresh = () => void render().catch(() => {});
  const off = [room.on('memberJoined', refresh), room.on('memberLeft', refresh), room.on('presence', refresh)];
  const element = h('section', { class: 'members', attrs: { 'aria-label': 'Members of this room' } }, h('h3', {}, 'Members'), list, invite, status);
  return { element, dispose: () => off.forEach((f) => f()) };
}
