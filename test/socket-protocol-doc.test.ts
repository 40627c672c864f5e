import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  ERROR_STATUS,
  type AdminClientToServerEvents,
  type AdminServerToClientEvents,
  type ChatClientToServerEvents,
  type ChatServerToClientEvents,
} from '../server/protocol.js';
import { DOC_FILE, NAMESPACES, eventsOf, renderSocketProtocol } from '../scripts/socket-protocol-doc.js';

/** Event names the page lists in its event tables, per namespace section. */
function documentedEvents(page: string): Map<string, Set<string>> {
  const byNamespace = new Map<string, Set<string>>();
  let current: Set<string> | null = null;
  for (const line of page.split('\n')) {
    const heading = /^## Namespace (\S+)/.exec(line);
    if (heading) byNamespace.set(heading[1]!, (current = new Set()));
    else if (line.startsWith('## ')) current = null;
    const row = /^\| `([^`]+)` \| `/.exec(line);
    if (row && current) current.add(row[1]!);
  }
  return byNamespace;
}

// The event names once more, checked by the compiler itself: `satisfies Record<keyof …>`
// fails to compile when the event maps gain or lose an event.
const yes = true as const;
const CHAT_CLIENT = { 'room:join': yes, 'room:leave': yes, 'room:history': yes, 'message:send': yes, 'message:edit': yes, 'message:delete': yes, typing: yes, 'room:online': yes, 'auth:refresh': yes, 'room:changes': yes, 'room:read': yes, 'message:react': yes, 'message:unreact': yes } satisfies Record<keyof ChatClientToServerEvents, true>;
const CHAT_SERVER = {
  'message:new': yes,
  'message:updated': yes,
  'message:deleted': yes,
  typing: yes,
  presence: yes,
  'presence:batch': yes,
  'room:updated': yes,
  'system:broadcast': yes,
  'session:expired': yes,
  'session:revoked': yes,
  'session:slow_consumer': yes,
  'server:draining': yes,
  'room:kicked': yes,
  'room:muted': yes,
  'read:updated': yes,
  'read:receipt': yes,
  mention: yes,
  'message:reaction': yes,
  'member:joined': yes,
  'member:left': yes,
} satisfies Record<keyof ChatServerToClientEvents, true>;
const ADMIN_CLIENT = { 'admin:broadcast': yes, 'admin:kick': yes, 'admin:ban': yes, 'admin:mute': yes, 'admin:stats': yes } satisfies Record<keyof AdminClientToServerEvents, true>;
const ADMIN_SERVER = { 'session:expired': yes, 'session:revoked': yes, 'server:draining': yes } satisfies Record<keyof AdminServerToClientEvents, true>;

describe('docs/socket-protocol.md', () => {
  const page = readFileSync(DOC_FILE, 'utf8');

  it('is exactly what `npm run docs:protocol` renders from the SDK protocol types (run it after changing them)', () => {
    expect(page === renderSocketProtocol(), 'docs/socket-protocol.md is stale: run `npm run docs:protocol`').to.equal(true);
  });

  it('lists every event of every namespace\'s event maps, and no other', () => {
    const documented = documentedEvents(page);

    expect([...documented.keys()]).to.deep.equal(NAMESPACES.map((nsp) => nsp.name));
    for (const nsp of NAMESPACES) {
      const declared = new Set([...eventsOf(nsp.clientToServer), ...eventsOf(nsp.serverToClient)].map((event) => event.name));
      expect([...documented.get(nsp.name)!].sort(), nsp.name).to.deep.equal([...declared].sort());
    }
  });

  it('agrees with the compiler-checked event names of the SDK types', () => {
    const documented = documentedEvents(page);

    expect([...documented.get('/chat')!].sort()).to.deep.equal([...new Set([...Object.keys(CHAT_CLIENT), ...Object.keys(CHAT_SERVER)])].sort());
    expect([...documented.get('/admin')!].sort()).to.deep.equal([...Object.keys(ADMIN_CLIENT), ...Object.keys(ADMIN_SERVER)].sort());
  });

  it('lists every error code of the catalog with its REST status', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(page).to.include(`| \`${code}\` | ${status} |`);
  });

  it('names the ack data type of every client event, and documents each payload and ack type', () => {
    for (const nsp of NAMESPACES) {
      for (const event of eventsOf(nsp.clientToServer)) {
        expect(page).to.include(`| \`${event.name}\` | \`${event.payload}\` | \`${event.ack}\` |`);
        for (const type of [event.payload, event.ack]) if (type && type !== 'Empty') expect(page, type).to.match(new RegExp(`^#### ${type}\\b`, 'm'));
      }
    }
  });
});
