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
  '/chat room:join': 'Join a room the user can see (`not_found` otherwise; private rooms need membership). The ack carries the room (with `lastSeq`) and who is online; from then on the socket gets the room\'s `message:new` in seq order. Fetch history up to `lastSeq` with `room:history`. A socket already in `MAX_ROOMS_PER_SOCKET` rooms gets `rate_limited` (`details.reason: "too_many_rooms"`).',
  '/chat room:leave': 'Leave a room (no error if the socket was not in it).',
  '/chat room:history': '`afterSeq` gives messages with seq > N oldest first (catching up after a gap or a reconnect); `beforeSeq` the `limit` just before N; neither the latest. Both at once: `validation_failed`. Reads spend the user\'s history budget, shared with the REST history (`HISTORY_RATE_LIMIT`): past it `rate_limited`, the socket stays.',
  '/chat message:send': 'Acknowledged only after the message is durably stored. The same `(user, clientMsgId)` again answers the original message (no duplicate): retry freely with the same id. Errors: `not_found` (room not joinable), `read_only`, `muted`, `rate_limited` (wait, then retry with the same clientMsgId), `unavailable` (node draining or database away: retry, on another node if need be).',
  '/chat message:edit': 'Author or admin. Sent to the room as `message:updated`; the seq does not change.',
  '/chat message:delete': 'Author or admin. Sent to the room as `message:deleted`; the message keeps its seq and reads back `deleted: true`, `content: ""`.',
  '/chat typing': 'Relayed to the room\'s other sockets as `typing`; the socket must have joined the room (`not_found`).',
  '/chat auth:refresh': 'Give the socket a fresh access token of the same user before the current one expires (`forbidden` for another user\'s token). Allowed even after expiry; every other event then answers `token_expired`.',
  '/chat message:new': 'A stored message, to every socket in the room except the sending socket, per socket in seq order.',
  '/chat message:updated': 'A message was edited.',
  '/chat message:deleted': 'A message was deleted (it keeps its seq).',
  '/chat typing#server': 'Someone in a joined room started or stopped typing.',
  '/chat presence': 'The first socket of a user joined a room, or the last one left (cluster-wide).',
  '/chat room:updated': 'An admin renamed, archived or made a joined room read-only.',
  '/chat system:broadcast': 'An admin broadcast, to everyone (`roomId: null`) or to one room.',
  '/chat session:expired': 'Sent just before the server disconnects a socket whose token expired without `auth:refresh`. Reconnect with a fresh token.',
  '/chat session:revoked': 'Sent just before a forced disconnect (ban, role change, kick of the login, logout). Do not reconnect with the same token.',
  '/admin admin:broadcast': 'Sent as `system:broadcast` on /chat, on every node; `delivered` counts the sockets reached.',
  '/admin admin:kick': 'Removes the user\'s sockets from the room on every node.',
  '/admin admin:ban': 'Ban (or unban). A ban revokes the user\'s refresh tokens and ends every socket of that user on every node within 1 s.',
  '/admin admin:mute': 'Mute the user in a room for `minutes` (0 lifts it); their sends there answer `muted`.',
  '/admin admin:stats': 'Cluster-wide numbers: per node, and distinct users.',
  '/admin session:expired': 'As on /chat.',
  '/admin session:revoked': 'As on /chat.',
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
    '- A refused handshake ends in `connect_error` whose `message` is the code and whose `data` is `{ code }`: `unauthorized`, `token_expired`, `forbidden` (members on /admin), `banned`; `unavailable` when the node cannot reach its database, or (`data.reason: "too_many_sockets"`) when the user already has `MAX_SOCKETS_PER_USER` sockets open (retry later).',
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
