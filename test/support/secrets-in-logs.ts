// The run's logs must hold no secret: checked once, after every test of the
// run (a root afterAll hook, so it does not depend on file order or on which
// files a run picks). A leak makes the hook throw, which fails the run.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS_DIR } from './services.js';
import { issuedSecrets, sleep, testLoggerStarted } from './util.js';

const SERVER_LOG = path.join(ARTIFACTS_DIR, 'server.log');
const RUN_STARTED = Date.now() - process.uptime() * 1000;

const PATTERNS: [string, RegExp][] = [
  ['an access token (JWT)', /eyJ[\w-]+\.[\w-]+\.[\w-]+/],
  ['a test password', /pw-[\w.-]+-secret/],
  ['the refresh cookie', /roomcast_refresh=/],
];

/**
 * Waits (bounded, 3 s) until the log file stops growing: the file transport
 * writes asynchronously, and opens the file asynchronously too, so a run that
 * logged may not have the file yet (`mustExist`: wait for it to appear).
 */
async function settled(file: string, mustExist: boolean): Promise<void> {
  let size = -1;
  for (let i = 0; i < 30; i++) {
    if (!existsSync(file)) {
      if (!mustExist) return;
    } else {
      const now = statSync(file).size;
      if (now === size) return;
      size = now;
    }
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

/** Throws, naming each leak, if a log this run wrote holds an access token, a refresh token, a password or the refresh cookie. */
export async function assertNoSecretsInLogs(): Promise<void> {
  const nodesLogged = testLoggerStarted() && !process.env.TEST_LOG_LEVEL;
  await settled(SERVER_LOG, nodesLogged);
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

  if (leaks.length > 0) throw new Error(`secrets in the logs of this test run:\n${leaks.join('\n')}`);
  // Guards against a vacuous check: the nodes' log went somewhere this does not read.
  if (nodesLogged && !files.includes(SERVER_LOG)) {
    throw new Error('a run that started nodes has no server log to check for secrets');
  }
}
