import type { ReadStateService } from '../../rooms/read-state.js';
import { idParamSchema, readBodySchema, readsQuerySchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';

/** Read state under /api/rooms/:id (docs/protocol.md, "Read state"): the REST twin of room:read, and the members' read seqs. */
export function readRoutes(reads: ReadStateService): Route[] {
  return [
    route({
      method: 'put', path: '/api/rooms/:id/read', tag: 'rooms', access: 'user',
      summary: "Set the caller's last-read seq of a room (monotonic: a lower seq is ignored)",
      description: 'The same rule as the socket event room:read: seq 0..lastSeq (beyond: 400 validation_failed); the answer is the stored value, which never goes down. A move is pushed to the caller\'s sockets as read:updated.',
      params: idParamSchema,
      body: readBodySchema.meta({ id: 'ReadRequest' }),
      example: { seq: 42 },
      success: { status: 200, description: 'The stored read seq', schema: R.readResultSchema },
      errors: ['not_found', 'rate_limited'],
      handle: async ({ params, body }, { actor }) => reads.markRead(actor, params.id, body.seq),
    }),
    route({
      method: 'get', path: '/api/rooms/:id/reads', tag: 'rooms', access: 'user',
      summary: "The room members' last-read seqs, by user id, a page at a time",
      description: '`limit` 1-200 (default 100); `cursor` is the previous page\'s `nextCursor`. Users who read a public room without being a member are not listed.',
      params: idParamSchema,
      query: readsQuerySchema,
      success: { status: 200, description: 'One page of read positions', schema: R.roomReadsPageSchema },
      errors: ['not_found'],
      handle: async ({ params, query }, { actor }) => reads.reads(actor, params.id, query),
    }),
  ];
}
