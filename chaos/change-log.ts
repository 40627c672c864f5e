// "Catch-up replays every change": a fast-check property over two real nodes.
// Several users send, edit, delete and react at random in a few rooms, and the
// owner of the private rooms invites and removes members who also leave
// (issue 14), while their SDK
// clients get their sockets cut, are moved to the other node, go offline for a
// while, or restart from their persisted view (join with afterSeq +
// afterChange). Every client reaches the nodes through its own TCP proxies, so
// the faults are the network's. At the end every client's view of every room,
// built only from SDK events (RoomView), must deep-equal the server's history,
// and no client may have seen a change twice or out of order. In a private
// room this holds for every client that is a member at the end (a removed
// client can no longer read the room): one that stayed, and one that was
// removed or left and was invited back, resuming its old view from where it
// was. Such a view's member set, kept only from memberJoined/memberLeft,
// must equal the room's members, and those must be what the acked
// invites, removals and leaves made.
//
// The quick form runs in `npm test` (test/change-log-property.test.ts, two
// in-process nodes), the long form as a row of `npm run chaos` (two node
// processes); the size is a parameter (ChangeLogSize).
import fc from 'fast-check';
import { createClient, RoomcastError, type MembersPage, type Message, type Room, type RoomcastClient } from '../client-sdk/src/index.js';
import type { JsonAnswer } from '../test/support/http-json.js';
import { localReason } from '../client-sdk/src/errors.js';
import { comparable, describeDifference, RoomView } from '../test/support/room-view.js';
import type { FaultRow } from './faults.js';
import { fetchHistory } from './invariants.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { call, register, sleep, type Registered } from './wire.js';

export interface ChangeLogSize {
  /** fast-check runs (each with fresh rooms and clients). */
  runs: number;
  /** Steps per run. */
  steps: number;
  /** Users, each with one SDK client. */
  clients: number;
  rooms: number;
  /** Longest offline / node-refusal period, ms. */
  maxOfflineMs: number;
  /** fast-check seed (random when absent); a failure's seed reproduces it. */
  seed?: number;
}

export const QUICK_CHANGE_LOG: ChangeLogSize = { runs: 3, steps: 45, clients: 4, rooms: 2, maxOfflineMs: 1_200 };
export const FULL_CHANGE_LOG: ChangeLogSize = { runs: 25, steps: 160, clients: 6, rooms: 3, maxOfflineMs: 4_000 };

/**
 * Node settings the property needs: no write/read limits in the way of the
 * random traffic, and no sign-in limit. Every client signs in from 127.0.0.1,
 * and a sign-in holds one of the address's LOGIN_FAILURE_LIMIT (10) attempts
 * until its bcrypt check is done — also when the client went away (a cut
 * socket) and retried: under load the restarted clients' sign-ins met 429
 * for more than 20 s (docs/chaos.md). The attack node turns it off likewise.
 */
