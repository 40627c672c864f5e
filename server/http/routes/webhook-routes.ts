import { createWebhookSchema, idParamSchema, rotateWebhookSecretSchema, webhookDeliveriesQuerySchema, webhookDeliveryParamsSchema } from '../../schemas.js';
import type { WebhookService } from '../../webhooks/webhook-service.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** /api/admin/webhooks/*: endpoints that hear the cluster's events (docs/protocol.md "Webhooks"), admins only. */
export function webhookRoutes(webhooks: WebhookService): Route[] {
  return [
    route({
      method: 'post', path: '/api/admin/webhooks', tag: 'admin', access: 'admin',
      summary: 'Register a webhook endpoint (its secret is made unless given)',
      body: createWebhookSchema.meta({ id: 'CreateWebhookRequest' }),
      example: { url: 'https://app.example/hooks/roomcast', events: ['message.created', 'member.joined'] },
      success: { status: 201, description: 'The endpoint, with its signing secret', schema: R.webhookEndpointSchema },
      handle: ({ body }, { actor }) => webhooks.create(actor, body),
    }),
    route({
      method: 'get', path: '/api/admin/webhooks', tag: 'admin', access: 'admin',
      summary: 'List webhook endpoints',
      success: { status: 200, description: 'Every endpoint', schema: R.webhookListSchema },
      handle: async () => ({ webhooks: await webhooks.list() }),
    }),
    route({
      method: 'delete', path: '/api/admin/webhooks/:id', tag: 'admin', access: 'admin',
      summary: 'Remove a webhook endpoint and its deliveries',
      params: idParamSchema,
      success: { status: 204, description: 'Removed' },
      errors: ['not_found'],
      handle: async ({ params }, { actor }) => {
        await webhooks.remove(actor, params.id);
      },
    }),
    route({
      method: 'post', path: '/api/admin/webhooks/:id/rotate-secret', tag: 'admin', access: 'admin',
      summary: 'Give an endpoint a new secret; the old one signs too (a second signature) for graceSeconds',
      params: idParamSchema,
      body: rotateWebhookSecretSchema.meta({ id: 'RotateWebhookSecretRequest' }),
      example: { graceSeconds: 86400 },
      success: { status: 200, description: 'The endpoint, with its new secret', schema: R.webhookEndpointSchema },
      errors: ['not_found'],
      handle: ({ params, body }, { actor }) => webhooks.rotateSecret(actor, params.id, body),
    }),
    route({
      method: 'get', path: '/api/admin/webhooks/:id/deliveries', tag: 'admin', access: 'admin',
      summary: 'An endpoint\'s deliveries, newest first (pending, delivered, failed)',
      params: idParamSchema,
      query: webhookDeliveriesQuerySchema,
      success: { status: 200, description: 'One page of deliveries', schema: R.webhookDeliveryPageSchema },
      errors: ['not_found'],
      handle: ({ params, query }) => webhooks.deliveries(params.id, query),
    }),
    route({
      method: 'post', path: '/api/admin/webhooks/:id/deliveries/:deliveryId/replay', tag: 'admin', access: 'admin',
      summary: 'Send a delivery again, with the same webhook-id (a failed one gets a new retry window)',
      params: webhookDeliveryParamsSchema,
      success: { status: 202, description: 'Queued', schema: R.webhookDeliveryResponseSchema },
      errors: ['not_found'],
      handle: async ({ params }, { actor }) => ({ delivery: await webhooks.replay(actor, params.id, params.deliveryId) }),
    }),
  ];
}
