import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Child processes (kubectl, aws, eksauth) dominate; two cores, so few files at once.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    env: { AWS_EC2_METADATA_DISABLED: 'true' },
  },
});