export const CHANGE_LOG_NODE_ENV: Readonly<Record<string, string>> = { MESSAGE_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0', LOGIN_FAILURE_LIMIT: '0', REACTION_RATE_LIMIT: '0', MEMBERSHIP_RATE_LIMIT: '0' };

export const CHANGE_LOG_ROW = 'catch-up replays every change';

/** The emojis the property reacts with (few, so adds and removes meet). */
const REACTION_EMOJIS = ['👍', '🎉', '🔥'] as const;

/** Even-numbered rooms are private, owned by client 0 (issue 14: their membership changes are changes of the room); the others public. */
const isPrivate = (room: number) => room % 2 === 0;

type Step =
  | { op: 'send'; client: number; room: number; gapMs: number }
  | { op: 'edit' | 'delete'; client: number; room: number; pick: number; gapMs: number }
  /** Replies (issue 14): a reply to one of the actor's messages (its parent's replyCount is a change too). */
  | { op: 'reply'; client: number; room: number; pick: number; gapMs: number }
  /** Reactions (issue 14): add or remove one of a few emojis on any message the client's view shows. */
  | { op: 'react'; client: number; room: number; pick: number; emoji: number; add: boolean; gapMs: number }
  /**
   * Membership (issue 14), in a private room: its owner (client 0) invites one
   * of the clients that are not members (`pick`), or removes one of the
   * members (`pick`, never itself); or `client` leaves it.
   */
  | { op: 'invite'; room: number; pick: number; gapMs: number }
  | { op: 'remove'; room: number; pick: number; gapMs: number }
  | { op: 'leave'; client: number; room: number; gapMs: number }
  /** Cut the client's open sockets (it reconnects to the same node). */
  | { op: 'kill'; client: number; gapMs: number }
  /** The node `node` refuses the client for `ms` (a client on it moves to the other). */
  | { op: 'refuse'; client: number; node: number; ms: number; gapMs: number }
  /** Both nodes refuse the client for `ms`. */
  | { op: 'offline'; client: number; ms: number; gapMs: number }
  /** The app restarts: a new client resumes every room from the old one's lastSeq/lastChange. */
  | { op: 'restart'; client: number; gapMs: number };

function stepArbitrary(size: ChangeLogSize): fc.Arbitrary<Step> {
  const client = fc.nat(size.clients - 1);
  const room = fc.nat(size.rooms - 1);
  const gapMs = fc.integer({ min: 0, max: 40 });
  const ms = fc.integer({ min: 100, max: size.maxOfflineMs });
  const privateRoom = fc.nat(Math.ceil(size.rooms / 2) - 1).map((i) => i * 2);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('send' as const), client, room, gapMs }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('edit' as const), client, room, pick: fc.nat(1_000), gapMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), client, room, pick: fc.nat(1_000), gapMs }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('reply' as const), client, room, pick: fc.nat(1_000), gapMs }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('react' as const), client, room, pick: fc.nat(1_000), emoji: fc.nat(REACTION_EMOJIS.length - 1), add: fc.boolean(), gapMs }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('invite' as const), room: privateRoom, pick: fc.nat(1_000), gapMs }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), room: privateRoom, pick: fc.nat(1_000), gapMs }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('leave' as const), client: fc.integer({ min: 1, max: size.clients - 1 }), room: privateRoom, gapMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('kill' as const), client, gapMs }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('refuse' as const), client, node: fc.nat(1), ms, gapMs }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('offline' as const), client, ms, gapMs }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const), client, gapMs }) },
  );
}

/** A proxy that can refuse for a while; overlapping refusals end with the last. */
class Link {
  #until = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  constructor(readonly proxy: TcpProxy) {}

  get url(): string {
    return `http://127.0.0.1:${this.proxy.port}`;
  }

  refuse(ms: number): void {
    this.#until = Math.max(this.#until, Date.now() + ms);
    this.proxy.setMode({ kind: 'refuse' });
    this.proxy.dropConnections();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.restore(), this.#until - Date.now());
  }

  restore(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#until = 0;
    this.proxy.setMode({ kind: 'pass' });
  }
}

interface Actor {
  user: Registered;
  links: Link[];
  client: RoomcastClient;
  /** The rooms the actor is joined to: every room it is a member of. */
  rooms: Map<string, Room>;
  views: Map<string, RoomView>;
  /** The private rooms the actor is a member of, as the acked invites, removals and leaves made it. */
  memberOf: Set<string>;
  /** The private rooms the actor will be a member of once its queued membership changes are done (what the next step chooses by). */
  planned: Set<string>;
  /** A left room's view position (its handle's lastSeq/lastChange when it was dropped), to resume from when invited back. */
  positions: Map<string, { afterSeq: number; afterChange: number }>;
  /** The actor's acked messages per room (what it may edit or delete). */
  own: Map<string, Message[]>;
  /**
   * Set while a restart replaces the client or membership changes replace a
   * room's handle: writes and restarts skip the actor; membership changes
   * queue after the running one (one at a time per actor).
   */
  busy: Promise<void> | null;
  /** Per room: stops feeding the view from the room's handle. */
  offs: Map<string, () => void>;
  /** Where the actor's background errors go. */
  errors: string[];
  /** The client's last connection states (state/reason/error), for a violation's message. */
  states: string[];
}

