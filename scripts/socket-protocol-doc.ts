// Generates docs/socket-protocol.md from the SDK's protocol types
// (client-sdk/src/protocol.ts), read with the TypeScript compiler API:
// `npm run docs:protocol` writes it, test/socket-protocol-doc.test.ts fails
// when the committed page differs from what this script renders.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROTOCOL_FILE = path.join(ROOT, 'client-sdk/src/protocol.ts');
export const DOC_FILE = path.join(ROOT, 'docs/socket-protocol.md');

/** The event maps of each namespace, as named in protocol.ts. */
export const NAMESPACES = [
  {
    name: '/chat',
    who: 'any authenticated user',
    clientToServer: 'ChatClientToServerEvents',
    serverToClient: 'ChatServerToClientEvents',
  },
  {
    name: '/admin',
    who: 'admins only; a member\'s handshake ends in `connect_error` `forbidden`',
    clientToServer: 'AdminClientToServerEvents',
    serverToClient: 'AdminServerToClientEvents',
  },
] as const;

/**
 * What each event means, beyond its types. Keyed `namespace event`; the
 * script refuses to render when an event has no entry or an entry has no
 * event, so a new event cannot land undocumented.
 */
const DESCRIPTIONS: Record<string, string> = {
  '/chat room:join': 'Join a room the user can see (`not_found` otherwise; private rooms need membership). The ack carries the room (with `lastSeq`), the first `JOIN_ONLINE_LIST_LIMIT` (default 100) online users by userId and `onlineCount`, all of them (page on with `room:online`); from then on the socket gets the room\'s changes (`message:new`, `message:updated`, `message:deleted`) in change order, after the ack\'s `lastChange`. Fetch history up to `lastSeq` with `room:history`. Addition (change log): with `afterChange: N` (integer ≥ 0, else `validation_failed`) the ack also carries `changes`, the current state of every message changed after N up to `lastChange` (at most 200, by change), and `hasMore` (page on with `room:changes` or `GET /api/rooms/:id/changes`). Addition (retention): the room carries `oldestSeq` (the first seq it still holds) and `retentionDays`; an `afterChange` from before what retention kept answers the join with `changesExpired: true` and no `changes` (refetch history from `oldestSeq`). A user kicked from the room gets `forbidden` with `details: { reason: "kicked", until }` until the kick\'s block ends. A socket already in `MAX_ROOMS_PER_SOCKET` rooms gets `rate_limited` (`details.reason: "too_many_rooms"`).',
  '/chat room:leave': 'Leave a room (no error if the socket was not in it).',
  '/chat room:history': '`afterSeq` gives messages with seq > N oldest first (catching up after a gap or a reconnect); `beforeSeq` the `limit` just before N; neither the latest. Addition (retention): the ack carries `oldestSeq`, the first seq the room still holds (lower ones were deleted by retention, not lost). Both at once: `validation_failed`. Reads spend the user\'s history budget, shared with the REST history (`HISTORY_RATE_LIMIT`): past it `rate_limited`, the socket stays.',
  '/chat room:changes': 'Addition (change log): a page of the room\'s change log, the socket form of `GET /api/rooms/:id/changes`: the current state of every message whose latest change is after `after` (an integer ≥ 0), by change ascending, at most `limit` (1-500, default 200); an edit twice is one entry with the final text, a deleted message its tombstone. `hasMore`: ask again with `after` = the last row\'s `change`; `lastChange`: the room\'s change number at read time (an `after` beyond it answers an empty page). Same rule and budget as `room:history` (`not_found` for a room the user cannot see, `rate_limited` past `HISTORY_RATE_LIMIT`); the socket need not have joined the room. Addition (retention): an `after` from before what retention kept answers `changes_expired` with `details: { oldestSeq, lastChange }`: refetch history.',
  '/chat message:send': 'Acknowledged only after the message is durably stored. The same `(user, clientMsgId)` again answers the original message (no duplicate): retry freely with the same id. Addition: `replyToSeq` makes it a reply (see docs/protocol.md, Replies); the parent then gets `message:updated` with its new `replyCount`. Errors: `not_found` (room not joinable, or the message replied to is missing, deleted or of another room), `forbidden` (kicked from the room, until the block ends), `read_only`, `muted`, `rate_limited` (wait, then retry with the same clientMsgId), `rejected` (the app\'s before-publish hook refused it; its reason in `details.reason`), `unavailable` (node draining or database away, or the before-publish hook failed with `BEFORE_PUBLISH_FAIL=closed`: retry, on another node if need be).',
  '/chat message:edit': 'Author or admin. Sent to the room as `message:updated`; the seq does not change. Members get `read_only` in an archived or read-only room and `muted` while muted; a message in a room the caller cannot see is `not_found`, like an unknown id. Past `EDIT_RATE_LIMIT` per window: `rate_limited`.',
  '/chat message:delete': 'Author or admin. Sent to the room as `message:deleted`; the message keeps its seq and reads back `deleted: true`, `content: ""`. Members get `read_only` in an archived room; a message in a room the caller cannot see is `not_found`, like an unknown id.',
  '/chat typing': 'Relayed to the room\'s other sockets as `typing`; the socket must have joined the room (`not_found`). Over `TYPING_RATE_LIMIT` per `TYPING_RATE_WINDOW` (per socket per room) the event is dropped, not relayed, and the ack says `dropped: true` (still `ok`: nothing to retry); so is a `typing: false` while not typing. A `typing: true` not renewed within `TYPING_TIMEOUT` seconds, a leave and a disconnect each end it with one `typing: false` to the room.',
  '/chat room:online': 'The next page of a joined room\'s online users, ordered by userId: pass the previous `nextCursor` (the join ack\'s list is the first page: start with its last userId, or with no cursor for the whole list); `nextCursor: null` ends it. `not_found` if the socket has not joined the room.',
  '/chat auth:refresh': 'Give the socket a fresh access token of the same user before the current one expires (`forbidden` for another user\'s token). Allowed even after expiry; every other event then answers `token_expired`.',
  '/chat message:new': 'A stored message, to every socket in the room except the sending socket, per socket in change order (a room\'s creations come in seq order).',
  '/chat message:updated': 'A message was edited; `change` is the edit\'s change number. In change order with the room\'s other changes.',
  '/chat message:deleted': 'A message was deleted (it keeps its seq); `change` is the deletion\'s change number. In change order with the room\'s other changes.',
  '/chat typing#server': 'Someone in a joined room started or stopped typing.',
  '/chat presence': 'The first socket of a user joined a room, or the last one left (cluster-wide). In a room with more than `PRESENCE_BATCH_THRESHOLD` online users these come as `presence:batch` instead.',
  '/chat presence:batch': 'The presence changes of a big room (more than `PRESENCE_BATCH_THRESHOLD` online users), coalesced: at most one per room per `PRESENCE_BATCH_INTERVAL_MS` from each node, each user in `joined` or `left` by their latest state. Replaces the single `presence` events there; apply it as those.',
  '/chat room:updated': 'An admin renamed, archived or made a joined room read-only.',
  '/chat system:broadcast': 'An admin broadcast, to everyone (`roomId: null`) or to one room.',
  '/chat session:expired': 'Sent just before the server disconnects a socket whose token expired without `auth:refresh`. Reconnect with a fresh token.',
  '/chat session:revoked': 'Sent just before a forced disconnect (ban, role change, kick of the login, logout). Do not reconnect with the same token.',
  '/chat session:slow_consumer': 'Sent, best effort, just before the server disconnects a socket that holds more than `MAX_SOCKET_BUFFER_BYTES` it has not read (a slow consumer): its unsent events are dropped. Reconnect and catch up each room with `room:history` `afterSeq`; the SDK does this by itself (state `reconnecting`, reason `slow_consumer`). A client that never reads again sees only the transport close.',
  '/chat server:draining': 'The node is shutting down: it refuses new handshakes (`unavailable`, `data.reason: "draining"`) and closes this connection within `closeInMs` (`DRAIN_GRACE_MS`), after acknowledging the sends it took. Open the next connection now — through the balancer, which sees `/readyz` 503, or to another URL — re-join and catch up by seq, then drop this one once its acks are in; sends keep their `clientMsgId`, so nothing doubles. The SDK does this by itself.',
  '/chat room:kicked': 'An admin kicked this user from the room: sent to their sockets that were in it, on every node, just before they leave it. The membership is gone; until `until` (null: no block) joining and sending answer `forbidden` (`details.reason: "kicked"`). Do not rejoin the room on reconnect.',
  '/chat room:muted': 'An admin muted this user in a room until `until`, or lifted the mute (`until: null`); sent to every socket of the user, on every node, joined or not. Sends there answer `muted` meanwhile.',
  // Read state (docs/protocol.md, "Read state").
  '/chat room:read': 'Set the user\'s last-read seq of a room (0..`lastSeq`, else `validation_failed`; `not_found` for a room they cannot see). Monotonic: a lower seq is ignored and the ack answers the stored, higher `readSeq`. A move is sent to the user\'s other sockets as `read:updated`, and, in rooms with `readReceipts` on, to the room as `read:receipt`. Shares the per-user `READ_RATE_LIMIT` budget with `PUT /api/rooms/:id/read` (`rate_limited` past it).',
  '/chat read:updated': 'The user\'s read seq of a room moved (from another device or the REST twin); sent to every socket of the user on every node except the one that read.',
  '/chat read:receipt': 'A user in the room read up to `readSeq`; only in rooms with `readReceipts` on, at most one per user per room per second (the last value wins, sent at the end of the second).',
  // Mentions (docs/protocol.md, "Mentions").
  '/chat mention': 'A new message of `roomId` mentions this user (`@username`, resolved at commit to members of the room); sent to every socket of the user on every node, joined to the room or not, when the message is delivered. Edits mention no one anew. The room list\'s `mentionCount` counts the unread ones.',
  // Reactions (docs/protocol.md, "Reactions").
  '/chat message:react': 'Addition (reactions): add the user\'s `emoji` (one emoji grapheme such as 👍 or 🇫🇷, or a `:name:` of 1-32 `[a-z0-9_+-]`; else `validation_failed`) to a message; already added: nothing changes. The ack carries the message with `reactions: [{ emoji, count, me }]` for the caller; a change goes to the room as `message:reaction`. `not_found` for a deleted message (`message was deleted`) or one the caller cannot see; `forbidden` while kicked; `read_only` in an archived room; `muted` while muted; `conflict` for a new emoji on a message holding `MAX_REACTION_EMOJIS` (20) distinct ones; `rate_limited` past `REACTION_RATE_LIMIT` per window (reacts and unreacts together, cluster-wide).',
  '/chat message:unreact': 'Addition (reactions): remove the user\'s `emoji` from a message; not there: nothing changes. Same ack, event and rules as `message:react`, except that a muted user may remove their reactions.',
  '/chat message:reaction': 'Addition (reactions): a reaction was added (`added: true`) or removed by `userId`; `reactions` are the message\'s counts after it (`[{ emoji, count }]`, no `me`: one payload for the room; a client keeps its own `me` from `userId` and `added`). `change` is the reaction\'s change number, in change order with the room\'s other changes.',
  '/chat member:joined': 'Issue 14: a user became a member of this private room (invited, or a first `room:join`). Carries `change`, numbered with the room\'s messages and delivered in that order; replayed by the changes page\'s `members`.',
  '/chat member:left': 'Issue 14: a member of this private room left, was removed or kicked (`change` as for `member:joined`). A removed user\'s sockets leave the room at once on every node (whether they hear it first is not promised).',
  '/admin admin:broadcast': 'Sent as `system:broadcast` on /chat, on every node; `delivered` counts the sockets reached.',
  '/admin admin:kick': 'Removes the user from the room: their sockets there get `room:kicked` and leave it on every node, the membership ends, and for `minutes` (default `KICK_BLOCK_SECONDS`, 300 s; 0 only removes) they may not join or send to it again.',
  '/admin admin:ban': 'Ban (or unban). A ban revokes the user\'s refresh tokens and ends every socket of that user on every node within 1 s. With `minutes`, the ban lifts by itself then (audited as `unban` with no actor).',
  '/admin admin:mute': 'Mute the user in a room for `minutes` (0 lifts it); their sends there answer `muted`, and their sockets get `room:muted`.',
  '/admin admin:stats': 'Cluster-wide numbers: per node, and distinct users.',
  '/admin session:expired': 'As on /chat.',
  '/admin session:revoked': 'As on /chat.',
  '/admin server:draining': 'As on /chat: open the next /admin connection elsewhere (the SDK does so on its next admin call).',
};

