// `npm run migrate`: runs the migrations alone, against the configured database.
import 'dotenv/config';
import { loadConfig } from '../server/config.js';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

const config = loadConfig();
const db = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
try {
  await migrateToLatest(db);
  console.log('migrations are up to date');
} finally {
  await db.close();
}
