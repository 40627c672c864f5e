import type { z } from 'zod';
import type { AdminService } from '../admin/admin-service.js';
import type { Logger } from '../logger.js';
import type { AdminClientToServerEvents } from '../protocol.js';
import * as schemas from '../schemas.js';
import { eventHandler, type EventOptions } from './event-handler.js';
import { ADMIN_EVENTS, answerUnknownEvents } from './unknown-events.js';
import type { SessionTimers } from './session-timer.js';
import type { AdminNamespace } from './types.js';

export interface AdminNamespaceDeps {
  admin: AdminService;
  sessionTimers: SessionTimers;
  maxMessageLength: number;
  logger: Logger;
}

/**
 * Namespace /admin: the handshake already refuses members, and every event
 * still declares `role: 'admin'`, so the check holds on each emit as well.
 */
export function registerAdminNamespace(nsp: AdminNamespace, deps: AdminNamespaceDeps): void {
  const content = schemas.contentSchemas(deps.maxMessageLength);

  nsp.on('connection', (socket) => {
    deps.sessionTimers.arm(socket);
    answerUnknownEvents(socket, ADMIN_EVENTS);
    const on = <E extends keyof AdminClientToServerEvents, S extends z.ZodType>(
      event: E,
      options: Omit<EventOptions<S>, 'role'>,
      handler: Parameters<typeof eventHandler<AdminClientToServerEvents, E, S>>[4],
    ) => socket.on(event, eventHandler<AdminClientToServerEvents, E, S>(socket, deps.logger, event, { ...options, role: 'admin' }, handler) as never);
    const actor = () => ({ userId: socket.data.userId, role: socket.data.role });

    on('admin:broadcast', { schema: content.broadcast }, (payload) => deps.admin.broadcast(actor(), payload));

    on('admin:kick', { schema: schemas.kickSchema }, async (payload) => {
      await deps.admin.kick(actor(), payload);
      return {};
    });

    on('admin:ban', { schema: schemas.banSchema }, async (payload) => {
      await deps.admin.setBanned(actor(), payload);
      return {};
    });

    on('admin:mute', { schema: schemas.muteSchema }, async (payload) => {
      await deps.admin.mute(actor(), payload);
      return {};
    });

    on('admin:stats', { schema: schemas.statsSchema }, () => deps.admin.stats());
  });
}