interface EventDoc {
  name: string;
  payload: string;
  ack: string | null;
}

interface Declarations {
  interfaces: Map<string, ts.InterfaceDeclaration>;
  aliases: Map<string, ts.TypeAliasDeclaration>;
  /** Value lists (like `REVOKE_REASONS`) that types derive from with `typeof` (ERROR_STATUS has its own table). */
  constants: Map<string, ts.VariableStatement>;
  source: ts.SourceFile;
}

/** An array literal, possibly under `as const` / `satisfies`. */
function isValueList(init: ts.Expression | undefined): boolean {
  while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init))) init = init.expression;
  return init !== undefined && ts.isArrayLiteralExpression(init);
}

function declarations(): Declarations {
  const source = ts.createSourceFile(PROTOCOL_FILE, readFileSync(PROTOCOL_FILE, 'utf8'), ts.ScriptTarget.ES2022, true);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  const aliases = new Map<string, ts.TypeAliasDeclaration>();
  const constants = new Map<string, ts.VariableStatement>();
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node)) interfaces.set(node.name.text, node);
    if (ts.isTypeAliasDeclaration(node)) aliases.set(node.name.text, node);
    if (ts.isVariableStatement(node)) for (const decl of node.declarationList.declarations) if (ts.isIdentifier(decl.name) && isValueList(decl.initializer)) constants.set(decl.name.text, node);
  });
  return { interfaces, aliases, constants, source };
}

