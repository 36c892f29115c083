/**
 * `eksauth whoami` against the STS emulator: the credential source the SDK records (environment keys, a profile's
 * static keys, a role profile assumed through the emulator), the STS identity and canonical ARN, the STS host a token
 * would use, and the cached token of `eksauth token`, read without writing the cache.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG, type EmulatorIdentity } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { WhoamiReport } from '../../src/diagnose/whoami.js';
import { parseExecCredential, runEksauth } from '../support/eksauth.js';
import { tempDir } from '../support/tools.js';

const [ALICE] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity];
const keys = { AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey };

describe('eksauth whoami against the STS emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  const whoami = async (args: string[], env: Record<string, string | undefined>): Promise<WhoamiReport> => {
    const result = await runEksauth(['whoami', '-o', 'json', ...args], { env: { AWS_ENDPOINT_URL_STS: emulator.url, ...env } });
    if (result.code !== 0) throw new Error(`whoami exited ${result.code}: ${result.stderr}`);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as WhoamiReport;
  };

  it('names environment keys as the source, and STS’s identity, asked at AWS_ENDPOINT_URL_STS', async () => {
    emulator.resetStats();
    const report = await whoami(['--region', 'eu-west-1'], keys);
    expect(report).toEqual({
      credentials: {
        source: { ids: ['CREDENTIALS_ENV_VARS'], description: 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)' },
        accessKeyId: ALICE.accessKeyId,
        temporary: false,
      },
      identity: expect.objectContaining({ arn: ALICE.arn, canonicalArn: ALICE.arn, accountId: '111122223333', userId: ALICE.userId }),
      sts: { hostname: 'sts.eu-west-1.amazonaws.com', signingRegion: 'eu-west-1', partition: 'aws', endpointOverride: emulator.url },
      region: 'eu-west-1',
    });
    expect(emulator.stats().byAction).toEqual({ GetCallerIdentity: 1 });
  });

  it('names the STS host a token would use: the region’s, the FIPS one, or the global one for legacy without a region', async () => {
    expect((await whoami([], { ...keys, AWS_REGION: 'us-east-2', AWS_USE_FIPS_ENDPOINT: 'true' })).sts.hostname).toBe('sts-fips.us-east-2.amazonaws.com');
    const legacy = await whoami([], { ...keys, AWS_STS_REGIONAL_ENDPOINTS: 'legacy' });
    expect(legacy.sts).toMatchObject({ hostname: 'sts.amazonaws.com', signingRegion: 'us-east-1' });
    expect(legacy.region).toBeUndefined();
  });

  it('names a profile’s static keys, and a role profile assumed through STS with its expiry and canonical role ARN', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'credentials'), `[dev]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n`);
    writeFileSync(join(dir, 'config'), '[profile dev]\nregion = eu-west-1\n[profile admin]\nrole_arn = arn:aws:iam::111122223333:role/eks-admin\nsource_profile = dev\nrole_session_name = alice-admin\nregion = eu-west-1\n');
    const files = { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };

    const dev = await whoami(['--profile', 'dev'], files);
    expect(dev.credentials).toEqual({ source: { ids: ['CREDENTIALS_PROFILE'], description: 'shared credentials/config file, static keys' }, profile: 'dev', accessKeyId: ALICE.accessKeyId, temporary: false });

    const admin = await whoami([], { ...files, AWS_PROFILE: 'admin' });
    expect(admin.credentials).toMatchObject({
      source: { ids: ['CREDENTIALS_PROFILE_SOURCE_PROFILE', 'CREDENTIALS_STS_ASSUME_ROLE'] }, profile: 'admin', temporary: true,
      expiration: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(Date.parse(admin.credentials.expiration ?? '')).toBeGreaterThan(Date.now());
    expect(admin.identity).toMatchObject({
      arn: 'arn:aws:sts::111122223333:assumed-role/eks-admin/alice-admin', canonicalArn: 'arn:aws:iam::111122223333:role/eks-admin', sessionName: 'alice-admin',
    });
  });

  it('prints the same in text, with the canonical ARN and the STS host', async () => {
    const result = await runEksauth(['whoami', '--region', 'eu-west-1'], { env: { ...keys, AWS_ENDPOINT_URL_STS: emulator.url } });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('  source          environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
    expect(result.stdout).toContain(`  canonical arn   ${ALICE.arn} (what aws-auth rows and access entries match)`);
    expect(result.stdout).toContain(`  sent to         ${emulator.url} (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL)`);
    expect(result.stdout).not.toContain(ALICE.secretAccessKey);
  });

  it('reports the token `eksauth token` cached for the cluster, and none for another, without writing the cache', async () => {
    // No AWS files: the sandbox's empty ones may be younger than the 2 s after an edit in which the cache stores
    // nothing (src/cache/key.ts), and this test can run that soon after they are made.
    const dir = tempDir();
    const env = { ...keys, KUBECACHEDIR: join(dir, 'cache'), AWS_CONFIG_FILE: join(dir, 'no-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials') };
    mkdirSync(env.KUBECACHEDIR);
    const untouched = await whoami(['--cluster-name', 'prod', '--region', 'eu-west-1'], env);
    expect(untouched.cachedToken).toEqual({ cluster: 'prod', expiration: null });
    expect(readdirSync(env.KUBECACHEDIR)).toEqual([]);

    const credential = parseExecCredential(await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1'], { env: { ...env, AWS_ENDPOINT_URL_STS: emulator.url } }));
    const cacheFiles = readdirSync(join(env.KUBECACHEDIR, 'eksauth')).sort();
    const cached = (await whoami(['--cluster-name', 'prod', '--region', 'eu-west-1'], env)).cachedToken;
    expect(cached).toMatchObject({ cluster: 'prod', expiration: credential.status.expirationTimestamp });
    expect(cached && 'remainingSeconds' in cached ? cached.remainingSeconds : 0).toBeGreaterThan(0);
    expect((await whoami(['--cluster-name', 'staging', '--region', 'eu-west-1'], env)).cachedToken).toEqual({ cluster: 'staging', expiration: null });
    expect(readdirSync(join(env.KUBECACHEDIR, 'eksauth')).sort()).toEqual(cacheFiles);
  });

  it('fails in one stderr line with a code: no credentials, credentials STS refuses, an unknown profile, no SSO login', async () => {
    const none = await runEksauth(['whoami', '--region', 'eu-west-1'], { env: { AWS_ENDPOINT_URL_STS: emulator.url } });
    expect(none).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^eksauth: no AWS credentials found.*\(ERR_NO_CREDENTIALS\)\n$/) });
    const refused = await runEksauth(['whoami', '--region', 'eu-west-1'], { env: { ...keys, AWS_SECRET_ACCESS_KEY: 'wrong', AWS_ENDPOINT_URL_STS: emulator.url } });
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^eksauth: [^\n]+\(ERR_STS_REJECTED\)\n$/) });
    const unknown = await runEksauth(['whoami', '--profile', 'nope', '--region', 'eu-west-1'], { env: { AWS_ENDPOINT_URL_STS: emulator.url } });
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^eksauth: AWS profile "nope" does not exist[^\n]+\(ERR_PROFILE_NOT_FOUND\)\n$/) });
    // An SSO profile with no SSO login cached: the SSO provider refuses before any network call.
    const config = join(tempDir(), 'config');
    writeFileSync(config, '[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = eu-west-1\n');
    const sso = await runEksauth(['whoami', '--profile', 'sso'], { env: { AWS_CONFIG_FILE: config, AWS_ENDPOINT_URL_STS: emulator.url } });
    expect(sso).toMatchObject({ code: 1, stdout: '', stderr: "eksauth: the SSO session for profile sso has expired or is invalid: run `aws sso login --profile sso`, then retry (ERR_SSO_SESSION_EXPIRED)\n" });
  });
});
