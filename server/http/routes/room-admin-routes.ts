import type { AdminService } from '../../admin/admin-service.js';
import { idParamSchema, updateRoomSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** Room administration under /api/rooms: admins only (members of rooms: member-routes.ts, owners and admins). */
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
  ];
}
