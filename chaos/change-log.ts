// "Catch-up replays every change": a fast-check property over two real nodes.
// Several users send, edit and delete at random in a few rooms while their SDK
// clients get their sockets cut, are moved to the other node, go offline for a
// while, or restart from their persisted view (join with afterSeq +
// afterChange). Every client reaches the nodes through its own TCP proxies, so
// the faults are the network's. At the end every client's view of every room,
// built only from SDK events (RoomView), must deep-equal the server's history,
// and no client may have seen a change twice or out of order.
//
// The quick form runs in `npm test` (test/change-log-property.test.ts, two
// in-process nodes), the long form as a row of `npm run chaos` (two node
// processes); the size is a parameter (ChangeLogSize).
import fc from 'fast-check';
import { createClient, RoomcastError, type Message, type Room, type RoomcastClient } from '../client-sdk/src/index.js';
import { localReason } from '../client-sdk/src/errors.js';
import { comparable, RoomView } from '../test/support/room-view.js';
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

/** Node settings the property needs: no write/read limits in the way of the random traffic. */
export const CHANGE_LOG_NODE_ENV: Readonly<Record<string, string>> = { MESSAGE_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' };

export const CHANGE_LOG_ROW = 'catch-up replays every change';

type Step =
  | { op: 'send'; client: number; room: number; gapMs: number }
  | { op: 'edit' | 'delete'; client: number; room: number; pick: number; gapMs: number }
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
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('send' as const), client, room, gapMs }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('edit' as const), client, room, pick: fc.nat(1_000), gapMs }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), client, room, pick: fc.nat(1_000), gapMs }) },
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
  rooms: Map<string, Room>;
  views: Map<string, RoomView>;
  /** The actor's acked messages per room (what it may edit or delete). */
  own: Map<string, Message[]>;
  /** Set while a restart replaces the client: writes skip the actor. */
  restarting: Promise<void> | null;
  offs: Array<() => void>;
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
  violations: string[];
}

const nodePort = (url: string) => Number(new URL(url).port);

/**
 * Runs the property against two nodes (base URLs, same database and Redis)
 * and returns the chaos table's row: acked/rejected/unresolved writes (sends,
 * edits, deletes), messages stored, events the views applied, acked sends
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
    facts: { runs: 0, steps: 0, clients: size.clients, rooms: size.rooms, kills: 0, refusals: 0, offline: 0, restarts: 0, settleMs: 0, sdkErrors: 0, firstSdkError: '' },
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
  const tally: RunTally = { acked: 0, rejected: 0, unresolved: 0, stored: 0, delivered: 0, lost: 0, doubled: 0, divergent: 0, recoveryMs: 0, settleMs: 0, rejectedBy: {}, errors: [], faults: { kill: 0, refuse: 0, offline: 0, restart: 0 }, violations: [] };
  const roomIds: string[] = [];
  for (let r = 0; r < size.rooms; r++) {
    const created = await call<{ room: { id: string } }>(nodes[r % 2]!, 'POST', '/api/rooms', { token: users[0]!.token, body: { name: `changes ${run}.${r} ${Date.now().toString(36)}` } });
    if (created.status !== 201) throw new Error(`room create answered ${created.status}: ${created.text}`);
    roomIds.push(created.body.room.id);
  }
  const actors: Actor[] = [];
  const writes: Promise<void>[] = [];
  let counter = 0;
  try {
    for (const [i, user] of users.entries()) {
      // Half the clients start on each node; the url list is how they fail over.
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      const links = await Promise.all(order.map(async (n) => new Link(await startTcpProxy(nodePort(nodes[n]!)))));
      const states: string[] = [];
      const actor: Actor = { user, links, client: newClient(links, user, states), rooms: new Map(), views: new Map(), own: new Map(), restarting: null, offs: [], errors: tally.errors, states };
      watch(actor);
      actors.push(actor);
      for (const roomId of roomIds) {
        const room = await actor.client.join(roomId);
        const view = new RoomView();
        actor.views.set(roomId, view);
        actor.rooms.set(roomId, room);
        actor.offs.push(view.attach(room), room.on('error', (err) => tally.errors.push(`client ${i} room: ${err.code} ${err.message}`)));
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

    for (const step of steps) {
      const actor = actors[step.client]!;
      const roomId = 'room' in step ? roomIds[step.room]! : '';
      switch (step.op) {
        case 'send': {
          if (actor.restarting) break;
          const own = actor.own.get(roomId)!;
          write(actor.rooms.get(roomId)!.send(`r${run} c${step.client} #${++counter}`), (m) => own.push(m as Message));
          break;
        }
        case 'edit':
        case 'delete': {
          const own = actor.own.get(roomId)!;
          if (actor.restarting || own.length === 0) break;
          const target = own[step.pick % own.length]!;
          const room = actor.rooms.get(roomId)!;
          if (step.op === 'edit') write(room.edit(target.id, `${target.content} edit #${++counter}`));
          else {
            own.splice(own.indexOf(target), 1);
            write(room.delete(target.id));
          }
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
          if (actor.restarting) break;
          tally.faults.restart++;
          actor.restarting = restart(actor)
            .catch((err: unknown) => void tally.violations.push(`client ${step.client}: the restart failed: ${String(err)} (states: ${actor.states.join('; ')})`))
            .finally(() => {
              actor.restarting = null;
            });
          break;
      }
      await sleep(step.gapMs);
    }

    // Quiet: the network heals, writes settle, then every view must converge on history.
    for (const actor of actors) for (const link of actor.links) link.restore();
    const ended = Date.now();
    await bounded(Promise.all(actors.map((a) => a.restarting)), 20_000);
    const settled = await bounded(Promise.allSettled(writes), 20_000);
    tally.settleMs = Date.now() - ended;
    if (!settled) tally.unresolved = writes.length - tally.acked - tally.rejected;
    const reader = await register(nodes[0], 'chgreader');
    let histories = new Map<string, Message[]>();
    const differing = () =>
      actors.flatMap((actor, i) =>
        roomIds.flatMap((roomId, r) => {
          const expected = histories.get(roomId)!.map(comparable);
          return sameJson(actor.views.get(roomId)!.messages(), expected) ? [] : [`client ${i} room ${r}`];
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
      tally.violations.push(`${which}: the view differs from history after ${tally.recoveryMs} ms (client ${actor.client.state}; states: ${actor.states.join('; ')})`);
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
      for (const off of actor.offs) off();
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

/** The app restarts with its persisted views: a new client joins each room after the old handle's lastSeq/lastChange. */
async function restart(actor: Actor): Promise<void> {
  for (const off of actor.offs.splice(0)) off();
  const saved = [...actor.rooms].map(([roomId, room]) => {
    // A joined room always has a position to persist.
    if (room.lastSeq === null || room.lastChange === null) throw new Error(`room ${roomId} has no position to persist (lastSeq ${room.lastSeq}, lastChange ${room.lastChange})`);
    return { roomId, afterSeq: room.lastSeq, afterChange: room.lastChange };
  });
  actor.client.close();
  actor.client = newClient(actor.links, actor.user, actor.states);
  watch(actor);
  for (const { roomId, afterSeq, afterChange } of saved) {
    const room = await actor.client.join(roomId, { afterSeq, afterChange });
    actor.rooms.set(roomId, room);
    actor.offs.push(actor.views.get(roomId)!.attach(room), room.on('error', (err) => actor.errors.push(`restarted room: ${err.code} ${err.message}`)));
  }
}

async function bounded(what: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([what.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return done;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
