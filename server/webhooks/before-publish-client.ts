// The before-publish hook over HTTP: a signed POST (Standard Webhooks, the
// webhooks' signing) to BEFORE_PUBLISH_URL through the webhooks' sender
// (address policy, no redirects, deadline, response cap), on a keep-alive
// agent so parallel sends reuse connections instead of opening one each.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import type { BeforePublishConfig } from '../config.js';
import { HookFailure, type HookCall, type HookVerdict, type PublishHook } from '../messages/before-publish.js';
import { postWebhook } from './webhook-sender.js';
import { signedHeaders } from './webhook-signing.js';

/** The event type in the request body (not a webhook subscription type). */
export const BEFORE_PUBLISH_TYPE = 'message.before_publish';
/** A reason longer than this is cut: it goes back to the sender. */
const MAX_REASON = 500;

const verdictSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('accept') }),
  z.object({ action: z.literal('reject'), reason: z.string().optional() }),
  z.object({ action: z.literal('replace'), content: z.string() }),
]);

export class BeforePublishClient implements PublishHook {
  private readonly agent: http.Agent;

  constructor(private readonly config: BeforePublishConfig) {
    const options = { keepAlive: true, maxSockets: 256 };
    this.agent = new URL(config.url).protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  async judge(call: HookCall): Promise<HookVerdict> {
    const body = JSON.stringify({ type: BEFORE_PUBLISH_TYPE, timestamp: new Date().toISOString(), data: call });
    const headers = signedHeaders([this.config.secret], `bp_${randomUUID()}`, body);
    const result = await postWebhook(this.config.url, headers, body, {
      timeoutMs: this.config.timeoutMs,
      allowPrivateNetworks: this.config.allowPrivateNetworks,
      readBody: true,
      agent: this.agent,
    });
    if (result.status === null) throw new HookFailure(result.error);
    if (result.status < 200 || result.status > 299) throw new HookFailure(`the hook answered ${result.status}`);
    if (result.truncated) throw new HookFailure('the hook answered more than the response cap');
    // An empty 2xx (e.g. 204) accepts: the simplest hook is one that only watches.
    if (!result.body?.trim()) return { action: 'accept' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.body);
    } catch {
      throw new HookFailure('the hook answered a body that is not JSON');
    }
    const verdict = verdictSchema.safeParse(parsed);
    if (!verdict.success) throw new HookFailure('the hook answered no verdict ({"action": "accept" | "reject" | "replace"})');
    const v = verdict.data;
    if (v.action === 'reject') return { action: 'reject', reason: v.reason === undefined ? null : v.reason.slice(0, MAX_REASON) };
    return v;
  }

  /** Closes the kept-alive connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }
}