function memberName(member: ts.TypeElement, source: ts.SourceFile): string {
  const name = member.name;
  if (!name) throw new Error('event map member without a name');
  return ts.isStringLiteral(name) || ts.isIdentifier(name) ? name.text : name.getText(source);
}

/** The events of one event-map interface: payload type and, for client events, the ack's data type. */
export function eventsOf(mapName: string): EventDoc[] {
  const { interfaces, source } = declarations();
  const map = interfaces.get(mapName);
  if (!map) throw new Error(`protocol.ts has no interface ${mapName}`);
  return map.members.map((member) => {
    if (!ts.isPropertySignature(member) || !member.type || !ts.isFunctionTypeNode(member.type)) {
      throw new Error(`${mapName}: every member must be an event signature`);
    }
    const [payload, ack] = member.type.parameters;
    const ackType = ack?.type;
    let ackData: string | null = null;
    if (ackType && ts.isTypeReferenceNode(ackType)) ackData = ackType.typeArguments?.[0]?.getText(source) ?? 'Empty';
    return { name: memberName(member, source), payload: payload?.type?.getText(source) ?? '(none)', ack: ackData };
  });
}

function jsDoc(node: ts.Node): string {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  return docs.map((d) => (typeof d.comment === 'string' ? d.comment : '')).join(' ').replace(/\s+/g, ' ').trim();
}

