// (d) two Roomcast nodes over Redis: senders on the first, receivers on the
// second, so every delivery crosses nodes.
import { connect } from 'node:net';
import type { DeliveryRecorder, RampResult } from '../load.js';
import type { Sizes } from '../sizes.js';
import { startRoomcast } from '../targets.js';
import { rampFanout, setUpFanout } from './fanout.js';

export type CrossNodeResult = { available: true; ramp: RampResult } | { available: false; reason: string };

export async function runCrossNode(
  databaseUrl: string,
  redisUrl: string,
  sizes: Sizes['fanout'],
  recorder: DeliveryRecorder,
  nodeFlags: string[],
  entry: string,
): Promise<CrossNodeResult> {
  if (!(await reachable(redisUrl))) return { available: false, reason: `not available: no Redis answers at ${redisUrl}` };
  const target = await startRoomcast({ databaseUrl, nodes: 2, redisUrl, nodeFlags, entry });
  try {
    const setup = await setUpFanout(target, sizes, recorder);
    try {
      // A few messages first: if none crosses, the nodes do not share their rooms.
      const probe = await setup.step(10, 300);
      if (probe.deliveries === 0) return { available: false, reason: 'not available: REDIS adapter missing (a message sent on node 1 never reached node 2)' };
      return { available: true, ramp: await rampFanout(setup, sizes) };
    } finally {
      setup.close();
    }
  } finally {
    await target.stop();
  }
}

function reachable(redisUrl: string): Promise<boolean> {
  const url = new URL(redisUrl);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379), timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
