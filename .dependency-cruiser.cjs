// The house's layers as import rules (docs/design.md, "The layers"). Imports
// point one way: composition root → entry points (server/http,
// server/realtime) and server/cluster → the domain (server/auth, rooms,
// messages, admin) → support (server/metrics, server/rate-limits.ts) →
// db/ → leaves (config, logger, errors, schemas, the protocol types).
// test/layers.test.ts runs this on server/ and db/ inside `npm test`; by hand:
//   npx depcruise --config .dependency-cruiser.cjs server db

const LEAF = '^server/(config|access-token-keys|external-identity-config|logger|errors|protocol|schemas|with-timeout|origins|bearer-token|text-fields)\\.ts$';
const PROTOCOL = '^(server/protocol\\.ts|client-sdk/src/protocol\\.ts)$';
const DOMAIN = '^server/(auth|rooms|messages|admin|webhooks)/';
const ENTRY = '^server/(http|realtime)/';
const ROOT = '^server/(app|main|lifecycle)\\.ts$|^server/composition/|^server/workers/';
const SUPPORT = '^server/(metrics/|rate-limits\\.ts$)';
// Resolved paths of the web and socket frameworks (and their type packages).
const FRAMEWORKS = '^node_modules/(@types/)?(express|express-serve-static-core|socket\\.io|socket\\.io-adapter|engine\\.io|@socket\\.io/)';

/** A module under `from` may not import one under `to` (both regular expressions on paths from the repository root). */
const forbid = (name, from, to, comment) => ({ name, ...(comment ? { comment } : {}), severity: 'error', from: { path: from }, to: { path: to } });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module imports itself through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment:
        'No cycle between the folders under server/ and db/ (messages ↔ realtime was one). server/ and db/ as wholes are left ' +
        'to the rules below: db/ may import server/protocol.ts, and the top-level files of server/ have a layer each.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(server|db)/' },
      to: { circular: true, pathNot: '^(server|db)$' },
    },
    {
      name: 'protocol-is-a-leaf',
      comment: 'The wire types are shared with clients: they import nothing of the server or the database.',
      severity: 'error',
      from: { path: PROTOCOL },
      to: { path: '^(server|db)/', pathNot: PROTOCOL },
    },
    {
      name: 'leaves-import-only-leaves',
      comment: 'config, logger, errors, schemas and the protocol are used everywhere, so they use nothing above them.',
      severity: 'error',
      from: { path: LEAF },
      to: { path: '^(server|db)/', pathNot: LEAF },
    },
    {
      name: 'db-imports-only-the-protocol',
      comment: 'db/ (the stores: SQL only) never imports the domain or anything else of server/ but the protocol types.',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^server/|^client-sdk/', pathNot: PROTOCOL },
    },
    forbid('support-below-the-domain', SUPPORT, `${DOMAIN}|${ENTRY}|${ROOT}|^server/cluster/`,
      'Metrics and rate limits are used by the domain, so they import none of it (auth → rate-limits → metrics → auth was a cycle).'),
    forbid('metrics-below-rate-limits', '^server/metrics/', '^server/rate-limits\\.ts$'),
    forbid('domain-not-on-entry-points', DOMAIN, `${ENTRY}|${ROOT}|^server/cluster/`,
      'The domain declares the ports it needs (SessionEnder, BatchPublisher, RoomEvictor…); server/realtime implements them.'),
    forbid('domain-without-frameworks', DOMAIN, FRAMEWORKS, 'No Socket.IO or Express in the domain, not even their types.'),
    forbid('db-without-frameworks', '^db/', FRAMEWORKS),
    forbid('rooms-at-the-bottom-of-the-domain', '^server/rooms/', '^server/(auth|messages|admin)/',
      'Within the domain: admin may use messages, rooms and auth; messages may use rooms; rooms and auth use no other domain folder.'),
    forbid('messages-below-admin', '^server/messages/', '^server/(auth|admin)/'),
    forbid('auth-alone-in-the-domain', '^server/auth/', '^server/(rooms|messages|admin)/'),
    forbid('http-and-realtime-apart', '^server/http/', '^server/(realtime|cluster)/', 'The two entry points share the domain and the leaves, not each other.'),
    forbid('realtime-and-http-apart', '^server/realtime/', '^server/(http|cluster)/'),
    forbid('cluster-not-on-the-domain', '^server/cluster/', DOMAIN,
      'server/cluster plugs Redis into the sockets, the presence and the limiters; the domain does not know it.'),
    {
      name: 'only-the-root-composes',
      comment: 'Only main.ts and tests reach createApp and server/composition: nothing inside the layers builds the app.',
      severity: 'error',
      from: { path: '^server/', pathNot: ROOT },
      to: { path: ROOT },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a domain file that imports a Socket.IO type still depends on Socket.IO.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
