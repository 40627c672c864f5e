// Replies and threads (issue 14): the pieces of the group-commit statement
// (message-store.ts, appendBatchSql) that only a batch holding a reply runs.
// A batch without one runs the statement without them, so a plain send pays
// nothing for threads: no parent probe, no parent update, no extra binding.

import { reactionsColumn } from './reaction-sql.js';
import { isoSql } from './webhook-outbox.js';

/**
 * `judged`, last rule: the parent must be a message of the same room that is
 * not deleted (`parent_not_found`: a missing seq, a deleted message, and a
 * message of another room look alike). Checked under the room lock the batch
 * holds, which every edit and deletion of the room also takes.
 */
export const THREAD_VERDICT = `
           when p.reply_to_seq is not null
                and not exists (select 1 from messages pm where pm.room_id = p.room_id and pm.seq = p.reply_to_seq and pm.deleted_at is null) then 'parent_not_found'`;

/** Each room's count of distinct parents replied to: one change number each, after the batch's new messages. */
export const THREAD_BUMP_COLUMN = `, count(distinct reply_to_seq)::int as parents`;
export const THREAD_BUMP = ` + c.parents`;

/**
 * `threads`: each replied-to parent gets its replies counted, the time of
 * the last one, and the room's next change number after the batch's new
 * messages (rooms.last_change + the room's new messages + its rank among the
 * room's parents), so clients converge on replyCount by catch-up as by the
 * live message:updated. Returns the parent's new state.
 */
export const THREAD_CTE = `, counted as (
  select room_id, reply_to_seq, last_change, count(*) over (partition by room_id) as room_n from ok
), replied as (
  select room_id, reply_to_seq, count(*)::int as n, min(last_change + room_n) as base,
         row_number() over (partition by room_id order by reply_to_seq) as k
    from counted where reply_to_seq is not null
   group by room_id, reply_to_seq
), threads as (
  update messages pm set reply_count = pm.reply_count + t.n, last_reply_at = greatest(pm.last_reply_at, now()), change = t.base + t.k
    from replied t
   where pm.room_id = t.room_id and pm.seq = t.reply_to_seq
  returning pm.id, pm.room_id, pm.seq, pm.user_id, pm.content, pm.client_msg_id, pm.created_at, pm.edited_at, pm.deleted_at, pm.change,
            pm.mentions, pm.reply_to_seq, pm.reply_count, pm.last_reply_at
)`;

/** The parents' new states, as rows of status 'parent' in the statement's answer (reactions with `me: false`: the update is a broadcast). */
export const THREAD_ROWS = `
union all
select null, 'parent', t.id, t.seq, t.change, ${isoSql('t.created_at')}, t.user_id, t.client_msg_id, u.username, t.content, t.edited_at, t.deleted_at,
       t.mentions,
       t.reply_to_seq, t.reply_count, t.last_reply_at, t.room_id,
       ${reactionsColumn('t', 'null::uuid')}
  from threads t join users u on u.id = t.user_id`;
