import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message, MessageDeletedEvent } from '../server/protocol.js';
import { adminSocket, auditEntries } from './support/admin.js';
import { environment } from './support/environment.js';
import { collect, connect, createRoom, http, ok, registerAdmin, registerUser, request, useNode, usersWithRoom, waitFor, type ChatClient, type TestUser } from './support/util.js';

describe('moderation', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  /** An author, another member and an admin, all in one public room with a message by the author. */
  async function scene() {
    const [author, other] = await Promise.all([registerUser(node.app), registerUser(node.app)]);
    const admin = await registerAdmin(node.app);
    const room = await createRoom(node.app, author.accessToken);
    const sockets = {
      author: await connect(node.app, { token: author.accessToken }),
      other: await connect(node.app, { token: other.accessToken }),
      admin: await connect(node.app, { token: admin.accessToken }),
    };
    for (const s of Object.values(sockets)) await ok(s, 'room:join', { roomId: room.id });
    const { message } = await ok<{ message: Message }>(sockets.author, 'message:send', { roomId: room.id, content: 'original', clientMsgId: randomUUID() });
    return { author, other, admin, room, sockets, message };
  }

  describe('message:edit', () => {
    it('by the author: acked with the new content and editedAt, and message:updated reaches the room', async () => {
      const { other, room, sockets, message } = await scene();
      const updates = collect<Message>(sockets.other, 'message:updated');

      const ack = await ok<{ message: Message }>(sockets.author, 'message:edit', { messageId: message.id, content: 'fixed typo' });

      expect(message.id).to.be.a('string').and.match(/^\d+$/);
      expect(ack.message).to.include({ id: message.id, seq: message.seq, content: 'fixed typo', deleted: false });
      expect(ack.message.editedAt).to.be.a('string');
      await waitFor(() => updates.length === 1, 2_000, 'message:updated');
      expect(updates[0]).to.deep.equal(ack.message);
      const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: other.accessToken });
      expect(history.body.messages).to.deep.equal([ack.message]);
    });

    it('by an admin: allowed; by another member: forbidden and the content is unchanged', async () => {
      const { other, room, sockets, message } = await scene();

      const byOther = await request(sockets.other, 'message:edit', { messageId: message.id, content: 'hijacked' });
      const byAdmin = await ok<{ message: Message }>(sockets.admin, 'message:edit', { messageId: message.id, content: 'moderated' });

      expect(!byOther.ok && byOther.error.code).to.equal('forbidden');
      expect(byAdmin.message.content).to.equal('moderated');
      const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: other.accessToken });
      expect(history.body.messages[0].content).to.equal('moderated');
    });

    it('answers not_found for an unknown message and validation_failed for empty content', async () => {
      const { sockets, message } = await scene();

      const unknown = await request(sockets.author, 'message:edit', { messageId: '999999999', content: 'x' });
      const empty = await request(sockets.author, 'message:edit', { messageId: message.id, content: '' });

      expect(!unknown.ok && unknown.error.code).to.equal('not_found');
      expect(!empty.ok && empty.error.code).to.equal('validation_failed');
    });
  });

  describe('message:delete', () => {
    it('by the author: message:deleted reaches the room, and history keeps the seq with deleted true and empty content', async () => {
      const { other, room, sockets, message } = await scene();
      const { message: next } = await ok<{ message: Message }>(sockets.author, 'message:send', { roomId: room.id, content: 'second', clientMsgId: randomUUID() });
      const deletions = collect<MessageDeletedEvent>(sockets.other, 'message:deleted');

      await ok(sockets.author, 'message:delete', { messageId: message.id });

      await waitFor(() => deletions.length === 1, 2_000, 'message:deleted');
      expect(deletions[0]).to.deep.equal({ id: message.id, roomId: room.id, seq: 1, change: next.change + 1 });
      const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: other.accessToken });
      expect(history.body.messages.map((m: Message) => [m.seq, m.deleted, m.content])).to.deep.equal([
        [1, true, ''],
        [2, false, 'second'],
      ]);
      expect(next.seq).to.equal(2);
      const editDeleted = await request(sockets.author, 'message:edit', { messageId: message.id, content: 'back' });
      expect(!editDeleted.ok && editDeleted.error.code).to.equal('not_found');
    });

    it('by another member: forbidden and nothing is deleted; by an admin: deleted and audited', async () => {
      const { author, admin, other, room, sockets, message } = await scene();

      const byOther = await request(sockets.other, 'message:delete', { messageId: message.id });
      const stillThere = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: other.accessToken });
      await ok(sockets.admin, 'message:delete', { messageId: message.id });

      expect(!byOther.ok && byOther.error.code).to.equal('forbidden');
      expect(stillThere.body.messages[0]).to.include({ deleted: false, content: 'original' });
      const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: author.accessToken });
      expect(history.body.messages[0]).to.include({ deleted: true, content: '' });
      const [entry] = await auditEntries(node.app, admin.accessToken, 'message_delete');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'message', targetId: message.id });
      const again = await request(sockets.admin, 'message:delete', { messageId: message.id });
      expect(!again.ok && again.error.code).to.equal('not_found');
    });
  });

  describe('mutes', () => {
    async function mutedMember(): Promise<{ admin: TestUser; member: TestUser; roomId: string; socket: ChatClient }> {
      const admin = await registerAdmin(node.app);
      const { room, users: [member], sockets: [socket] } = await usersWithRoom([node.app]);
      const control = await adminSocket(node.app, admin.accessToken);
      await ok(control, 'admin:mute', { userId: member.user.id, roomId: room.id, minutes: 1 });
      return { admin, member, roomId: room.id, socket };
    }
    const send = (socket: ChatClient, roomId: string) => request(socket, 'message:send', { roomId, content: 'can I talk?', clientMsgId: randomUUID() });

    it('when muted for 1 minute, then message:send answers muted and nothing is stored', async () => {
      const { member, roomId, socket } = await mutedMember();

      const ack = await send(socket, roomId);

      expect(!ack.ok && ack.error.code).to.equal('muted');
      const history = await http(node.app, 'GET', `/api/rooms/${roomId}/messages`, { token: member.accessToken });
      expect(history.body.messages).to.have.length(0);
    });

    it('when the mute has expired, then the user posts again', async () => {
      const { member, roomId, socket } = await mutedMember();
      // Move the expiry into the past instead of waiting a minute.
      await environment
        .get()
        .database.knex('mutes')
        .where({ room_id: roomId, user_id: member.user.id })
        .update({ expires_at: new Date(Date.now() - 1_000) });

      const ack = await send(socket, roomId);

      expect(ack.ok).to.equal(true);
    });
  });
});
