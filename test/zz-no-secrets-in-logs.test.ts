// Named to sort last: mocha loads files alphabetically, so this runs after
// every other test of the run and reads the logs the whole run wrote.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ARTIFACTS_DIR } from './support/services.js';
import { issuedSecrets, sleep } from './support/util.js';

const SERVER_LOG = path.join(ARTIFACTS_DIR, 'server.log');
const RUN_STARTED = Date.now() - process.uptime() * 1000;

const PATTERNS: [string, RegExp][] = [
  ['an access token (JWT)', /eyJ[\w-]+\.[\w-]+\.[\w-]+/],
  ['a test password', /pw-[\w.-]+-secret/],
  ['the refresh cookie', /roomcast_refresh=/],
];

/** Waits (bounded) until the log file stops growing: the file transport writes asynchronously. */
async function settled(file: string): Promise<void> {
  let size = -1;
  for (let i = 0; i < 30 && existsSync(file) && statSync(file).size !== size; i++) {
    size = statSync(file).size;
    await sleep(100);
  }
}

/** server.log, and every process log (test-artifacts/*.log) this run wrote to. */
function logsOfThisRun(): string[] {
  if (!existsSync(ARTIFACTS_DIR)) return [];
  return readdirSync(ARTIFACTS_DIR)
    .filter((name) => name.endsWith('.log'))
    .map((name) => path.join(ARTIFACTS_DIR, name))
    .filter((file) => file === SERVER_LOG || statSync(file).mtimeMs >= RUN_STARTED);
}

describe('the logs of the whole test run', () => {
  it('contain no access token, refresh token, password or refresh cookie', async () => {
    await settled(SERVER_LOG);
    const files = logsOfThisRun();

    const leaks: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const [what, pattern] of PATTERNS) {
        const match = pattern.exec(text);
        if (match) leaks.push(`${path.basename(file)}: ${what} before "${text.slice(Math.max(0, match.index - 80), match.index)}"`);
      }
      for (const secret of issuedSecrets) if (text.includes(secret)) leaks.push(`${path.basename(file)}: a refresh token or password issued by the test helpers`);
    }

    expect(leaks, leaks.join('\n')).to.deep.equal([]);
    if (issuedSecrets.size > 0 && !process.env.TEST_LOG_LEVEL) expect(files, 'a run that started nodes has a server log').to.include(SERVER_LOG);
  });
});
