import { writeSync } from 'node:fs';
import { EksAuthError, EXIT_STATUS, exitStatusOf } from '../errors.js';

/** Prints a failure as one line on stderr and returns its exit status (src/errors.ts EXIT_STATUS). */
export function reportFailure(err: unknown): number {
  if (err instanceof EksAuthError) {
    writeSync(2, `eksauth: ${err.message} (${err.code})\n`);
    return exitStatusOf(err.code);
  }
  writeSync(2, `eksauth: unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT_STATUS.failure;
}
