import type { Database } from '../../db/database.js';
import type { TestServices } from './services.js';

interface TestEnvironment {
  services: TestServices;
  /** The run's shared, migrated database. */
  database: Database;
}

let current: TestEnvironment | null = null;

/** The services and database of this test run, set once by the root hooks. */
export const environment = {
  set(value: TestEnvironment) {
    current = value;
  },
  current(): TestEnvironment | null {
    return current;
  },
  get(): TestEnvironment {
    if (!current) throw new Error('test environment not ready: root hooks did not run');
    return current;
  },
};
