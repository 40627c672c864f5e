import type { AuditInput, AuditStore } from '../../db/stores/audit-store.js';
import type { WebhookStore } from '../../db/stores/webhook-store.js';
import { AppError, notFound } from '../errors.js';
import type { CreateWebhookRequest, RotateWebhookSecretRequest, WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { Actor } from '../rooms/room-service.js';
import { checkTarget, TargetRefused } from './address-policy.js';
import { generateSecret, isValidSecret } from './webhook-signing.js';

/** How long the old secret goes on signing after a rotation unless the admin says (24 h). */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;

export interface WebhookServiceDeps {
  store: WebhookStore;
  audit: AuditStore;
  /** Changes count against the admin's ADMIN_ACTION_RATE_LIMIT, as every admin change does. */
  limits: RateLimits;
  /** Re-reads which event types are subscribed (this node's outbox gate), after a change. */
  subscriptionsChanged: () => Promise<void>;
  /**
   * How long every node may go on believing an old "nobody listens"
   * (webhook-subscriptions.ts): registration answers after it, so the new
   * endpoint hears every event committed after its 201, on every node.
   */
  subscriptionMaxAgeMs: number;
  allowPrivateNetworks: boolean;
}

/**
 * Admins' webhook endpoints: register (target checked against the address
 * policy), list, remove, deliveries, replay. Changes are rate-limited and
 * audited like every admin change (the secret never goes into the audit log).
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  async create(actor: Actor, input: CreateWebhookRequest): Promise<WebhookEndpoint> {
    await this.deps.limits.consumeAdminAction(actor.userId);
    const url = new URL(input.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('validation_failed', 'url must be http or https');
    if (url.username || url.password) throw new AppError('validation_failed', 'url must not carry credentials');
    try {
      await checkTarget(url, this.deps.allowPrivateNetworks);
    } catch (err) {
      if (err instanceof TargetRefused) throw new AppError('validation_failed', err.message);
      throw err;
    }
    if (input.secret !== undefined && !isValidSecret(input.secret)) {
      throw new AppError('validation_failed', 'secret must be whsec_ followed by the base64 of 24 to 64 bytes');
    }
    const endpoint = await this.deps.store.createEndpoint({ url: url.toString(), events: [...new Set(input.events)], secret: input.secret ?? generateSecret() });
    await this.record(actor, { action: 'webhook_create', targetId: endpoint.id, details: { url: endpoint.url, events: endpoint.events } });
    await this.deps.subscriptionsChanged();
    await new Promise((resolve) => setTimeout(resolve, this.deps.subscriptionMaxAgeMs));
    return endpoint;
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.deps.store.listEndpoints();
  }

  async remove(actor: Actor, id: string): Promise<void> {
    await this.deps.limits.consumeAdminAction(actor.userId);
    if (!(await this.deps.store.deleteEndpoint(id))) throw notFound('no such webhook');
    await this.record(actor, { action: 'webhook_delete', targetId: id });
    await this.deps.subscriptionsChanged();
  }

  /** A new secret (given or made); the old one also signs for `graceSeconds`, so receivers switch without a gap. */
  async rotateSecret(actor: Actor, id: string, input: RotateWebhookSecretRequest): Promise<WebhookEndpoint> {
    await this.deps.limits.consumeAdminAction(actor.userId);
    if (input.secret !== undefined && !isValidSecret(input.secret)) {
      throw new AppError('validation_failed', 'secret must be whsec_ followed by the base64 of 24 to 64 bytes');
    }
    const graceSeconds = input.graceSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS;
    const endpoint = (await this.deps.store.rotateSecret(id, input.secret ?? generateSecret(), graceSeconds)) ?? notFoundThrow('no such webhook');
    await this.record(actor, { action: 'webhook_rotate', targetId: id, details: { graceSeconds } });
    return endpoint;
  }

  async deliveries(id: string, page: { limit: number; cursor?: string | undefined }): Promise<WebhookDeliveryPage> {
    if (!(await this.deps.store.endpointExists(id))) throw notFound('no such webhook');
    return this.deps.store.deliveries(id, page);
  }

  async replay(actor: Actor, id: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.deps.limits.consumeAdminAction(actor.userId);
    const delivery = (await this.deps.store.replay(id, deliveryId)) ?? notFoundThrow('no such delivery');
    await this.record(actor, { action: 'webhook_replay', targetId: id, details: { deliveryId } });
    return delivery;
  }

  private record(actor: Actor, entry: Omit<AuditInput, 'actorId' | 'targetType'>): Promise<void> {
    return this.deps.audit.record({ actorId: actor.userId, targetType: 'webhook', ...entry });
  }
}

function notFoundThrow(what: string): never {
  throw notFound(what);
}
