/**
 * `eksauth decode` end to end: tokens from `eksauth token` (on stdin, as an ExecCredential, or as the argument) and
 * from `aws eks get-token`, expired tokens, and malformed ones, each refused in one stderr line with its code. What is
 * printed never includes the signature or the session token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG, type EmulatorIdentity } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { encodeToken } from '../../src/token/format.js';
import { mintToken } from '../server/helpers.js';
import { parseExecCredential, runEksauth, tokenUrl } from '../support/eksauth.js';
import { hasCommand, runCommand } from '../support/tools.js';

const [ALICE] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity];
const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/eks-admin';

describe('eksauth decode', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  const keys = { AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey };

  it('reads the ExecCredential of `eksauth token` from stdin, and shows no signature or session token', async () => {
    // A role session: the token carries a session token, which must stay out of the output.
    const credential = await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-2', '--role-arn', ADMIN_ROLE, '--no-cache'], {
      env: { ...keys, AWS_ENDPOINT_URL_STS: emulator.url },
    });
    const { token } = parseExecCredential(credential).status;
    const url = tokenUrl(token);
    const secrets = [url.searchParams.get('X-Amz-Signature'), url.searchParams.get('X-Amz-Security-Token')];
    expect(secrets.every((secret) => typeof secret === 'string' && secret.length > 10)).toBe(true);

    const text = await runEksauth(['decode', '-'], { input: credential.stdout });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('STS host        sts.eu-west-2.amazonaws.com (partition aws, region eu-west-2)');
    expect(text.stdout).toContain('signed headers  host;x-k8s-aws-id');
    expect(text.stdout).toContain(`access key id   ${url.searchParams.get('X-Amz-Credential')?.split('/')[0]}`);
    expect(text.stdout).toContain('session token   present (not shown)');
    expect(text.stdout).toMatch(/state {11}valid for \d+m\d\ds more/);

    const json = await runEksauth(['decode', '-o', 'json', token]);
    const decoded = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(decoded).toMatchObject({
      host: 'sts.eu-west-2.amazonaws.com', partition: 'aws', region: 'eu-west-2', signedHeaders: ['host', 'x-k8s-aws-id'],
      sessionToken: true, expiresInSeconds: 60, state: 'valid', signedAt: `${url.searchParams.get('X-Amz-Date')?.replace(/(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/, '$1-$2-$3T$4:$5:$6')}.000Z`,
    });
    expect(decoded.remainingSeconds).toBeGreaterThan(0);
    for (const output of [text.stdout, json.stdout]) for (const secret of secrets) expect(output).not.toContain(secret);
  });

  it.skipIf(!hasCommand('aws'))('decodes a token from `aws eks get-token`', async () => {
    const result = await runCommand('aws', ['eks', 'get-token', '--cluster-name', 'prod', '--region', 'ap-southeast-2', '--output', 'json'], { env: keys });
    const { token } = (JSON.parse(result.stdout) as { status: { token: string } }).status;
    const decoded = JSON.parse((await runEksauth(['decode', '-o', 'json', token])).stdout) as Record<string, unknown>;
    expect(decoded).toMatchObject({ host: 'sts.ap-southeast-2.amazonaws.com', region: 'ap-southeast-2', accessKeyId: ALICE.accessKeyId, sessionToken: false, state: 'valid' });
  });

  it('decodes an expired token and says it expired, with exit 0', async () => {
    const token = await mintToken(ALICE, 'prod', new Date(Date.now() - 20 * 60_000));
    const json = await runEksauth(['decode', '-o', 'json', token]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'expired', remainingSeconds: 0 });
    expect((await runEksauth(['decode', token])).stdout).toMatch(/state {11}expired at \d{4}-/);
  });

  const signedUrl = async (): Promise<URL> => tokenUrl(await mintToken(ALICE, 'prod'));
  it.each([
    ['padding', async () => `${await mintToken(ALICE, 'prod')}=`, 'ERR_TOKEN_ENCODING'],
    ['another prefix', async () => (await mintToken(ALICE, 'prod')).replace('k8s-aws-v1.', 'k8s-aws-v2.'), 'ERR_TOKEN_PREFIX'],
    ['a host that is not STS', async () => encodeToken((await signedUrl()).href.replace('sts.eu-west-1.amazonaws.com', 'sts.eu-west-1.example.com')), 'ERR_TOKEN_HOST'],
    ['no x-k8s-aws-id among the signed headers', async () => encodeToken((await signedUrl()).href.replace('X-Amz-SignedHeaders=host%3Bx-k8s-aws-id', 'X-Amz-SignedHeaders=host')), 'ERR_TOKEN_SIGNED_HEADERS'],
    ['another action', async () => encodeToken((await signedUrl()).href.replace('Action=GetCallerIdentity', 'Action=AssumeRole')), 'ERR_TOKEN_ACTION'],
  ])('refuses a token with %s in one stderr line with its code', async (_, makeToken, code) => {
    const result = await runEksauth(['decode', '-'], { input: await makeToken() });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(new RegExp(`^eksauth: [^\\n]+ \\(${code}\\)\\n$`));
  });

  it('refuses stdin JSON without a token, and an unknown output format, as usage errors', async () => {
    expect(await runEksauth(['decode', '-'], { input: '{"status": {}}' })).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^eksauth: the JSON on stdin has no status.token.*\(ERR_USAGE\)\n$/) });
    expect(await runEksauth(['decode', '-o', 'yaml', 'k8s-aws-v1.x'])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('(ERR_USAGE)') });
  });
});
