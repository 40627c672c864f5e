import { expect } from 'chai';
import type { Ack } from '../server/protocol.js';
import { closeAll, connect, http, registerAdmin, request, startNode } from './support/util.js';

// Found by the chaos fuzz: a 19-digit id above the BIGSERIAL range passed the
// id check and reached PostgreSQL, which answered an out-of-range error (internal).
const PAST_BIGINT = '9295341271306608977';
const LARGEST = '9223372036854775807';
const codeOf = (ack: Ack) => (ack.ok ? 'ok' : ack.error.code);

describe('message ids beyond the BIGSERIAL range', () => {
  afterEach(closeAll);

  it('when message:edit or message:delete names an id past the largest bigint, then the ack is validation_failed; the largest one is not_found', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);
    const socket = await connect(app, { token: admin.accessToken });

    const edit = await request(socket, 'message:edit', { messageId: PAST_BIGINT, content: 'x' });
    const del = await request(socket, 'message:delete', { messageId: PAST_BIGINT });
    const largest = await request(socket, 'message:delete', { messageId: LARGEST });

    expect([edit, del, largest].map(codeOf)).to.deep.equal(['validation_failed', 'validation_failed', 'not_found']);
  });

  it('when the admin REST routes get such an id or cursor, then they answer 400, not 500', async () => {
    const app = await startNode();
    const admin = await registerAdmin(app);

    const del = await http(app, 'DELETE', `/api/admin/messages/${PAST_BIGINT}`, { token: admin.accessToken });
    const audit = await http(app, 'GET', `/api/admin/audit?cursor=${PAST_BIGINT}`, { token: admin.accessToken });

    expect([del.status, audit.status]).to.deep.equal([400, 400]);
  });
});
