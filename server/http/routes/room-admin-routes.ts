import { Router, type RequestHandler } from 'express';
import type { AdminService } from '../../admin/admin-service.js';
import { addMemberSchema, idParamSchema, memberParamsSchema, updateRoomSchema } from '../../schemas.js';
import { actorOf } from '../request-context.js';
import { parse } from '../validate.js';

/**
 * Room administration under /api/rooms. Mounted after the member routes;
 * each route carries the admin check itself so the member routes stay open.
 */
export function roomAdminRoutes(admin: AdminService, requireAdmin: RequestHandler): Router {
  const router = Router();

  router.patch('/:id', requireAdmin, async (req, res) => {
    const { id } = parse(idParamSchema, req.params);
    res.json({ room: await admin.updateRoom(actorOf(req), id, parse(updateRoomSchema, req.body)) });
  });

  router.post('/:id/members', requireAdmin, async (req, res) => {
    const { id } = parse(idParamSchema, req.params);
    await admin.addMember(actorOf(req), id, parse(addMemberSchema, req.body).userId);
    res.status(204).end();
  });

  router.delete('/:id/members/:userId', requireAdmin, async (req, res) => {
    const { id, userId } = parse(memberParamsSchema, req.params);
    await admin.removeMember(actorOf(req), id, userId);
    res.status(204).end();
  });

  return router;
}
