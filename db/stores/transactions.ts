import type { Knex } from 'knex';

/** Runs one SQL statement (with `?` placeholders) inside the current transaction; resolves with its rows. */
export type Statement = <R>(name: string, sql: string, params: readonly Knex.RawBinding[]) => Promise<R[]>;

/** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
export type Transact = <T>(work: (run: Statement) => Promise<T>) => Promise<T>;

interface PgConnection {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Transactions for the group-commit hot path. On PostgreSQL they run on a
 * pooled connection taken from knex directly: BEGIN, named (prepared once
 * per connection) statements, COMMIT. A knex transaction costs far more
 * node CPU than its few statements (a knex instance is built per
 * transaction, every query goes through the builder, runner and events);
 * at low rates, where each message is its own batch, that overhead was most
 * of Roomcast's CPU per message. Other clients (the embedded PGlite) use an
 * ordinary knex transaction. The SQL is the same for both.
 */
export function hotPathTransactions(knex: Knex): Transact {
  if (knex.client.config.client !== 'pg') {
    return (work) => knex.transaction((trx) => work(async <R>(_name: string, sql: string, params: readonly Knex.RawBinding[]) => {
      const result = (await trx.raw(sql, params)) as { rows: R[] };
      return result.rows;
    }));
  }
  const numbered = new Map<string, string>();
  const toPg = (sql: string) => {
    let text = numbered.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      numbered.set(sql, text);
    }
    return text;
  };
  return async (work) => {
    const connection = (await knex.client.acquireConnection()) as PgConnection;
    try {
      await connection.query({ text: 'begin' });
      let result;
      try {
        result = await work(async <R>(name: string, sql: string, params: readonly Knex.RawBinding[]) => {
          const { rows } = await connection.query({ name, text: toPg(sql), values: [...params] });
          return rows as R[];
        });
      } catch (err) {
        await connection.query({ text: 'rollback' }).catch(() => {});
        throw err;
      }
      await connection.query({ text: 'commit' });
      return result;
    } finally {
      await knex.client.releaseConnection(connection);
    }
  };
}
