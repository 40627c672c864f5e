// Receiving Roomcast's webhooks: verify the Standard Webhooks signature over
// the raw body, drop retries of an event already handled (same webhook-id),
// then handle it. Here "handle" is keeping it in memory; a real app writes it
// to its database in the same transaction as the handled-id.
import { Webhook } from 'standardwebhooks';

export interface RoomcastEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export class WebhookInbox {
  readonly events: (RoomcastEvent & { id: string })[] = [];
  /** Deliveries refused for a bad signature (a forgery, or the wrong secret). */
  refused = 0;
  private readonly verifier: Webhook;
  private readonly handled = new Set<string>();

  constructor(secret: string) {
    this.verifier = new Webhook(secret);
  }

  /** The HTTP status to answer: 204 handled (or already handled), 400 not verified. */
  receive(rawBody: string, headers: Record<string, string>): number {
    let event: RoomcastEvent;
    try {
      event = this.verifier.verify(rawBody, headers) as RoomcastEvent;
    } catch {
      this.refused++;
      return 400;
    }
    const id = headers['webhook-id']!;
    if (this.handled.has(id)) return 204;
    this.events.push({ id, ...event });
    this.handled.add(id);
    return 204;
  }
}
