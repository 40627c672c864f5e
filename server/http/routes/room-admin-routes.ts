import type { AdminService } from '../../admin/admin-service.js';
import { addMemberSchema, idParamSchema, memberParamsSchema, updateRoomSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

const EXAMPLE_UUID = '0b7c6f7e-6a8e-4a57-9a3e-6f1f2f1b9c11';

/** Room administration under /api/rooms: admins only, next to the member routes of the same paths. */
export function roomAdminRoutes(admin: AdminService): Route[] {
  return [
    route({
      method: 'patch', path: '/api/rooms/:id', tag: 'rooms', access: 'admin',
      summary: 'Rename, make read-only, archive a room, or switch its read receipts',
      params: idParamSchema,
      // The schema refuses an empty patch; minProperties says so to clients.
      body: updateRoomSchema.meta({ id: 'UpdateRoomRequest', minProperties: 1 }),
      example: { readOnly: true },
      success: { status: 200, description: 'The updated room (also sent as room:updated)', schema: R.roomResponseSchema },
      errors: ['not_found', 'conflict'],
      handle: async ({ params, body }, { actor }) => ({ room: await admin.updateRoom(actor, params.id, body) }),
    }),
    route({
      method: 'post', path: '/api/rooms/:id/members', tag: 'rooms', access: 'admin',
      summary: 'Add a member to a private room',
      params: idParamSchema,
      body: addMemberSchema.meta({ id: 'AddMemberRequest' }),
      example: { userId: EXAMPLE_UUID },
      success: { status: 204, description: 'Added' },
      errors: ['not_found'],
      handle: async ({ params, body }, { actor }) => {
        await admin.addMember(actor, params.id, body.userId);
      },
    }),
    route({
      method: 'delete', path: '/api/rooms/:id/members/:userId', tag: 'rooms', access: 'admin',
      summary: 'Remove a member from a room',
      params: memberParamsSchema,
      success: { status: 204, description: 'Removed' },
      errors: ['not_found'],
      handle: async ({ params }, { actor }) => {
        await admin.removeMember(actor, params.id, params.userId);
      },
    }),
  ];
}
