import type { Knex } from 'knex';

/** Runs one SQL statement (with `?` placeholders) on its own; resolves with its rows. */
export type Statement = <R>(name: string, sql: string, params: readonly Knex.RawBinding[]) => Promise<R[]>;

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Statements for the group-commit hot path. On PostgreSQL they run on a
 * pooled connection taken from knex directly, as named statements (prepared
 * once per connection, so PostgreSQL parses and plans them once). Going
 * through knex costs far more node CPU than the statement itself (builder,
 * runner, events per query); at low rates, where each message is its own
 * batch, that overhead was most of Roomcast's CPU per message. Other
 * clients (the embedded PGlite) use knex.raw with the same SQL.
 */
export function hotPathStatements(knex: Knex): Statement {
  if (knex.client.config.client !== 'pg') {
    return async <R>(_name: string, sql: string, params: readonly Knex.RawBinding[]) => ((await knex.raw(sql, params)) as { rows: R[] }).rows;
  }
  const numbered = new Map<string, string>();
  return async <R>(name: string, sql: string, params: readonly Knex.RawBinding[]) => {
    let text = numbered.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      numbered.set(sql, text);
    }
    const connection = (await knex.client.acquireConnection()) as PgConnection;
    try {
      const { rows } = await connection.query({ name, text, values: [...params] });
      return rows as R[];
    } finally {
      await knex.client.releaseConnection(connection);
    }
  };
}
