// The before-publish hook, as the domain sees it: every send (socket or
// server API) is judged by the app before it joins the group commit. Each
// send awaits its own call, so calls run in parallel and the writer's queue
// never waits for one; with no hook configured this class is not built.
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { secondsSince, type Metrics } from '../metrics/metrics.js';
import type { Message } from '../protocol.js';
import { messageContentSchema } from '../schemas.js';
import type { MessageSubmitter, SendRequest } from './message-writer.js';

/** What the hook is told about one send. */
export interface HookCall {
  roomId: string;
  userId: string;
  username: string;
  content: string;
  clientMsgId: string;
  /** `socket`: message:send; `server_api`: POST /api/server/rooms/:id/messages. */
  via: 'socket' | 'server_api';
}

/** The app's answer. */
export type HookVerdict = { action: 'accept' } | { action: 'reject'; reason: string | null } | { action: 'replace'; content: string };

/** Asks the app (server/webhooks' BeforePublishClient). Throws HookFailure when there is no usable answer. */
export interface PublishHook {
  judge(call: HookCall): Promise<HookVerdict>;
}

/** No usable answer: timeout, refused target, connection error, non-2xx, a body that is no verdict. */
export class HookFailure extends Error {}

export interface BeforePublishOptions {
  failMode: 'open' | 'closed';
  maxMessageLength: number;
}

/** Wraps the writer: judged sends go on to it, with the content the hook chose. */
export class BeforePublishGate implements MessageSubmitter {
  private readonly content: z.ZodType<string>;

  constructor(
    private readonly writer: MessageSubmitter,
    private readonly hook: PublishHook,
    private readonly options: BeforePublishOptions,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.content = messageContentSchema(options.maxMessageLength);
  }

  async submit(request: SendRequest): Promise<Message> {
    const content = await this.judge(request);
    return this.writer.submit(content === request.content ? request : { ...request, content });
  }

  /** The content to commit, or the refusal the sender gets. */
  private async judge(request: SendRequest): Promise<string> {
    const started = performance.now();
    const call: HookCall = {
      roomId: request.roomId,
      userId: request.userId,
      username: request.username,
      content: request.content,
      clientMsgId: request.clientMsgId,
      via: request.originSocketId === null ? 'server_api' : 'socket',
    };
    let verdict: HookVerdict;
    try {
      verdict = await this.hook.judge(call);
      // A replacement is held to the rules of sent content: the app cannot store what a client could not send.
      if (verdict.action === 'replace' && !this.content.safeParse(verdict.content).success) {
        throw new HookFailure('the hook replaced the content with an invalid message (empty, too long, NUL or unpaired surrogates)');
      }
    } catch (err) {
      this.metrics?.beforePublish('failed', secondsSince(started));
      const reason = err instanceof HookFailure ? err.message : 'unexpected error';
      this.logger.warn('before-publish hook failed', { reason, failMode: this.options.failMode, roomId: request.roomId, userId: request.userId });
      if (this.options.failMode === 'open') return request.content;
      throw new AppError('unavailable', 'the message could not be checked, try again');
    }
    this.metrics?.beforePublish(verdict.action, secondsSince(started));
    if (verdict.action === 'reject') {
      throw new AppError('rejected', 'the app refused this message', verdict.reason === null ? undefined : { reason: verdict.reason });
    }
    return verdict.action === 'replace' ? verdict.content : request.content;
  }
}
