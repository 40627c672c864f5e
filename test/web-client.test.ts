import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RoomcastApp } from '../server/app.js';
import { isCspViolation, launchChromium, screenshot, watchConsole } from './support/browser.js';
import { environment } from './support/environment.js';
import { closeAll, connect, createRoom, http, ok, registerAdmin, registerUser, startNode, stopNode, uniqueName, usersWithRoom } from './support/util.js';

// The web client end to end, in a real (headless) Chromium: the page is
// served by a test node at `/`, exactly as `npm start` serves it.
//
// Pages use http://localhost:<port>: the refresh cookie is `Secure`, which
// Chromium accepts over plain http from localhost (a trustworthy origin).

const PASSWORD = 'correct-horse-battery';
const UI_TIMEOUT_MS = 10_000;

const portOf = (app: RoomcastApp) => (app.httpServer.address() as AddressInfo).port;
const pageUrl = (app: RoomcastApp) => `http://localhost:${portOf(app)}/`;

describe('web client (browser)', function () {
  this.timeout(45_000);
  let browser: Browser | null = null;
  const contexts: BrowserContext[] = [];
  const consoles: ReturnType<typeof watchConsole>[] = [];

  before(async function () {
    browser = await launchChromium();
    if (!browser) this.skip();
  });

  after(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await closeAll();
    // No page of any test may have hit the Content-Security-Policy.
    const violations = consoles.splice(0).flatMap((log) => [...log.messages, ...log.errors].filter(isCspViolation));
    expect(violations, 'CSP violations in the console').to.deep.equal([]);
  });

  /** A fresh browser profile (its own cookies and storage) with one page. */
  async function openPage(app: RoomcastApp, viewport = { width: 1100, height: 720 }): Promise<Page> {
    const context = await browser!.newContext({ viewport });
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    contexts.push(context);
    const page = await context.newPage();
    consoles.push(watchConsole(page));
    await page.goto(pageUrl(app));
    return page;
  }

  async function signUp(page: Page, username = uniqueName('web')): Promise<string> {
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email').fill(`${username}@example.test`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.locator('.whoami', { hasText: username }).waitFor({ state: 'attached' });
    return username;
  }

  async function signIn(page: Page, login: string, password: string): Promise<void> {
    await page.getByLabel('Username or email').fill(login);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.whoami', { hasText: login }).waitFor({ state: 'attached' });
  }

  async function openRoom(page: Page, roomId: string): Promise<void> {
    await page.locator(`a.room-link[href="#/room/${roomId}"]`).click();
    await connected(page);
    await page.locator('.chat .composer textarea:not([disabled])').waitFor();
  }

  const connected = (page: Page) => page.locator('.connection[data-state="connected"]').waitFor();
  const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
  const message = (page: Page, text: string) => page.locator('ol.messages li.message:not(.pending)', { hasText: text });

  async function say(page: Page, text: string): Promise<void> {
    await composer(page).fill(text);
    await composer(page).press('Enter');
    await message(page, text).waitFor();
  }

  it('when two users chat, then each sees the other in real time, with typing and who is online', async () => {
    const app = await startNode();
    const alice = await openPage(app);
    // Readable names (this test takes the README's screenshot); the suffix keeps them unique in the shared database.
    const suffix = randomUUID().slice(0, 4);
    const aliceName = await signUp(alice, `alice_${suffix}`);
    const roomName = 'general';
    await alice.getByLabel('Room name').fill(roomName);
    await alice.getByRole('button', { name: 'Create room' }).click();
    await alice.waitForURL(/#\/room\//);
    await alice.locator('.room-title', { hasText: roomName }).waitFor();
    const roomId = decodeURIComponent(new URL(alice.url()).hash.replace('#/room/', ''));
    await composer(alice).waitFor();

    const bob = await openPage(app);
    const bobName = await signUp(bob, `bob_${suffix}`);
    await openRoom(bob, roomId);
    await alice.locator('.online-list li', { hasText: bobName }).waitFor();

    await composer(bob).pressSequentially('hel');
    await alice.locator('.typing', { hasText: `${bobName} is typing` }).waitFor();
    await composer(bob).fill('');
    await say(alice, 'hi bob, how are you?');
    await message(bob, 'hi bob, how are you?').waitFor();
    await say(bob, 'fine, thanks!');
    await message(alice, 'fine, thanks!').waitFor();

    // Edit and delete own messages; the other side sees both.
    const mine = message(alice, 'hi bob, how are you?');
    await mine.getByRole('button', { name: /^Edit/ }).click();
    const editor = alice.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('hi bob!');
    await editor.press('Enter');
    await message(bob, 'hi bob!').locator('.edited').waitFor();
    await composer(alice).pressSequentially('see');
    await bob.locator('.typing', { hasText: `${aliceName} is typing` }).waitFor();
    const shot = await screenshot(bob, 'chat-desktop');
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(shot, 'docs/screenshot-chat.png'); // the README's picture
    await composer(alice).fill('');
    await say(alice, 'oops');
    await message(alice, 'oops').getByRole('button', { name: /^Delete/ }).click();
    await bob.locator('li.message.deleted').waitFor();

    const bobSees = await bob.locator('ol.messages li.message .content').allTextContents();
    expect(bobSees).to.deep.equal(['hi bob!', 'fine, thanks!', 'message deleted']);
    expect(await bob.locator('.online-list li .online-name').allTextContents()).to.include.members([aliceName, bobName]);
  });

  it('when a user starts a direct room from the online list, then both see it by the other\'s name and talk in it; a private room\'s owner invites and removes in its members panel', async () => {
    const app = await startNode();
    const [aliceUser, bobUser] = await Promise.all([registerUser(app), registerUser(app)]);
    const alice = await openPage(app);
    await signIn(alice, aliceUser.user.username, aliceUser.password);
    const bob = await openPage(app);
    await signIn(bob, bobUser.user.username, bobUser.password);
    const room = await createRoom(app, aliceUser.accessToken);
    await alice.reload();
    await openRoom(alice, room.id);
    await bob.reload();
    await openRoom(bob, room.id);

    await bob.getByRole('button', { name: `Message ${aliceUser.user.username}` }).click();
    await bob.locator('.room-title', { hasText: `@${aliceUser.user.username}` }).waitFor();
    await bob.locator('.chat .composer textarea:not([disabled])').waitFor();
    await say(bob, 'just between us');
    await alice.goto(pageUrl(app));
    await alice.locator('a.room-link', { hasText: `@${bobUser.user.username}` }).click();
    await message(alice, 'just between us').waitFor();
    expect(await alice.locator('.members').count()).to.equal(0); // a direct room's members are fixed

    // Alice's private room: she invites bob by id in its members panel, then removes him.
    const team = await createRoom(app, aliceUser.accessToken, { visibility: 'private' });
    await alice.goto(pageUrl(app));
    await openRoom(alice, team.id);
    await alice.locator('.members li', { hasText: `${aliceUser.user.username} (owner)` }).waitFor();
    await alice.getByLabel('User id to invite').fill(bobUser.user.id);
    await alice.getByRole('button', { name: 'Invite' }).click();
    const bobRow = alice.locator(`.members li[data-user-id="${bobUser.user.id}"]`);
    await bobRow.waitFor();
    await bobRow.getByRole('button', { name: 'Remove' }).click();
    await bobRow.waitFor({ state: 'detached' });
  });

  it('when a user clicks a reaction, then both pages show its count with the clicker’s pressed, and clicking it again takes it back', async () => {
    const app = await startNode();
    const alice = await openPage(app);
    await signUp(alice);
    await alice.getByLabel('Room name').fill(uniqueName('room'));
    await alice.getByRole('button', { name: 'Create room' }).click();
    await alice.waitForURL(/#\/room\//);
    const roomId = decodeURIComponent(new URL(alice.url()).hash.replace('#/room/', ''));
    await composer(alice).waitFor();
    const bob = await openPage(app);
    await signUp(bob);
    await openRoom(bob, roomId);
    await say(alice, 'react to this');
    await message(bob, 'react to this').waitFor();

    await message(bob, 'react to this').getByRole('button', { name: 'React with 🎉' }).click();
    const bobsOwn = message(bob, 'react to this').locator('button.reaction[data-emoji="🎉"][aria-pressed="true"]', { hasText: '🎉 1' });
    await bobsOwn.waitFor();
    const alicesView = message(alice, 'react to this').locator('button.reaction[data-emoji="🎉"][aria-pressed="false"]', { hasText: '🎉 1' });
    await alicesView.waitFor();
    await alicesView.click();
    await message(bob, 'react to this').locator('button.reaction[data-emoji="🎉"][aria-pressed="true"]', { hasText: '🎉 2' }).waitFor();
    await message(alice, 'react to this').locator('button.reaction[data-emoji="🎉"][aria-pressed="true"]', { hasText: '🎉 2' }).waitFor();

    await message(bob, 'react to this').locator('button.reaction[data-emoji="🎉"]').click();
    await message(alice, 'react to this').locator('button.reaction[data-emoji="🎉"][aria-pressed="true"]', { hasText: '🎉 1' }).waitFor();
    await message(bob, 'react to this').locator('button.reaction[data-emoji="🎉"][aria-pressed="false"]', { hasText: '🎉 1' }).waitFor();
  });

  it('when a user replies to a message, then both pages quote the message replied to and the parent shows its reply count', async () => {
    const app = await startNode();
    const alice = await openPage(app);
    await signUp(alice);
    await alice.getByLabel('Room name').fill(uniqueName('thread'));
    await alice.getByRole('button', { name: 'Create room' }).click();
    await alice.waitForURL(/#\/room\//);
    const roomId = decodeURIComponent(new URL(alice.url()).hash.replace('#/room/', ''));
    await composer(alice).waitFor();
    const bob = await openPage(app);
    const bobName = await signUp(bob);
    await openRoom(bob, roomId);
    await say(alice, 'lunch at noon?');

    await message(bob, 'lunch at noon?').getByRole('button', { name: /^Reply/ }).click();
    await bob.locator('.reply-bar', { hasText: 'lunch at noon?' }).waitFor();
    await say(bob, 'yes, see you there');

    for (const page of [alice, bob]) {
      await message(page, 'yes, see you there').locator('.reply-quote', { hasText: 'lunch at noon?' }).waitFor();
      await message(page, 'lunch at noon?').locator('.reply-count', { hasText: '1 reply' }).waitFor();
    }
    expect(await bob.locator('.reply-bar').isHidden()).to.equal(true);
    expect(await message(alice, 'yes, see you there').locator('.author').textContent()).to.equal(bobName);
  });

  it('when the page is reloaded on a phone-sized screen, then the session and the room are still there', async () => {
    const app = await startNode();
    const page = await openPage(app, { width: 390, height: 760 });
    const name = await signUp(page);
    const owner = await registerUser(app);
    const room = await createRoom(app, owner.accessToken);
    await page.getByRole('button', { name: 'Refresh the room list' }).click();
    await openRoom(page, room.id);
    await say(page, 'before the reload');

    await page.reload();
    await page.locator('.whoami', { hasText: name }).waitFor({ state: 'attached' });
    await connected(page);
    await message(page, 'before the reload').waitFor();
    // One column on a phone: the open room, with a way back to the list.
    expect(await page.locator('nav.sidebar').isVisible()).to.equal(false);
    expect(await page.getByRole('link', { name: '← Rooms' }).isVisible()).to.equal(true);
    expect(await composer(page).isVisible()).to.equal(true);
    await screenshot(page, 'chat-phone-after-reload');

    // Signing out ends it for good: a reload shows the sign-in form.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('.notice', { hasText: 'You signed out.' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('when two tabs of one browser reload at the same moment, then both keep the session (their renewals take turns)', async () => {
    const app = await startNode();
    const first = await openPage(app);
    const name = await signUp(first);
    const second = await first.context().newPage();
    consoles.push(watchConsole(second));
    await second.goto(pageUrl(app));
    await second.locator('.whoami', { hasText: name }).waitFor();

    // Both present the same refresh cookie at once; without the lock one would be refresh_reused and end the login.
    await Promise.all([first.reload(), second.reload()]);
    for (const page of [first, second]) {
      await page.locator('.whoami', { hasText: name }).waitFor();
      await connected(page);
    }
  });

  it('when the user has only a keyboard, then they can sign in, open a room and send a message', async () => {
    const app = await startNode();
    const user = await registerUser(app);
    const room = await createRoom(app, user.accessToken);
    const page = await openPage(app);

    await page.keyboard.type(user.user.username); // the login field has the focus
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.locator(`a.room-link[href="#/room/${room.id}"]`).waitFor();
    // The shared test database holds the other tests' rooms too: Tab past them (bounded by the page's links).
    const stops = (await page.locator('a, button, input, select, textarea').count()) + 5;
    let onRoom = false;
    for (let presses = 0; presses < stops && !onRoom; presses++) {
      await page.keyboard.press('Tab');
      onRoom = await page.evaluate(`document.activeElement?.getAttribute('href') === '#/room/${room.id}'`);
    }
    expect(onRoom, 'Tab reaches the room link').to.equal(true);
    await page.keyboard.press('Enter');
    await page.locator('.chat .composer textarea:focus').waitFor(); // the message box takes the focus
    await page.keyboard.type('typed with the keyboard alone');
    await page.keyboard.press('Enter');
    await message(page, 'typed with the keyboard alone').waitFor();
  });

  it('when there are more rooms than a page, then "More rooms" loads the next page and the search box finds an old room by name', async () => {
    const app = await startNode();
    const user = await registerUser(app);
    const old = await createRoom(app, user.accessToken, { name: uniqueName('Findme') });
    const tag = uniqueName('newer');
    // 55 newer rooms push the old one off the first page (50 rooms).
    await environment.get().database.knex('rooms').insert(Array.from({ length: 55 }, (_, i) => ({ name: `${tag} ${i}`, visibility: 'public' })));
    const page = await openPage(app);
    await signIn(page, user.user.username, user.password);
    const oldLink = page.locator(`a.room-link[href="#/room/${old.id}"]`);
    await page.locator('a.room-link', { hasText: tag }).first().waitFor();
    expect(await page.locator('a.room-link').count(), 'rooms on the first page').to.equal(50);
    expect(await oldLink.count(), 'the old room on the first page').to.equal(0);

    await page.getByRole('button', { name: 'More rooms' }).click();
    await oldLink.waitFor();
    expect(await page.locator('a.room-link').count(), 'rooms after "More rooms"').to.be.greaterThan(55);

    await page.getByRole('searchbox', { name: 'Find a room' }).fill(old.name.toLowerCase());
    await page.locator('a.room-link').nth(1).waitFor({ state: 'detached' });
    expect(await oldLink.count(), 'the searched room is the one listed').to.equal(1);
    await page.getByRole('searchbox', { name: 'Find a room' }).fill(`${tag}-nothing-like-this`);
    await page.locator('.room-list .empty', { hasText: 'No room matches.' }).waitFor();
  });

  it('when messages arrive in a room, then its badge counts them, opening it shows "New messages" and clears it, a hidden tab leaves new ones unread, and a read on another device clears it live', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const alice = await registerUser(app);
    const bob = await registerUser(app);
    const room = await createRoom(app, alice.accessToken);
    const aliceSocket = await connect(app, { token: alice.accessToken });
    await ok(aliceSocket, 'room:join', { roomId: room.id });
    // Bob's other device: a member of the room, here only to read.
    const bobPhone = await connect(app, { token: bob.accessToken });
    await ok(bobPhone, 'room:join', { roomId: room.id });
    const sendAs = (text: string) => ok(aliceSocket, 'message:send', { roomId: room.id, content: text, clientMsgId: randomUUID() });
    for (const text of ['unread one', 'unread two', 'unread three']) await sendAs(text);

    const page = await openPage(app);
    await signIn(page, bob.user.username, bob.password);
    const badge = page.locator(`a.room-link[href="#/room/${room.id}"] .unread`);
    await badge.filter({ hasText: /^3$/ }).waitFor();

    await openRoom(page, room.id);
    const divider = page.locator('ol.messages li.new-divider', { hasText: 'New messages' });
    await divider.waitFor();
    // The divider sits right above the first unread message.
    expect(await divider.evaluate((el) => el.nextElementSibling?.textContent ?? '')).to.contain('unread one');
    await badge.waitFor({ state: 'detached' });

    // A background tab does not mark read: the open room's badge counts live, and clears when the tab is back.
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate(`(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
    await setVisibility('hidden');
    await sendAs('while away');
    await message(page, 'while away').waitFor();
    await badge.filter({ hasText: /^1$/ }).waitFor();
    // Given the page time to (wrongly) mark it read — three times its 250 ms batching — the server still has seq 3.
    await new Promise((resolve) => setTimeout(resolve, 750));
    const stored = await http<{ rooms: { id: string; readSeq: number }[] }>(app, 'GET', '/api/rooms', { token: bob.accessToken });
    expect(stored.body.rooms.find((r) => r.id === room.id)?.readSeq).to.equal(3);
    await setVisibility('visible');
    await badge.waitFor({ state: 'detached' });

    // Away from the room: new messages count again, and the phone's read clears the badge without a reload.
    await page.locator('a.brand').click();
    for (const text of ['later one', 'later two']) await sendAs(text);
    await page.getByRole('button', { name: 'Refresh the room list' }).click();
    await badge.filter({ hasText: /^2$/ }).waitFor();
    await ok(bobPhone, 'room:read', { roomId: room.id, seq: 6 });
    await badge.waitFor({ state: 'detached' });
  });

  it('when a message mentions the user, then the room list shows a mention badge that counts live mentions, and the open room highlights the mention', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const alice = await registerUser(app);
    const bob = await registerUser(app);
    const room = await createRoom(app, alice.accessToken);
    const aliceSocket = await connect(app, { token: alice.accessToken });
    await ok(aliceSocket, 'room:join', { roomId: room.id });
    const bobPhone = await connect(app, { token: bob.accessToken });
    await ok(bobPhone, 'room:join', { roomId: room.id });
    const sendAs = (text: string) => ok(aliceSocket, 'message:send', { roomId: room.id, content: text, clientMsgId: randomUUID() });
    await sendAs(`hello @${bob.user.username.toUpperCase()}`);
    await sendAs('nothing for bob');

    const page = await openPage(app);
    await signIn(page, bob.user.username, bob.password);
    const mentions = page.locator(`a.room-link[href="#/room/${room.id}"] .mentions`);
    await mentions.filter({ hasText: /^@1$/ }).waitFor();
    // A live mention while the room is not open: one more, without a reload.
    await sendAs(`again @${bob.user.username}`);
    await mentions.filter({ hasText: /^@2$/ }).waitFor();

    await openRoom(page, room.id);
    const highlighted = page.locator('ol.messages li.message.mentions-me');
    await highlighted.filter({ hasText: 'again' }).waitFor();
    expect(await highlighted.count()).to.equal(2);
    expect(await page.locator('ol.messages li.message.mentions-me mark.mention').first().textContent()).to.equal(`@${bob.user.username.toUpperCase()}`);
    expect(await message(page, 'nothing for bob').getAttribute('class')).to.not.contain('mentions-me');
    await mentions.waitFor({ state: 'detached' });
  });

  it('when the user scrolls up, then older history loads page by page back to the first message', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const { room, sockets: [socket] } = await usersWithRoom([app]);
    for (let i = 1; i <= 120; i++) await ok(socket, 'message:send', { roomId: room.id, content: `history ${i}`, clientMsgId: randomUUID() });
    const page = await openPage(app, { width: 800, height: 600 });
    await signUp(page);
    await page.getByRole('button', { name: 'Refresh the room list' }).click();
    await openRoom(page, room.id);
    await message(page, 'history 120').waitFor();
    const shownSeqs = () => page.locator('ol.messages li.message').evaluateAll((items) => items.map((li) => Number(li.dataset.seq)));
    expect((await shownSeqs())[0]).to.be.greaterThan(1); // the latest page only, so far

    const scroller = page.locator('.message-scroll');
    for (let i = 0; i < 10 && (await page.locator('.history-start').isHidden()); i++) {
      await scroller.evaluate((el) => {
        el.scrollTop = 0;
      });
      await page.waitForTimeout(150);
    }
    await page.locator('.history-start').waitFor();
    expect(await shownSeqs()).to.deep.equal(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('when a message, a room name and a broadcast carry HTML, then they show as text and nothing runs', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);
    const room = await createRoom(app, admin.accessToken, { name: '<img src=x onerror=alert(2)>' });
    const page = await openPage(app);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signUp(page);
    await page.getByRole('button', { name: 'Refresh the room list' }).click();
    await openRoom(page, room.id);

    const payload = '<img src=x onerror=alert(1)>';
    const socket = await connect(app, { token: admin.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });
    await ok(socket, 'message:send', { roomId: room.id, content: payload, clientMsgId: randomUUID() });
    await ok(await connect(app, { token: admin.accessToken, namespace: '/admin' }), 'admin:broadcast', { content: '<script>alert(3)</script>', roomId: room.id });
    await say(page, '<b>bold?</b>');

    await message(page, payload).waitFor();
    await page.locator('li.system', { hasText: '<script>alert(3)</script>' }).waitFor();
    expect(await page.locator('.room-title').textContent()).to.equal('<img src=x onerror=alert(2)>');
    expect(await page.locator('.app img, .app b, .app script').count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
    await screenshot(page, 'xss-as-text');
  });

  it('when an admin bans a user from the admin view, then the banned user’s page shows that the session ended', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);
    const member = await openPage(app);
    const memberName = await signUp(member);
    const adminPage = await openPage(app);
    await signIn(adminPage, admin.user.username, admin.password);
    await connected(member);

    await adminPage.getByRole('link', { name: 'Admin' }).click();
    await adminPage.getByLabel('Search').fill(memberName);
    await adminPage.getByRole('button', { name: 'Search' }).click();
    await adminPage.getByRole('button', { name: `Ban ${memberName}` }).click();

    await member.locator('.notice', { hasText: 'banned' }).waitFor();
    await member.getByRole('button', { name: 'Sign in' }).waitFor();
    await adminPage.locator('ol.audit li', { hasText: 'ban' }).first().waitFor();
    await adminPage.getByRole('button', { name: `Unban ${memberName}` }).waitFor();
    await screenshot(adminPage, 'admin-view');
    await screenshot(member, 'banned-session-ended');
    // A reload does not bring the session back: its refresh tokens were revoked.
    await member.reload();
    await member.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('when an admin mutes and then kicks a member from the admin view, then the member’s send fails with a Retry and the room says they were removed', async () => {
    // Kicks here only remove (no block), so the member can rejoin at once.
    const app = await startNode({ KICK_BLOCK_SECONDS: '0' });
    const admin = await registerAdmin(app);
    const room = await createRoom(app, admin.accessToken);
    const member = await openPage(app);
    const memberName = await signUp(member);
    await member.getByRole('button', { name: 'Refresh the room list' }).click();
    await openRoom(member, room.id);
    const adminPage = await openPage(app);
    await signIn(adminPage, admin.user.username, admin.password);
    await adminPage.locator(`a.room-link[href="#/room/${room.id}"]`).waitFor();
    await adminPage.getByRole('link', { name: 'Admin' }).click();
    await adminPage.getByLabel('Room for mute and kick').selectOption(room.id);
    await adminPage.getByLabel('Search').fill(memberName);
    await adminPage.getByRole('button', { name: 'Search' }).click();

    await adminPage.getByRole('button', { name: `Mute ${memberName} in the chosen room` }).click();
    await adminPage.locator('.admin-status', { hasText: 'done' }).waitFor();
    await composer(member).fill('can anyone hear me?');
    await composer(member).press('Enter');
    const failed = member.locator('ol.outbox li.failed', { hasText: 'can anyone hear me?' });
    await failed.locator('.send-status', { hasText: 'muted' }).waitFor();
    await failed.getByRole('button', { name: 'Retry sending' }).waitFor();
    await screenshot(member, 'send-failed-muted');

    await adminPage.getByRole('button', { name: `Kick ${memberName} from the chosen room` }).click();
    await member.locator('li.system', { hasText: 'An admin removed you from this room.' }).waitFor();
    await member.getByRole('button', { name: 'Rejoin the room' }).click();
    await member.locator('.chat .composer textarea:not([disabled])').waitFor();
    await adminPage.locator('ol.audit li', { hasText: 'kick' }).first().waitFor();
    await adminPage.locator('ol.audit li', { hasText: 'mute' }).first().waitFor();
  });

  it('when the server restarts, then the page shows it is reconnecting and then the messages sent meanwhile, in order', async () => {
    const first = await startNode();
    const port = portOf(first);
    const other = await registerUser(first);
    const room = await createRoom(first, other.accessToken);
    const page = await openPage(first);
    await signUp(page);
    await page.getByRole('button', { name: 'Refresh the room list' }).click();
    await openRoom(page, room.id);
    await say(page, 'before the restart');

    // Hold the page off the new node until the other user's messages are stored
    // (the SDK connects with HTTP long-polling first, which page.route can stop).
    await page.route('**/socket.io/**', (route) => route.abort());
    await stopNode(first);
    await page.locator('.connection[data-state="reconnecting"]').waitFor();
    await composer(page).fill('typed while offline');
    await composer(page).press('Enter');
    await page.locator('ol.outbox li.pending', { hasText: 'typed while offline' }).waitFor();
    await screenshot(page, 'reconnecting');

    const second = await startNode({ PORT: String(port) });
    const socket = await connect(second, { token: other.accessToken });
    for (const text of ['sent meanwhile 1', 'sent meanwhile 2', 'sent meanwhile 3']) {
      await ok(socket, 'message:send', { roomId: room.id, content: text, clientMsgId: randomUUID() });
    }
    await page.unroute('**/socket.io/**');

    await connected(page);
    await message(page, 'typed while offline').waitFor();
    await message(page, 'sent meanwhile 3').waitFor();
    const shown = await page.locator('ol.messages li.message .content').allTextContents();
    expect(shown).to.deep.equal(['before the restart', 'sent meanwhile 1', 'sent meanwhile 2', 'sent meanwhile 3', 'typed while offline']);
    expect(await page.locator('ol.outbox li').count()).to.equal(0);
    const history = await http<{ messages: { content: string }[] }>(second, 'GET', `/api/rooms/${room.id}/messages`, { token: other.accessToken });
    expect(history.body.messages.map((m) => m.content)).to.deep.equal(shown);
  });

  it('when messages are edited and deleted while the tab is offline, then the page shows the edits and deletions after the reconnect', async () => {
    const first = await startNode();
    const port = portOf(first);
    const other = await registerUser(first);
    const room = await createRoom(first, other.accessToken);
    const before = await connect(first, { token: other.accessToken });
    const sent: { id: string }[] = [];
    for (const text of ['to be edited', 'to be deleted', 'left alone']) {
      sent.push((await ok<{ message: { id: string } }>(before, 'message:send', { roomId: room.id, content: text, clientMsgId: randomUUID() })).message);
    }
    const page = await openPage(first);
    await signUp(page);
    await page.getByRole('button', { name: 'Refresh the room list' }).click();
    await openRoom(page, room.id);
    await message(page, 'left alone').waitFor();

    await page.route('**/socket.io/**', (route) => route.abort());
    await stopNode(first);
    await page.locator('.connection[data-state="reconnecting"]').waitFor();
    const second = await startNode({ PORT: String(port) });
    const socket = await connect(second, { token: other.accessToken });
    await ok(socket, 'message:edit', { messageId: sent[0]!.id, content: 'edited while offline' });
    await ok(socket, 'message:delete', { messageId: sent[1]!.id });
    await ok(socket, 'message:send', { roomId: room.id, content: 'sent meanwhile', clientMsgId: randomUUID() });
    await page.unroute('**/socket.io/**');

    await connected(page);
    await message(page, 'sent meanwhile').waitFor();
    await message(page, 'edited while offline').locator('.edited').waitFor();
    const shown = await page.locator('ol.messages li.message .content').allTextContents();
    expect(shown).to.deep.equal(['edited while offline', 'message deleted', 'left alone', 'sent meanwhile']);
  });

  it('when the node allows 50 characters per message, then the composer, the message editor and the announcement box stop at 50', async () => {
    const limit = 50;
    const app = await startNode({ MAX_MESSAGE_LENGTH: String(limit) });
    const admin = await registerAdmin(app);
    const room = await createRoom(app, admin.accessToken);
    const page = await openPage(app);
    await signIn(page, admin.user.username, admin.password);
    await openRoom(page, room.id);
    const typed = 'x'.repeat(limit + 10);

    await composer(page).pressSequentially(typed);
    expect(await composer(page).inputValue()).to.equal('x'.repeat(limit));
    await composer(page).press('Enter');
    await message(page, 'x'.repeat(limit)).waitFor(); // the node stored it: exactly its limit

    await message(page, 'x'.repeat(limit)).getByRole('button', { name: /^Edit/ }).click();
    const editor = page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('');
    await editor.pressSequentially(`y${typed}`);
    expect(await editor.inputValue()).to.have.length(limit);

    await page.getByRole('link', { name: 'Admin' }).click();
    const announcement = page.locator('textarea[name="announcement"]');
    await announcement.pressSequentially(typed);
    expect(await announcement.inputValue()).to.have.length(limit);
  });

  it('when the page loads, then its CSP forbids inline scripts and an injected inline script does not run', async () => {
    const app = await startNode();
    const res = await http(app, 'GET', '/');
    const csp = res.headers.get('content-security-policy') ?? '';
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src '));
    expect(scriptSrc?.trim()).to.equal("script-src 'self'");
    expect(csp).to.include("script-src-attr 'none'");

    const page = await openPage(app);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const log = consoles.pop()!; // this page's CSP report is the point of the test
    // (A string: the test files compile without DOM types.)
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
      return window.inlineRan === true;
    })()`);
    expect(ran).to.equal(false);
    expect(log.messages.some(isCspViolation)).to.equal(true);
  });
});
