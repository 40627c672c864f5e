import { expect } from 'chai';
import { closeClientsAfterEach, received, senderAndReader } from './support/sdk.js';
import { startNode, waitFor } from './support/util.js';

describe('client SDK: a live gap', () => {
  closeClientsAfterEach();

  it('when a live message is missed and a later one arrives, then the gap is filled from history before the later one is shown', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const { reader, created, out, inbox } = await senderAndReader(app);
    const seen = received(inbox);
    await out.send('m1');
    await waitFor(() => seen.length === 1);
    // Lose live deliveries to the reader's socket for a while (as a lost fan-out would).
    const readerSocket = app.io.of('/chat').sockets.get(reader.socketId!)!;
    readerSocket.leave(`room:${created.id}`);

    await out.send('m2');
    await out.send('m3');
    readerSocket.join(`room:${created.id}`);
    await out.send('m4');

    await waitFor(() => seen.length === 4, 5_000, 'gap filled');
    expect(seen.map((m) => [m.seq, m.content])).to.deep.equal([
      [1, 'm1'],
      [2, 'm2'],
      [3, 'm3'],
      [4, 'm4'],
    ]);
    expect(reader.socketId).to.equal(readerSocket.id);
  });
});
