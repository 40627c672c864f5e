import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

// The layer rules of docs/design.md, held by dependency-cruiser with the
// rules in .dependency-cruiser.cjs, on the real import graph of server/ and db/.

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs dependency-cruiser on `paths` with the project's rules; resolves with the violations found. */
function cruise(paths: string[]): Promise<Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...paths],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      // The CLI exits with the number of errors, so a non-zero code with JSON output is an answer, not a failure.
      (err, stdout, stderr) => {
        try {
          const result = JSON.parse(stdout) as { summary: { violations: Violation[] } };
          resolve(result.summary.violations);
        } catch {
          reject(new Error(`dependency-cruiser failed: ${err?.message ?? ''}\n${stderr}`));
        }
      },
    );
  });
}

const describeViolations = (violations: Violation[]) => violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).join('\n');

describe('import layers (dependency-cruiser)', function () {
  this.timeout(180_000);

  it('when server/ and db/ are cruised, then no layer rule is broken and no folder cycle exists', async () => {
    const violations = await cruise(['server', 'db']);
    expect(violations, describeViolations(violations)).to.deep.equal([]);
  });

  it('when the domain imports Socket.IO or a realtime module, or a store imports the config, then the rules name it', async () => {
    // Probe files that break the rules the way the code once did; removed afterwards.
    const probes = {
      'server/messages/zz-layers-probe.ts': [
        "import type { Namespace } from 'socket.io';",
        "import { roomChannel } from '../realtime/channels.js';",
        'export const probe = (nsp: Namespace) => nsp.to(roomChannel("x"));',
      ],
      'db/stores/zz-layers-probe.ts': ["import { loadConfig } from '../../server/config.js';", 'export const probe = loadConfig;'],
    };
    try {
      for (const [file, lines] of Object.entries(probes)) writeFileSync(path.join(ROOT, file), `${lines.join('\n')}\n`);
      const violations = await cruise(Object.keys(probes));
      const broken = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
      expect(broken).to.include.members([
        'domain-not-on-entry-points: server/messages/zz-layers-probe.ts → server/realtime/channels.ts',
        'db-imports-only-the-protocol: db/stores/zz-layers-probe.ts → server/config.ts',
      ]);
      expect(broken.some((line) => /^domain-without-frameworks: server\/messages\/zz-layers-probe\.ts → node_modules\/socket\.io\//.test(line)), broken.join('\n')).to.equal(
        true,
      );
    } finally {
      for (const file of Object.keys(probes)) rmSync(path.join(ROOT, file), { force: true });
    }
  });
});
