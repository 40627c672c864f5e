import type { Metrics } from '../../metrics/metrics.js';
import type { RoomService } from '../../rooms/room-service.js';
import { changesQuerySchema, createRoomSchema, historyQuerySchema, idParamSchema, roomListQuerySchema, threadParamsSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** /api/rooms for every signed-in user. */
export function roomRoutes(rooms: RoomService, metrics?: Metrics): Route[] {
  return [
    route({
      method: 'get', path: '/api/rooms', tag: 'rooms', access: 'user',
      summary: 'Public rooms and the private rooms the caller is a member of, a page at a time, newest first',
      description: '`q` keeps rooms whose name contains it (any letter case); `limit` 1-200 (default 100); `cursor` is the previous page\'s `nextCursor`.',
      query: roomListQuerySchema,
      success: { status: 200, description: 'One page of rooms', schema: R.roomsPageSchema },
      handle: async ({ query }, { actor }) => rooms.list(actor, query),
    }),
    route({
      method: 'post', path: '/api/rooms', tag: 'rooms', access: 'user',
      summary: 'Create a room (private or readOnly rooms: admins only)',
      body: createRoomSchema.meta({ id: 'CreateRoomRequest' }),
      example: { name: 'general', visibility: 'public' },
      success: { status: 201, description: 'The new room', schema: R.roomResponseSchema },
      errors: ['forbidden', 'conflict', 'rate_limited'],
      handle: async ({ body }, { actor }) => ({ room: await rooms.create(actor, body) }),
    }),
    route({
      method: 'get', path: '/api/rooms/:id', tag: 'rooms', access: 'user',
      summary: 'One room the caller can see',
      params: idParamSchema,
      success: { status: 200, description: 'The room', schema: R.roomResponseSchema },
      errors: ['not_found'],
      handle: async ({ params }, { actor }) => ({ room: await rooms.get(actor, params.id) }),
    }),
    route({
      method: 'get', path: '/api/rooms/:id/messages', tag: 'rooms', access: 'user',
      summary: 'History: afterSeq (catch up, oldest first) or beforeSeq (page back), never both; neither gives the latest',
      description: 'Giving both afterSeq and beforeSeq answers 400 validation_failed.',
      params: idParamSchema,
      query: historyQuerySchema,
      success: { status: 200, description: 'Messages ascending by seq', schema: R.historyPageSchema },
      errors: ['not_found', 'rate_limited'],
      handle: async ({ params, query }, { actor }) => {
        if (query.afterSeq !== undefined) metrics?.historyCatchUp('rest');
        return rooms.history(actor, params.id, query);
      },
    }),
    route({
      method: 'get', path: '/api/rooms/:id/messages/:seq/replies', tag: 'rooms', access: 'user',
      summary: 'A thread: the replies to message `seq`, paged exactly as history (afterSeq, beforeSeq or the latest), oldest first',
      description: 'Same permission and budget as history. A `seq` beyond the room\'s lastSeq answers 404 not_found; a deleted parent\'s thread stays readable.',
      params: threadParamsSchema,
      query: historyQuerySchema,
      success: { status: 200, description: 'Replies ascending by seq', schema: R.historyPageSchema },
      errors: ['not_found', 'rate_limited'],
      handle: async ({ params, query }, { actor }) => rooms.replies(actor, params.id, params.seq, query),
    }),
    route({
      method: 'get', path: '/api/rooms/:id/changes', tag: 'rooms', access: 'user',
      summary: 'Change log: the current state of every message changed (stored, edited, deleted) after change number `after`',
      description:
        '`after` integer ≥ 0 (default 0), `limit` 1-500 (default 200). Ascending by `change`; an edit twice is one entry with the final text, a delete a tombstone. ' +
        '`after` beyond the room\'s `lastChange` answers an empty page. Same permission and budget as history. ' +
        '`after` from before what retention kept (changes after it were deleted) answers `changes_expired` (410) with `details: {oldestSeq, lastChange}`: refetch history.',
      params: idParamSchema,
      query: changesQuerySchema,
      success: { status: 200, description: 'One page of the change log', schema: R.changesPageSchema },
      errors: ['not_found', 'rate_limited', 'changes_expired'],
      handle: async ({ params, query }, { actor }) => rooms.changes(actor, params.id, query),
    }),
  ];
}
