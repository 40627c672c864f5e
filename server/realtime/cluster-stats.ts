import process from 'node:process';
import type { StatsSource } from '../admin/admin-ports.js';
import type { Logger } from '../logger.js';
import type { NodeStatsReport, StatsResult } from '../protocol.js';
import type { AdminNamespace, ChatNamespace } from './types.js';
import { withTimeout } from '../with-timeout.js';

/**
 * How long to wait for the other nodes before answering with those that
 * replied. The Redis adapter has its own 5 s request timeout (it then hands
 * over the partial responses), but it starts that timer only after Redis
 * has said how many nodes listen (PUBSUB NUMSUB): with Redis hung, only this
 * outer timer answers the admin.
 */
const COLLECT_TIMEOUT_MS = 6_000;

/**
 * `admin:stats` across the cluster: this node counts its own /chat sockets,
 * rooms and users, and asks the others through the adapter (only when there
 * are others: the in-memory adapter cannot carry server-side events).
 */
export class ClusterStats implements StatsSource {
  constructor(
    private readonly chat: ChatNamespace,
    private readonly admin: AdminNamespace,
    private readonly nodeId: string,
    private readonly clustered: boolean,
    private readonly logger: Logger,
  ) {
    admin.on('stats:collect', (reply) => reply(this.local()));
  }

  async collect(): Promise<StatsResult> {
    const reports = [this.local(), ...(this.clustered ? await this.others() : [])];
    const users = new Set(reports.flatMap((report) => report.userIds));
    return {
      nodes: reports.map((report) => report.node),
      sockets: reports.reduce((sum, report) => sum + report.node.sockets, 0),
      users: users.size,
    };
  }

  /** This node: its /chat sockets, the chat rooms they are in, and its memory. */
  local(): NodeStatsReport {
    let rooms = 0;
    const userIds: string[] = [];
    for (const name of this.chat.adapter.rooms.keys()) {
      if (name.startsWith('room:')) rooms++;
      else if (name.startsWith('user:')) userIds.push(name.slice(5));
    }
    return { node: { id: this.nodeId, sockets: this.chat.sockets.size, rooms, rssBytes: process.memoryUsage.rss() }, userIds };
  }

  private async others(): Promise<NodeStatsReport[]> {
    try {
      return await withTimeout(this.admin.serverSideEmitWithAck('stats:collect'), COLLECT_TIMEOUT_MS, 'stats collection timed out');
    } catch (err) {
      // Some nodes did not answer in time: report the ones that did.
      this.logger.warn('some nodes did not answer admin:stats', { err });
      const partial = (err as { responses?: unknown }).responses;
      return Array.isArray(partial) ? (partial as NodeStatsReport[]) : [];
    }
  }
}
