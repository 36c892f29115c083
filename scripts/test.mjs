// Runs the whole suite on this machine's Node and again on Node 24 (from the npm registry's `node` package),
// then prints one closing line with the totals.
//
// The load and stress files run in a pass of their own, one file at a time after the rest: they measure a server or
// a lock under hundreds of connections or processes on a 2-core machine, and a neighbouring file's CPU use would
// starve them into failures that say nothing about the code (150 reviews against a 2 s deadline with a 1 s STS).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const vitest = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
const extra = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'eksauth-test-'));
const ALONE = ['test/server/load.test.ts', 'test/e2e/lock-stress.test.ts'];
// With files or filters given, one pass of exactly those; otherwise the suite without ALONE, then ALONE one by one.
const passes =
  extra.length > 0
    ? [{ name: '', args: extra }]
    : [
        { name: '', args: ALONE.flatMap((file) => ['--exclude', file]) },
        { name: ', load and stress alone', args: [...ALONE, '--maxWorkers=1'] },
      ];
const nodes = [
  { label: `node ${process.version}`, command: process.execPath, prefix: [] },
  ...(process.env.EKSAUTH_TEST_NODE24 === '0' ? [] : [{ label: 'node 24', command: 'npx', prefix: ['--yes', '-p', 'node@24', 'node'] }]),
];
const runs = nodes.flatMap((node) =>
  passes.map((pass) => ({ label: `${node.label}${pass.name}`, command: node.command, args: [...node.prefix, vitest, 'run', ...pass.args] })),
);

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