interface RunTally {
  acked: number;
  rejected: number;
  unresolved: number;
  stored: number;
  delivered: number;
  lost: number;
  doubled: number;
  divergent: number;
  recoveryMs: number;
  /** ms the writes and restarts took to settle after the last step. */
  settleMs: number;
  /** Rejected writes by error code (or local reason). */
  rejectedBy: Record<string, number>;
  /** Background errors the rooms and clients reported (failed catch-ups, refused renewals). */
  errors: string[];
  faults: Record<'kill' | 'refuse' | 'offline' | 'restart', number>;
  /** Acked membership changes (issue 14). */
  membership: Record<'invite' | 'remove' | 'leave', number>;
  /** Client × private room views not compared: the client is not a member at the end. */
  away: number;
  violations: string[];
}

const nodePort = (url: string) => Number(new URL(url).port);

/**
 * Runs the property against two nodes (base URLs, same database and Redis)
 * and returns the chaos table's row: acked/rejected/unresolved writes (sends,
 * edits, deletes, reactions), messages stored, events the views applied, acked sends
 * missing from history (lost), doubled or backward changes (duplicated),
 * client×room views that never equalled history (divergent), and the slowest
 * convergence after a run's last step (recovery ms).
 */
export async function changeLogProperty(nodes: readonly [string, string], size: ChangeLogSize): Promise<FaultRow> {
  const row: FaultRow = {
    fault: CHANGE_LOG_ROW,
    acked: 0,
    rejected: 0,
    stored: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    unresolved: 0,
    divergent: 0,
    recoveryMs: 0,
    violations: [],
    facts: { runs: 0, steps: 0, clients: size.clients, rooms: size.rooms, kills: 0, refusals: 0, offline: 0, restarts: 0, invites: 0, removals: 0, leaves: 0, awayViews: 0, settleMs: 0, sdkErrors: 0, firstSdkError: '' },
  };
  const users: Registered[] = [];
  for (let i = 0; i < size.clients; i++) users.push(await register(nodes[i % 2]!, 'chg'));
  let run = 0;
  const rejectedBy: Record<string, number> = {};
  const details = await fc.check(
    fc.asyncProperty(fc.array(stepArbitrary(size), { minLength: size.steps, maxLength: size.steps }), async (steps) => {
      const tally = await runOnce(nodes, users, size, steps, ++run);
      row.acked += tally.acked;
      row.rejected += tally.rejected;
      row.unresolved += tally.unresolved;
      row.stored += tally.stored;
      row.delivered += tally.delivered;
      row.lost += tally.lost;
      row.duplicated += tally.doubled;
      row.divergent += tally.divergent;
      row.recoveryMs = Math.max(row.recoveryMs, tally.recoveryMs);
      const facts = row.facts as Record<string, number>;
      facts.runs! += 1;
      facts.steps! += steps.length;
      facts.kills! += tally.faults.kill;
      facts.refusals! += tally.faults.refuse;
      facts.offline! += tally.faults.offline;
      facts.restarts! += tally.faults.restart;
      facts.invites! += tally.membership.invite;
      facts.removals! += tally.membership.remove;
      facts.leaves! += tally.membership.leave;
      facts.awayViews! += tally.away;
      facts.settleMs = Math.max(facts.settleMs!, tally.settleMs);
      facts.sdkErrors! += tally.errors.length;
      for (const [code, n] of Object.entries(tally.rejectedBy)) rejectedBy[code] = (rejectedBy[code] ?? 0) + n;
      row.facts.rejectedBy = Object.entries(rejectedBy).map(([code, n]) => `${code} ${n}`).join(', ');
      if (tally.errors.length && !row.facts.firstSdkError) row.facts.firstSdkError = tally.errors[0]!;
      row.violations.push(...tally.violations.map((v) => `run ${run}: ${v}`));
      return tally.violations.length === 0;
    }),
    // Each run is seconds of real traffic: no shrinking, the seed and path reproduce a failure.
    { numRuns: size.runs, endOnFailure: true, ...(size.seed === undefined ? {} : { seed: size.seed }) },
  );
  (row.facts as Record<string, number>).seed = details.seed;
  if (details.failed) row.violations.push(`fast-check: failed at run ${details.numRuns} (seed ${details.seed}, path ${details.counterexamplePath})`);
  return row;
}

