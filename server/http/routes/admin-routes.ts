import { Router } from 'express';
import type { AdminService } from '../../admin/admin-service.js';
import { auditQuerySchema, contentSchemas, idParamSchema, messageIdParamSchema, updateUserSchema, userSearchSchema } from '../../schemas.js';
import { actorOf } from '../request-context.js';
import { parse } from '../validate.js';

/** /api/admin/* (mounted behind the app's one `requireAdmin`): thin routes over AdminService. */
export function adminRoutes(admin: AdminService, maxMessageLength: number): Router {
  const router = Router();
  const broadcastSchema = contentSchemas(maxMessageLength).broadcast;

  router.get('/users', async (req, res) => {
    res.json(await admin.listUsers(parse(userSearchSchema, req.query)));
  });

  router.patch('/users/:id', async (req, res) => {
    const { id } = parse(idParamSchema, req.params);
    res.json({ user: await admin.updateUser(actorOf(req), id, parse(updateUserSchema, req.body)) });
  });

  router.post('/broadcast', async (req, res) => {
    res.status(202).json(await admin.broadcast(actorOf(req), parse(broadcastSchema, req.body)));
  });

  router.delete('/messages/:id', async (req, res) => {
    const { id } = parse(messageIdParamSchema, req.params);
    await admin.deleteMessage(actorOf(req), id);
    res.status(204).end();
  });

  router.get('/audit', async (req, res) => {
    res.json(await admin.auditLog(parse(auditQuerySchema, req.query)));
  });

  return router;
}
