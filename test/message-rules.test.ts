import { expect } from 'chai';
import type { MessageChangeContext } from '../db/stores/message-store.js';
import type { Message } from '../server/protocol.js';
import { judgeChange, refusal, type ChangeKind, type Refusal } from '../server/messages/message-rules.js';
import type { Actor } from '../server/rooms/room-service.js';

// The rule module alone (pure logic): the catalogue of refusals and the
// edit/delete rule. The send rules are applied by the commit statement and
// tested through it (message-store-batch, moderation, room tests); the
// edit/delete rules end to end in write-rules.test.ts.
describe('message rules', () => {
  const message = (over: Partial<Message> = {}): Message => ({
    id: '1',
    roomId: 'room-1',
    seq: 1,
    change: 1,
    mentions: [],
    replyToSeq: null,
    replyCount: 0,
    lastReplyAt: null,
    userId: 'author',
    username: 'author',
    content: 'hi',
    clientMsgId: '00000000-0000-4000-8000-000000000000',
    createdAt: new Date(0).toISOString(),
    editedAt: null,
    deleted: false,
    ...over,
  });
  const context = (over: { message?: Partial<Message>; room?: Partial<MessageChangeContext['room']>; member?: boolean; muted?: boolean } = {}): MessageChangeContext => ({
    message: message(over.message),
    room: { visibility: 'public', readOnly: false, archived: false, ...over.room },
    member: over.member ?? true,
    muted: over.muted ?? false,
  });
  const author: Actor = { userId: 'author', role: 'member' };
  const someone: Actor = { userId: 'someone', role: 'member' };
  const admin: Actor = { userId: 'admin', role: 'admin' };
  /** The refusal's code and text, or the verdict. */
  const judge = (actor: Actor, kind: ChangeKind, ctx: MessageChangeContext) => {
    try {
      return judgeChange(actor, kind, ctx);
    } catch (err) {
      return (err as { toBody(): { code: string; message: string } }).toBody();
    }
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

  it('when the author changes a live message in an open room, then it is allowed and not audited', () => {
    for (const kind of ['edit', 'delete'] as const) expect(judge(author, kind, context())).to.deep.equal({ audited: false, overrode: null });
  });

  it('when another member changes it, then forbidden; when it is deleted, then not_found for anyone', () => {
    expect(judge(someone, 'edit', context())).to.include({ code: 'forbidden' });
    expect(judge(author, 'delete', context({ message: { deleted: true } }))).to.include({ code: 'not_found', message: 'message not found' });
    expect(judge(admin, 'edit', context({ message: { deleted: true } }))).to.include({ code: 'not_found' });
  });

  it('when the room is private and the caller not a member, then not_found exactly like no message, even for the author', () => {
    const hidden = context({ room: { visibility: 'private' }, member: false });
    expect(judge(author, 'edit', hidden)).to.deep.equal(refusal('message_not_found').toBody());
    expect(judge(someone, 'delete', hidden)).to.deep.equal(refusal('message_not_found').toBody());
    expect(judge(admin, 'delete', hidden)).to.include({ audited: true });
  });

  it('when the room state or a mute refuses members, then the author is refused as the send rules answer', () => {
    const cases: Array<[ChangeKind, MessageChangeContext, string]> = [
      ['edit', context({ room: { archived: true } }), 'read_only: room is archived'],
      ['delete', context({ room: { archived: true } }), 'read_only: room is archived'],
      ['edit', context({ room: { readOnly: true } }), 'read_only: room is read-only'],
      ['edit', context({ muted: true }), 'muted: you are muted in this room'],
    ];
    for (const [kind, ctx, expected] of cases) {
      const answer = judge(author, kind, ctx) as { code: string; message: string };
      expect(`${kind} ${answer.code}: ${answer.message}`).to.equal(`${kind} ${expected}`);
    }
    // Taking one's own words away stays possible where adding is not.
    expect(judge(author, 'delete', context({ room: { readOnly: true } }))).to.deep.equal({ audited: false, overrode: null });
    expect(judge(author, 'delete', context({ muted: true }))).to.deep.equal({ audited: false, overrode: null });
  });

  it('when an admin changes what a member could not, then it is allowed and audited with the rule it went past', () => {
    expect(judge(admin, 'edit', context({ room: { archived: true } }))).to.deep.equal({ audited: true, overrode: 'archived' });
    expect(judge(admin, 'edit', context({ room: { readOnly: true } }))).to.deep.equal({ audited: true, overrode: 'read_only' });
    expect(judge(admin, 'edit', context())).to.deep.equal({ audited: true, overrode: null });
    // Their own message in an open room: an edit is not moderation, a deletion by an admin always is audited.
    const own = context({ message: { userId: 'admin' } });
    expect(judge(admin, 'edit', own)).to.deep.equal({ audited: false, overrode: null });
    expect(judge(admin, 'delete', own)).to.deep.equal({ audited: true, overrode: null });
  });
});
