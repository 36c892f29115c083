/**
 * The token cache, run as kubectl runs it: the built CLI, a fresh KUBECACHEDIR per test, the STS emulator for role
 * and MFA flows, and the signing probe (EKSAUTH_SIGNING_PROBE, one line per signature) to count signings from outside.
 */
import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCallerIdentity } from '../../src/authn/get-caller-identity.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorAuthenticator, startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { EKSAUTH_CLI, eksauthBuilds, parseExecCredential, runEksauth, tokenUrl, type EksauthBuild } from '../support/eksauth.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import type { CommandResult } from '../support/tools.js';
import { hasCommand, runCommand, tempDir } from '../support/tools.js';

const [ALICE, BOB] = DEMO_EMULATOR_CONFIG.identities;
const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/eks-admin';
const IS_ROOT = process.getuid?.() === 0;
const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/token-cache.test.ts: kubectl is not on PATH; the kubectl case is skipped.');
const V1 = 'client.authentication.k8s.io/v1';
const execInfo = (interactive: boolean) => JSON.stringify({ kind: 'ExecCredential', apiVersion: V1, spec: { interactive } });
const keysOf = (who: typeof ALICE) => ({ AWS_ACCESS_KEY_ID: who?.accessKeyId, AWS_SECRET_ACCESS_KEY: who?.secretAccessKey });

/** A private cache directory, a signing probe and, unless given, AWS files that do not exist (nothing to parse). */
function sandbox(): { env: Record<string, string>; cacheDir: string; signings: () => number; tokenEntry: () => string } {
  const dir = tempDir('eksauth-cache-e2e-');
  const cacheDir = join(dir, 'kube', 'eksauth');
  const probe = join(dir, 'signings');
  return {
    env: {
      KUBECACHEDIR: join(dir, 'kube'),
      EKSAUTH_SIGNING_PROBE: probe,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_REGION: 'eu-west-1',
    },
    cacheDir,
    signings: () => (existsSync(probe) ? readFileSync(probe, 'utf8').trim().split('\n').length : 0),
    tokenEntry: () => {
      const names = readdirSync(cacheDir).filter((name) => name.startsWith('token-') && name.endsWith('.json'));
      if (names.length !== 1) throw new Error(`expected one token entry, found ${names.join(', ')}`);
      return join(cacheDir, names[0] ?? '');
    },
  };
}

function credentialOf(result: CommandResult): { accessKeyId: string; token: string; expires: string } {
  const { status } = parseExecCredential(result);
  expect(result.stderr).toBe('');
  const credential = tokenUrl(status.token).searchParams.get('X-Amz-Credential') ?? '';
  return { accessKeyId: credential.split('/')[0] ?? '', token: status.token, expires: status.expirationTimestamp };
}

/** `eksauth token` with a preload that lists the Node modules it loaded beyond Node's own start-up. */
async function tokenRecordingModules(env: Record<string, string | undefined>): Promise<{ token: string; modules: string[] }> {
  const dir = tempDir('eksauth-modules-');
  const preload = join(dir, 'record.cjs');
  const list = join(dir, 'modules');
  writeFileSync(
    preload,
    `const atStart = new Set(process.moduleLoadList);\n` +
      `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.filter((m) => !atStart.has(m)).join('\\n')));\n`,
  );
  const result = await runCommand(process.execPath, ['--require', preload, EKSAUTH_CLI, 'token', '--cluster-name', 'prod'], { env });
  return { token: credentialOf(result).token, modules: readFileSync(list, 'utf8').split('\n').filter(Boolean) };
}

const BUILDS = eksauthBuilds('test/e2e/token-cache.test.ts');
/** `eksauth token --cluster-name prod ARGS` run by `build`. */
const tokenBy = (build: EksauthBuild) => (env: Record<string, string | undefined>, args: string[] = [], input?: string) =>
  runEksauth(['token', '--cluster-name', 'prod', ...args], { env, ...(input === undefined ? {} : { input }) }, build);

