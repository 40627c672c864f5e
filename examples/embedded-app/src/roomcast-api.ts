// The app's backend calling Roomcast's server API with its API key.
import { randomUUID } from 'node:crypto';

export class RoomcastApi {
  constructor(
    private readonly url: string,
    private readonly apiKey: string,
  ) {}

  /** A room the backend owns (scope `rooms`). */
  async createRoom(name: string): Promise<{ id: string; name: string }> {
    const { room } = await this.call<{ room: { id: string; name: string } }>('POST', '/api/server/rooms', { name, visibility: 'public' });
    return room;
  }

  /**
   * A message from the system user (scope `publish`). Keep `clientMsgId` with
   * your own record and send it again on a retry: Roomcast stores it once.
   */
  async announce(roomId: string, content: string, clientMsgId: string = randomUUID()): Promise<{ id: string; seq: number }> {
    const { message } = await this.call<{ message: { id: string; seq: number } }>('POST', `/api/server/rooms/${roomId}/messages`, { content, clientMsgId });
    return message;
  }

  private async call<T>(method: string, path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await res.json()) as T & { error?: { code: string; message: string } };
    if (!res.ok) throw new Error(`Roomcast ${method} ${path}: ${res.status} ${answer.error?.code ?? ''}`);
    return answer;
  }
}
