import type { AppendOutcome, MessageStore, PendingMessage } from '../../db/stores/message-store.js';
import { isUniqueViolation } from '../../db/stores/unique-violation.js';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { secondsSince, type Metrics } from '../metrics/metrics.js';
import type { CommittedMessage, Message } from '../protocol.js';
import { mentionCandidates } from './mentions.js';
import { refusal } from './message-rules.js';
import { SendDeadlines } from './send-deadlines.js';

/**
 * Where committed batches go: fan-out to this node's sockets and the other
 * nodes (server/realtime's MessageDelivery). Called directly, once per batch.
 */
export interface BatchPublisher {
  publish(batch: CommittedMessage[]): void;
}

export interface SendRequest extends PendingMessage {
  /** The sending socket, left out of its own message:new. */
  originSocketId: string | null;
}

/** Where a send goes to be committed: the MessageWriter, or the before-publish hook in front of it. */
export interface MessageSubmitter {
  submit(request: SendRequest): Promise<Message>;
}

interface Waiting {
  request: SendRequest;
  resolve: (message: Message) => void;
  reject: (error: AppError) => void;
  /** Epoch ms after which the send answers `unavailable` (see SEND_DEADLINE_MS). */
  deadline: number;
  /** Answered (committed, refused, failed or past its deadline): later outcomes are ignored. */
  settled: boolean;
}

const MAX_BATCH = 500;
/**
 * Batch statements running at once. One: measured on 2 cores (benchmark
 * scenario b), 2 or 4 overlapping transactions made each batch smaller, so
 * the database spent its time on per-statement work and on waiting for the
 * room-row locks of the batch before, and stored fewer messages per second.
 * Overlap comes instead from settling a batch (acks, fan-out) while the
 * next one's statement runs. The publisher (MessageDelivery) would put
 * reordered batches back in seq order if this were raised.
 */
const MAX_IN_FLIGHT = 1;
const MAX_ATTEMPTS = 3;

/** Resolves after the microtasks queued so far and the I/O already waiting (a setImmediate turn). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A send not committed within this answers `unavailable`, so a hung database
 * (its pool waits 5 s for a connection, a query up to 10 s) never holds an ack
 * past the SDK's 10 s ack timeout. The batch goes on: if it commits after all,
 * the retry of the same clientMsgId answers the stored message.
 */
export const SEND_DEADLINE_MS = 5_000;

/** Mentions (issue 14): a send whose content has '@' candidates carries them to the commit; others go as they are. */
function withMentions(request: SendRequest): SendRequest {
  const mentionNames = mentionCandidates(request.content);
  return mentionNames.length > 0 ? { ...request, mentionNames } : request;
}

/** Marks a send answered; returns it, or undefined if it was answered already (its deadline passed). */
function settle(waiting: Waiting): Waiting | undefined {
  if (waiting.settled) return undefined;
  waiting.settled = true;
  return waiting;
}

/**
 * Group commit: sends that arrive while a transaction is running wait for the
 * next one, so under load many messages share one transaction, and at rest a
 * message waits for nothing but its own commit. No promise resolves before
 * its batch has committed.
 */
export class MessageWriter implements MessageSubmitter {
  private queue: Waiting[] = [];
  /** Batches not yet settled (drain waits for them). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Batch statements the database is running now (at most MAX_IN_FLIGHT). */
  private statementsRunning = 0;
  private scheduled = false;
  private accepting = true;
  /** One timer for every waiting send's deadline, not one per send (issue 18). */
  private readonly deadlines: SendDeadlines<Waiting>;

  constructor(
    private readonly store: MessageStore,
    private readonly publisher: BatchPublisher,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    deadlineMs = SEND_DEADLINE_MS,
  ) {
    this.deadlines = new SendDeadlines<Waiting>(deadlineMs, (waiting) => waiting.reject(new AppError('unavailable', 'the database did not answer in time, try again')));
  }

