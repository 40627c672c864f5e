import type { RetentionStore } from '../../db/stores/retention-store.js';
import type { Logger } from '../logger.js';

/**
 * Retention (issue 19), as configured: how long messages and audit entries
 * are kept and how much one statement deletes.
 */
export interface RetentionSettings {
  /**
   * MESSAGE_RETENTION_DAYS: how long a room without its own `retentionDays`
   * keeps its messages; 0 keeps them. A room's `retentionDays` beats it
   * (0 there keeps that room's messages whatever this says).
   */
  messageDays: number;
  /** AUDIT_RETENTION_DAYS: how long audit entries are kept; 0 keeps them. */
  auditDays: number;
  /** RETENTION_BATCH_SIZE: rows one delete statement (one short transaction) removes at most. */
  batchSize: number;
}

/** What one sweep did; `ran: false` when another node held the retention lock. */
export interface SweepReport {
  ran: boolean;
  /** Messages deleted. */
  messages: number;
  /** Rooms that lost messages. */
  rooms: number;
  /** Audit entries deleted. */
  audit: number;
}

/** Rooms read per page of the due list. */
const ROOM_PAGE = 100;
/** Delete statements one sweep runs at most, so a first sweep over a large backlog yields to the next interval. */
const MAX_BATCHES_PER_SWEEP = 1_000;

/**
 * Deletes messages past their room's retention and audit entries past
 * theirs, in bounded batches, on one node at a time: every node sweeps on an
 * interval, but a sweep runs only while it holds the cluster-wide advisory
 * lock (pg_try_advisory_lock); a node that finds it taken skips that round.
 * What the batches delete and keep consistent is in db/stores/retention-store.ts.
 */
export class RetentionSweeper {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<SweepReport> | null = null;
  #stopped = false;

  constructor(
    private readonly store: Pick<RetentionStore, 'exclusively'>,
    private readonly settings: RetentionSettings,
    private readonly logger: Logger,
  ) {}

  /** One sweep (or none, if another node is sweeping); one at a time on this node. */
  sweep(): Promise<SweepReport> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Sweeps every `intervalMs` until stop(); a failed sweep is logged and tried again next time. */
  start(intervalMs: number): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.logger.warn('retention sweep failed', { err }));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the interval; a sweep under way ends after its current batch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  async #sweep(): Promise<SweepReport> {
    const outcome = await this.store.exclusively(async (batches) => {
      const report: SweepReport = { ran: true, messages: 0, rooms: 0, audit: 0 };
      let budget = MAX_BATCHES_PER_SWEEP;
      const { messageDays, auditDays, batchSize } = this.settings;
      let after: string | null = null;
      for (let page = true; page && budget > 0 && !this.#stopped; ) {
        const due = await batches.roomsDue(messageDays, after, ROOM_PAGE);
        for (const roomId of due) {
          let deletedHere = 0;
          for (let full = true; full && budget > 0 && !this.#stopped; budget--) {
            const { deleted } = await batches.deleteRoomBatch(roomId, messageDays, batchSize);
            deletedHere += deleted;
            full = deleted === batchSize;
          }
          report.messages += deletedHere;
          if (deletedHere > 0) report.rooms += 1;
        }
        after = due.at(-1) ?? null;
        page = due.length === ROOM_PAGE;
      }
      for (let more = auditDays > 0; more && budget > 0 && !this.#stopped; budget--) {
        const deleted = await batches.deleteAuditBatch(auditDays, batchSize);
        report.audit += deleted;
        more = deleted > 0;
      }
      return report;
    });
    if (!outcome.ran) return { ran: false, messages: 0, rooms: 0, audit: 0 };
    const report = outcome.value;
    if (report.messages || report.audit) this.logger.info('retention sweep', { messages: report.messages, rooms: report.rooms, audit: report.audit });
    return report;
  }
}
