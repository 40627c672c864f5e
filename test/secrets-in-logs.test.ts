import { expect } from 'chai';
import { runNode, useTempDir, type NodeRun } from './support/node-run.js';

/** mocha on one spec, in a child process with its own artifacts directory (so its log is not this run's). */
function mochaRun(spec: string, artifactsDir: string): Promise<NodeRun> {
  const mocha = 'node_modules/mocha/bin/mocha.js';
  // Not .mocharc.json: mocha adds a config's spec to the command line's, which would run the whole suite.
  const args = [mocha, '--no-config', '--node-option', 'import=tsx', '--require', 'test/support/root-hooks.ts', '--timeout', '20000', '--exit', spec];
  return runNode(args, { ...process.env, TEST_ARTIFACTS_DIR: artifactsDir }, 150_000);
}

describe('the secrets-in-logs root hook', function () {
  this.timeout(180_000);
  const artifactsDir = useTempDir('roomcast-secrets-');

  it('when a node of the run logs a password, then the run fails (non-zero exit) naming the leak, though every test passed', async () => {
    const run = await mochaRun('test/fixtures/logs-a-password.ts', artifactsDir.path);
    const output = run.stdout + run.stderr;

    expect(output).to.match(/1 passing/);
    expect(output, output).to.contain('"after all" hook');
    expect(output, output).to.contain('secrets in the logs of this test run');
    expect(output, output).to.contain('server.log: a test password');
    expect(run.code, output).to.not.equal(0);
  });
});
