// The change-log property (issue 13), quick form: two in-process nodes over
// Redis on the run's PostgreSQL, SDK clients behind TCP proxies that cut,
// refuse and restart them while their users send, edit, delete, reply and
// react at random, and the owner of a private room invites and removes them
// while they also leave it (issue 14: a parent's replyCount, a reaction and a
// membership change are changes too).
// The long form is the "catch-up replays every change" row of `npm run chaos`.
import { expect } from 'chai';
import { changeLogProperty, CHANGE_LOG_NODE_ENV, QUICK_CHANGE_LOG } from '../chaos/change-log.js';
import { useRedisCluster } from './support/cluster.js';

describe('change log: catch-up replays every change (fast-check, two nodes)', () => {
  const { node } = useRedisCluster('change-log property');

  it('when clients are cut off, moved to the other node, offline or restarted while others send, edit, delete, react, reply, invite, remove and leave, then each view of each room its client can read equals history (reply counts and reactions included) and the room\'s members (a client invited back included), with no change twice or out of order', async function () {
    this.timeout(120_000);
    const [a, b] = await Promise.all([node('a', CHANGE_LOG_NODE_ENV), node('b', CHANGE_LOG_NODE_ENV)]);
    const seed = process.env.CHANGE_LOG_SEED ? { seed: Number(process.env.CHANGE_LOG_SEED) } : {};
    const row = await changeLogProperty([a.url(), b.url()], { ...QUICK_CHANGE_LOG, ...seed });
    console.log(`      ${JSON.stringify({ ...row, violations: row.violations.length })}`);
    expect(row.violations, row.violations.join('\n')).to.deep.equal([]);
    expect(row.divergent).to.equal(0);
    expect(row.duplicated).to.equal(0);
    expect(row.lost).to.equal(0);
    expect(row.unresolved).to.equal(0);
    // The run did what it claims: writes of every kind went through and the faults happened.
    expect(row.acked).to.be.above(0);
    expect(row.stored).to.be.above(0);
    expect(row.facts.runs).to.equal(QUICK_CHANGE_LOG.runs);
    // Membership changed: members were removed or left, and were invited back.
    expect(Number(row.facts.removals) + Number(row.facts.leaves)).to.be.above(0);
    expect(row.facts.invites).to.be.above(0);
  });
});
