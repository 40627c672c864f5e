// Reactions as read with a message (issue 14): one correlated aggregate per
// message row, in the same statement as the page or the change, so a page of
// 200 messages is still one query. `me` is computed for one viewer (the
// caller; null for the server API, which then reads me: false).

/**
 * A `reactions` column for the message row aliased `alias`: a JSON array of
 * `{ emoji, count, me }` in the order the emojis were first used. Takes one
 * binding, the viewer's user id (or null), unless `viewer` names a column.
 */
export const reactionsColumn = (alias: string, viewer = '?::uuid') => `(
  select coalesce(json_agg(json_build_object('emoji', g.emoji, 'count', g.n, 'me', g.me) order by g.first, g.emoji), '[]'::json)
    from (select r.emoji, count(*)::int as n, coalesce(bool_or(r.user_id = ${viewer}), false) as me, min(r.created_at) as first
            from message_reactions r
           where r.message_id = ${alias}.id
           group by r.emoji) g
) as reactions`;
