import type { AdminService } from '../../admin/admin-service.js';
import { auditQuerySchema, contentSchemas, idParamSchema, messageIdParamSchema, updateUserSchema, userSearchSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** /api/admin/*: thin routes over AdminService, admins only. */
export function adminRoutes(admin: AdminService, maxMessageLength: number): Route[] {
  return [
    route({
      method: 'get', path: '/api/admin/users', tag: 'admin', access: 'admin',
      summary: 'Search users by username or email',
      query: userSearchSchema,
      success: { status: 200, description: 'One page of users', schema: R.usersPageSchema },
      handle: ({ query }) => admin.listUsers(query),
    }),
    route({
      method: 'patch', path: '/api/admin/users/:id', tag: 'admin', access: 'admin',
      summary: 'Change a user\'s role or ban them (ends their sockets on every node)',
      params: idParamSchema,
      // The schema refuses an empty patch; minProperties says so to clients.
      body: updateUserSchema.meta({ id: 'UpdateUserRequest', minProperties: 1 }),
      example: { banned: true },
      success: { status: 200, description: 'The updated user', schema: R.userResponseSchema },
      errors: ['not_found'],
      handle: async ({ params, body }, { actor }) => ({ user: await admin.updateUser(actor, params.id, body) }),
    }),
    route({
      method: 'post', path: '/api/admin/broadcast', tag: 'admin', access: 'admin',
      summary: 'Send system:broadcast to everyone, or to one room',
      body: contentSchemas(maxMessageLength).broadcast.meta({ id: 'BroadcastRequest' }),
      example: { content: 'Maintenance at 22:00 UTC' },
      success: { status: 202, description: 'Sent', schema: R.broadcastResultSchema },
      errors: ['not_found'],
      handle: ({ body }, { actor }) => admin.broadcast(actor, body),
    }),
    route({
      method: 'delete', path: '/api/admin/messages/:id', tag: 'admin', access: 'admin',
      summary: 'Delete any message (it keeps its seq)',
      params: messageIdParamSchema,
      success: { status: 204, description: 'Deleted' },
      errors: ['not_found'],
      handle: async ({ params }, { actor }) => {
        await admin.deleteMessage(actor, params.id);
      },
    }),
    route({
      method: 'get', path: '/api/admin/audit', tag: 'admin', access: 'admin',
      summary: 'The audit log, newest first',
      query: auditQuerySchema,
      success: { status: 200, description: 'One page of entries', schema: R.auditPageSchema },
      handle: ({ query }) => admin.auditLog(query),
    }),
  ];
}
