import { expect } from 'chai';
import type { Ack } from '../server/protocol.js';
import type { HistoryPage } from '../server/protocol.js';
import { closeAll, connect, createRoom, http, ok, registerAdmin, request, startNode } from './support/util.js';

// Found by the chaos fuzz: a 19-digit id above the BIGSERIAL range, and a
// history bound above the int4 seq column, passed validation and reached
// PostgreSQL, which answered an out-of-range error (internal).
const PAST_BIGINT = '9295341271306608977';
const LARGEST = '9223372036854775807';
const codeOf = (ack: Ack) => (ack.ok ? 'ok' : ack.error.code);

describe('ids and seqs beyond the range of their columns', () => {
  afterEach(closeAll);

  it('when message:edit or message:delete names an id past the largest bigint, then the ack is validation_failed; the largest one is not_found', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);
    const socket = await connect(app, { token: admin.accessToken });

    const edit = await request(socket, 'message:edit', { messageId: PAST_BIGINT, content: 'x' });
    const del = await request(socket, 'message:delete', { messageId: PAST_BIGINT });
    const largest = await request(socket, 'message:delete', { messageId: LARGEST });
    const words = await request(socket, 'message:delete', { messageId: '1e3' });

    expect([edit, del, largest, words].map(codeOf)).to.deep.equal(['validation_failed', 'validation_failed', 'not_found', 'validation_failed']);
  });

  it('when the admin REST routes get such an id or cursor, then they answer 400, not 500', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);

    const del = await http(app, 'DELETE', `/api/admin/messages/${PAST_BIGINT}`, { token: admin.accessToken });
    const audit = await http(app, 'GET', `/api/admin/audit?cursor=${PAST_BIGINT}`, { token: admin.accessToken });

    expect([del.status, audit.status]).to.deep.equal([400, 400]);
  });

  it('when a history window bound is past the largest seq, then the ack and the REST answer treat it as the largest (no internal error)', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);
    const room = await createRoom(app, admin.accessToken);
    const socket = await connect(app, { token: admin.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });
    await ok(socket, 'message:send', { roomId: room.id, content: 'one', clientMsgId: crypto.randomUUID() });

    const before = await ok<HistoryPage>(socket, 'room:history', { roomId: room.id, beforeSeq: Number.MAX_SAFE_INTEGER });
    const after = await ok<HistoryPage>(socket, 'room:history', { roomId: room.id, afterSeq: 2 ** 40 });
    const rest = await http(app, 'GET', `/api/rooms/${room.id}/messages?beforeSeq=99999999999999`, { token: admin.accessToken });

    expect(before.messages.map((m) => m.content)).to.deep.equal(['one']);
    expect(after.messages).to.deep.equal([]);
    expect(rest.status).to.equal(200);
    expect(rest.body.messages).to.have.length(1);
  });
});
