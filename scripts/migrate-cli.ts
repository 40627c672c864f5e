// `npm run migrate`: runs the migrations alone, against the configured
// database. Here, not in db/, because it reads the server's configuration,
// and db/ imports nothing from server/ but the protocol types.
import 'dotenv/config';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { loadConfig } from '../server/config.js';

const config = loadConfig();
const db = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
try {
  await migrateToLatest(db);
  console.log('migrations are up to date');
} finally {
  await db.close();
}