const identifiers = (text: string) => [...text.matchAll(/\b[A-Z]\w*\b/g)].map((m) => m[0]);

/** The type declarations `roots` reach, in the order first met. */
function reachableTypes(roots: string[], decls: Declarations): string[] {
  const seen: string[] = [];
  const visit = (name: string) => {
    if (seen.includes(name)) return;
    const declaration = decls.interfaces.get(name) ?? decls.aliases.get(name) ?? decls.constants.get(name);
    if (!declaration) return;
    seen.push(name);
    const text = declaration.getText(decls.source);
    for (const id of identifiers(text)) if (id !== name) visit(id);
  };
  for (const root of roots) for (const id of identifiers(root)) visit(id);
  return seen;
}

function renderType(name: string, decls: Declarations): string {
  const iface = decls.interfaces.get(name);
  const lines: string[] = [];
  if (iface) {
    const heritage = iface.heritageClauses?.map((h) => h.getText(decls.source)).join(' ');
    const doc = jsDoc(iface);
    lines.push(`#### ${name}${heritage ? ` (${heritage})` : ''}`, '');
    if (doc) lines.push(doc, '');
    if (iface.members.length === 0) {
      lines.push('No fields.', '');
      return lines.join('\n');
    }
    lines.push('| field | type | notes |', '|---|---|---|');
    for (const member of iface.members) {
      if (!ts.isPropertySignature(member)) continue;
      const optional = member.questionToken ? '?' : '';
      const type = (member.type?.getText(decls.source) ?? 'unknown').replace(/\s+/g, ' ').replace(/\|/g, '\\|');
      lines.push(`| \`${memberName(member, decls.source)}${optional}\` | \`${type}\` | ${jsDoc(member)} |`);
    }
    lines.push('');
    return lines.join('\n');
  }
  const declaration = (decls.aliases.get(name) ?? decls.constants.get(name))!;
  const doc = jsDoc(declaration);
  lines.push(`#### ${name}`, '');
  if (doc) lines.push(doc, '');
  lines.push('```ts', declaration.getText(decls.source).replace(/^\/\*\*[\s\S]*?\*\/\s*/, ''), '```', '');
  return lines.join('\n');
}

/** The error catalog: `ERROR_STATUS` in protocol.ts, code → REST status. */
function errorCatalog(): [string, number][] {
  const { source } = declarations();
  let catalog: [string, number][] | null = null;
  source.forEachChild((node) => {
    if (!ts.isVariableStatement(node)) return;
    for (const decl of node.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || decl.name.text !== 'ERROR_STATUS' || !decl.initializer) continue;
      let init: ts.Expression = decl.initializer;
      if (ts.isAsExpression(init)) init = init.expression;
      if (!ts.isObjectLiteralExpression(init)) continue;
      catalog = init.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(source), Number(p.initializer.getText(source))]);
    }
  });
  if (!catalog) throw new Error('protocol.ts has no ERROR_STATUS catalog');
  return catalog;
}

