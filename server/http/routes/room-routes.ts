import { Router } from 'express';
import type { Metrics } from '../../metrics/metrics.js';
import type { RoomService } from '../../rooms/room-service.js';
import { createRoomSchema, historyQuerySchema, idParamSchema } from '../../schemas.js';
import { actorOf } from '../request-context.js';
import { parse } from '../validate.js';

/** /api/rooms for every signed-in user (mounted behind `authenticate`). */
export function roomRoutes(rooms: RoomService, metrics?: Metrics): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    res.json({ rooms: await rooms.list(actorOf(req)) });
  });

  router.post('/', async (req, res) => {
    const room = await rooms.create(actorOf(req), parse(createRoomSchema, req.body));
    res.status(201).json({ room });
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(idParamSchema, req.params);
    res.json({ room: await rooms.get(actorOf(req), id) });
  });

  router.get('/:id/messages', async (req, res) => {
    const { id } = parse(idParamSchema, req.params);
    const query = parse(historyQuerySchema, req.query);
    if (query.afterSeq !== undefined) metrics?.historyCatchUp('rest');
    res.json(await rooms.history(actorOf(req), id, query));
  });

  return router;
}
