import { expect } from 'chai';
import { closeClients, received, signedUpClient } from './support/sdk.js';
import { closeAll, startNode, uniqueName, waitFor } from './support/util.js';

describe('client SDK: a live gap', () => {
  afterEach(async () => {
    closeClients();
    await closeAll();
  });

  it('when a live message is missed and a later one arrives, then the gap is filled from history before the later one is shown', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const { client: sender } = await signedUpClient(app);
    const { client: reader } = await signedUpClient(app);
    const created = await sender.rooms.create({ name: uniqueName('room') });
    const out = await sender.join(created.id);
    const inbox = await reader.join(created.id);
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