async function runOnce(nodes: readonly [string, string], users: Registered[], size: ChangeLogSize, steps: Step[], run: number): Promise<RunTally> {
  const tally: RunTally = { acked: 0, rejected: 0, unresolved: 0, stored: 0, delivered: 0, lost: 0, doubled: 0, divergent: 0, recoveryMs: 0, settleMs: 0, rejectedBy: {}, errors: [], faults: { kill: 0, refuse: 0, offline: 0, restart: 0 }, membership: { invite: 0, remove: 0, leave: 0 }, away: 0, violations: [] };
  // The owner signs in afresh each run (a long chaos run outlives an access token); the reader reads the histories and members at the end.
  const ownerToken = await signIn(nodes[0], users[0]!);
  const reader = await register(nodes[0], 'chgreader');
  const roomIds: string[] = [];
  for (let r = 0; r < size.rooms; r++) {
    const body = { name: `changes ${run}.${r} ${Date.now().toString(36)}`, ...(isPrivate(r) ? { visibility: 'private' } : {}) };
    const created = await call<{ room: { id: string } }>(nodes[r % 2]!, 'POST', '/api/rooms', { token: ownerToken, body });
    if (created.status !== 201) throw new Error(`room create answered ${created.status}: ${created.text}`);
    roomIds.push(created.body.room.id);
    // Everyone starts as a member of a private room; no change happens before the clients join and seed their member sets.
    if (isPrivate(r)) {
      for (const user of [...users.slice(1), reader]) {
        const invited = await call(nodes[r % 2]!, 'POST', `/api/rooms/${created.body.room.id}/members`, { token: ownerToken, body: { userId: user.userId } });
        if (invited.status !== 204) throw new Error(`invite answered ${invited.status}: ${invited.text}`);
      }
    }
  }
  const privateIds = roomIds.filter((_, r) => isPrivate(r));
  const startMembers = new Map(await Promise.all(privateIds.map(async (id) => [id, await fetchMembers(nodes[0], reader.token, id)] as const)));
  const actors: Actor[] = [];
  const writes: Promise<void>[] = [];
  let counter = 0;
  try {
    for (const [i, user] of users.entries()) {
      // Half the clients start on each node; the url list is how they fail over.
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      const links = await Promise.all(order.map(async (n) => new Link(await startTcpProxy(nodePort(nodes[n]!)))));
      const states: string[] = [];
      const actor: Actor = { user, links, client: newClient(links, user, states), rooms: new Map(), views: new Map(), memberOf: new Set(privateIds), planned: new Set(privateIds), positions: new Map(), own: new Map(), busy: null, offs: new Map(), errors: tally.errors, states };
      watch(actor);
      actors.push(actor);
      for (const roomId of roomIds) {
        const room = await actor.client.join(roomId);
        const view = new RoomView();
        // The join hands nothing out before this returns: the members read before it are the view's start.
        const members = startMembers.get(roomId);
        if (members) view.seedMembers(members, room.lastChange ?? 0);
        actor.views.set(roomId, view);
        feed(actor, roomId, room);
        actor.own.set(roomId, []);
      }
    }

    const write = (what: Promise<unknown>, onAck: (value: unknown) => void = () => {}) => {
      writes.push(
        what.then(
          (value) => {
            tally.acked++;
            onAck(value);
          },
          (err: unknown) => {
            tally.rejected++;
            const code = err instanceof RoomcastError ? (localReason(err) ?? err.code) : 'other';
            tally.rejectedBy[code] = (tally.rejectedBy[code] ?? 0) + 1;
          },
        ),
      );
    };

    /** Runs a restart or membership change of `actor` after the one running (if any), one at a time: a failure is a violation. */
    const change = (actor: Actor, what: string, body: () => Promise<void>) => {
      const queued: Promise<void> = (actor.busy ?? Promise.resolve())
        .then(body)
        .catch((err: unknown) => void tally.violations.push(`${what} failed: ${String(err)} (states: ${actor.states.join('; ')})`))
        .finally(() => {
          if (actor.busy === queued) actor.busy = null;
        });
      actor.busy = queued;
    };
    const owner = actors[0]!;

    for (const step of steps) {
      const roomId = 'room' in step ? roomIds[step.room]! : '';
      if (step.op === 'invite' || step.op === 'remove') {
        const invite = step.op === 'invite';
        // Chosen by the membership the actor will have: a removal still under way is followed by the invite.
        const candidates = actors.slice(1).filter((a) => a.planned.has(roomId) !== invite);
        if (candidates.length === 0) {
          await sleep(step.gapMs);
          continue;
        }
        const actor = candidates[step.pick % candidates.length]!;
        if (invite) actor.planned.add(roomId);
        else actor.planned.delete(roomId);
        const which = `room ${step.room}: client ${actors.indexOf(actor)} ${step.op}`;
        // The owner's REST calls go through its current client (a restart replaces it: the call is retried on the new one).
        change(actor, which, async () => {
          await untilDone(() => (invite ? owner.client.rooms.invite(roomId, actor.user.userId) : owner.client.rooms.remove(roomId, actor.user.userId)));
          tally.membership[step.op]++;
          if (invite) {
            actor.memberOf.add(roomId);
            await rejoin(actor, roomId);
          } else {
            actor.memberOf.delete(roomId);
            drop(actor, roomId);
          }
        });
        await sleep(step.gapMs);
        continue;
      }
      const actor = actors[step.client]!;
      // A room the actor is not a member of (removed, left) takes none of its writes.
      const room = roomId ? actor.rooms.get(roomId) : undefined;
      switch (step.op) {
        case 'send': {
          if (actor.busy || !room) break;
          const own = actor.own.get(roomId)!;
          write(room.send(`r${run} c${step.client} #${++counter}`), (m) => own.push(m as Message));
          break;
        }
        case 'reply': {
          const own = actor.own.get(roomId)!;
          if (actor.busy || !room || own.length === 0) break;
          const parent = own[step.pick % own.length]!;
          write(room.send(`r${run} c${step.client} re s${parent.seq} #${++counter}`, { replyToSeq: parent.seq }), (m) => own.push(m as Message));
          break;
        }
        case 'edit':
        case 'delete': {
          const own = actor.own.get(roomId)!;
          if (actor.busy || !room || own.length === 0) break;
          const target = own[step.pick % own.length]!;
          if (step.op === 'edit') write(room.edit(target.id, `${target.content} edit #${++counter}`));
          else {
            own.splice(own.indexOf(target), 1);
            write(room.delete(target.id));
          }
          break;
        }
        case 'react': {
          const shown = [...actor.views.get(roomId)!.bySeq.values()];
          if (actor.busy || !room || shown.length === 0) break;
          const target = shown[step.pick % shown.length]!;
          const emoji = REACTION_EMOJIS[step.emoji]!;
          write(step.add ? room.react(target.id, emoji) : room.unreact(target.id, emoji));
          break;
        }
        case 'leave': {
          if (!actor.planned.has(roomId)) break;
          actor.planned.delete(roomId);
          change(actor, `room ${step.room}: client ${step.client} leave`, async () => {
            // Retried until it holds; not_found: an earlier try left (its answer was lost), the caller is no member.
            await untilDone(
              () => actor.client.rooms.leave(roomId),
              (err) => err instanceof RoomcastError && err.code === 'not_found',
            );
            tally.membership.leave++;
            actor.memberOf.delete(roomId);
            drop(actor, roomId);
          });
          break;
        }
        case 'kill':
          tally.faults.kill++;
          for (const link of actor.links) link.proxy.dropConnections();
          break;
        case 'refuse':
          tally.faults.refuse++;
          actor.links[step.node]!.refuse(step.ms);
          break;
        case 'offline':
          tally.faults.offline++;
          for (const link of actor.links) link.refuse(step.ms);
          break;
        case 'restart':
          if (actor.busy) break;
          tally.faults.restart++;
          change(actor, `client ${step.client}: the restart`, () => restart(actor));
          break;
      }
      await sleep(step.gapMs);
    }

    // Quiet: the network heals, writes settle, then every view must converge on history.
    for (const actor of actors) for (const link of actor.links) link.restore();
    const ended = Date.now();
    // Membership changes and restarts run one at a time per actor, so waiting on the current ones waits for all.
    for (let round = 0; round < 50 && actors.some((a) => a.busy); round++) await bounded(Promise.all(actors.map((a) => a.busy)), 20_000);
    const settled = await bounded(Promise.allSettled(writes), 20_000);
    tally.settleMs = Date.now() - ended;
    if (!settled) tally.unresolved = writes.length - tally.acked - tally.rejected;
    // The members as the acked calls left them: what every member's view must show, and whose views are compared.
    const members = new Map(await Promise.all(privateIds.map(async (id) => [id, await fetchMembers(nodes[1], reader.token, id)] as const)));
    for (const [i, actor] of actors.entries()) {
      for (const roomId of privateIds) {
        const isMember = members.get(roomId)!.includes(actor.user.userId);
        if (isMember !== actor.memberOf.has(roomId)) tally.violations.push(`client ${i} room ${roomIds.indexOf(roomId)}: ${isMember ? 'a member' : 'no member'}, though the acked invites, removals and leaves say otherwise`);
      }
    }
    // A client compares the rooms it can read: the public ones and the private ones it is a member of.
    const compared = (actor: Actor, roomId: string) => !members.has(roomId) || members.get(roomId)!.includes(actor.user.userId);
    tally.away = actors.reduce((n, actor) => n + privateIds.filter((id) => !compared(actor, id)).length, 0);
    let histories = new Map<string, Message[]>();
    const differing = () =>
      actors.flatMap((actor, i) =>
        roomIds.flatMap((roomId, r) => {
          if (!compared(actor, roomId)) return [];
          const view = actor.views.get(roomId)!;
          const expected = histories.get(roomId)!.map(comparable);
          const sameMembers = !members.has(roomId) || sameJson(view.memberIds(), [...members.get(roomId)!].sort());
          return sameJson(view.messages(), expected) && sameMembers ? [] : [`client ${i} room ${r}`];
        }),
      );
    let diverging: string[] = [];
    for (let attempt = 0; attempt < 200; attempt++) {
      histories = new Map(await Promise.all(roomIds.map(async (id) => [id, await fetchHistory(nodes[attempt % 2]!, reader.token, id)] as const)));
      diverging = differing();
      if (diverging.length === 0 || Date.now() - ended > 20_000) break;
      await sleep(100);
    }
    tally.recoveryMs = Date.now() - ended;
    tally.divergent = diverging.length;
    for (const which of diverging) {
      const actor = actors[Number(which.split(' ')[1])]!;
      const roomId = roomIds[Number(which.split(' ')[3])]!;
      const view = actor.views.get(roomId)!;
      const roomMembers = members.get(roomId);
      const memberNote = roomMembers
        ? `; members: view ${view.members.size}, room ${roomMembers.length}${describeMembers(view.memberIds(), roomMembers, actors)}`
        : '';
      const room = actor.rooms.get(roomId);
      const handle = room ? `handle lastSeq ${room.lastSeq} lastChange ${room.lastChange}` : 'no handle';
      tally.violations.push(
        `${which}: the view differs from history after ${tally.recoveryMs} ms (client ${actor.client.state}${memberNote}; states: ${actor.states.join('; ')})` +
          `\n        what differs: ${describeDifference(view.messages(), histories.get(roomId)!.map(comparable))}` +
          `\n        ${handle}; the view's last events: ${view.trace()}`,
      );
    }
    if (tally.unresolved) tally.violations.push(`${tally.unresolved} writes unresolved after 20 s`);

    for (const roomId of roomIds) {
      const history = histories.get(roomId)!;
      tally.stored += history.length;
      const stored = new Set(history.map((m) => m.id));
      for (const actor of actors) tally.lost += actor.own.get(roomId)!.filter((m) => !stored.has(m.id)).length;
    }
    if (tally.lost) tally.violations.push(`${tally.lost} acked messages missing from history`);
    for (const [i, actor] of actors.entries()) {
      for (const [r, roomId] of roomIds.entries()) {
        const view = actor.views.get(roomId)!;
        tally.delivered += view.events;
        tally.doubled += view.violations.length;
        tally.violations.push(...view.violations.slice(0, 5).map((v) => `client ${i} room ${r}: ${v}`));
      }
    }
  } finally {
    for (const actor of actors) {
      for (const off of actor.offs.values()) off();
      actor.client.close();
      for (const link of actor.links) link.restore();
      await Promise.all(actor.links.map((link) => link.proxy.close()));
    }
  }
  return tally;
}

