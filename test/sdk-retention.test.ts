// Issue 19, retention seen from the client SDK: a retention cut is not a gap.
// Whether the client resumes a persisted view (afterSeq with or without
// afterChange) or fills a live gap, it goes on from the room's first kept
// seq, reports no error, tells the app with `resync` when its change position
// was from before the cut, and converges with the live stream.
import { expect } from 'chai';
import type { RetentionPoint, RoomcastError } from '../client-sdk/src/index.js';
import type { RoomcastApp } from '../server/app.js';
import { environment } from './support/environment.js';
import { closeClientsAfterEach, received, senderAndReader, signedUpClient } from './support/sdk.js';
import { http, registerAdmin, startNode, waitFor } from './support/util.js';

const knex = () => environment.get().database.knex;

/** Gives the room a 30-day retention, makes `seqs` 40 days old and runs one sweep. */
async function cut(app: RoomcastApp, roomId: string, seqs: number[]): Promise<void> {
  const admin = await registerAdmin(app);
  const res = await http(app, 'PATCH', `/api/rooms/${roomId}`, { token: admin.accessToken, body: { retentionDays: 30 } });
  expect(res.status).to.equal(200);
  await knex()('messages').where('room_id', roomId).whereIn('seq', seqs).update({ created_at: knex().raw(`now() - interval '40 days'`) });
  expect((await app.retention.sweep()).messages).to.equal(seqs.length);
}

const seqs = (list: { seq: number }[]) => list.map((m) => m.seq);

describe('client SDK: catch-up across a retention cut', () => {
  closeClientsAfterEach();

  it('when a persisted view (afterSeq 2, afterChange 2) resumes after retention deleted seqs 1-6, then the room goes on at 7 with a resync and no error, and live messages follow', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
    const { created, out } = await senderAndReader(app);
    for (let i = 1; i <= 10; i++) await out.send(`m${i}`);
    await cut(app, created.id, [1, 2, 3, 4, 5, 6]);
    const { client } = await signedUpClient(app);

    const room = await client.join(created.id, { afterSeq: 2, afterChange: 2 });
    const seen = received(room);
    const resyncs: RetentionPoint[] = [];
    const errors: RoomcastError[] = [];
    room.on('resync', (point) => resyncs.push(point));
    room.on('error', (err) => errors.push(err));
    await waitFor(() => seen.length === 4, 5_000, 'caught up from the cut');
    await out.send('m11');
    await waitFor(() => seen.length === 5, 5_000, 'live message after the catch-up');

    expect(seqs(seen)).to.deep.equal([7, 8, 9, 10, 11]);
    expect(seen.map((m) => m.content)).to.deep.equal(['m7', 'm8', 'm9', 'm10', 'm11']);
    expect(resyncs).to.deep.equal([{ oldestSeq: 7, lastChange: 10 }]);
    expect(errors).to.deep.equal([]);
    expect(room.lastChange).to.equal(11);
  });

  it('when a view resumes by seq alone (afterSeq 2) after retention deleted seqs 1-6, then history’s oldestSeq lets it go on at 7 instead of waiting for a gap to fill', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
    const { created, out } = await senderAndReader(app);
    for (let i = 1; i <= 10; i++) await out.send(`m${i}`);
    await cut(app, created.id, [1, 2, 3, 4, 5, 6]);
    const { client } = await signedUpClient(app);

    const room = await client.join(created.id, { afterSeq: 2 });
    const seen = received(room);
    const errors: RoomcastError[] = [];
    room.on('error', (err) => errors.push(err));
    await waitFor(() => seen.length === 4, 5_000, 'caught up from the cut');
    await out.send('m11');
    await waitFor(() => seen.length === 5, 5_000, 'live message after the catch-up');

    expect(seqs(seen)).to.deep.equal([7, 8, 9, 10, 11]);
    expect(errors).to.deep.equal([]);
  });

  it('when live messages are missed and retention deletes some of them before the gap is noticed, then the fill answers changes_expired, the SDK resyncs and shows the rest in order with no error', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
    const { reader, created, out, inbox } = await senderAndReader(app);
    const seen = received(inbox);
    const resyncs: RetentionPoint[] = [];
    const errors: RoomcastError[] = [];
    inbox.on('resync', (point) => resyncs.push(point));
    inbox.on('error', (err) => errors.push(err));
    await out.send('m1');
    await out.send('m2');
    await waitFor(() => seen.length === 2, 5_000, 'first two live');
    // Lose live deliveries to the reader's socket for a while (as a lost fan-out would).
    const readerSocket = app.io.of('/chat').sockets.get(reader.socketId!)!;
    readerSocket.leave(`room:${created.id}`);
    for (let i = 3; i <= 8; i++) await out.send(`m${i}`);
    await cut(app, created.id, [1, 2, 3, 4, 5, 6]);
    readerSocket.join(`room:${created.id}`);

    await out.send('m9');
    await waitFor(() => seen.length === 5, 5_000, 'gap filled past the cut');

    expect(seqs(seen)).to.deep.equal([1, 2, 7, 8, 9]);
    expect(resyncs).to.deep.equal([{ oldestSeq: 7, lastChange: 9 }]);
    expect(errors).to.deep.equal([]);
  });
});
