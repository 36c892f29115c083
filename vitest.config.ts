import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes every temp dir a test file made (test/support/tools.ts tempDir), after the file's own hooks.
    setupFiles: ['./test/support/cleanup.ts'],
    // Sized for a busy 2-core machine (another suite running beside this one): a test that runs a few aws CLI or
    // kubectl processes takes ~5 s idle and 4-5 times that under load. Waits are on events or polled conditions.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    expect: { poll: { timeout: 30_000 } },
    // Child processes (kubectl, aws, eksauth) dominate; two cores, so few files at once.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    env: { AWS_EC2_METADATA_DISABLED: 'true' },
  },
});
