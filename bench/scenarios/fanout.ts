// (a) one room, many receivers, a few senders: fan-out cost per delivery.
// Also the frame of (d) (senders and receivers on different nodes) and of
// (e) (the login storm runs against the same sockets).
import { connectMany, joinAll, nextStepId, ramp, runStep, socketIoSender, type DeliveryRecorder, type RampResult, type Sender, type StepResult } from '../load.js';
import type { Sizes } from '../sizes.js';
import type { ServerProcess } from '../processes.js';
import type { Account, Target } from '../targets.js';
import type { WireClient } from '../wire-client.js';

export interface FanoutSetup {
  target: Target;
  accounts: Account[];
  roomId: string;
  receivers: WireClient[];
  senders: Sender[];
  servers: ServerProcess[];
  /** One step at a given rate on this setup. */
  step(rate: number, durationMs: number): Promise<StepResult>;
  close(): void;
}

/** Opens the receivers (joined to one room) on the last node and the senders on the first. */
export async function setUpFanout(target: Target, sizes: Sizes['fanout'], recorder: DeliveryRecorder): Promise<FanoutSetup> {
  const accounts = await target.createAccounts(sizes.users);
  const [roomId] = await target.createRooms(accounts[0]!, 1);
  const receiverNode = target.nodes.length - 1;
  const { clients: receivers } = await connectMany(target, receiverNode, accounts, sizes.receivers, recorder.onFrame);
  await joinAll(receivers, () => roomId!);
  const senders: Sender[] = [];
  for (let i = 0; i < sizes.senders; i++) senders.push(await socketIoSender(target.nodes[0]!.url, target.auth(accounts[i % accounts.length]!)));
  return {
    target,
    accounts,
    roomId: roomId!,
    receivers,
    senders,
    servers: target.nodes,
    step: (rate, durationMs) =>
      runStep(
        { step: nextStepId(), rate, durationMs, fanout: sizes.receivers, roomOf: () => roomId!, drainMs: sizes.drainMs },
        senders,
        recorder,
        target.nodes,
      ),
    close() {
      for (const s of senders) s.close();
      for (const r of receivers) r.close();
    },
  };
}

export function rampFanout(setup: FanoutSetup, sizes: Sizes['fanout']): Promise<RampResult> {
  return ramp(sizes.ramp, (rate) => setup.step(rate, sizes.stepMs));
}
