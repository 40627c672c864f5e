// Mocha root hooks: find the services once per run, open and migrate one
// database that every test app shares, and at the end check the run's logs
// for secrets (a leak fails the run) and close it all.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { assertNoSecretsInLogs } from './secrets-in-logs.js';
import { ARTIFACTS_DIR, findServices, SKIPPED_FILE } from './services.js';
import { environment } from './environment.js';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000);
    rmSync(SKIPPED_FILE, { force: true });
    // Each run's server log is that run's alone (afterAll greps it for secrets).
    rmSync(path.join(ARTIFACTS_DIR, 'server.log'), { force: true });
    const services = await findServices();
    console.log(`  test services: ${services.describe}`);
    const database = openDatabase({ url: services.databaseUrl, dataDir: null, poolSize: 20 });
    await migrateToLatest(database);
    environment.set({ services, database });
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    try {
      await assertNoSecretsInLogs();
    } finally {
      const current = environment.current();
      if (current) {
        await current.database.close();
        await current.services.stop();
      }
    }
  },
};
