import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `node20: N passed, N failed, N skipped`, that CI reads, and hands the counts to
 * scripts/test.mjs (which runs the suite once per Node version) through EKSAUTH_TEST_SUMMARY.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const module of testModules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) counts.failed += 1;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') counts.failed += 1;
        else counts.skipped += 1;
      }
    }
    const label = `node${process.versions.node.split('.')[0]}`;
    process.stdout.write(`\n${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    if (process.env.EKSAUTH_TEST_SUMMARY) writeFileSync(process.env.EKSAUTH_TEST_SUMMARY, JSON.stringify(counts));
  }
}
