/**
 * The single-file binary (`npm run build:binary`) against the Node build, command by command: each run against the
 * same emulator must give the same answer. kubectl and the token cache are tested on both builds in
 * kubectl-token.test.ts and token-cache.test.ts; here are the other commands, the CA bundles, and the demo, which
 * runs the emulator, the webhook server, kubectl and the test API server from the binary itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { createSelfSignedCertificate } from '../../src/server/tls.js';
import { eksauthBuilds, parseExecCredential, runEksauth, type EksauthBuild } from '../support/eksauth.js';
import { hasCommand, tempDir, type CommandResult } from '../support/tools.js';

const BUILDS = eksauthBuilds('test/e2e/binary.test.ts');
const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/eks-admin';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const keys = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey };

function expectSuccess(result: CommandResult): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
}

describe.each(BUILDS)('$name build: the commands beside token', (build: EksauthBuild) => {
  let emulator: Emulator;
  let dir: string;
  let mapping: string;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    dir = tempDir('eksauth-binary-');
    mapping = join(dir, 'mapping.yaml');
    writeFileSync(mapping, `mapUsers:\n  - userarn: ${ALICE?.arn}\n    username: alice\n    groups: [developers]\n`);
  });
  afterAll(async () => emulator?.close());
  const env = () => ({ ...keys, AWS_ENDPOINT_URL_STS: emulator.url, AWS_ENDPOINT_URL_EKS: emulator.url, EKSAUTH_NO_CACHE: '1' });

  it('--version prints the package version', async () => {
    const result = await runEksauth(['--version'], {}, build);
    expectSuccess(result);
    expect(result.stdout.trim()).toBe(VERSION);
  });

  // Bun's compiled programs load .env and bunfig.toml from the working directory unless built not to.
  it('takes no AWS keys from a .env in the working directory', async () => {
    const cwd = tempDir('eksauth-dotenv-');
    writeFileSync(join(cwd, '.env'), `AWS_ACCESS_KEY_ID=${ALICE?.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${ALICE?.secretAccessKey}\n`);
    writeFileSync(join(cwd, 'bunfig.toml'), '[define]\n');
    const result = await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1', '--no-cache'], { cwd, env: { HOME: cwd } }, build);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^eksauth: no AWS credentials found; .*\(ERR_NO_CREDENTIALS\)\n$/);
  });

  it('update-kubeconfig writes the same file as the Node build', async () => {
    const written = (name: string) => join(dir, `kubeconfig-${build.name}-${name}`);
    for (const [by, file] of [[build, written('this')], [BUILDS[0], written('node')]] as const) {
      expectSuccess(await runEksauth(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', file], { env: env() }, by));
    }
    const kubeconfig = readFileSync(written('this'), 'utf8');
    expect(kubeconfig).toContain('arn:aws:eks:eu-west-1:111122223333:cluster/prod');
    expect(kubeconfig).toBe(readFileSync(written('node'), 'utf8'));
  });

  it('verify maps a token it signed', async () => {
    const signed = parseExecCredential(await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1'], { env: env() }, build));
    const result = await runEksauth(['verify', '-t', '-', '-i', 'prod', '--sts-endpoint', emulator.url, '--mapping', mapping], { input: signed.status.token }, build);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('alice');
    expect(result.stdout).not.toContain(signed.status.token);
  });

  it.skipIf(!hasCommand('kubectl'))('demo runs the emulator, the webhook server and kubectl, from this build', { timeout: 120_000 }, async () => {
    const result = await runEksauth(['demo'], { timeoutMs: 110_000 }, build);
    expectSuccess(result);
    expect(result.stdout).toContain('alice-renamed');
  });
});

describe.each(BUILDS)('$name build: CA bundles for AWS calls over TLS', (build: EksauthBuild) => {
  let emulator: Emulator;
  let caFile: string;
  beforeAll(async () => {
    const serving = await createSelfSignedCertificate({ commonName: 'eksauth-test-aws', ipAddresses: ['127.0.0.1'] });
    caFile = join(tempDir('eksauth-binary-ca-'), 'ca.pem');
    writeFileSync(caFile, serving.certPem);
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG, { tls: { cert: serving.certPem, key: serving.keyPem } });
  });
  afterAll(async () => emulator?.close());
  const assumeRole = (extra: Record<string, string>) =>
    runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1', '--role-arn', ADMIN_ROLE], {
      env: { ...keys, AWS_ENDPOINT_URL_STS: emulator.url, EKSAUTH_NO_CACHE: '1', ...extra },
    }, build);

  it.each([['AWS_CA_BUNDLE'], ['NODE_EXTRA_CA_CERTS']])('trusts the CA in %s', async (variable) => {
    const result = await assumeRole({ [variable]: caFile });
    expectSuccess(result);
    expect(parseExecCredential(result).status.token).toMatch(/^k8s-aws-v1\./);
  });

  it('without it, fails with one ERR_TLS line and nothing on stdout', async () => {
    const result = await assumeRole({});
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^eksauth: STS AssumeRole of .* TLS certificate was not accepted .*\(ERR_TLS\)\n$/);
  });
});
