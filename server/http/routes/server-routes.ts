import type { AdminService } from '../../admin/admin-service.js';
import type { ServerApi } from '../../admin/server-api.js';
import {
  addMemberSchema,
  changesQuerySchema,
  contentSchemas,
  createRoomSchema,
  historyQuerySchema,
  idParamSchema,
  memberParamsSchema,
  presenceQuerySchema,
  serverBanSchema,
  updateRoomSchema,
} from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

const EXAMPLE_UUID = '0b7c6f7e-6a8e-4a57-9a3e-6f1f2f1b9c11';

/**
 * /api/server/*: the server API for the app's backend, with a server API key
 * (`Authorization: Bearer rck_…`) holding each route's scope. Thin routes
 * over the same use cases as the user and admin routes.
 */
export function serverRoutes(server: ServerApi, admin: AdminService, maxMessageLength: number): Route[] {
  return [
    route({
      method: 'post', path: '/api/server/rooms', tag: 'server', access: 'server', scope: 'rooms',
      summary: 'Create a room of any kind (it has no creating user, so no member yet)',
      body: createRoomSchema.meta({ id: 'CreateRoomRequest' }),
      example: { name: 'support-4711', visibility: 'private' },
      success: { status: 201, description: 'The new room', schema: R.roomResponseSchema },
      handle: async ({ body }, { key }) => ({ room: await server.createRoom(key, body) }),
    }),
    route({
      method: 'patch', path: '/api/server/rooms/:id', tag: 'server', access: 'server', scope: 'rooms',
      summary: 'Rename, make read-only or archive a room (sent as room:updated)',
      params: idParamSchema,
      // The schema refuses an empty patch; minProperties says so to clients.
      body: updateRoomSchema.meta({ id: 'UpdateRoomRequest', minProperties: 1 }),
      example: { readOnly: true },
      success: { status: 200, description: 'The updated room', schema: R.roomResponseSchema },
      errors: ['not_found', 'conflict'],
      handle: async ({ params, body }, { key }) => ({ room: await admin.updateRoom(key, params.id, body) }),
    }),
    route({
      method: 'post', path: '/api/server/rooms/:id/members', tag: 'server', access: 'server', scope: 'rooms',
      summary: 'Add a member to a room (the way into a private room)',
      params: idParamSchema,
      body: addMemberSchema.meta({ id: 'AddMemberRequest' }),
      example: { userId: EXAMPLE_UUID },
      success: { status: 204, description: 'Added' },
      errors: ['not_found'],
      handle: async ({ params, body }, { key }) => {
        await admin.addMember(key, params.id, body.userId);
      },
    }),
    route({
      method: 'delete', path: '/api/server/rooms/:id/members/:userId', tag: 'server', access: 'server', scope: 'rooms',
      summary: 'Remove a member from a room (their sockets leave a private room at once)',
      params: memberParamsSchema,
      success: { status: 204, description: 'Removed' },
      errors: ['not_found'],
      handle: async ({ params }, { key }) => {
        await admin.removeMember(key, params.id, params.userId);
      },
    }),
    route({
      method: 'post', path: '/api/server/rooms/:id/messages', tag: 'server', access: 'server', scope: 'publish',
      summary: 'Publish a message as a user, or as the system user when userId is absent',
      description:
        'Answered after commit with the stored message (its seq included) and delivered exactly like a socket send. ' +
        'The same (sender, clientMsgId) again answers the stored message: no duplicate. ' +
        'The sender\'s role and the room\'s rules apply (read_only, muted, a kick, a private room they are not in: not_found); a banned sender is refused. ' +
        'With a before-publish hook configured, the app may refuse it (rejected, its reason in details.reason) or replace its content.',
      params: idParamSchema,
      body: contentSchemas(maxMessageLength).serverPublish.meta({ id: 'ServerPublishRequest' }),
      example: { userId: EXAMPLE_UUID, content: 'Your order has shipped', clientMsgId: '5d1b3a0e-2f4c-4e8a-9b7d-1c2e3f4a5b6c' },
      success: { status: 201, description: 'The stored message (the original one for a repeated clientMsgId)', schema: R.messageResponseSchema },
      errors: ['not_found', 'forbidden', 'banned', 'read_only', 'muted', 'rejected', 'unavailable'],
      handle: async ({ params, body }, { key }) => ({ message: await server.publish(key, params.id, body) }),
    }),
    route({
      method: 'post', path: '/api/server/users/:id/disconnect', tag: 'server', access: 'server', scope: 'users',
      summary: 'End every socket of a user on every node (session:revoked "kicked"); they may connect again',
      params: idParamSchema,
      success: { status: 204, description: 'Ended' },
      errors: ['not_found'],
      handle: async ({ params }, { key }) => {
        await admin.endSessions(key, params.id);
      },
    }),
    route({
      method: 'post', path: '/api/server/users/:id/ban', tag: 'server', access: 'server', scope: 'users',
      summary: 'Ban a user (ends their sockets and logins on every node); `minutes` makes it lift by itself',
      params: idParamSchema,
      body: serverBanSchema.meta({ id: 'ServerBanRequest' }),
      example: { minutes: 60 },
      success: { status: 200, description: 'The user', schema: R.userResponseSchema },
      errors: ['not_found'],
      handle: async ({ params, body }, { key }) => ({ user: await admin.setBanned(key, { userId: params.id, banned: true, ...body }) }),
    }),
    route({
      method: 'delete', path: '/api/server/users/:id/ban', tag: 'server', access: 'server', scope: 'users',
      summary: 'Lift a user\'s ban',
      params: idParamSchema,
      success: { status: 200, description: 'The user', schema: R.userResponseSchema },
      errors: ['not_found'],
      handle: async ({ params }, { key }) => ({ user: await admin.setBanned(key, { userId: params.id, banned: false }) }),
    }),
    route({
      method: 'get', path: '/api/server/rooms/:id/presence', tag: 'server', access: 'server', scope: 'presence',
      summary: 'Who is online in a room, cluster-wide, a page at a time (ordered by userId)',
      params: idParamSchema,
      query: presenceQuerySchema,
      success: { status: 200, description: 'One page of online users and how many are online', schema: R.serverPresencePageSchema },
      errors: ['not_found'],
      handle: ({ params, query }, { key }) => server.presence(key, params.id, query),
    }),
    route({
      method: 'get', path: '/api/server/rooms/:id/messages', tag: 'server', access: 'server', scope: 'history',
      summary: 'Any room\'s history: afterSeq (catch up) or beforeSeq (page back), never both; neither gives the latest',
      params: idParamSchema,
      query: historyQuerySchema,
      success: { status: 200, description: 'Messages ascending by seq', schema: R.historyPageSchema },
      errors: ['not_found'],
      handle: ({ params, query }, { key }) => server.history(key, params.id, query),
    }),
    route({
      method: 'get', path: '/api/server/rooms/:id/changes', tag: 'server', access: 'server', scope: 'history',
      summary: 'A page of any room\'s change log (sends, edits, deletions in change order), as GET /api/rooms/:id/changes',
      params: idParamSchema,
      query: changesQuerySchema,
      success: { status: 200, description: 'One page of the change log', schema: R.changesPageSchema },
      errors: ['not_found', 'changes_expired'],
      handle: ({ params, query }, { key }) => server.changes(key, params.id, query),
    }),
  ];
}
