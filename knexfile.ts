// Knex CLI configuration (`npx knex --knexfile knexfile.ts migrate:status`).
// The server itself migrates at start through db/migrate.ts, under a lock.
import 'dotenv/config';
import { migrationConfig } from './db/migrate.js';

export default {
  client: 'pg',
  connection: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/roomcast',
  migrations: migrationConfig,
};
