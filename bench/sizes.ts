// How big each scenario is: the default run (about five minutes) and
// --quick (a few seconds, for the smoke test and for trying the harness).
import type { RampOptions } from './load.js';

export interface Sizes {
  fanout: { receivers: number; senders: number; users: number; stepMs: number; drainMs: number; halfRateMs: number; ramp: RampOptions };
  smallRooms: { rooms: number; members: number; users: number; stepMs: number; drainMs: number; ramp: RampOptions };
  /** One point per socket count, each on fresh servers; settleMs: the wait before the settled RSS reading. */
  idle: { sockets: number[]; users: number; settleMs: number };
  storm: { loginsPerSec: number; maxInFlightWaitMs: number };
}

export function sizesFor(quick: boolean, idleSockets?: number[]): Sizes {
  if (quick) {
    return {
      fanout: {
        receivers: 20,
        senders: 2,
        users: 2,
        stepMs: 500,
        drainMs: 1_000,
        halfRateMs: 500,
        ramp: { startRate: 20, factor: 2, maxSteps: 2, refineSteps: 0, maxRate: 100 },
      },
      smallRooms: { rooms: 10, members: 4, users: 2, stepMs: 500, drainMs: 1_000, ramp: { startRate: 40, factor: 2, maxSteps: 2, refineSteps: 0, maxRate: 200 } },
      idle: { sockets: idleSockets ?? [50, 100], users: 2, settleMs: 500 },
      storm: { loginsPerSec: 5, maxInFlightWaitMs: 5_000 },
    };
  }
  return {
    fanout: {
      receivers: 500,
      senders: 10,
      users: 10,
      stepMs: 3_000,
      drainMs: 3_000,
      halfRateMs: 5_000,
      ramp: { startRate: 60, factor: 1.5, maxSteps: 9, refineSteps: 2, maxRate: 2_000 },
    },
    smallRooms: {
      rooms: 500,
      members: 4,
      users: 10,
      stepMs: 2_500,
      drainMs: 3_000,
      ramp: { startRate: 1_000, factor: 1.5, maxSteps: 9, refineSteps: 2, maxRate: 60_000 },
    },
    idle: { sockets: idleSockets ?? [10_000, 20_000], users: 10, settleMs: 10_000 },
    storm: { loginsPerSec: 50, maxInFlightWaitMs: 30_000 },
  };
}