const code = (text: string) => `\`${text.replace(/\|/g, '\\|')}\``;

/** The whole page. */
export function renderSocketProtocol(): string {
  const decls = declarations();
  const used = new Set<string>();
  const describe = (key: string) => {
    const text = DESCRIPTIONS[key];
    if (text === undefined) throw new Error(`scripts/socket-protocol-doc.ts: describe the event "${key}"`);
    used.add(key);
    return text;
  };
  const out: string[] = [
    '<!-- Generated by `npm run docs:protocol` from client-sdk/src/protocol.ts. Do not edit by hand: test/socket-protocol-doc.test.ts fails when this page and the types differ. -->',
    '',
    '# Socket protocol reference',
    '',
    'Every namespace, event, payload, ack and error code of Roomcast\'s Socket.IO side, read from the SDK\'s protocol types (the single source of the wire types). The wire contract is `docs/protocol.md`; the REST side is `/api/openapi.json` (browsable at `/api/docs`).',
    '',
    '## Connecting',
    '',
    '- Transports: websocket and polling (polling needs sticky sessions behind a load balancer).',
    '- Handshake: `auth: { token: <accessToken> }`, or an `Authorization: Bearer <accessToken>` header.',
    '- A refused handshake ends in `connect_error` whose `message` is the code and whose `data` is `{ code }`: `unauthorized`, `token_expired`, `forbidden` (members on /admin), `banned`; `unavailable` when the node cannot reach its database, (`data.reason: "draining"`) when it is shutting down (retry elsewhere), or (`data.reason: "too_many_sockets"`) when the user already has `MAX_SOCKETS_PER_USER` sockets open (retry later).',
    '- An `Origin` outside `CORS_ORIGINS` (unset: the loopback origins on the node\'s port) is refused at the transport, before any Socket.IO session exists: the polling request and the WebSocket upgrade are both answered HTTP 403 (`origin not allowed`). There is no `connect_error` code: Socket.IO clients see a transport error (`xhr poll error` with `description` 403, or `websocket error`). The SDK reads a 403 as `forbidden` and stops (state `closed`) where the runtime exposes the status (polling; WebSocket outside browsers); browsers hide a refused WebSocket\'s status, so there it retries like any network failure. A handshake with no `Origin` (native apps, servers) is not checked.',
    '- Every client-to-server event takes `(payload, ack)` and always answers the ack: `{ ok: true, ...data }` or `{ ok: false, error: { code, message, details? } }`. A malformed payload answers `validation_failed` and never disconnects; breaking the packet size limit (`MAX_PACKET_BYTES`) does. An event the namespace does not have answers `validation_failed` at once (no handler runs).',
    '- Once the access token has expired, every event except `auth:refresh` answers `token_expired`.',
    '',
  ];
  const roots: string[] = [];
  for (const nsp of NAMESPACES) {
    out.push(`## Namespace ${nsp.name}`, '', `Who: ${nsp.who}.`, '', '### Client to server', '', '| event | payload | ack data | what it does |', '|---|---|---|---|');
    for (const event of eventsOf(nsp.clientToServer)) {
      roots.push(event.payload, event.ack ?? '');
      out.push(`| ${code(event.name)} | ${code(event.payload)} | ${code(event.ack ?? 'Empty')} | ${describe(`${nsp.name} ${event.name}`)} |`);
    }
    out.push('', '### Server to client', '', '| event | payload | when |', '|---|---|---|');
    const clientEvents = new Set(eventsOf(nsp.clientToServer).map((e) => e.name));
    for (const event of eventsOf(nsp.serverToClient)) {
      roots.push(event.payload);
      const key = `${nsp.name} ${event.name}${clientEvents.has(event.name) ? '#server' : ''}`;
      out.push(`| ${code(event.name)} | ${code(event.payload)} | ${describe(key)} |`);
    }
    out.push('');
  }
  const unused = Object.keys(DESCRIPTIONS).filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`scripts/socket-protocol-doc.ts describes events that do not exist: ${unused.join(', ')}`);

  out.push('## Error codes', '', 'The same codes answer REST calls (with this status) and socket acks.', '', '| code | REST status |', '|---|---|');
  for (const [name, status] of errorCatalog()) out.push(`| ${code(name)} | ${status} |`);
  out.push('', '## Types', '', 'Every type the events above carry.', '');
  for (const name of reachableTypes(['Ack', ...roots], decls)) out.push(renderType(name, decls));
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(DOC_FILE, renderSocketProtocol());
  console.log(`wrote ${path.relative(ROOT, DOC_FILE)}`);
}