// Shared AWS files become cacheable two seconds after their last change (see src/cache/key.ts); write them once.
const files = tempDir('eksauth-cache-files-');
const FILES = { config: join(files, 'config'), credentials: join(files, 'credentials') };
beforeAll(async () => {
  writeFileSync(
    FILES.config,
    `[profile dev]\nregion = eu-west-1\n[profile ops]\nregion = eu-west-1\n` +
      `[profile mfa]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = alice\nmfa_serial = arn:aws:iam::111122223333:mfa/alice\nregion = eu-west-1\n`,
  );
  writeFileSync(
    FILES.credentials,
    `[dev]\naws_access_key_id = ${ALICE?.accessKeyId}\naws_secret_access_key = ${ALICE?.secretAccessKey}\n` +
      `[ops]\naws_access_key_id = ${BOB?.accessKeyId}\naws_secret_access_key = ${BOB?.secretAccessKey}\n` +
      `[alice]\naws_access_key_id = ${ALICE?.accessKeyId}\naws_secret_access_key = ${ALICE?.secretAccessKey}\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, 2_100));
});

describe.each(BUILDS)('$name build', (build) => {
  const token = tokenBy(build);

  describe('eksauth token cache hits', () => {
    it('serves the second call from the cache (one signing), silently, from a 0700 directory of 0600 files', async () => {
      const box = sandbox();
      const first = credentialOf(await token({ ...box.env, ...keysOf(ALICE) }));
      const second = credentialOf(await token({ ...box.env, ...keysOf(ALICE), KUBERNETES_EXEC_INFO: execInfo(false) }));
      expect(second).toEqual(first);
      expect(box.signings()).toBe(1);
      expect(statSync(box.cacheDir).mode & 0o777).toBe(0o700);
      expect(statSync(box.tokenEntry()).mode & 0o777).toBe(0o600);
      expect(readFileSync(box.tokenEntry(), 'utf8')).not.toContain(ALICE?.secretAccessKey);
    });
  });

  describe('eksauth token never serves another identity’s token', () => {
    it('when AWS_ACCESS_KEY_ID changes', async () => {
      const box = sandbox();
      const ids = [];
      for (const who of [ALICE, BOB, ALICE, BOB]) ids.push(credentialOf(await token({ ...box.env, ...keysOf(who) })).accessKeyId);
      expect(ids).toEqual([ALICE?.accessKeyId, BOB?.accessKeyId, ALICE?.accessKeyId, BOB?.accessKeyId]);
      expect(box.signings()).toBe(2); // the last two were hits, each for its own identity
    });

    it('when AWS_PROFILE or --profile changes, or a profile is named over exported keys', async () => {
      const box = sandbox();
      const env = { ...box.env, AWS_CONFIG_FILE: FILES.config, AWS_SHARED_CREDENTIALS_FILE: FILES.credentials };
      const idOf = async (extraEnv: Record<string, string | undefined>, args: string[] = []) =>
        credentialOf(await token({ ...env, ...extraEnv }, args)).accessKeyId;
      expect(await idOf({ AWS_PROFILE: 'dev' })).toBe(ALICE?.accessKeyId);
      expect(await idOf({ AWS_PROFILE: 'ops' })).toBe(BOB?.accessKeyId);
      expect(await idOf({ AWS_PROFILE: 'dev' })).toBe(ALICE?.accessKeyId);
      expect(await idOf({ AWS_PROFILE: 'dev' }, ['--profile', 'ops'])).toBe(BOB?.accessKeyId);
      expect(await idOf(keysOf(ALICE))).toBe(ALICE?.accessKeyId);
      expect(await idOf({ ...keysOf(ALICE), AWS_PROFILE: 'ops' })).toBe(BOB?.accessKeyId);
      expect(box.signings()).toBe(5); // the second `dev` was the only hit
    });

    it('when the profile’s keys are edited in the credentials file', async () => {
      const box = sandbox();
      const dir = tempDir('eksauth-cache-edit-');
      const credentials = join(dir, 'credentials');
      const env = { ...box.env, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_PROFILE: 'dev' };
      writeFileSync(credentials, `[dev]\naws_access_key_id = ${ALICE?.accessKeyId}\naws_secret_access_key = s\n`);
      expect(credentialOf(await token(env)).accessKeyId).toBe(ALICE?.accessKeyId);
      writeFileSync(credentials, `[dev]\naws_access_key_id = ${BOB?.accessKeyId}\naws_secret_access_key = s\n`);
      expect(credentialOf(await token(env)).accessKeyId).toBe(BOB?.accessKeyId);
    });
  });

  describe('eksauth token refreshes entries that are too old to serve', () => {
    function rewriteExpiry(path: string, expiresAt: number): void {
      const entry = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      writeFileSync(path, JSON.stringify({ ...entry, expiresAt }), { mode: 0o600 });
    }

    it('serves an entry with more than the 60 s margin left, and refreshes a near-expiry or expired one', async () => {
      const box = sandbox();
      const env = { ...box.env, ...keysOf(ALICE) };
      await token(env);
      const in90s = Math.floor(Date.now() / 1000) * 1000 + 90_000;
      rewriteExpiry(box.tokenEntry(), in90s);
      expect(credentialOf(await token(env)).expires).toBe(new Date(in90s).toISOString().replace('.000Z', 'Z'));
      expect(box.signings()).toBe(1);

      rewriteExpiry(box.tokenEntry(), Date.now() + 30_000);
      const refreshed = credentialOf(await token(env));
      expect(box.signings()).toBe(2);
      expect(Date.parse(refreshed.expires) - Date.now()).toBeGreaterThan(13 * 60_000);

      rewriteExpiry(box.tokenEntry(), Date.now() - 1_000);
      await token(env);
      expect(box.signings()).toBe(3);
    });

    it('caps the expiry at the credentials’ own, and never serves a token past it', async () => {
      const box = sandbox();
      const session = { ...keysOf(ALICE), AWS_SESSION_TOKEN: 'session-token-value' };
      const soon = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * 60_000);
      const env = { ...box.env, ...session, AWS_CREDENTIAL_EXPIRATION: soon.toISOString() };
      const first = credentialOf(await token(env));
      expect(first.expires).toBe(soon.toISOString().replace('.000Z', 'Z'));
      expect(credentialOf(await token(env)).expires).toBe(first.expires);
      expect(box.signings()).toBe(1);

      // Credentials with less than the margin left: every call signs again, and no token outlives them.
      const almost = new Date(Math.floor(Date.now() / 1000) * 1000 + 50_000);
      const expiring = { ...env, AWS_CREDENTIAL_EXPIRATION: almost.toISOString() };
      for (let i = 0; i < 2; i++) expect(credentialOf(await token(expiring)).expires).toBe(almost.toISOString().replace('.000Z', 'Z'));
      expect(box.signings()).toBe(3);
    });
  });

  describe('eksauth token with a role, through the STS emulator', () => {
    let emulator: Emulator;
    beforeAll(async () => {
      emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    });
    afterAll(async () => emulator?.close());

    it('signs once for 20 parallel runs; the others wait on the lock and serve its token', async () => {
      const box = sandbox();
      emulator.resetStats();
      emulator.setFault({ latencyMs: 300 }); // a slow AssumeRole keeps the lock held while all 20 start
      const env = { ...box.env, ...keysOf(ALICE), AWS_ENDPOINT_URL_STS: emulator.url };
      const results = await Promise.all(Array.from({ length: 20 }, () => token(env, ['--role-arn', ADMIN_ROLE])));
      emulator.setFault(undefined);
      const tokens = new Set(results.map((result) => credentialOf(result).token));
      expect(tokens.size).toBe(1);
      expect(box.signings()).toBe(1);
      expect(emulator.stats().byAction.AssumeRole).toBe(1);
      const identity = await getCallerIdentity(tokenUrl([...tokens][0] ?? ''), { clusterId: 'prod', stsEndpoint: emulator.url });
      expect(identity.arn).toBe('arn:aws:sts::111122223333:assumed-role/eks-admin/EKSGetTokenAuth');
    });

    // Node's module list; the binary has no Node modules to load.
    it.skipIf(build.name !== 'node')('loads on a miss node:vm but not node:crypto, streams or fs/promises, config file or not; on a hit nothing', async () => {
      const box = sandbox();
      for (const env of [{ ...box.env, ...keysOf(ALICE) }, { ...box.env, ...keysOf(BOB), AWS_CONFIG_FILE: FILES.config }]) {
        const miss = await tokenRecordingModules(env);
        expect(miss.modules).toContain('NativeModule vm');
        expect(miss.modules.filter((name) => /crypto|stream|promises|readline/.test(name))).toEqual([]);
        const identity = await getCallerIdentity(tokenUrl(miss.token), { clusterId: 'prod', stsEndpoint: emulator.url });
        expect(identity.arn).toBe(env.AWS_ACCESS_KEY_ID === ALICE?.accessKeyId ? ALICE?.arn : BOB?.arn);
        const hit = await tokenRecordingModules(env);
        expect(hit.token).toBe(miss.token);
        expect(hit.modules).toEqual([]);
      }
    });

    it.skipIf(!HAS_KUBECTL)('serves kubectl from the cache: five kubectl calls, one signing, each authenticated', async () => {
      const box = sandbox();
      const server: TestApiServer = await startTestApiServer({ authenticate: emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: emulator.url }) });
      try {
        const kubeconfig = await writeKubeconfig({
          server: server.url,
          caPem: server.caPem,
          user: { exec: { apiVersion: V1, command: build.command, args: ['token', '--cluster-name', 'prod'], interactiveMode: 'Never' } },
        });
        for (let i = 0; i < 5; i++) {
          const result = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/api'], { env: { ...box.env, ...keysOf(ALICE) } });
          expect(result.code, result.stderr).toBe(0);
          expect(result.stderr).toBe('');
        }
        expect(box.signings()).toBe(1);
        const requests = server.requests();
        expect(requests.length).toBeGreaterThanOrEqual(5);
        expect(requests.every((request) => request.username === ALICE?.arn)).toBe(true);
      } finally {
        await server.close();
      }
    });

    it('reuses the role credentials for another cluster instead of assuming the role again', async () => {
      const box = sandbox();
      emulator.resetStats();
      const env = { ...box.env, ...keysOf(ALICE), AWS_ENDPOINT_URL_STS: emulator.url };
      for (const cluster of ['prod', 'staging']) {
        const result = await runEksauth(['token', '--cluster-name', cluster, '--role-arn', ADMIN_ROLE], { env }, build);
        const identity = await getCallerIdentity(tokenUrl(credentialOf(result).token), { clusterId: cluster, stsEndpoint: emulator.url });
        expect(identity.arn).toContain('assumed-role/eks-admin/');
      }
      expect(box.signings()).toBe(2);
      expect(emulator.stats().byAction.AssumeRole).toBe(1);
      const names = readdirSync(box.cacheDir).sort();
      expect(names.filter((name) => name.endsWith('.json')).map((name) => name.split('-')[0])).toEqual(['role', 'token', 'token']);
      for (const name of names) expect(statSync(join(box.cacheDir, name)).mode & 0o777).toBe(0o600);
    });

    it('prompts for MFA on stderr only when interactive, once; later runs, interactive or not, reuse the session', async () => {
      const box = sandbox();
      emulator.resetStats();
      const env = { ...box.env, AWS_CONFIG_FILE: FILES.config, AWS_SHARED_CREDENTIALS_FILE: FILES.credentials, AWS_ENDPOINT_URL_STS: emulator.url };
      const refused = await runEksauth(['token', '--cluster-name', 'prod', '--profile', 'mfa'], { env: { ...env, KUBERNETES_EXEC_INFO: execInfo(false) } }, build);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/needs an MFA code .*interactiveMode/);

      const prompted = await runEksauth(['token', '--cluster-name', 'prod', '--profile', 'mfa'], { env: { ...env, KUBERNETES_EXEC_INFO: execInfo(true) }, input: '123456\n' }, build);
      expect(prompted.code, prompted.stderr).toBe(0);
      expect(prompted.stderr).toContain('MFA code for arn:aws:iam::111122223333:mfa/alice');
      expect(JSON.parse(prompted.stdout)).toMatchObject({ kind: 'ExecCredential', apiVersion: V1 }); // stdout is the credential only

      const quiet = await runEksauth(['token', '--cluster-name', 'staging', '--profile', 'mfa'], { env: { ...env, KUBERNETES_EXEC_INFO: execInfo(false) } }, build);
      const identity = await getCallerIdentity(tokenUrl(credentialOf(quiet).token), { clusterId: 'staging', stsEndpoint: emulator.url });
      expect(identity.arn).toContain('assumed-role/eks-admin/');
      expect(emulator.stats().byAction.AssumeRole).toBe(1);
    });
  });

  describe('eksauth token ignores and replaces cache files it cannot trust', () => {
    const FORGED = 'k8s-aws-v1.Zm9yZ2Vk';

    // A well-formed entry for the right key whose token is not one we signed: serving it would be the failure.
    function forge(path: string): void {
      const entry = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      unlinkSync(path);
      writeFileSync(path, JSON.stringify({ ...entry, token: FORGED }), { mode: 0o600 });
    }

    it.each<[string, (path: string) => void, boolean]>([
      ['corrupt', (path) => writeFileSync(path, '{"v":1,"key":"[', { mode: 0o600 }), true],
      ['world-readable', (path) => (forge(path), chmodSync(path, 0o644)), true],
      ['group-readable', (path) => (forge(path), chmodSync(path, 0o640)), true],
      ['a symlink to a forged entry', (path) => {
        forge(path);
        const elsewhere = `${path}.elsewhere`;
        writeFileSync(elsewhere, readFileSync(path), { mode: 0o600 });
        unlinkSync(path);
        symlinkSync(elsewhere, path);
      }, true],
      ['owned by another user', (path) => (forge(path), chownSync(path, 4242, 4242)), IS_ROOT],
    ])('%s', async (_name, spoil, runnable) => {
      if (!runnable) return; // chown needs root
      const box = sandbox();
      const env = { ...box.env, ...keysOf(ALICE) };
      await token(env);
      spoil(box.tokenEntry());
      const served = credentialOf(await token(env));
      expect(served.token).not.toBe(FORGED);
      expect(served.accessKeyId).toBe(ALICE?.accessKeyId);
      expect(box.signings()).toBe(2);
      const replaced = box.tokenEntry();
      expect(statSync(replaced).isFile() && !readdirSync(box.cacheDir).some((name) => name.endsWith('.tmp'))).toBe(true);
      expect(statSync(replaced).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(replaced, 'utf8'))).toMatchObject({ token: served.token });
    });
  });

  describe.skipIf(build.name !== 'node')('eksauth token keeps a V8 code cache of its signing file beside the tokens', () => {
    const codeCaches = (cacheDir: string) => readdirSync(cacheDir).filter((name) => /^code-[0-9a-f]{16}\.v8$/.test(name));
    const missFor = (env: Record<string, string | undefined>, cluster: string) => runEksauth(['token', '--cluster-name', cluster], { env }, build);

    it('writes it (0600) after the first signing and reuses it unchanged on later misses', async () => {
      const box = sandbox();
      const env = { ...box.env, ...keysOf(ALICE) };
      credentialOf(await missFor(env, 'first'));
      const [name] = codeCaches(box.cacheDir);
      expect(name).toBeDefined();
      const path = join(box.cacheDir, name ?? '');
      const written = statSync(path);
      expect(written.mode & 0o777).toBe(0o600);
      expect(written.size).toBeGreaterThan(10_000);
      const second = credentialOf(await missFor(env, 'second'));
      expect(second.accessKeyId).toBe(ALICE?.accessKeyId);
      expect(box.signings()).toBe(2);
      expect(statSync(path).mtimeMs).toBe(written.mtimeMs); // accepted by V8, so not rewritten
      expect(codeCaches(box.cacheDir)).toEqual([name]);
    });

    it.each<[string, (path: string) => void]>([
      ['corrupt', (path) => writeFileSync(path, Buffer.alloc(4096, 7), { mode: 0o600 })],
      ['truncated', (path) => writeFileSync(path, readFileSync(path).subarray(0, 100), { mode: 0o600 })],
      ['world-readable', (path) => chmodSync(path, 0o644)],
      ['a symlink', (path) => {
        const elsewhere = `${path}.elsewhere`;
        writeFileSync(elsewhere, readFileSync(path), { mode: 0o600 });
        unlinkSync(path);
        symlinkSync(elsewhere, path);
      }],
    ])('ignores and replaces one that is %s, and still signs correctly', async (_name, spoil) => {
      const box = sandbox();
      const env = { ...box.env, ...keysOf(ALICE) };
      await missFor(env, 'first');
      const [name] = codeCaches(box.cacheDir);
      const path = join(box.cacheDir, name ?? '');
      spoil(path);
      const served = credentialOf(await missFor(env, 'second'));
      expect(served.accessKeyId).toBe(ALICE?.accessKeyId);
      expect(tokenUrl(served.token).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      const replaced = lstatSync(path);
      expect(replaced.isFile()).toBe(true);
      expect(replaced.mode & 0o777).toBe(0o600);
      expect(replaced.size).toBeGreaterThan(10_000);
      credentialOf(await missFor(env, 'third'));
      expect(lstatSync(path).mtimeMs).toBe(replaced.mtimeMs); // the replacement is accepted
    });

    it('removes code caches of other builds that have not been written for a week, and keeps younger ones', async () => {
      const box = sandbox();
      const env = { ...box.env, ...keysOf(ALICE) };
      await missFor(env, 'first');
      const [current] = codeCaches(box.cacheDir);
      const old = join(box.cacheDir, 'code-0000000000000000.v8');
      const recent = join(box.cacheDir, 'code-1111111111111111.v8');
      writeFileSync(old, 'old', { mode: 0o600 });
      writeFileSync(recent, 'recent', { mode: 0o600 });
      const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3_600_000);
      utimesSync(old, eightDaysAgo, eightDaysAgo);
      unlinkSync(join(box.cacheDir, current ?? '')); // so that this run writes, and tidies
      await missFor(env, 'second');
      expect(codeCaches(box.cacheDir).sort()).toEqual([current, 'code-1111111111111111.v8'].sort());
    });

    it('keeps none with NODE_DISABLE_COMPILE_CACHE (Node’s own switch for its compile cache) or EKSAUTH_NO_CACHE', async () => {
      const box = sandbox();
      credentialOf(await missFor({ ...box.env, ...keysOf(ALICE), NODE_DISABLE_COMPILE_CACHE: '1' }, 'first'));
      expect(codeCaches(box.cacheDir)).toEqual([]);
      credentialOf(await missFor({ ...box.env, ...keysOf(ALICE), EKSAUTH_NO_CACHE: '1' }, 'second'));
      expect(codeCaches(box.cacheDir)).toEqual([]);
    });
  });

  it.skipIf(build.name !== 'binary')('the binary keeps no code cache: its code is compiled into it', async () => {
    const box = sandbox();
    credentialOf(await token({ ...box.env, ...keysOf(ALICE) }));
    expect(readdirSync(box.cacheDir).filter((name) => !name.startsWith('token-'))).toEqual([]);
  });

  describe('eksauth token cache controls', () => {
    it('--no-cache and EKSAUTH_NO_CACHE neither read nor write; --force-refresh signs and stores; --cache is accepted', async () => {
      const box = sandbox();
      const env = { ...box.env, ...keysOf(ALICE) };
      await token(env, ['--no-cache']);
      await token({ ...env, EKSAUTH_NO_CACHE: '1' });
      expect(existsSync(box.cacheDir)).toBe(false);
      expect(box.signings()).toBe(2);
      await token(env, ['--cache']);
      await token(env, ['--force-refresh']);
      expect(box.signings()).toBe(4);
      await token(env, ['--no-cache', '--cache']);
      expect(box.signings()).toBe(5); // --no-cache wins over --cache
      await token(env);
      expect(box.signings()).toBe(5);
    });

    it('eksauth cache clean removes the cache directory', async () => {
      const box = sandbox();
      await token({ ...box.env, ...keysOf(ALICE) });
      const result = await runEksauth(['cache', 'clean'], { env: box.env }, build);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(box.cacheDir);
      expect(existsSync(box.cacheDir)).toBe(false);
      await token({ ...box.env, ...keysOf(ALICE) });
      expect(box.signings()).toBe(2);
    });
  });
});

// A user may have both builds: they read and write the same entries, keyed and locked alike.
describe.skipIf(BUILDS.length < 2)('the Node build and the binary share one cache directory', () => {
  const [node, binary] = BUILDS as [EksauthBuild, EksauthBuild];
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  it('each serves the other’s entry for the same identity, and never another identity’s', async () => {
    const box = sandbox();
    const run = (build: EksauthBuild, who: typeof ALICE) => tokenBy(build)({ ...box.env, ...keysOf(who) });
    const first = credentialOf(await run(node, ALICE));
    expect(credentialOf(await run(binary, ALICE)).token).toBe(first.token);
    expect(credentialOf(await run(binary, BOB)).accessKeyId).toBe(BOB?.accessKeyId);
    expect(credentialOf(await run(node, BOB)).accessKeyId).toBe(BOB?.accessKeyId);
    expect(credentialOf(await run(node, ALICE)).token).toBe(first.token);
    expect(box.signings()).toBe(2);
  });

  it('signs once when 10 runs of each race on one entry; every run serves that token', async () => {
    const box = sandbox();
    emulator.resetStats();
    emulator.setFault({ latencyMs: 300 }); // a slow AssumeRole keeps the lock held while all 20 start
    const env = { ...box.env, ...keysOf(ALICE), AWS_ENDPOINT_URL_STS: emulator.url };
    const runs = Array.from({ length: 20 }, (_, i) => tokenBy(i % 2 === 0 ? node : binary)(env, ['--role-arn', ADMIN_ROLE]));
    const results = await Promise.all(runs);
    emulator.setFault(undefined);
    expect(new Set(results.map((result) => credentialOf(result).token)).size).toBe(1);
    expect(box.signings()).toBe(1);
    expect(emulator.stats().byAction.AssumeRole).toBe(1);
    // Nothing half-written or left locked: the two entries (and the Node build's code cache) only.
    const names = readdirSync(box.cacheDir);
    expect(names.filter((name) => !/^((token|role)-[0-9a-f]{16}\.json|code-[0-9a-f]{16}\.v8)$/.test(name))).toEqual([]);
    for (const name of names.filter((n) => n.endsWith('.json'))) expect(() => JSON.parse(readFileSync(join(box.cacheDir, name), 'utf8'))).not.toThrow();
  });
});
