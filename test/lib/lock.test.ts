/**
 * The shared lock protocol (src/lib/lock.ts), through the kubeconfig lock: holders whose pid was reused, break
 * tokens of breakers at work or dead, and what is not a lock file.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/kubeconfig/lock.js';
import { tempDir } from '../support/tools.js';

/** A pid that is certainly not running: beyond the kernel's pid_max. */
const DEAD_PID = 4_194_304 + 7;
const IS_LINUX = process.platform === 'linux';

function kubeconfigWithLock(holder: Record<string, unknown>): string {
  const path = join(tempDir('eksauth-lib-lock-'), 'config');
  writeFileSync(`${path}.lock`, JSON.stringify(holder));
  return path;
}

describe('the lock protocol', () => {
  it.skipIf(!IS_LINUX)('breaks at once a lock whose pid now belongs to a process that started at another time (pid reuse)', async () => {
    const path = kubeconfigWithLock({ pid: process.pid, host: hostname(), nonce: 'reused', start: '1' });
    expect(await withFileLock(path, async () => 'ran', { timeoutMs: 500 })).toBe('ran');
  });

  it('leaves a stale lock alone while another breaker holds a fresh break token, and says who holds it', async () => {
    const path = kubeconfigWithLock({ pid: DEAD_PID, host: hostname(), nonce: 'dead' });
    linkSync(`${path}.lock`, `${path}.lock.break-0`); // a breaker at work
    await expect(withFileLock(path, async () => 'ran', { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'ERR_KUBECONFIG_LOCKED',
      message: expect.stringContaining(`locked by process ${DEAD_PID} on ${hostname()}`),
    });
  });

  it('skips a break token abandoned by a breaker that died (older than 3 s), and removes it after the break', async () => {
    const path = kubeconfigWithLock({ pid: DEAD_PID, host: hostname(), nonce: 'dead' });
    linkSync(`${path}.lock`, `${path}.lock.break-0`);
    // The token's age is its ctime, which no call can set back: this wait is the condition itself, not a guess.
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    expect(await withFileLock(path, async () => readdirSync(join(path, '..')).sort(), { timeoutMs: 1_000 })).toEqual(['config.lock']);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('judges kubectl’s lock (empty, mode 0) by its age: waits while it is young, breaks it once old', async () => {
    const path = join(tempDir('eksauth-lib-lock-'), 'config');
    writeFileSync(`${path}.lock`, '', { mode: 0 });
    await expect(withFileLock(path, async () => 'ran', { timeoutMs: 200, staleMs: 5_000 })).rejects.toMatchObject({
      code: 'ERR_KUBECONFIG_LOCKED',
      message: expect.stringContaining('locked by another program (kubectl?)'),
    });
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    expect(await withFileLock(path, async () => 'ran', { timeoutMs: 1_000, staleMs: 5_000 })).toBe('ran');
  });

  it('refuses at once, naming it, a directory where <file>.lock goes', async () => {
    const path = join(tempDir('eksauth-lib-lock-'), 'config');
    mkdirSync(`${path}.lock`);
    await expect(withFileLock(path, async () => 'ran', { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'ERR_KUBECONFIG_LOCKED',
      message: `the kubeconfig lock ${path}.lock is a directory, not a lock file; remove it and retry (nothing was changed)`,
    });
  });
});
