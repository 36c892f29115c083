import { writeSync } from 'node:fs';
import { EksAuthError } from '../errors.js';

/** Prints a failure as one line on stderr and returns the exit code: 2 for usage errors, 1 for the rest. */
export function reportFailure(err: unknown): number {
  if (err instanceof EksAuthError) {
    writeSync(2, `eksauth: ${err.message} (${err.code})\n`);
    return err.code === 'ERR_USAGE' ? 2 : 1;
  }
  writeSync(2, `eksauth: unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}
