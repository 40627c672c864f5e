import type { Registry } from 'prom-client';
import { withTimeout } from '../../with-timeout.js';
import * as R from '../response-schemas.js';
import { Reply, route, type Route } from '../route-table/route.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const READY_TIMEOUT_MS = 2_000;

/** /healthz (the process runs), /readyz (its dependencies answer), /metrics (Prometheus, for the scraper access rule). */
export function healthRoutes(checks: ReadinessCheck[], metrics: Registry, isDraining: () => boolean): Route[] {
  return [
    route({
      method: 'get', path: '/healthz', tag: 'operations', access: 'anyone',
      summary: 'Liveness: 200 while the process runs',
      success: { status: 200, description: 'Alive', schema: R.healthSchema },
      handle: () => ({ status: 'ok' as const }),
    }),
    route({
      method: 'get', path: '/readyz', tag: 'operations', access: 'anyone',
      summary: 'Readiness: 200 when the database (and Redis, if configured) answer and the node is not draining',
      success: { status: 200, description: 'Ready', schema: R.readinessSchema },
      others: [{ status: 503, description: 'Not ready: `failed` names the checks that failed', schema: R.readinessSchema }],
      handle: async (_input, { log }) => {
        const failed: string[] = [];
        await Promise.all(
          checks.map(async ({ name, check }) => {
            try {
              await withTimeout(check(), READY_TIMEOUT_MS);
            } catch (err) {
              failed.push(name);
              log.warn('readiness check failed', { check: name, err });
            }
          }),
        );
        if (isDraining()) failed.push('draining');
        return failed.length ? new Reply(503, { status: 'unavailable', failed }) : { status: 'ready' as const, failed };
      },
    }),
    route({
      method: 'get', path: '/metrics', tag: 'operations', access: 'scraper',
      summary: 'Prometheus metrics (METRICS_TOKEN bearer token; unset: loopback only)',
      success: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' },
      handle: async (_input, { res }) => {
        res.type(metrics.contentType);
        return metrics.metrics();
      },
    }),
  ];
}
