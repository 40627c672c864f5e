// The server's view of the protocol: every client-facing wire type from the
// SDK's protocol module (the one source of those), plus the types only nodes
// exchange or keep — clients never see them, so they stay out of the SDK.
// A leaf: the domain, realtime and the stores may all import it.
import type { MemberChange, Message, NodeStats, Role } from '../client-sdk/src/protocol.js';

export * from '../client-sdk/src/protocol.js';

/**
 * What a committed change did to its message (the event the sockets get):
 * stored → `message:new`, edited → `message:updated`, deleted → `message:deleted`,
 * a reaction added or removed → `message:reaction`.
 */
export type CommittedKind = 'new' | 'updated' | 'deleted' | 'reaction';

/** Who added or removed which emoji in a `reaction` change (kept in messages.last_reaction too). */
export interface ReactionChange {
  emoji: string;
  userId: string;
  added: boolean;
}

/** A committed change of a room (a message stored, edited or deleted) on its way to every node's local sockets. */
export interface CommittedMessage {
  /** The message's state after the change; `message.change` is the change's number. */
  message: Message;
  /** Left out for a new message (the send hot path, and nodes from before the change log). */
  kind?: CommittedKind;
  /** Only on kind `reaction`: what changed. */
  reaction?: ReactionChange;
  /** The socket that sent it, which does not receive its own message:new. */
  originSocketId: string | null;
  /** Epoch ms at which the storing node saw the commit (for the delivery-lag metric; absent from older nodes). */
  committedAt?: number;
}

/**
 * A committed membership change of a room (issue 14) on its way to every
 * node's local sockets, in the room's change order beside its messages
 * (`member:joined` / `member:left`).
 */
export interface CommittedMember {
  member: MemberChange;
  /** Epoch ms at which the storing node saw the commit. */
  committedAt?: number;
}

/** Any committed change of a room, as the delivery sequencer orders them. */
export type CommittedChange = CommittedMessage | CommittedMember;

/** One node's part of `admin:stats`: its numbers and the users it has /chat sockets of. */
export interface NodeStatsReport {
  node: NodeStats;
  userIds: string[];
}

/** Node-to-node events (through the adapter). */
export interface InterServerEvents {
  'messages:committed': (batch: CommittedMessage[]) => void;
  /** Membership changes committed on the sending node (issue 14), for the other nodes' sequencers. */
  'members:committed': (batch: CommittedMember[]) => void;
  /** Asks every other node for its stats (namespace /admin). */
  'stats:collect': (reply: (report: NodeStatsReport) => void) => void;
}

/** What the server keeps on each authenticated socket. */
export interface SocketData {
  userId: string;
  username: string;
  role: Role;
  /** Refresh-token family the access token was issued under (logout ends it). */
  sessionId: string | null;
  /** Epoch milliseconds at which the socket's access token expires. */
  tokenExpiresAt: number;
}
