// Whole databases on a PostgreSQL server, for the tools that each work in a
// database of their own: the test suite, the benchmark and the chaos runner.
import pg from 'pg';

/** Runs `work` on one connection to `url`, closed afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database `name` on the server of `serverUrl` and returns its URL:
 * empty, or a copy of `template` (PostgreSQL copies its files, which is much
 * faster than migrating a new database; nothing may be connected to it).
 */
export async function createDatabase(serverUrl: string, name: string, template?: string): Promise<string> {
  await withClient(serverUrl, (client) => client.query(`create database "${name}"${template ? ` template "${template}"` : ''}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` on the server of `serverUrl`, closing its connections; absent is fine. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
}
