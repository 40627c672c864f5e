// Who stands behind an admin change besides an admin user: the operator at
// the shell, or the app's backend with a server API key. Neither has a user
// row, so their audit entries have `actorId: null` and say `via` (and which
// key) in their details.
import type { Actor } from '../rooms/room-service.js';

/** The operator at the shell (`npm run admin`). */
export interface OperatorActor {
  readonly userId: null;
  readonly via: 'cli';
}

/** The app's backend, calling `/api/server/` with a server API key. */
export interface ApiKeyActor {
  readonly userId: null;
  readonly via: 'api_key';
  readonly keyId: string;
  readonly keyName: string;
}

/** Who changes things through AdminService: an admin (REST, /admin), the operator, or a server API key. */
export type AdminActor = Actor | OperatorActor | ApiKeyActor;

/** An audit entry's details with the actor's `via` (and key id) added for actors without a user. */
export function auditDetails(actor: AdminActor, details: Record<string, unknown> = {}): Record<string, unknown> {
  if (!('via' in actor)) return details;
  return actor.via === 'api_key' ? { ...details, via: actor.via, apiKeyId: actor.keyId } : { ...details, via: actor.via };
}