function newClient(links: Link[], user: Registered, states: string[]): RoomcastClient {
  const started = Date.now();
  const note = (what: string) => {
    states.push(`${Date.now() - started} ms ${what}`);
    if (states.length > 8) states.shift();
  };
  return createClient({
    url: links.map((link) => link.url),
    // Every REST call's outcome goes into the client's recent states (a stuck sign-in shows there).
    fetch: async (input, init) => {
      const path = new URL(input).pathname;
      try {
        const res = await fetch(input, init);
        note(`${path} ${res.status}`);
        return res;
      } catch (err) {
        note(`${path} ${(err as Error).name}`);
        throw err;
      }
    },
    credentials: { login: user.username, password: user.password },
    transports: ['websocket'],
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
    ackTimeoutMs: 5_000,
    connectTimeoutMs: 3_000,
    requestTimeoutMs: 5_000,
  });
}

/** Records the client's background errors and its last connection states. */
function watch(actor: Actor): void {
  actor.client.on('error', (err) => actor.errors.push(`${actor.user.username}: ${err.code} ${err.message}`));
  actor.client.on('state', ({ state, reason, error }) => {
    const details = error?.details === undefined ? '' : ` ${JSON.stringify(error.details)}`;
    actor.states.push(`${state}/${reason ?? ''}${error ? `/${error.code}${details}` : ''}`);
    if (actor.states.length > 8) actor.states.shift();
  });
}

