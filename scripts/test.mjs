// Runs the whole suite on this machine's Node and again on Node 24 (from the npm registry's `node` package),
// then prints one closing line with the totals.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const vitest = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
const extra = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'eksauth-test-'));
const runs = [
  { label: `node ${process.version}`, command: process.execPath, args: [vitest, 'run', ...extra] },
  ...(process.env.EKSAUTH_TEST_NODE24 === '0'
    ? []
    : [{ label: 'node 24', command: 'npx', args: ['--yes', '-p', 'node@24', 'node', vitest, 'run', ...extra] }]),
];

const total = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
for (const [index, run] of runs.entries()) {
  const summary = join(work, `summary-${index}.json`);
  process.stdout.write(`\n=== tests on ${run.label} ===\n`);
  const result = spawnSync(run.command, run.args, { stdio: 'inherit', env: { ...process.env, EKSAUTH_TEST_SUMMARY: summary } });
  let counts;
  try {
    counts = JSON.parse(readFileSync(summary, 'utf8'));
  } catch {
    process.stdout.write(`the run on ${run.label} ended without a summary (exit ${result.status ?? result.signal})\n`);
    counts = { passed: 0, failed: 1, skipped: 0 };
  }
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  for (const key of Object.keys(total)) total[key] += counts[key];
  for (const failure of counts.failures ?? []) failures.push(`${run.label}: ${failure}`);
}
rmSync(work, { recursive: true, force: true });
if (failures.length > 0) process.stdout.write(`\nfailed:\n${failures.map((line) => `  ${line}`).join('\n')}\n`);
process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exitCode = total.failed === 0 ? 0 : 1;
