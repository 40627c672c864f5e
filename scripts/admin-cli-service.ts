// The admin use cases for `npm run admin`: the same AdminService the REST
// routes and /admin events use (checks, token revocation, session ending,
// audit), built with ports that a process outside the cluster can serve.
import type { Database } from '../db/database.js';
import { AdminService, type AdminDeps, type OperatorActor } from '../server/admin/admin-service.js';
import { ApiKeys } from '../server/admin/api-keys.js';
import { openStores } from '../server/composition/stores.js';
import type { Config } from '../server/config.js';
import { AppError } from '../server/errors.js';

/** The actor of every CLI change: audited with `actorId: null` and `details.via: "cli"`. */
export const OPERATOR: OperatorActor = { userId: null, via: 'cli' };

export interface CliAdmin {
  readonly service: AdminService;
  /** Server API keys (create, list, revoke), audited as the operator's. */
  readonly apiKeys: ApiKeys;
  /**
   * How a ban or role change reaches sockets that are already open: `cluster`
   * (REDIS_URL or REDIS_CLUSTER_NODES set: ended at once on every node, as from the admin API) or
   * `token-expiry` (no Redis to reach the nodes: they end when their access
   * token expires; refresh tokens are revoked either way).
   */
  readonly reach: 'cluster' | 'token-expiry';
  /** Waits until Redis has every session ending, then lets go of it; rejects if a publish failed. */
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5_000;

/** What the nodes do with their sockets, the CLI does not offer; its commands never ask for it. */
function notFromTheCli(what: string): never {
  throw new AppError('unavailable', `${what} is not available from the command line; use the admin API`);
}

/**
 * Builds the CLI's AdminService on `database`. With `config.redisUrl` it
 * connects to Redis first (and fails before any change if Redis does not
 * answer) to end sessions through the nodes' adapter channels.
 */
export async function createCliAdmin(database: Database, config: Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'redisKeyPrefix' | 'kickBlockSeconds'>): Promise<CliAdmin> {
  const { users, tokens, rooms, mutes, kicks, audit, apiKeys: keyStore } = openStores(database.knex);
  // The CLI never serves a key's call, so the key budget is never spent here.
  const apiKeys = new ApiKeys({ keys: keyStore, audit, limits: { consumeApiKeyCall: async () => {} } });
  const stores = { users, tokens, rooms, mutes, kicks, audit, kickBlockSeconds: config.kickBlockSeconds };
  // The operator is not rate-limited (AdminService spends nothing for an OperatorActor).
  const unlimited: Pick<AdminDeps, 'limits'> = { limits: { consumeAdminAction: async () => {} } };
  const unavailable: Pick<AdminDeps, 'messages' | 'eviction' | 'broadcaster' | 'stats' | 'memberships'> = {
    // The CLI changes no membership (it has no command for it); nothing here reaches the sockets.
    memberships: { published: () => {}, addMember: async () => notFromTheCli('adding members'), removeMember: async () => notFromTheCli('removing members') } as unknown as AdminDeps['memberships'],
    messages: { delete: async () => notFromTheCli('deleting messages') },
    eviction: { evict: async () => notFromTheCli('kicking') },
    broadcaster: {
      send: async () => notFromTheCli('broadcasting'),
      roomUpdated: () => notFromTheCli('updating rooms'),
      userMuted: () => notFromTheCli('muting'),
    },
    stats: { collect: async () => notFromTheCli('cluster stats') },
  };

  if (!config.redisUrl && !config.redisClusterNodes) {
    // No way to the nodes' sockets: the revoked refresh tokens and the login checks do the rest.
    const sessions: AdminDeps['sessions'] = { endUserSessions: () => {}, endLoginSession: () => {} };
    return { service: new AdminService({ ...stores, ...unavailable, ...unlimited, sessions }), apiKeys, reach: 'token-expiry', close: async () => {} };
  }

  // Loaded only here: most runs have no Redis, and the CLI starts faster without it.
  const [{ createClient, createCluster }, { EmittedSessions }] = await Promise.all([import('redis'), import('../server/cluster/emitted-sessions.js')]);
  const options = { name: 'roomcast-admin-cli', socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false as const } };
  const nodes = config.redisClusterNodes;
  const redis = nodes ? createCluster({ rootNodes: nodes.map((url) => ({ url })), defaults: options }) : createClient({ url: config.redisUrl!, ...options });
  let failure: unknown = null;
  redis.on('error', (err: unknown) => (failure ??= err));
  try {
    await redis.connect();
  } catch (err) {
    if (redis.isOpen) redis.destroy();
    const reason = failure ?? err;
    const where = nodes ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
    throw new AppError('unavailable', `cannot reach Redis at ${where} to end open sessions (${reason instanceof Error ? reason.message : String(reason)}); nothing was changed`);
  }
  // On a cluster the nodes listen with SSUBSCRIBE: an SPUBLISH reaches them.
  const publisher = nodes ? { publish: (channel: string, message: string | Buffer) => redis.sPublish(channel, message) } : redis;
  const sessions = new EmittedSessions(publisher, config.redisKeyPrefix, Boolean(nodes));
  let closed = false;
  return {
    service: new AdminService({ ...stores, ...unavailable, ...unlimited, sessions }),
    apiKeys,
    reach: 'cluster',
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await sessions.flush();
      } finally {
        if (redis.isReady) await redis.close();
        else if (redis.isOpen) redis.destroy();
      }
    },
  };
}
