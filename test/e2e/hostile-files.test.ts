/**
 * Files that are not regular files, at every path eksauth opens in the token cache and beside the kubeconfig: a
 * FIFO (which blocks an open or a read for ever when nobody writes to it) and a symlink to /dev/zero (which never
 * ends). Each command must finish promptly with the right outcome (a token for the cache's paths, which are only
 * an optimisation; one clear line for the kubeconfig's), and its peak resident set must stay small.
 *
 * Also the empty token-cache lock left by a crash between create and write: judged within about a second, not by
 * the two minutes a lock of a live holder is given.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { runEksauthBounded, type BoundedResult } from '../support/bounded-run.js';
import { tempDir } from '../support/tools.js';

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const KEYS = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey, AWS_REGION: 'eu-west-1' };
/** Well above what a run needs (Node itself is ~45 MiB), far below what reading /dev/zero takes. */
const PEAK_MIB = 150;
/** A bound, not a benchmark: a hang or a two-minute wait is what must not happen (a run takes ~1 s idle, 15 s busy). */
const PROMPT_MS = 30_000;

const HOSTILE: Record<string, (path: string) => void> = {
  'a FIFO': (path) => execFileSync('mkfifo', [path]),
  'a symlink to /dev/zero': (path) => symlinkSync('/dev/zero', path),
};

function expectPrompt(result: BoundedResult): void {
  console.log(`${expect.getState().currentTestName}: exit ${result.code ?? result.signal}, ${result.ms} ms, peak ${Math.round(result.peakMiB)} MiB`);
  expect(result.killedFor, `killed for ${result.killedFor} after ${result.ms} ms, peak ${Math.round(result.peakMiB)} MiB`).toBeUndefined();
  expect(result.ms).toBeLessThan(PROMPT_MS);
  expect(result.peakMiB).toBeLessThan(PEAK_MIB);
}

function expectToken(result: BoundedResult): void {
  expectPrompt(result);
  expect(result.code, result.stderr).toBe(0);
  expect((JSON.parse(result.stdout) as { status: { token: string } }).status.token).toMatch(/^k8s-aws-v1\./);
}

const token = (env: Record<string, string | undefined>) => runEksauthBounded(['token', '--cluster-name', 'prod'], { env });

/** A cache directory after one signing: the token entry, and the signing file's code cache written at exit. */
async function primedCache(): Promise<{ env: Record<string, string | undefined>; entry: string; lock: string; code: string }> {
  const dir = tempDir('eksauth-hostile-');
  const env = { ...KEYS, KUBECACHEDIR: join(dir, 'kube'), AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') };
  const first = await token(env);
  expect(first.code, first.stderr).toBe(0);
  const cacheDir = join(dir, 'kube', 'eksauth');
  const names = readdirSync(cacheDir);
  const entry = names.find((name) => /^token-[0-9a-f]{16}\.json$/.test(name));
  const code = names.find((name) => /^code-[0-9a-f]{16}\.v8$/.test(name));
  if (entry === undefined || code === undefined) throw new Error(`expected a token entry and a code cache in ${names.join(', ')}`);
  return { env, entry: join(cacheDir, entry), lock: join(cacheDir, entry.replace(/\.json$/, '.lock')), code: join(cacheDir, code) };
}

describe('eksauth token with something other than a regular file in the cache', () => {
  for (const [kind, make] of Object.entries(HOSTILE)) {
    it(`${kind} at the token entry: a miss, signed and printed promptly`, async () => {
      const cache = await primedCache();
      rmSync(cache.entry);
      make(cache.entry);
      expectToken(await token(cache.env));
    });

    it(`${kind} at the token lock: signed and printed promptly`, async () => {
      const cache = await primedCache();
      rmSync(cache.entry); // a miss, so that the lock is taken
      make(cache.lock);
      expectToken(await token(cache.env));
      expect(readdirSync(join(cache.lock, '..')).filter((name) => name.includes('.lock'))).toEqual([]);
    });

    it(`${kind} at the code cache file: signed and printed promptly`, async () => {
      const cache = await primedCache();
      rmSync(cache.entry); // a miss, so that the signing file and its code cache are loaded
      rmSync(cache.code);
      make(cache.code);
      expectToken(await token(cache.env));
    });

    it(`${kind} as the AWS config file: signed as if there were none, promptly`, async () => {
      const dir = tempDir('eksauth-hostile-');
      make(join(dir, 'config'));
      expectToken(await token({ ...KEYS, KUBECACHEDIR: join(dir, 'kube'), AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') }));
    });
  }

  it('an empty token lock (a crash between create and write) is judged within seconds, not after two minutes', async () => {
    const cache = await primedCache();
    rmSync(cache.entry);
    writeFileSync(cache.lock, '', { mode: 0o600 });
    expectToken(await token(cache.env));
  });
});

describe('update-kubeconfig with something other than a regular file at or beside the kubeconfig', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n';
  const update = (file: string) =>
    runEksauthBounded(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', file], {
      env: { ...KEYS, AWS_ENDPOINT_URL_EKS: emulator.url },
    });

  const CASES: [string, string, (file: string) => void, (file: string) => string][] = [
    ['a FIFO at <file>.lock', 'ERR_KUBECONFIG_LOCKED', (file) => HOSTILE['a FIFO']!(`${file}.lock`), (file) => `the kubeconfig lock ${file}.lock is a FIFO, not a lock file; remove it and retry (nothing was changed)`],
    ['a symlink to /dev/zero at <file>.lock', 'ERR_KUBECONFIG_LOCKED', (file) => HOSTILE['a symlink to /dev/zero']!(`${file}.lock`), (file) => `the kubeconfig lock ${file}.lock is a symlink, not a lock file; remove it and retry (nothing was changed)`],
    ['a FIFO as the kubeconfig', 'ERR_KUBECONFIG_INACCESSIBLE', (file) => HOSTILE['a FIFO']!(file), (file) => `kubeconfig ${file} is a FIFO, not a file; fix it, or pass --kubeconfig with another file (nothing was changed)`],
    ['a symlink to /dev/zero as the kubeconfig', 'ERR_KUBECONFIG_INACCESSIBLE', (file) => HOSTILE['a symlink to /dev/zero']!(file), (file) => `kubeconfig ${file} is a character device, not a file; fix it, or pass --kubeconfig with another file (nothing was changed)`],
  ];
  for (const [what, code, make, message] of CASES) {
    it(`${what}: one line, ${code}, promptly; nothing written`, async () => {
      const dir = tempDir('eksauth-hostile-kc-');
      const file = join(dir, 'config');
      if (what.endsWith('.lock')) writeFileSync(file, KUBECONFIG, { mode: 0o600 });
      make(file);
      const before = readdirSync(dir).sort();
      const result = await update(file);
      expectPrompt(result);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`eksauth: ${message(file)} (${code})\n`);
      expect(readdirSync(dir).sort()).toEqual(before);
      if (what.endsWith('.lock')) expect(readFileSync(file, 'utf8')).toBe(KUBECONFIG);
    });
  }
});
