import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyStore } from '../../db/stores/api-key-store.js';
import type { AuditStore } from '../../db/stores/audit-store.js';
import { AppError, notFound } from '../errors.js';
import type { ApiKeyInfo, ApiKeyScope, CreateApiKeyRequest, CreatedApiKey } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import { auditDetails, type AdminActor, type ApiKeyActor } from './actors.js';

/** Every key starts so, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'rck_';
/** How often a key's last_used_at is written at most: a use is not a write per call. */
const TOUCH_EVERY_SECONDS = 60;

/**
 * SHA-256, not bcrypt: the key is 256 random bits, so there is nothing to
 * guess and no reason to make each request's lookup slow; the hash only keeps
 * a database dump from handing out working keys.
 */
const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export interface ApiKeyDeps {
  keys: ApiKeyStore;
  audit: AuditStore;
  limits: Pick<RateLimits, 'consumeApiKeyCall'>;
}

/**
 * Server API keys: made and revoked by admins (REST or `npm run admin`),
 * checked on every `/api/server/` call. The check reads the database each
 * time (one index probe), so a revocation holds at once on every node with
 * nothing to invalidate.
 */
export class ApiKeys {
  /** When this node last wrote each key's last_used_at (ms). */
  private readonly touched = new Map<string, number>();

  constructor(private readonly deps: ApiKeyDeps) {}

  async create(actor: AdminActor, { name, scopes }: CreateApiKeyRequest): Promise<CreatedApiKey> {
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const info = await this.deps.keys.create({ name, keyHash: hashKey(key), scopes: [...new Set(scopes)], createdBy: actor.userId });
    await this.record(actor, 'api_key_create', info);
    return { ...info, key };
  }

  list(): Promise<ApiKeyInfo[]> {
    return this.deps.keys.listActive();
  }

  async revoke(actor: AdminActor, id: string): Promise<void> {
    const info = await this.deps.keys.revoke(id);
    if (!info) throw notFound('api key not found');
    this.touched.delete(id);
    await this.record(actor, 'api_key_revoke', info);
  }

  /**
   * The caller of a server API route: a live key (else `unauthorized`) with
   * the route's scope (else `forbidden`), within its rate limit (else
   * `rate_limited`, spent before the work like every limit).
   */
  async authorize(key: string | null, scope: ApiKeyScope): Promise<ApiKeyActor> {
    const info = key?.startsWith(API_KEY_PREFIX) ? await this.deps.keys.findActiveByHash(hashKey(key)) : null;
    if (!info) throw new AppError('unauthorized', 'missing, unknown or revoked API key');
    if (!info.scopes.includes(scope)) throw new AppError('forbidden', `this API key lacks the "${scope}" scope`);
    await this.deps.limits.consumeApiKeyCall(info.id);
    this.touch(info.id);
    return { userId: null, via: 'api_key', keyId: info.id, keyName: info.name };
  }

  /** Writes last_used_at at most once a minute per key from this node (and the store skips it if another node just did). */
  private touch(id: string): void {
    const now = Date.now();
    if (now - (this.touched.get(id) ?? 0) < TOUCH_EVERY_SECONDS * 1000) return;
    this.touched.set(id, now);
    // Not awaited: a lost touch costs only a less fresh lastUsedAt.
    this.deps.keys.touch(id, TOUCH_EVERY_SECONDS).catch(() => this.touched.delete(id));
  }

  private record(actor: AdminActor, action: 'api_key_create' | 'api_key_revoke', info: ApiKeyInfo): Promise<void> {
    return this.deps.audit.record({
      actorId: actor.userId,
      action,
      targetType: 'api_key',
      targetId: info.id,
      details: auditDetails(actor, { name: info.name, scopes: info.scopes }),
    });
  }
}
