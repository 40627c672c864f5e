// A short-lived node process (a CLI, a nested mocha) run to its end, for
// tests that judge its exit code and output.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface NodeRun {
  /** The exit code; -1 when it was killed (the timeout) or did not start. */
  code: number;
  stdout: string;
  stderr: string;
}

/** `node <args>` with `env`; resolves when it exits, whatever the code. */
export function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<NodeRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A temporary directory made before the suite's tests and removed after them: `dir.path` inside a test. */
export function useTempDir(prefix: string): { readonly path: string } {
  let made: string | undefined;
  before(() => {
    made = mkdtempSync(path.join(tmpdir(), prefix));
  });
  after(() => {
    if (made) rmSync(made, { recursive: true, force: true });
  });
  return {
    get path() {
      if (!made) throw new Error('useTempDir: the directory exists only while the suite runs');
      return made;
    },
  };
}
