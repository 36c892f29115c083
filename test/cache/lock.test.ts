/**
 * The per-entry lock: one holder at a time, waiters proceed when it is released, and stale locks (holder gone, or
 * too old) are broken without removing a lock that is live.
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/cache/lock.js';
import { tempDir } from '../support/tools.js';

// A pid that is not running: pids are below 2^22 on Linux.
const DEAD_PID = 4_194_304 + 17;

describe('acquireLock', () => {
  it('lets one holder in at a time; the next gets the lock once it is released', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    const order: string[] = [];
    const first = await acquireLock(path);
    const second = acquireLock(path, { pollMs: 5 }).then((lock) => {
      order.push('second acquired');
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('first releases');
    first?.release();
    (await second)?.release();
    expect(order).toEqual(['first releases', 'second acquired']);
  });

  it('breaks a lock whose holder on this host has exited', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    writeFileSync(path, JSON.stringify({ pid: DEAD_PID, host: hostname(), at: Date.now(), nonce: 'dead' }));
    const lock = await acquireLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    lock?.release();
  });

  it('breaks a lock not touched for longer than staleMs even when its holder is alive (a frozen process)', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'old' }));
    const old = new Date(Date.now() - 10_000);
    utimesSync(path, old, old);
    const lock = await acquireLock(path, { staleMs: 5_000 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(readFileSync(path, 'utf8')).not.toContain('"old"');
    lock?.release();
  });

  it('waits for a live lock on another host until it is stale', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    writeFileSync(path, JSON.stringify({ pid: DEAD_PID, host: 'another-host', at: Date.now(), nonce: 'remote' }));
    const started = Date.now();
    const lock = await acquireLock(path, { staleMs: 200, pollMs: 10 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150); // it did not break the remote lock at once
    lock?.release();
  });

  it('release leaves a lock that is no longer its own (broken as stale and retaken) in place', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    const lock = await acquireLock(path);
    const newer = JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), nonce: 'newer' });
    writeFileSync(path, newer);
    lock?.release();
    expect(readFileSync(path, 'utf8')).toBe(newer);
  });

  it('stops waiting, without the lock, once shouldStop says the holder has stored its result', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    const holder = await acquireLock(path);
    let stored = false;
    setTimeout(() => (stored = true), 30);
    expect(await acquireLock(path, { pollMs: 5, shouldStop: () => stored })).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid }); // still the holder's
    holder?.release();
  });

  it('gives up locking, rather than spin, when a directory stands where the lock file goes', async () => {
    const path = join(tempDir('eksauth-lock-'), 'token-1.lock');
    mkdirSync(path);
    expect(await acquireLock(path)).toBeUndefined();
  });

  it('gives up locking (undefined) when the lock cannot be created', async () => {
    expect(await acquireLock(join(tempDir('eksauth-lock-'), 'missing-dir', 'token-1.lock'))).toBeUndefined();
  });
});
