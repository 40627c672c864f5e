// Pure logic: the single-node presence store's sweep and per-user socket count.
import { expect } from 'chai';
import { MemoryPresenceStore } from '../server/realtime/presence.js';

describe('MemoryPresenceStore', () => {
  const carol = { userId: 'c0ffee00-0000-4000-8000-000000000001', username: 'carol' };
  const dave = { userId: 'c0ffee00-0000-4000-8000-000000000002', username: 'dave' };

  it('when sockets are gone but their entries stayed, then a sweep removes just those and reports users left with none', async () => {
    const store = new MemoryPresenceStore();
    await store.add('r1', carol, 'gone1');
    await store.add('r1', dave, 'gone2');
    await store.add('r1', dave, 'live');
    await store.add('r2', carol, 'gone3');

    const offline = await store.sweep((socketId) => socketId === 'live');

    expect(offline).to.have.deep.members([
      { roomId: 'r1', user: carol },
      { roomId: 'r2', user: carol },
    ]);
    expect(await store.list('r1')).to.deep.equal([dave]);
    expect(await store.list('r2')).to.deep.equal([]);
    expect(await store.sweep(() => true)).to.deep.equal([]);
  });

  it('when the online list is paged, then users come in userId order after the cursor, with the count of all', async () => {
    const store = new MemoryPresenceStore();
    await store.add('r1', dave, 's1');
    await store.add('r1', carol, 's2');

    expect(await store.page('r1', null, 1)).to.deep.equal({ online: [carol], nextCursor: carol.userId, count: 2 });
    expect(await store.page('r1', carol.userId, 1)).to.deep.equal({ online: [dave], nextCursor: null, count: 2 });
    expect(await store.page('r2', null, 1)).to.deep.equal({ online: [], nextCursor: null, count: 0 });
  });

  it('when a user opens sockets, then at most max are registered, closing frees a place, and 0 means no cap', async () => {
    const store = new MemoryPresenceStore();
    const opened = await Promise.all(['s1', 's2', 's3'].map((id) => store.openSocket(carol.userId, id, 2)));
    expect(opened).to.deep.equal([true, true, false]);

    await store.closeSocket(carol.userId, 's1');
    await store.closeSocket(carol.userId, 's1');
    expect(await store.openSocket(carol.userId, 's4', 2)).to.equal(true);
    expect(await store.openSocket(carol.userId, 's5', 2)).to.equal(false);
    expect(await store.openSocket(carol.userId, 's5', 0)).to.equal(true);
    expect(await store.openSocket(dave.userId, 'd1', 2)).to.equal(true);
  });
});