  /** Stores one message; resolves with it (or the original, for a repeated clientMsgId) after commit. */
  submit(request: SendRequest): Promise<Message> {
    if (!this.accepting) return Promise.reject(new AppError('unavailable', 'server is shutting down, try again'));
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { request: withMentions(request), resolve, reject, deadline: this.deadlines.deadlineFromNow(), settled: false };
      this.queue.push(waiting);
      this.deadlines.add(waiting);
      this.schedule();
    });
  }

  /** Refuses new sends and waits until every queued one is committed and answered. */
  async drain(): Promise<void> {
    this.accepting = false;
    while (this.scheduled || this.inFlight.size > 0) {
      await Promise.all([...this.inFlight, new Promise<void>((resolve) => setImmediate(resolve))]);
    }
  }

  /** Starts a batch on the next turn (so the sends of this tick join it) when a slot is free. */
  private schedule(): void {
    if (this.scheduled || this.statementsRunning >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.statementsRunning >= MAX_IN_FLIGHT || this.queue.length === 0) return;
      const batch = this.queue.splice(0, MAX_BATCH);
      const running = this.commit(batch).finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
      this.schedule();
    });
  }

  private async commit(batch: Waiting[]): Promise<void> {
    let outcomes: AppendOutcome[];
    const started = performance.now();
    this.statementsRunning++;
    try {
      outcomes = await this.appendWithRetry(batch.map((w) => w.request));
      this.metrics?.commitSeconds.observe(secondsSince(started));
      this.metrics?.batchSize.observe(batch.length);
    } catch (err) {
      const error = toAppError(err);
      this.logger.error('message batch failed', { size: batch.length, code: error.code, err });
      for (const waiting of batch) settle(waiting)?.reject(error);
      this.deadlines.settled();
      return;
    } finally {
      this.statementsRunning--;
      this.schedule();
    }
    // The database is free again: if sends are waiting, let the next batch's
    // statement (scheduled just above) go out before this batch's acks and
    // fan-out, which take about as long as a commit. Otherwise the database
    // waits for the fan-out and the fan-out for the database, one after the
    // other. Batches settle in the order their statements returned
    // (setImmediate is FIFO).
    if (this.scheduled) await nextTurn();
    const committed: CommittedMessage[] = [];
    const committedAt = Date.now();
    // Replies (issue 14): a parent's new replyCount is a change of the room
    // (its own change number), published once per batch as message:updated.
    const parents = new Map<string, CommittedMessage>();
    outcomes.forEach((outcome, i) => {
      const waiting = batch[i]!;
      const open = settle(waiting);
      if (outcome.status === 'rejected') return open?.reject(refusal(outcome.reason));
      open?.resolve(outcome.message);
      if (outcome.status === 'stored') committed.push({ message: outcome.message, originSocketId: waiting.request.originSocketId, committedAt });
      if (outcome.status === 'stored' && outcome.parent) parents.set(outcome.parent.id, { message: outcome.parent, kind: 'updated', originSocketId: null, committedAt });
    });
    this.deadlines.settled();
    committed.push(...parents.values());
    this.metrics?.messagesStored.inc(committed.length - parents.size);
    if (committed.length === 0) return;
    // The acks go out before the fan-out: one message to a big room is
    // hundreds of writes, and the senders should not wait for them. Each ack
    // is written at the end of a chain of microtasks started by the resolves
    // above; all of them run before a nextTick callback queued here, and
    // nothing else (no I/O) runs in between.
    process.nextTick(() => {
      try {
        this.publisher.publish(committed);
      } catch (err) {
        this.logger.error('delivery of a committed batch failed', { err });
      }
    });
  }

  /**
   * A unique violation on (user, clientMsgId) means another node stored the
   * same send meanwhile; the whole transaction rolled back, so running it
   * again finds the original. Deadlocks and serialization failures retry too.
   */
  private async appendWithRetry(requests: SendRequest[]): Promise<AppendOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.appendBatch(requests);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const retryable = isUniqueViolation(err, 'messages_user_client_msg_unique') || code === '40P01' || code === '40001';
        if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }
}
