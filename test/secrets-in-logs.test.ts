import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

interface RunResult {
  code: number;
  output: string;
}

/** mocha on one spec, in a child process with its own artifacts directory (so its log is not this run's). */
function mochaRun(spec: string, artifactsDir: string): Promise<RunResult> {
  const mocha = path.resolve('node_modules/mocha/bin/mocha.js');
  const env = { ...process.env, TEST_ARTIFACTS_DIR: artifactsDir };
  return new Promise((resolve) => {
    // Not .mocharc.json: mocha adds a config's spec to the command line's, which would run the whole suite.
    const args = [mocha, '--no-config', '--node-option', 'import=tsx', '--require', 'test/support/root-hooks.ts', '--timeout', '20000', '--exit', spec];
    execFile(process.execPath, args, { env, timeout: 150_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

describe('the secrets-in-logs root hook', function () {
  this.timeout(180_000);
  let artifactsDir: string;

  before(() => {
    artifactsDir = mkdtempSync(path.join(tmpdir(), 'roomcast-secrets-'));
  });
  after(() => rmSync(artifactsDir, { recursive: true, force: true }));

  it('when a node of the run logs a password, then the run fails (non-zero exit) naming the leak, though every test passed', async () => {
    const run = await mochaRun('test/fixtures/logs-a-password.ts', artifactsDir);

    expect(run.output).to.match(/1 passing/);
    expect(run.output, run.output).to.contain('"after all" hook');
    expect(run.output, run.output).to.contain('secrets in the logs of this test run');
    expect(run.output, run.output).to.contain('server.log: a test password');
    expect(run.code, run.output).to.not.equal(0);
  });
});
