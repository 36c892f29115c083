/**
 * The lock under stress, in real processes: many Node processes (test/support/lock-worker.mjs) take the same lock
 * over and over through the built library, while the test kills holders and waiters with SIGKILL and starts new
 * ones. It starts from a stale lock of a process that is gone, so the first acquisition already breaks one, and
 * every holder killed leaves another. Each critical section checks a shared marker (two processes inside at once
 * is an overlap) and appends an entry to a shared list by read-modify-write (an entry logged but missing from the
 * list is lost).
 *
 * This is the race of issue 12: a lock judged "still the stale lock" by inode number, while ext4 hands a freed
 * inode to the next file at once, let a waiter delete a newer, live lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tools.js';

const WORKER = fileURLToPath(new URL('../support/lock-worker.mjs', import.meta.url));
/** The two lock modules, bundled for the workers (the published library does not ship these internals). */
let locks = '';
beforeAll(async () => {
  locks = tempDir('eksauth-lock-modules-');
  await build({
    entryPoints: { 'kubeconfig/lock': 'src/kubeconfig/lock.ts', 'cache/lock': 'src/cache/lock.ts' },
    bundle: true, platform: 'node', format: 'esm', outdir: locks, outExtension: { '.js': '.mjs' }, logLevel: 'silent',
  });
});
const STALE_LOCK = JSON.stringify({ pid: 999999, host: hostname(), nonce: 'd' });

interface StressReport {
  acquisitions: number;
  overlaps: string[];
  lost: string[];
  kills: number;
  holdersKilled: number;
  unlocked: number;
  seconds: number;
}

const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid recorded in the lock file, when there is one to read. */
function holderPid(lockPath: string): number | undefined {
  try {
    const pid: unknown = (JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `workers` processes until `acquisitions` critical sections have completed and `holderKills` holders were
 * killed, killing one process every 150 ms or so (the holder every other time, else any) and starting a new one in
 * its place.
 */
async function stress(flavour: 'kubeconfig' | 'cache', workers: number, acquisitions: number, holderKills: number): Promise<StressReport> {
  const dir = tempDir(`eksauth-lock-stress-${flavour}-`);
  writeFileSync(join(dir, 'file.lock'), STALE_LOCK);
  const started = Date.now();
  const running = new Map<number, ChildProcess>();
  const failures: string[] = [];
  let stopping = false;
  const start = (id: number): void => {
    const child = spawn(process.execPath, [WORKER, flavour, dir, String(id), locks], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    running.set(id, child);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') {
        if (!stopping) start(id);
      } else if (code !== 0) failures.push(`worker ${id} exited ${code ?? signal}: ${stderr}`);
    });
  };
  for (let id = 0; id < workers; id += 1) start(id);
  let kills = 0;
  let holdersKilled = 0;
  const done = () => lines(join(dir, 'log')).length >= acquisitions && holdersKilled >= holderKills;
  while (!done() && Date.now() - started < 80_000 && failures.length === 0) {
    await pause(75 + Math.random() * 150);
    const holder = kills % 2 === 0 ? holderPid(join(dir, 'file.lock')) : undefined;
    const victim = [...running.values()].find((child) => child.pid === holder) ?? [...running.values()][Math.floor(Math.random() * workers)];
    if (victim?.kill('SIGKILL')) {
      kills += 1;
      if (victim.pid === holder) holdersKilled += 1;
    }
  }
  stopping = true;
  writeFileSync(join(dir, 'stop'), '');
  await Promise.all([...running.values()].map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.on('exit', resolve)))));
  expect(failures).toEqual([]);
  const list = new Set(lines(join(dir, 'list')));
  const logged = lines(join(dir, 'log'));
  return {
    acquisitions: logged.length,
    overlaps: lines(join(dir, 'overlaps')),
    lost: logged.filter((entry) => !list.has(entry)),
    kills,
    holdersKilled,
    unlocked: lines(join(dir, 'unlocked')).length,
    seconds: (Date.now() - started) / 1000,
  };
}

describe('the lock under kill -9 (real processes, from a stale lock)', () => {
  it('kubeconfig lock: >= 1,000 acquisitions by 12 processes, 30 holders killed: 0 overlaps, 0 lost entries', { timeout: 90_000 }, async () => {
    const report = await stress('kubeconfig', 12, 1_000, 30);
    console.log(`kubeconfig lock stress: ${JSON.stringify({ ...report, overlaps: report.overlaps.length, lost: report.lost.length })}`);
    expect(report.acquisitions).toBeGreaterThanOrEqual(1_000);
    expect(report.holdersKilled).toBeGreaterThanOrEqual(30);
    expect(report.overlaps).toEqual([]);
    expect(report.lost).toEqual([]);
  });

  it('token-cache lock: >= 500 acquisitions by 8 processes, 15 holders killed: 0 overlaps, 0 lost entries', { timeout: 90_000 }, async () => {
    const report = await stress('cache', 8, 500, 15);
    console.log(`token-cache lock stress: ${JSON.stringify({ ...report, overlaps: report.overlaps.length, lost: report.lost.length })}`);
    expect(report.acquisitions).toBeGreaterThanOrEqual(500);
    expect(report.holdersKilled).toBeGreaterThanOrEqual(15);
    expect(report.overlaps).toEqual([]);
    expect(report.lost).toEqual([]);
    expect(report.unlocked).toBe(0);
  });
});
