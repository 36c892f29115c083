/**
 * The real AWS CLI against the emulator: header-signed POSTs (get-caller-identity, assume-role) and presigned EKS
 * tokens from `aws eks get-token`, replayed the way a verifier replays them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { hasCommand, runCommand } from '../support/tools.js';
import type { CommandResult } from '../support/tools.js';
import { jsonError, jsonIdentity, replay } from './helpers.js';

const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('skipping the AWS CLI emulator tests: `aws` is not on PATH');

const [alice, bob] = DEMO_EMULATOR_CONFIG.identities as [typeof DEMO_EMULATOR_CONFIG.identities[0], typeof DEMO_EMULATOR_CONFIG.identities[0]];
const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/eks-admin';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** `aws …` with only these credentials, no config files and IMDS disabled. */
function aws(args: string[], keys: Keys, extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  return runCommand('aws', args, {
    env: {
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SESSION_TOKEN: keys.sessionToken,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: '1',
      ...extraEnv,
    },
  });
}

function parseJson<T>(result: CommandResult): T {
  if (result.code !== 0) throw new Error(`aws exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface Identity { Arn: string; UserId: string; Account: string }

describe.skipIf(!HAS_AWS)('AWS CLI, header-signed', () => {
  let emulator: Emulator;
  const sts = (): string[] => ['--endpoint-url', emulator.url, '--region', 'us-east-1', '--output', 'json'];

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('get-caller-identity returns the configured identity', async () => {
    const identity = parseJson<Identity>(await aws(['sts', 'get-caller-identity', ...sts()], alice));
    expect(identity).toEqual({ UserId: alice.userId, Account: '111122223333', Arn: alice.arn });
  });

  it('get-caller-identity with a wrong secret fails with SignatureDoesNotMatch', async () => {
    const result = await aws(['sts', 'get-caller-identity', ...sts()], { ...alice, secretAccessKey: 'not-the-secret' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('SignatureDoesNotMatch');
    expect(result.stderr).toContain('The request signature we calculated does not match the signature you provided');
  });

  it('get-caller-identity with an unknown key fails with InvalidClientTokenId', async () => {
    const result = await aws(['sts', 'get-caller-identity', ...sts()], { accessKeyId: 'EKSAUTHUNKNOWNKEY001', secretAccessKey: 'x' });
    expect(result.stderr).toContain('(InvalidClientTokenId)');
    expect(result.stderr).toContain('The security token included in the request is invalid.');
  });

  it('assume-role issues credentials that identify as the role session', async () => {
    const assumed = parseJson<{ Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string }; AssumedRoleUser: { Arn: string; AssumedRoleId: string } }>(
      await aws(['sts', 'assume-role', '--role-arn', ADMIN_ROLE, '--role-session-name', 'cli-session', ...sts()], alice),
    );
    expect(assumed.AssumedRoleUser.Arn).toBe('arn:aws:sts::111122223333:assumed-role/eks-admin/cli-session');
    expect(assumed.AssumedRoleUser.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:cli-session$/);
    expect(assumed.Credentials.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(assumed.Credentials.SecretAccessKey).toHaveLength(40);
    expect(Date.parse(assumed.Credentials.Expiration)).toBeGreaterThan(Date.now());

    const { AccessKeyId, SecretAccessKey, SessionToken } = assumed.Credentials;
    const keys = { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken };
    const identity = parseJson<Identity>(await aws(['sts', 'get-caller-identity', ...sts()], keys));
    expect(identity).toEqual({ Arn: assumed.AssumedRoleUser.Arn, UserId: assumed.AssumedRoleUser.AssumedRoleId, Account: '111122223333' });

    const wrongToken = await aws(['sts', 'get-caller-identity', ...sts()], { ...keys, sessionToken: `${SessionToken.slice(0, -4)}AAAA` });
    expect(wrongToken.stderr).toContain('(InvalidClientTokenId)');
  });

  it('assume-role by an untrusted user is AccessDenied naming the caller and the role', async () => {
    const result = await aws(['sts', 'assume-role', '--role-arn', ADMIN_ROLE, '--role-session-name', 'nope', ...sts()], bob);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`(AccessDenied) when calling the AssumeRole operation: User: ${bob.arn} is not authorized to perform: sts:AssumeRole on resource: ${ADMIN_ROLE}`);
  });

  it('honours AWS_ENDPOINT_URL_STS instead of --endpoint-url', async () => {
    const result = await aws(['sts', 'get-caller-identity', '--region', 'eu-west-1', '--output', 'json'], alice, { AWS_ENDPOINT_URL_STS: emulator.url });
    expect(parseJson<Identity>(result).Arn).toBe(alice.arn);
  });
});

describe.skipIf(!HAS_AWS)('AWS CLI, presigned tokens from `aws eks get-token`', () => {
  let emulator: Emulator;
  let late: Emulator;
  let tokenUrl: URL;

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    // Its clock runs 16 minutes ahead: every token made now is already past STS's 15-minute window.
    late = await startEmulator(DEMO_EMULATOR_CONFIG, { now: () => new Date(Date.now() + 16 * 60_000) });
    const result = parseJson<{ status: { token: string } }>(await aws(['eks', 'get-token', '--cluster-name', 'c1', '--region', 'us-west-2', '--output', 'json'], alice));
    tokenUrl = new URL(Buffer.from(result.status.token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
  });
  afterAll(async () => {
    await emulator?.close();
    await late?.close();
  });

  const asReplay = (url: URL): { path: string } => ({ path: `/${url.search}` });

  it('accepts the token replayed for its cluster', async () => {
    expect(tokenUrl.host).toBe('sts.us-west-2.amazonaws.com');
    const identity = jsonIdentity(await replay(emulator.url, asReplay(tokenUrl), tokenUrl.host, 'c1'));
    expect(identity).toEqual({ Arn: alice.arn, UserId: alice.userId, Account: '111122223333' });
  });

  it('answers in STS XML when JSON is not asked for', async () => {
    const result = await replay(emulator.url, asReplay(tokenUrl), tokenUrl.host, 'c1', false);
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('text/xml');
    expect(result.body).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(result.body).toContain(`<Arn>${alice.arn}</Arn>`);
  });

  it('refuses the token replayed for another cluster', async () => {
    const result = await replay(emulator.url, asReplay(tokenUrl), tokenUrl.host, 'c2');
    expect(result.status).toBe(403);
    expect(jsonError(result).Code).toBe('SignatureDoesNotMatch');
  });

  it('refuses the token with any one query character changed', async () => {
    const search = tokenUrl.search;
    const tampered = [
      search.replace(/X-Amz-Expires=60/, 'X-Amz-Expires=61'),
      search.replace(/Version=2011-06-15/, 'Version=2011-06-16'),
      search.replace(/(X-Amz-Signature=[0-9a-f]*)([0-9a-f])/, (_, head: string, last: string) => `${head}${last === '0' ? '1' : '0'}`),
      search.replace(/X-Amz-Date=\d{8}T\d{6}/, (match) => `${match.slice(0, -1)}${match.endsWith('0') ? '1' : '0'}`),
    ];
    for (const query of tampered) {
      expect(query).not.toBe(search);
      const result = await replay(emulator.url, { path: `/${query}` }, tokenUrl.host, 'c1');
      expect(result.status).toBe(403);
      expect(jsonError(result).Code).toBe('SignatureDoesNotMatch');
    }
  });

  it('refuses the token 15 minutes after it was signed', async () => {
    const result = await replay(late.url, asReplay(tokenUrl), tokenUrl.host, 'c1');
    expect(result.status).toBe(403);
    expect(jsonError(result)).toMatchObject({ Code: 'SignatureDoesNotMatch', Message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/) });
  });

  it('refuses the token replayed with a Host of another region', async () => {
    const result = await replay(emulator.url, asReplay(tokenUrl), 'sts.eu-west-1.amazonaws.com', 'c1');
    expect(result.status).toBe(403);
    expect(jsonError(result)).toMatchObject({ Code: 'SignatureDoesNotMatch', Message: 'Credential should be scoped to a valid region. ' });
  });
});
