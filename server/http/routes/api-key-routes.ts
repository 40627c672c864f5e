import type { ApiKeys } from '../../admin/api-keys.js';
import { createApiKeySchema, idParamSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** /api/admin/api-keys: server API keys, made and revoked by admins. */
export function apiKeyRoutes(keys: ApiKeys): Route[] {
  return [
    route({
      method: 'post', path: '/api/admin/api-keys', tag: 'admin', access: 'admin',
      summary: 'Create a server API key (the key is in this answer only; it is stored hashed)',
      body: createApiKeySchema.meta({ id: 'CreateApiKeyRequest' }),
      example: { name: 'app backend', scopes: ['publish', 'rooms'] },
      success: { status: 201, description: 'The new key, with the key itself', schema: R.createdApiKeySchema },
      handle: ({ body }, { actor }) => keys.create(actor, body),
    }),
    route({
      method: 'get', path: '/api/admin/api-keys', tag: 'admin', access: 'admin',
      summary: 'The server API keys not revoked (never the keys themselves)',
      success: { status: 200, description: 'The keys', schema: R.apiKeysResponseSchema },
      handle: async () => ({ apiKeys: await keys.list() }),
    }),
    route({
      method: 'delete', path: '/api/admin/api-keys/:id', tag: 'admin', access: 'admin',
      summary: 'Revoke a server API key (refused at once, on every node)',
      params: idParamSchema,
      success: { status: 204, description: 'Revoked' },
      errors: ['not_found'],
      handle: async ({ params }, { actor }) => {
        await keys.revoke(actor, params.id);
      },
    }),
  ];
}
