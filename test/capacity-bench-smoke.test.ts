// Keeps the capacity benchmark (`npm run bench:capacity`, docs/capacity.md)
// from rotting: a --quick run of both parts must produce well-formed figures,
// a check whose every acked message is stored gap-free, and a plan. No timing
// thresholds: the figures are judged in docs/capacity.md, not here.
import { expect } from 'chai';
import { fanoutFactor, nodesTouched, planDeployment, type UnitCosts } from '../bench/capacity/model.js';
import { formatCapacityReport, runCapacity } from '../bench/capacity/run.js';
import { createBenchDatabase, dropBenchDatabase } from '../bench/database.js';
import { hasRedisServer } from './support/redis-cluster-server.js';
import { environment } from './support/environment.js';

describe('capacity benchmark (npm run bench:capacity)', () => {
  it('when run with --quick, then the Redis steps, the 3-node check and the plan are well formed', async function () {
    this.timeout(150_000);
    const { services } = environment.get();
    if (!services.databaseUrl) throw new Error('the capacity check needs PostgreSQL (DATABASE_URL)');
    if (!hasRedisServer()) throw new Error('the capacity benchmark needs redis-server and redis-cli on PATH');
    const databaseUrl = await createBenchDatabase(services.databaseUrl);
    try {
      const report = await runCapacity({ quick: true, parts: new Set(['redis', 'check']), databaseUrl, log: () => {} });

      expect(report.redis).to.have.keys('single', 'cluster');
      const redis = report.redis as Exclude<typeof report.redis, { available: false } | undefined>;
      for (const result of [redis.single, redis.cluster]) {
        expect(result.steps).to.not.be.empty;
        expect(result.messageJsonBytes).to.be.greaterThan(100);
        for (const step of result.steps) {
          expect(step.published).to.be.greaterThan(0);
          // Every published message reaches every other node: correctness of the path, not speed.
          expect(step.received).to.equal(step.published * (step.nodes - 1));
          expect(step.channelShardCpuPercent).to.be.a('number').and.at.least(0);
          expect(step.everyShardCpuPercent).to.have.length(result.redis === 'cluster' ? 3 : 1);
        }
      }

      const check = report.check as Exclude<typeof report.check, { available: false } | undefined>;
      expect(check).to.include.keys('units', 'mixed', 'calibration');
      expect(check.fanout).to.be.closeTo(fanoutFactor(check.roomMix), 0.01);
      for (const step of [check.calibration.pairs, check.calibration.fanout, ...check.mixed.map((m) => m.measured)]) {
        expect(step.sent).to.be.greaterThan(0);
        expect(step.acked).to.equal(step.sent);
        expect(step.deliveries).to.equal(step.expectedDeliveries);
        expect(step.nodes).to.have.length(3);
        expect(step.nodes.reduce((sum, n) => sum + n.sends, 0)).to.equal(step.sent);
      }
      for (const m of check.mixed) {
        expect(m.predicted.nodeCpuPercent).to.have.length(3);
        for (const value of [...m.errorPercent.nodeCpu, m.errorPercent.totalNodeCpu, m.errorPercent.deliveries]) expect(value).to.be.a('number').and.not.NaN;
      }
      expect(check.seqCheck).to.include({ gapFree: true, roomsWithGaps: 0, messages: check.seqCheck.ackedTotal });

      expect(report.units).to.not.equal(null);
      expect(report.plan!.now.nodes).to.be.at.least(1);
      expect(report.plan!.at10x.deliveriesPerSec).to.be.closeTo(report.plan!.now.deliveriesPerSec * 10, 1e-6);
      expect(formatCapacityReport(report)).to.contain('Plan for 1 M sockets');
    } finally {
      await dropBenchDatabase(services.databaseUrl, databaseUrl);
    }
  });

  it('when the model plans a deployment, then nodes grow with the load and every node pays for every remote message', () => {
    const units: UnitCosts = { sendUs: 100, broadcastUs: 0, deliveryUs: 10, remoteUs: 5, postgresUs: 50, redisFixedUs: 1, redisPerNodeUs: 2, socketKb: 16 };
    const rooms = [
      { name: 'pairs', messageShare: 0.5, onlineMembers: 2 },
      { name: 'big', messageShare: 0.5, onlineMembers: 101 },
    ];
    expect(fanoutFactor(rooms)).to.equal(50.5);
    const small = planDeployment(units, { sockets: 10_000, messagesPerSec: 1_000, rooms }, { targetCpuPercent: 60, socketMemoryMb: 4_096 });
    const large = planDeployment(units, { sockets: 100_000, messagesPerSec: 10_000, rooms }, { targetCpuPercent: 60, socketMemoryMb: 4_096 });
    // 1,000 msg/s: 10 % sends + 50.5 % deliveries of one core (60.5 %: over 60), so 2 nodes at 30.25 % each plus 500 remote msg/s × 5 µs.
    expect(small.nodes).to.equal(2);
    expect(small.nodeCpuPercent).to.be.closeTo(30.5, 1e-9);
    // 10,000 msg/s: 605 % of a core in sends and deliveries; 11 nodes at 55 % + 5 µs × 10,000 × 10/11 remote = 59.5 %.
    expect(large.nodes).to.equal(11);
    expect(large.nodeCpuPercent).to.be.closeTo(605 / 11 + (5 * 10_000 * 10) / 11 / 1e4, 1e-9);
    // Redis: 10,000 msg/s × (1 + 2 × N) µs on the one shard of the fan-out channel.
    expect(large.redisCpuPercent).to.be.closeTo((10_000 * (1 + 2 * large.nodes)) / 1e4, 1e-9);
    expect(large.redisShards).to.equal(Math.ceil(large.redisCpuPercent / 60));
    // A channel per room: a node receives only its rooms' messages, so the same load needs no more nodes.
    const perRoom = planDeployment(units, { sockets: 100_000, messagesPerSec: 10_000, rooms }, { targetCpuPercent: 60, socketMemoryMb: 4_096 }, 'room');
    expect(perRoom.nodes).to.be.at.most(large.nodes);
    // Remote messages alone over the target: no node count helps.
    expect(planDeployment({ ...units, remoteUs: 100 }, { sockets: 1_000, messagesPerSec: 10_000, rooms }, { targetCpuPercent: 60, socketMemoryMb: 4_096 }).feasible).to.equal(false);
    expect(large.postgresCores).to.be.closeTo((10_000 * 50) / 1e6 / 0.6, 1e-9);
    // A room's members spread over the nodes: one broadcast per node holding any of them.
    expect(nodesTouched(1, 5)).to.be.closeTo(1, 1e-9);
    expect(nodesTouched(100, 1)).to.be.closeTo(1, 1e-9);
    expect(nodesTouched(3, 2)).to.be.closeTo(3 * (1 - (2 / 3) ** 2), 1e-9);
    const withBroadcasts = planDeployment({ ...units, broadcastUs: 20 }, { sockets: 100_000, messagesPerSec: 10_000, rooms }, { targetCpuPercent: 60, socketMemoryMb: 4_096 });
    expect(withBroadcasts.nodes).to.be.greaterThan(large.nodes);
    // Memory bounds when sockets are many and messages few.
    const idle = planDeployment(units, { sockets: 1_000_000, messagesPerSec: 10, rooms }, { targetCpuPercent: 60, socketMemoryMb: 1_024 });
    expect(idle.nodesBoundBy).to.equal('memory');
    expect(idle.nodes).to.equal(Math.ceil((1_000_000 * 16) / 1024 / 1_024));
  });
});
