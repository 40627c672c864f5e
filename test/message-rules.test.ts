import { expect } from 'chai';
import type { Message } from '../server/protocol.js';
import { assertMayChange, refusal, type Refusal } from '../server/messages/message-rules.js';

// The rule module alone (pure logic): the catalogue of refusals and the
// edit/delete rule. The send rules are applied by the commit statement and
// tested through it (message-store-batch, moderation, room tests).
describe('message rules', () => {
  const message = (over: Partial<Message> = {}): Message => ({
    id: '1',
    roomId: 'room-1',
    seq: 1,
    userId: 'author',
    username: 'author',
    content: 'hi',
    clientMsgId: '00000000-0000-4000-8000-000000000000',
    createdAt: new Date(0).toISOString(),
    editedAt: null,
    deleted: false,
    ...over,
  });
  const errorOf = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      return err as { code: string; message: string };
    }
    return null;
  };

  it('when a refusal is turned into an error, then it carries its contract code and the catalogue text', () => {
    const reasons: Refusal[] = ['room_not_found', 'archived', 'read_only', 'muted', 'message_not_found', 'not_author'];
    const answers = reasons.map((reason) => {
      const { code, message } = refusal(reason).toBody();
      return `${reason} → ${code}: ${message}`;
    });
    expect(answers).to.deep.equal([
      'room_not_found → not_found: room not found',
      'archived → read_only: room is archived',
      'read_only → read_only: room is read-only',
      'muted → muted: you are muted in this room',
      'message_not_found → not_found: message not found',
      'not_author → forbidden: only the author or an admin may change a message',
    ]);
  });

  it('when the author or an admin changes a live message, then it is allowed', () => {
    expect(errorOf(() => assertMayChange({ userId: 'author', role: 'member' }, message()))).to.equal(null);
    expect(errorOf(() => assertMayChange({ userId: 'someone', role: 'admin' }, message()))).to.equal(null);
  });

  it('when another member changes it, then forbidden; when it is gone or deleted, then not_found for anyone', () => {
    expect(errorOf(() => assertMayChange({ userId: 'someone', role: 'member' }, message()))).to.include({ code: 'forbidden' });
    expect(errorOf(() => assertMayChange({ userId: 'author', role: 'admin' }, null))).to.include({ code: 'not_found', message: 'message not found' });
    expect(errorOf(() => assertMayChange({ userId: 'author', role: 'member' }, message({ deleted: true })))).to.include({ code: 'not_found' });
  });
});
