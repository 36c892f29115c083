/**
 * `aws eks get-token` (the real AWS CLI on this machine) and `eksauth token`, given the same credentials, must produce
 * tokens of the same shape that the emulator accepts, and a tampered token must be refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCallerIdentity } from '../../src/authn/get-caller-identity.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { isEksAuthError } from '../../src/errors.js';
import { parseExecCredential, runEksauth, tokenUrl } from '../support/eksauth.js';
import { hasCommand, runCommand } from '../support/tools.js';

const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('test/e2e/aws-cli-parity.test.ts: the aws CLI is not on PATH; skipped.');
const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const KEYS = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey };

describe.skipIf(!HAS_AWS)('eksauth token and aws eks get-token agree', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  const shapeOf = (url: URL) => ({
    protocol: url.protocol,
    host: url.host,
    path: url.pathname,
    keys: [...url.searchParams.keys()].sort(),
    action: url.searchParams.get('Action'),
    version: url.searchParams.get('Version'),
    signedHeaders: url.searchParams.get('X-Amz-SignedHeaders'),
    expires: url.searchParams.get('X-Amz-Expires'),
    scope: url.searchParams.get('X-Amz-Credential')?.split('/').slice(0, 1).concat(url.searchParams.get('X-Amz-Credential')?.split('/').slice(2) ?? []),
  });

  it.each(['us-west-2', 'eu-west-1', 'cn-north-1', 'us-gov-west-1'])('in %s', async (region) => {
    const args = ['--cluster-name', 'c1', '--region', region];
    const [aws, ours] = await Promise.all([
      runCommand('aws', ['eks', 'get-token', ...args], { env: KEYS }),
      runEksauth(['token', ...args], { env: KEYS }),
    ]);
    const awsUrl = tokenUrl(parseExecCredential(aws).status.token);
    const ourUrl = tokenUrl(parseExecCredential(ours).status.token);
    expect(shapeOf(ourUrl)).toEqual(shapeOf(awsUrl));
    for (const url of [awsUrl, ourUrl]) {
      const identity = await getCallerIdentity(url, { clusterId: 'c1', stsEndpoint: emulator.url });
      expect(identity.arn).toBe(ALICE?.arn);
    }
    // Both carry the same ExecCredential fields and a 14-minute expiry (to the minute; they ran at about the same time).
    const expiries = [aws, ours].map((r) => Date.parse(parseExecCredential(r).status.expirationTimestamp));
    expect(Math.abs((expiries[0] ?? 0) - (expiries[1] ?? 0))).toBeLessThan(60_000);
  });

  it('with temporary credentials, both put the session token in the URL', async () => {
    const assumed = await runCommand(
      'aws',
      ['sts', 'assume-role', '--role-arn', 'arn:aws:iam::111122223333:role/eks-admin', '--role-session-name', 'parity', '--endpoint-url', emulator.url, '--region', 'us-east-1'],
      { env: KEYS },
    );
    expect(assumed.code, assumed.stderr).toBe(0);
    const { Credentials } = JSON.parse(assumed.stdout) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } };
    const env = { AWS_ACCESS_KEY_ID: Credentials.AccessKeyId, AWS_SECRET_ACCESS_KEY: Credentials.SecretAccessKey, AWS_SESSION_TOKEN: Credentials.SessionToken };
    const args = ['--cluster-name', 'c1', '--region', 'us-east-1'];
    const [aws, ours] = await Promise.all([runCommand('aws', ['eks', 'get-token', ...args], { env }), runEksauth(['token', ...args], { env })]);
    const urls = [aws, ours].map((r) => tokenUrl(parseExecCredential(r).status.token));
    expect(shapeOf(urls[1] as URL)).toEqual(shapeOf(urls[0] as URL));
    for (const url of urls) {
      expect(url.searchParams.get('X-Amz-Security-Token')).toBe(Credentials.SessionToken);
      expect((await getCallerIdentity(url, { clusterId: 'c1', stsEndpoint: emulator.url })).arn).toBe(
        'arn:aws:sts::111122223333:assumed-role/eks-admin/parity',
      );
    }
  });

  it('refuses a tampered token and one presented to another cluster', async () => {
    const ours = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-west-2'], { env: KEYS });
    const url = tokenUrl(parseExecCredential(ours).status.token);
    const tampered = new URL(url);
    tampered.searchParams.set('X-Amz-Date', url.searchParams.get('X-Amz-Date')?.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10)) ?? '');
    for (const [candidate, clusterId] of [[tampered, 'c1'], [url, 'c2']] as const) {
      const outcome = await getCallerIdentity(candidate, { clusterId, stsEndpoint: emulator.url }).then(
        () => 'accepted',
        (err: unknown) => (isEksAuthError(err) ? err.code : 'other error'),
      );
      expect(outcome).toBe('ERR_STS_REJECTED');
    }
  });
});