/** Feeds the actor's view of `roomId` from `room`'s events, and notes its errors. */
function feed(actor: Actor, roomId: string, room: Room): void {
  const offs = [actor.views.get(roomId)!.attach(room), room.on('error', (err) => actor.errors.push(`${actor.user.username} room: ${err.code} ${err.message}`))];
  actor.rooms.set(roomId, room);
  actor.offs.set(roomId, () => offs.forEach((off) => off()));
}

/** Where the view of a joined room is: its handle's lastSeq/lastChange, as an app persists it. */
function position(roomId: string, room: Room): { afterSeq: number; afterChange: number } {
  // A joined room always has a position to persist.
  if (room.lastSeq === null || room.lastChange === null) throw new Error(`room ${roomId} has no position to persist (lastSeq ${room.lastSeq}, lastChange ${room.lastChange})`);
  return { afterSeq: room.lastSeq, afterChange: room.lastChange };
}

/** The app restarts with its persisted views: a new client joins each room after the old handle's lastSeq/lastChange. */
async function restart(actor: Actor): Promise<void> {
  for (const off of actor.offs.values()) off();
  actor.offs.clear();
  const saved = [...actor.rooms].map(([roomId, room]) => ({ roomId, ...position(roomId, room) }));
  actor.client.close();
  actor.client = newClient(actor.links, actor.user, actor.states);
  watch(actor);
  for (const { roomId, afterSeq, afterChange } of saved) feed(actor, roomId, await actor.client.join(roomId, { afterSeq, afterChange }));
}

