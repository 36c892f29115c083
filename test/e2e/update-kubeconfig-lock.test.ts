/**
 * The recipe of issue 12 with the real CLI: a stale `<file>.lock` of a process that is gone, then 20 parallel
 * `eksauth update-kubeconfig` runs into the same file, each adding its own context and user. With a lock that
 * judged "still the stale lock" by inode number, sometimes only 19 contexts were left while all 20 runs exited 0.
 * And with kill -9 among the writers: no run that exited 0 may have lost its entry.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startEksauthBounded } from '../support/bounded-run.js';
import { tempDir } from '../support/tools.js';

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const WRITERS = 20;
const STALE_LOCK = JSON.stringify({ pid: 999999, host: hostname(), nonce: 'd' });

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
});
afterAll(async () => emulator?.close());

/** A kubeconfig path beside a stale lock. */
function kubeconfigWithStaleLock(): string {
  const file = join(tempDir('eksauth-kc-lock-'), 'config');
  writeFileSync(`${file}.lock`, STALE_LOCK);
  return file;
}

const startWriter = (file: string, n: number) =>
  startEksauthBounded(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', file, '--alias', `c${n}`, '--user-alias', `u${n}`], {
    env: { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey, AWS_ENDPOINT_URL_EKS: emulator.url },
    // 20 Node processes loading the SDK at once: ~20 s of CPU, minutes when the machine's other core is busy too.
    timeoutMs: 240_000,
  });

function namesIn(file: string): { contexts: string[]; users: string[] } {
  const doc = parse(readFileSync(file, 'utf8')) as { contexts: { name: string }[]; users: { name: string }[] };
  return { contexts: doc.contexts.map((c) => c.name).sort(), users: doc.users.map((u) => u.name).sort() };
}

const all = (prefix: string, n: number[]) => n.map((i) => `${prefix}${i}`).sort();

describe('20 parallel update-kubeconfig runs into one file that has a stale lock', () => {
  it('keep all 20 contexts and users, twice over', { timeout: 500_000 }, async () => {
    for (let round = 0; round < 2; round += 1) {
      const file = kubeconfigWithStaleLock();
      const results = await Promise.all(Array.from({ length: WRITERS }, (_, n) => startWriter(file, n).result));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      const everyone = Array.from({ length: WRITERS }, (_, n) => n);
      expect(namesIn(file)).toEqual({ contexts: all('c', everyone), users: all('u', everyone) });
    }
  });

  it('with 6 of them killed -9 at random moments: every run that exited 0 kept its entry', { timeout: 500_000 }, async () => {
    const file = kubeconfigWithStaleLock();
    const writers = Array.from({ length: WRITERS }, (_, n) => startWriter(file, n));
    const victims = [...writers.keys()].sort(() => Math.random() - 0.5).slice(0, 6);
    for (const n of victims) setTimeout(() => writers[n]?.child.kill('SIGKILL'), 200 + Math.random() * 2_000);
    const results = await Promise.all(writers.map((writer) => writer.result));
    const succeeded = [...results.keys()].filter((n) => results[n]?.code === 0);
    for (const [n, result] of results.entries()) if (!victims.includes(n)) expect(result.code, result.stderr).toBe(0);
    const { contexts, users } = namesIn(file);
    expect(contexts).toEqual(expect.arrayContaining(all('c', succeeded)));
    expect(users).toEqual(expect.arrayContaining(all('u', succeeded)));
    // A lock left by a writer killed while holding it is broken by the next run at once.
    const after = await startWriter(file, WRITERS).result;
    expect(after.code, after.stderr).toBe(0);
    expect(after.ms).toBeLessThan(10_000);
  });
});
