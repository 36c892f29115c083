import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `node20: N passed, N failed, N skipped`, that CI reads, and hands the counts and
 * the failed tests' names to scripts/test.mjs (which runs the suite once per Node version, and repeats the names last
 * so that a log cut to its tail still says what failed) through EKSAUTH_TEST_SUMMARY.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    const failures = unhandledErrors.map((err) => `unhandled error: ${firstLine(err)}`);
    for (const module of testModules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) {
        counts.failed += 1;
        failures.push(`${module.relativeModuleId}: ${firstLine(module.errors()[0])}`);
      }
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') counts.passed += 1;
        else if (result.state === 'failed') {
          counts.failed += 1;
          failures.push(`${test.module.relativeModuleId} > ${test.fullName}: ${firstLine(result.errors?.[0])}`);
        } else counts.skipped += 1;
      }
    }
    const label = `node${process.versions.node.split('.')[0]}`;
    process.stdout.write(`\n${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    if (process.env.EKSAUTH_TEST_SUMMARY) writeFileSync(process.env.EKSAUTH_TEST_SUMMARY, JSON.stringify({ ...counts, failures }));
  }
}

function firstLine(err: unknown): string {
  const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  return message.split('\n')[0]?.slice(0, 300) ?? '';
}