/**
 * The actor is no member of `roomId` any more (removed, or left): the app
 * keeps its view and where it was, and lets the handle go (it hears nothing
 * more of the room; a reconnect would be refused its join).
 */
function drop(actor: Actor, roomId: string): void {
  const room = actor.rooms.get(roomId);
  if (!room) return;
  actor.offs.get(roomId)?.();
  actor.offs.delete(roomId);
  actor.rooms.delete(roomId);
  actor.positions.set(roomId, position(roomId, room));
  // The socket already left the room on the server; this closes the handle at once (its room:leave may be refused: nothing to leave).
  void room.leave().catch(() => {});
}

/** Invited back: the app resumes its old view of `roomId` from where it was dropped, as after a restart. */
async function rejoin(actor: Actor, roomId: string): Promise<void> {
  const saved = actor.positions.get(roomId);
  if (!saved) throw new Error(`no position saved for room ${roomId}`);
  const joined = await bounded(
    untilDone(async () => feed(actor, roomId, await actor.client.join(roomId, saved))),
    20_000,
  );
  if (!joined) throw new Error(`the join after the invite did not settle in 20 s`);
  actor.positions.delete(roomId);
}

/**
 * Retries `what` until it resolves or `done(err)` says the error means it
 * held (bounded: 40 tries, 20 s). The membership calls are idempotent
 * (inviting a member, removing a non-member change nothing), so a try whose
 * answer was lost to a cut connection is safe to repeat.
 */
