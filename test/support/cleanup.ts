/**
 * Setup file of every test file (vitest.config.ts): after the file's own hooks have stopped its servers and
 * children, removes every temp directory the file made through tools.ts, children's TMPDIR included.
 */
import { afterAll } from 'vitest';
import { removeTempDirs } from './tools.js';

afterAll(() => {
  removeTempDirs();
});
