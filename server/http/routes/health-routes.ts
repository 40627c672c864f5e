import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { withTimeout } from '../../with-timeout.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const READY_TIMEOUT_MS = 2_000;

/** /healthz (the process runs), /readyz (its dependencies answer), /metrics (Prometheus, behind `metricsGuard`). */
export function healthRoutes(checks: ReadinessCheck[], metrics: Registry, isDraining: () => boolean, metricsGuard: RequestHandler): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (req, res) => {
    const failed: string[] = [];
    await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), READY_TIMEOUT_MS);
        } catch (err) {
          failed.push(name);
          req.log.warn('readiness check failed', { check: name, err });
        }
      }),
    );
    if (isDraining()) failed.push('draining');
    res.status(failed.length ? 503 : 200).json({ status: failed.length ? 'unavailable' : 'ready', failed });
  });

  router.get('/metrics', metricsGuard, async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  return router;
}