async function untilDone(what: () => Promise<unknown>, done: (err: unknown) => boolean = () => false): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await what();
      return;
    } catch (err) {
      if (done(err)) return;
      if (attempt >= 40 || Date.now() > deadline) throw err;
      await sleep(Math.min(500, 50 * attempt));
    }
  }
}

/** Signs `user` in again (a fresh access token). */
async function signIn(baseUrl: string, user: Registered): Promise<string> {
  const res = await call<{ accessToken: string }>(baseUrl, 'POST', '/api/auth/login', { body: { login: user.username, password: user.password } });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return res.body.accessToken;
}

/** The member ids of a room (GET /api/rooms/:id/members, every page). */
async function fetchMembers(baseUrl: string, token: string, roomId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res: JsonAnswer<MembersPage> = await call<MembersPage>(baseUrl, 'GET', `/api/rooms/${roomId}/members?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    if (res.status !== 200) throw new Error(`members answered ${res.status}: ${res.text}`);
    ids.push(...res.body.members.map((m) => m.userId));
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  return ids;
}

async function bounded(what: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([what.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return done;
}

/** Which clients (by index; others by id) a view's member set has that the room has not, and the other way round. */
function describeMembers(view: readonly string[], room: readonly string[], actors: readonly Actor[]): string {
  const name = (id: string) => {
    const i = actors.findIndex((a) => a.user.userId === id);
    return i >= 0 ? `client ${i}` : id;
  };
  const extra = view.filter((id) => !room.includes(id)).map(name);
  const missing = room.filter((id) => !view.includes(id)).map(name);
  return `${extra.length ? `, only in the view: ${extra.join(', ')}` : ''}${missing.length ? `, missing from the view: ${missing.join(', ')}` : ''}`;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
