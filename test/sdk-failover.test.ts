import { expect } from 'chai';
import type { Message } from '../client-sdk/src/index.js';
import { closeClientsAfterEach, received, senderAndReader } from './support/sdk.js';
import { environment } from './support/environment.js';
import { recordSkip } from './support/services.js';
import { http, registerUser, sleep, startNode, stopNode, waitFor } from './support/util.js';

describe('client SDK: failover to another node', () => {
  closeClientsAfterEach();

  it('when the node a client is on stops, then it moves to the next URL, re-joins, and its list equals the history while another client keeps sending', async function () {
    const redisUrl = environment.get().services.redisUrl;
    if (!redisUrl) {
      recordSkip('client SDK failover to another node', 'Redis');
      return this.skip();
    }
    const env = { REDIS_URL: redisUrl, MESSAGE_RATE_LIMIT: '0' };
    const nodeA = await startNode(env);
    const nodeB = await startNode(env);
    const { reader, created, out, inbox } = await senderAndReader(nodeB.url(), [nodeA.url(), nodeB.url()]);
    const seen = received(inbox);
    const states: string[] = [];
    reader.on('state', (s) => states.push(s.state));

    const acks: Message[] = [];
    const sending = (async () => {
      for (let i = 0; i < 40; i++) {
        acks.push(await out.send(`m${i}`));
        await sleep(15);
      }
    })();
    await waitFor(() => acks.length >= 10, 10_000, 'first sends');
    await stopNode(nodeA);
    await sending;

    await waitFor(() => seen.length >= 40, 10_000, 'all messages on the reader');
    const token = (await registerUser(nodeB)).accessToken;
    const history = await http<{ messages: Message[] }>(nodeB, 'GET', `/api/rooms/${created.id}/messages?afterSeq=0&limit=200`, { token });
    expect(history.body.messages.map((m) => m.content)).to.deep.equal(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(seen).to.deep.equal(history.body.messages);
    expect(states).to.deep.equal(['reconnecting', 'connected']);
    expect(reader.state).to.equal('connected');
  });
});
