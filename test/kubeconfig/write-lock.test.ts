/** Atomic writes through symlinks with the file's mode kept, and the `<file>.lock` lock kubectl also honours. */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { applyKubeconfigEntries } from '../../src/kubeconfig/update.js';
import { buildKubeconfigEntries } from '../../src/kubeconfig/entries.js';
import { withFileLock } from '../../src/kubeconfig/lock.js';
import { resolveWriteTarget, writeFileAtomic } from '../../src/kubeconfig/write.js';
import { tempDir } from '../support/tools.js';
import { fixture, PROD } from './support.js';

/** A pid that is certainly not running: beyond the kernel's pid_max. */
const DEAD_PID = 4_194_304 + 7;

describe('writeFileAtomic and resolveWriteTarget', () => {
  it('creates a new file 0600 (and its directory 0700)', async () => {
    const path = join(tempDir('eksauth-write-'), 'new', 'config');
    await writeFileAtomic(path, 'apiVersion: v1\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
  });

  it('keeps the mode of an existing file and leaves no temporary file behind', async () => {
    const dir = tempDir('eksauth-write-');
    const path = join(dir, 'config');
    writeFileSync(path, 'old\n', { mode: 0o640 });
    await writeFileAtomic(path, 'new\n');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['config']);
  });

  it('writes through a chain of symlinks to the real file, keeping the links', async () => {
    const dir = tempDir('eksauth-write-');
    mkdirSync(join(dir, 'dotfiles'));
    const real = join(dir, 'dotfiles', 'kubeconfig');
    writeFileSync(real, fixture('valid-existing.yaml'));
    symlinkSync('dotfiles/kubeconfig', join(dir, 'middle'));
    symlinkSync(join(dir, 'middle'), join(dir, 'config'));
    expect(await resolveWriteTarget(join(dir, 'config'))).toBe(real);
    const [file] = await applyKubeconfigEntries([buildKubeconfigEntries(PROD)], { kubeconfig: join(dir, 'config') });
    expect(file).toMatchObject({ path: join(dir, 'config'), written: true });
    expect(lstatSync(join(dir, 'config')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'middle'))).toBe('dotfiles/kubeconfig');
    expect(readFileSync(real, 'utf8')).toBe(fixture('expected-valid-existing+prod.yaml'));
    expect(readdirSync(join(dir, 'dotfiles'))).toEqual(['kubeconfig']);
  });

  it('creates the file a dangling symlink points to', async () => {
    const dir = tempDir('eksauth-write-');
    symlinkSync(join(dir, 'later', 'kubeconfig'), join(dir, 'config'));
    await applyKubeconfigEntries([buildKubeconfigEntries(PROD)], { kubeconfig: join(dir, 'config') });
    expect(readFileSync(join(dir, 'later', 'kubeconfig'), 'utf8')).toContain(PROD.arn);
  });

  it('refuses a symlink loop', async () => {
    const dir = tempDir('eksauth-write-');
    symlinkSync(join(dir, 'b'), join(dir, 'a'));
    symlinkSync(join(dir, 'a'), join(dir, 'b'));
    await expect(resolveWriteTarget(join(dir, 'a'))).rejects.toMatchObject({ code: 'ERR_KUBECONFIG_INACCESSIBLE' });
  });

  it('does not write, or lock, in a dry run', async () => {
    const dir = tempDir('eksauth-write-');
    writeFileSync(join(dir, 'config'), fixture('commented.yaml'));
    const [file] = await applyKubeconfigEntries([buildKubeconfigEntries(PROD)], { kubeconfig: join(dir, 'config'), dryRun: true });
    expect(file?.written).toBe(false);
    expect(file?.text).toBe(fixture('expected-commented+prod.yaml'));
    expect(readFileSync(join(dir, 'config'), 'utf8')).toBe(fixture('commented.yaml'));
    expect(readdirSync(dir)).toEqual(['config']);
  });
});

describe('withFileLock', () => {
  it('runs critical sections one at a time and removes the lock afterwards', async () => {
    const path = join(tempDir('eksauth-lock-'), 'config');
    let inside = 0;
    let overlap = false;
    await Promise.all(Array.from({ length: 8 }, () => withFileLock(path, async () => {
      inside += 1;
      overlap ||= inside > 1;
      await sleep(5);
      inside -= 1;
    })));
    expect(overlap).toBe(false);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('releases the lock when the critical section throws', async () => {
    const path = join(tempDir('eksauth-lock-'), 'config');
    await expect(withFileLock(path, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('breaks the lock of a process that no longer runs', async () => {
    const path = join(tempDir('eksauth-lock-'), 'config');
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: DEAD_PID, host: hostname(), nonce: 'old' }));
    expect(await withFileLock(path, async () => 'ran', { timeoutMs: 1000 })).toBe('ran');
  });

  it('breaks a lock nobody touched for longer than staleMs (e.g. kubectl’s empty lock after a crash)', async () => {
    const path = join(tempDir('eksauth-lock-'), 'config');
    writeFileSync(`${path}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.lock`, old, old);
    expect(await withFileLock(path, async () => 'ran', { timeoutMs: 1000 })).toBe('ran');
  });

  it('gives up on a live lock with ERR_KUBECONFIG_LOCKED naming the holder, leaving the lock alone', async () => {
    const path = join(tempDir('eksauth-lock-'), 'config');
    const held = JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'theirs', since: '2026-01-01T00:00:00Z' });
    writeFileSync(`${path}.lock`, held);
    await expect(withFileLock(path, async () => 'ran', { timeoutMs: 150 })).rejects.toMatchObject({
      code: 'ERR_KUBECONFIG_LOCKED',
      message: expect.stringContaining(`locked by process ${process.pid} on ${hostname()} since 2026-01-01T00:00:00Z`),
    });
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(held);
  });
});
