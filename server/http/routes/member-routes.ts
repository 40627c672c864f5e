import type { MembershipService } from '../../rooms/membership-service.js';
import { addMemberSchema, idParamSchema, memberParamsSchema, membersQuerySchema, openDirectSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { Reply, route, type Route } from '../route-table/route.js';

const EXAMPLE_UUID = '0b7c6f7e-6a8e-4a57-9a3e-6f1f2f1b9c11';

/** Members of rooms and direct rooms (issue 14; docs/protocol.md, "Members and direct rooms"). */
export function memberRoutes(members: MembershipService): Route[] {
  return [
    route({
      method: 'post', path: '/api/dms', tag: 'rooms', access: 'user',
      summary: 'Open the direct room with another user (made on first use; the same pair always gets the same room)',
      description: 'A private room with exactly the two users as members. 201 when this call made it, 200 when it existed. Yourself: 400 validation_failed; an unknown user: 404; a banned user: 403 forbidden (details.reason "banned").',
      body: openDirectSchema.meta({ id: 'OpenDirectRequest' }),
      example: { userId: EXAMPLE_UUID },
      success: { status: 201, description: 'The new direct room', schema: R.roomResponseSchema },
      others: [{ status: 200, description: 'The existing direct room of the pair', schema: R.roomResponseSchema }],
      errors: ['not_found', 'forbidden', 'rate_limited'],
      handle: async ({ body }, { actor }) => {
        const { room, created } = await members.openDirect(actor, body.userId);
        return created ? { room } : new Reply(200, { room });
      },
    }),
    route({
      method: 'get', path: '/api/rooms/:id/members', tag: 'rooms', access: 'user',
      summary: "The room's members with their online state, by user id, a page at a time",
      description: '`limit` 1-200 (default 100); `cursor` is the previous page\'s `nextCursor`. For whoever may see the room.',
      params: idParamSchema,
      query: membersQuerySchema,
      success: { status: 200, description: 'One page of members', schema: R.membersPageSchema },
      errors: ['not_found'],
      handle: async ({ params, query }, { actor }) => members.members(actor, params.id, query),
    }),
    route({
      method: 'post', path: '/api/rooms/:id/members', tag: 'rooms', access: 'user',
      summary: "Invite a user into a room (the room's owner, or an admin)",
      description: 'A membership change of the room (member:joined, numbered in its change log). Inviting a member again is harmless. Not for direct rooms (403).',
      params: idParamSchema,
      body: addMemberSchema.meta({ id: 'AddMemberRequest' }),
      example: { userId: EXAMPLE_UUID },
      success: { status: 204, description: 'Added' },
      errors: ['not_found', 'forbidden', 'rate_limited'],
      handle: async ({ params, body }, { actor }) => {
        await members.invite(actor, params.id, body.userId);
      },
    }),
    route({
      method: 'delete', path: '/api/rooms/:id/members/:userId', tag: 'rooms', access: 'user',
      summary: "Remove a member from a room (the room's owner, or an admin)",
      description: "A membership change of the room (member:left). In a private room the user's sockets leave it at once, on every node. Not for direct rooms (403).",
      params: memberParamsSchema,
      success: { status: 204, description: 'Removed' },
      errors: ['not_found', 'forbidden', 'rate_limited'],
      handle: async ({ params }, { actor }) => {
        await members.remove(actor, params.id, params.userId);
      },
    }),
    route({
      method: 'post', path: '/api/rooms/:id/leave', tag: 'rooms', access: 'user',
      summary: 'Leave a room (end your own membership)',
      description: "A membership change of the room (member:left). Leaving a private room takes the caller's sockets out of it on every node. Not a member: 404; a direct room: 403.",
      params: idParamSchema,
      success: { status: 204, description: 'Left' },
      errors: ['not_found', 'forbidden', 'rate_limited'],
      handle: async ({ params }, { actor }) => {
        await members.leave(actor, params.id);
      },
    }),
  ];
}
