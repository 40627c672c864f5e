import { expect } from 'chai';
import type { StatsResult } from '../server/protocol.js';
import { adminSocket, banAcrossNodes, broadcastAcrossNodes, kickAcrossNodes } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { connect, ok, registerAdmin, registerUser } from './support/util.js';

describe('admin actions across a cluster', () => {
  const { node } = useRedisCluster('admin actions across a cluster');

  it('admin:stats lists every live node, with the cluster-wide socket and user counts', async () => {
    const nodes = await Promise.all([node('a'), node('b'), node('c')]);
    const admin = await registerAdmin(nodes[0]!);
    const users = await Promise.all(nodes.map((app) => registerUser(app)));
    // One user on every node, and the first one with a second device on node c.
    await Promise.all(users.map((u, i) => connect(nodes[i]!, { token: u.accessToken })));
    await connect(nodes[2]!, { token: users[0]!.accessToken });
    const control = await adminSocket(nodes[0]!, admin.accessToken);

    const stats = await ok<StatsResult>(control, 'admin:stats', {});

    expect(stats.nodes.map((n) => n.id).sort()).to.deep.equal(nodes.map((app) => app.config.nodeId).sort());
    expect(stats.sockets).to.equal(4);
    expect(stats.users).to.equal(3);
    const byId = new Map(stats.nodes.map((n) => [n.id, n]));
    expect(byId.get(nodes[2]!.config.nodeId)!.sockets).to.equal(2);
    for (const entry of stats.nodes) expect(entry.rssBytes).to.be.greaterThan(0);
  });

  it('when an admin bans a user on node A, then that user’s sockets on nodes B and C get session:revoked banned and are gone within 1 s', async () => {
    const [a, b, c] = await Promise.all([node('a'), node('b'), node('c')]);
    const { status, revoked, goneAfterMs } = await banAcrossNodes(a, b, [b, c]);
    expect(status).to.equal(200);
    for (const event of revoked) expect(event).to.deep.equal({ reason: 'banned' });
    for (const ms of goneAfterMs) expect(ms).to.be.lessThan(1_000);
  });

  it('admin:broadcast on node A reaches /chat sockets on every node, and delivered counts them all', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);

    const { ack, received } = await broadcastAcrossNodes(a, b);

    expect(ack.delivered).to.equal(3);
    for (const event of received) expect(event).to.include({ content: 'maintenance at noon', roomId: null });
  });

  it('admin:kick on node A takes the user’s socket on node B out of the room', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);

    const { seenByTarget, targetSocket } = await kickAcrossNodes(a, b);

    expect(seenByTarget).to.deep.equal(['before']);
    expect(targetSocket.connected).to.equal(true);
  });
});
