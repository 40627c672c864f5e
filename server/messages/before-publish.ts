// The before-publish hook, as the domain sees it: every send (socket or
// server API) is judged by the app before it joins the group commit, and
// every edit of a message's content before its transaction starts. Each
// send or edit awaits its own call, so calls run in parallel, the writer's
// queue never waits for one and no database transaction is open during one;
// with no hook configured this class is not built.
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { secondsSince, type Metrics } from '../metrics/metrics.js';
import type { Message } from '../protocol.js';
import { messageContentSchema } from '../schemas.js';
import type { MessageSubmitter, SendRequest } from './message-writer.js';

/** What the hook is told about one send (`kind: 'send'`) or edit (`kind: 'edit'`). */
export type HookCall = SendHookCall | EditHookCall;

/** A send: judged before the group commit. */
export interface SendHookCall {
  kind: 'send';
  roomId: string;
  userId: string;
  username: string;
  content: string;
  clientMsgId: string;
  /** `socket`: message:send; `server_api`: POST /api/server/rooms/:id/messages. */
  via: 'socket' | 'server_api';
}

/** An edit of a message's content: judged before the edit's transaction; `content` is the new content, `userId` the editor. */
export interface EditHookCall {
  kind: 'edit';
  roomId: string;
  messageId: string;
  seq: number;
  userId: string;
  username: string;
  content: string;
  /** `socket`: message:edit. */
  via: 'socket';
}

/** Judges an edit's new content (the BeforePublishGate); answers the content to store or throws the refusal. */
export interface EditJudge {
  judgeEdit(call: EditHookCall): Promise<string>;
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

/** Wraps the writer: judged sends go on to it, with the content the hook chose; judges edits for MessageService. */
export class BeforePublishGate implements MessageSubmitter, EditJudge {
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
    const content = await this.judge({
      kind: 'send',
      roomId: request.roomId,
      userId: request.userId,
      username: request.username,
      content: request.content,
      clientMsgId: request.clientMsgId,
      via: request.originSocketId === null ? 'server_api' : 'socket',
    });
    return this.writer.submit(content === request.content ? request : { ...request, content });
  }

  /** The same verdicts and fail modes as a send's: the content to store, or the refusal the editor gets. */
  judgeEdit(call: EditHookCall): Promise<string> {
    return this.judge(call);
  }

  /** The content to commit, or the refusal the sender (editor) gets. */
  private async judge(call: HookCall): Promise<string> {
    const started = performance.now();
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
      this.logger.warn('before-publish hook failed', { reason, kind: call.kind, failMode: this.options.failMode, roomId: call.roomId, userId: call.userId });
      if (this.options.failMode === 'open') return call.content;
      throw new AppError('unavailable', 'the message could not be checked, try again');
    }
    this.metrics?.beforePublish(verdict.action, secondsSince(started));
    if (verdict.action === 'reject') {
      throw new AppError('rejected', call.kind === 'edit' ? 'the app refused this edit' : 'the app refused this message', verdict.reason === null ? undefined : { reason: verdict.reason });
    }
    return verdict.action === 'replace' ? verdict.content : call.content;
  }
}
