// The admin page (admins only; the server checks too): announcements, users
// (ban/unban, promote/demote, mute, kick) and the audit log. Everything goes
// through `client.admin`: the /admin namespace for live actions, REST for
// users and the audit log.
import type { AuditEntry, RoomcastClient, RoomInfo, User } from '../../client-sdk/src/index.js';
import { button, field, form, h, replaceChildren } from './dom.js';
import { describeError, formatDateTime } from './format.js';
import { maxMessageLength } from './server-settings.js';

const AUDIT_PAGE = 50;

export function adminView(client: RoomcastClient, me: User, rooms: () => readonly RoomInfo[]): { element: HTMLElement; dispose(): void } {
  const status = h('p', { class: 'admin-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  /** Runs an admin action, says how it went, and refreshes the audit log. */
  const run = async (what: string, action: () => Promise<unknown>): Promise<boolean> => {
    status.textContent = `${what}…`;
    try {
      await action();
      status.textContent = `${what}: done.`;
      void loadAudit(true);
      return true;
    } catch (err) {
      status.textContent = `${what} failed: ${describeError(err)}`;
      return false;
    }
  };
  /** Fills a room picker; again on focus, since the room list may still have been loading. */
  const roomOptions = (select: HTMLSelectElement, allLabel: string | null) => {
    const fill = () => {
      if (select.options.length === rooms().length + (allLabel ? 1 : 0)) return;
      const chosen = select.value;
      replaceChildren(
        select,
        allLabel ? h('option', { attrs: { value: '' } }, allLabel) : null,
        ...rooms().map((room) => h('option', { attrs: { value: room.id } }, room.name)),
      );
      if (chosen) select.value = chosen;
    };
    fill();
    select.addEventListener('focus', fill);
  };

  // ------------------------------------------------------------- broadcast
  const announcement = h('textarea', { attrs: { name: 'announcement', rows: 2, maxlength: maxMessageLength(), required: true } });
  const broadcastRoom = h('select', { attrs: { name: 'broadcast-room' } });
  const broadcast = form(
    () => {
      const content = announcement.value.trim();
      if (!content) return;
      void run('Broadcast', async () => {
        const { delivered } = await client.admin.broadcast(content, broadcastRoom.value || undefined);
        announcement.value = '';
        return delivered;
      });
    },
    { class: 'admin-card' },
    h('h2', {}, 'Announcement'),
    field('Message', announcement),
    field('To', broadcastRoom),
    h('button', { class: 'primary', attrs: { type: 'submit' } }, 'Broadcast'),
  );

  // ----------------------------------------------------------------- users
  const query = h('input', { attrs: { type: 'search', name: 'user-search', placeholder: 'username or email' } });
  const targetRoom = h('select', { attrs: { name: 'target-room' } });
  const minutes = h('input', { attrs: { type: 'number', name: 'mute-minutes', min: 0, max: 10080, value: 10 } });
  const userRows = h('tbody');
  /** Usernames seen so far, so the audit log can name people instead of showing ids. */
  const names = new Map<string, string>([[me.id, me.username]]);
  const loadUsers = async () => {
    try {
      const page = await client.admin.users({ q: query.value.trim() || undefined, limit: 50 });
      for (const user of page.users) names.set(user.id, user.username);
      replaceChildren(userRows, ...page.users.map(userRow));
    } catch (err) {
      status.textContent = `Could not list users: ${describeError(err)}`;
    }
  };
  /** Mute and kick act in the room chosen above the table. */
  const inRoom = (what: string, action: (roomId: string) => Promise<unknown>) => {
    if (!targetRoom.value) status.textContent = `${what}: choose a room first.`;
    else void run(what, () => action(targetRoom.value));
  };
  const userRow = (user: User): HTMLTableRowElement => {
    const self = user.id === me.id;
    const label = user.username;
    return h(
      'tr',
      { attrs: { 'data-username': user.username } },
      h('td', {}, user.username, self ? ' (you)' : ''),
      h('td', { class: 'email' }, user.email ?? ''),
      h('td', {}, user.role),
      h('td', {}, user.banned ? 'banned' : 'active'),
      h(
        'td',
        { class: 'actions' },
        button(user.banned ? 'Unban' : 'Ban', () => void run(`${user.banned ? 'Unban' : 'Ban'} ${label}`, () => client.admin.ban(user.id, !user.banned)).then(loadUsers), {
          class: user.banned ? 'small' : 'small danger',
          attrs: { 'aria-label': `${user.banned ? 'Unban' : 'Ban'} ${label}` },
        }),
        button(
          user.role === 'admin' ? 'Demote' : 'Promote',
          () => void run(`${user.role === 'admin' ? 'Demote' : 'Promote'} ${label}`, () => client.admin.updateUser(user.id, { role: user.role === 'admin' ? 'member' : 'admin' })).then(loadUsers),
          { class: 'small', attrs: { 'aria-label': `${user.role === 'admin' ? 'Demote' : 'Promote'} ${label}` } },
        ),
        button('Mute', () => inRoom(`Mute ${label} for ${minutes.value} min`, (roomId) => client.admin.mute(user.id, roomId, Number(minutes.value))), {
          class: 'small',
          attrs: { 'aria-label': `Mute ${label} in the chosen room` },
        }),
        button('Kick', () => inRoom(`Kick ${label}`, (roomId) => client.admin.kick(user.id, roomId)), {
          class: 'small',
          attrs: { 'aria-label': `Kick ${label} from the chosen room` },
        }),
      ),
    );
  };
  const users = h(
    'section',
    { class: 'admin-card' },
    h('h2', {}, 'Users'),
    form(
      () => void loadUsers(),
      { class: 'row' },
      field('Search', query),
      h('button', { attrs: { type: 'submit' } }, 'Search'),
    ),
    h('div', { class: 'row' }, field('Room for mute and kick', targetRoom), field('Mute minutes (0 lifts)', minutes)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'users' }, h('thead', {}, h('tr', {}, ...['User', 'Email', 'Role', 'State', 'Actions'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))), userRows)),
  );

  // ------------------------------------------------------------- audit log
  const auditList = h('ol', { class: 'audit' });
  let cursor: string | null = null;
  const more = button('Load more', () => void loadAudit(false), { class: 'small' });
  const auditItem = (entry: AuditEntry) =>
    h(
      'li',
      {},
      h('time', { attrs: { datetime: entry.createdAt } }, formatDateTime(entry.createdAt)),
      ' ',
      h('strong', {}, entry.action),
      ` ${entry.targetType} ${(entry.targetType === 'user' && names.get(entry.targetId)) || entry.targetId}`,
      entry.actorId ? ` by ${names.get(entry.actorId) ?? entry.actorId}` : ' (system)',
      Object.keys(entry.details).length ? h('code', {}, JSON.stringify(entry.details)) : null,
    );
  async function loadAudit(fromStart: boolean): Promise<void> {
    try {
      const page = await client.admin.audit({ limit: AUDIT_PAGE, ...(!fromStart && cursor ? { cursor } : {}) });
      if (fromStart) auditList.replaceChildren();
      auditList.append(...page.entries.map(auditItem));
      cursor = page.nextCursor;
      more.hidden = cursor === null;
    } catch (err) {
      status.textContent = `Could not load the audit log: ${describeError(err)}`;
    }
  }
  const audit = h('section', { class: 'admin-card' }, h('div', { class: 'row' }, h('h2', {}, 'Audit log'), button('Refresh', () => void loadAudit(true), { class: 'small' })), auditList, more);

  roomOptions(broadcastRoom, 'Everyone (all rooms)');
  roomOptions(targetRoom, null);
  void loadUsers().then(() => loadAudit(true)); // users first: the audit log names the ones it knows
  const element = h('main', { class: 'admin', attrs: { 'aria-label': 'Administration' } }, h('h1', {}, 'Administration'), status, broadcast, users, audit);
  return { element, dispose: () => client.admin.close() };
}
