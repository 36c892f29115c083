/**
 * AssumeRole through the AWS SDK for JS v3 (`fromTemporaryCredentials` of @aws-sdk/credential-providers, which uses
 * the SDK's STS client: awsQuery form POST, XML answers), then GetCallerIdentity with the credentials it returns.
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Credentials } from './helpers.js';
import { jsonError, jsonIdentity, presignGetCallerIdentity, replay } from './helpers.js';

const ACCOUNT = '111122223333';
const [alice, bob] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity, EmulatorIdentity];
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-admin`;
const PARTNER_ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-partner`;
const CHAINED_ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy/chained`;

const CONFIG: EmulatorConfig = {
  identities: DEMO_EMULATOR_CONFIG.identities,
  roles: [...(DEMO_EMULATOR_CONFIG.roles ?? []), { arn: CHAINED_ROLE, trustedPrincipals: [ADMIN_ROLE] }],
};

interface AssumeOptions {
  roleArn: string;
  session?: string;
  externalId?: string;
  durationSeconds?: number;
  endpoint?: string;
}

describe('AssumeRole through @aws-sdk/credential-providers fromTemporaryCredentials', () => {
  let emulator: Emulator;
  let clock = new Date();

  beforeAll(async () => {
    emulator = await startEmulator(CONFIG, { now: () => clock });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  function assume(master: Credentials | (() => Promise<AwsCredentialIdentity>), options: AssumeOptions): Promise<AwsCredentialIdentity> {
    clock = new Date();
    const params = {
      RoleArn: options.roleArn,
      RoleSessionName: options.session ?? 'sdk-session',
      ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
      ...(options.durationSeconds === undefined ? {} : { DurationSeconds: options.durationSeconds }),
    };
    const endpoint = options.endpoint === undefined ? {} : { endpoint: options.endpoint };
    return fromTemporaryCredentials({ params, masterCredentials: master, clientConfig: { region: 'us-east-1', maxAttempts: 1, ...endpoint } })();
  }

  async function whoIs(credentials: AwsCredentialIdentity, at = clock): Promise<Awaited<ReturnType<typeof replay>>> {
    const presigned = await presignGetCallerIdentity({ credentials, region: 'eu-west-1', host: 'sts.eu-west-1.amazonaws.com', clusterId: 'c1', date: at });
    return replay(emulator.url, presigned, 'sts.eu-west-1.amazonaws.com', 'c1');
  }

  it('issues role credentials that identify as the assumed role', async () => {
    const credentials = await assume(alice, { roleArn: ADMIN_ROLE, endpoint: emulator.url });
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(credentials.sessionToken).toBeTruthy();
    expect(credentials.expiration!.getTime() - clock.getTime()).toBeGreaterThan(3500_000);
    const identity = jsonIdentity(await whoIs(credentials));
    expect(identity.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/sdk-session`);
    expect(identity.UserId).toMatch(/^AROA[A-Z2-7]{17}:sdk-session$/);
    expect(identity.Account).toBe(ACCOUNT);
  });

  it('finds the emulator through AWS_ENDPOINT_URL_STS', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_STS', emulator.url);
    vi.stubEnv('AWS_CONFIG_FILE', '/dev/null');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/dev/null');
    try {
      const credentials = await assume(alice, { roleArn: ADMIN_ROLE, session: 'from-env' });
      expect(jsonIdentity(await whoIs(credentials)).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/from-env`);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('requires the external id of a role that has one', async () => {
    const credentials = await assume(bob, { roleArn: PARTNER_ROLE, externalId: 'partner-42', endpoint: emulator.url });
    expect(jsonIdentity(await whoIs(credentials)).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-partner/sdk-session`);

    const denied = `User: ${bob.arn} is not authorized to perform: sts:AssumeRole on resource: ${PARTNER_ROLE}`;
    await expect(assume(bob, { roleArn: PARTNER_ROLE, endpoint: emulator.url })).rejects.toMatchObject({ name: 'AccessDenied', message: denied });
    await expect(assume(bob, { roleArn: PARTNER_ROLE, externalId: 'partner-43', endpoint: emulator.url })).rejects.toMatchObject({ name: 'AccessDenied', message: denied });
  });

  it('denies an untrusted caller, naming caller and role', async () => {
    await expect(assume(bob, { roleArn: ADMIN_ROLE, endpoint: emulator.url })).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
      message: `User: ${bob.arn} is not authorized to perform: sts:AssumeRole on resource: ${ADMIN_ROLE}`,
    });
    // A role that does not exist is refused the same way, as in AWS (no hint whether it exists).
    const missing = `arn:aws:iam::${ACCOUNT}:role/missing`;
    await expect(assume(alice, { roleArn: missing, endpoint: emulator.url })).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: ${alice.arn} is not authorized to perform: sts:AssumeRole on resource: ${missing}`,
    });
  });

  it('chains roles: a role session may assume a role that trusts its role', async () => {
    const admin = await assume(alice, { roleArn: ADMIN_ROLE, endpoint: emulator.url });
    const chained = await assume(async () => admin, { roleArn: CHAINED_ROLE, session: 'chain', endpoint: emulator.url });
    expect(jsonIdentity(await whoIs(chained)).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/chained/chain`);
    await expect(assume(async () => admin, { roleArn: CHAINED_ROLE, durationSeconds: 7200, endpoint: emulator.url })).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    });
    // alice herself is not trusted by the chained role.
    await expect(assume(alice, { roleArn: CHAINED_ROLE, endpoint: emulator.url })).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('validates parameters with STS ValidationError messages', async () => {
    await expect(assume(alice, { roleArn: ADMIN_ROLE, durationSeconds: 60, endpoint: emulator.url })).rejects.toMatchObject({
      name: 'ValidationError',
      message: "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    });
    await expect(assume(alice, { roleArn: ADMIN_ROLE, session: 'bad session', endpoint: emulator.url })).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('lets temporary credentials expire (ExpiredToken)', async () => {
    const credentials = await assume(alice, { roleArn: ADMIN_ROLE, durationSeconds: 900, endpoint: emulator.url });
    expect(credentials.expiration!.getTime() - clock.getTime()).toBeLessThanOrEqual(900_000);
    clock = new Date(clock.getTime() + 16 * 60_000);
    const result = await whoIs(credentials, clock);
    expect(result.status).toBe(403);
    expect(jsonError(result)).toEqual({ Type: 'Sender', Code: 'ExpiredToken', Message: 'The security token included in the request is expired' });
  });

  it('shortens sessions to sessionLifetimeSeconds, whatever DurationSeconds asks, and then answers ExpiredToken', async () => {
    const shortLived = await startEmulator(CONFIG, { now: () => clock, sessionLifetimeSeconds: 5 });
    try {
      const credentials = await assume(alice, { roleArn: ADMIN_ROLE, durationSeconds: 900, endpoint: shortLived.url });
      expect(credentials.expiration!.getTime() - clock.getTime()).toBeLessThanOrEqual(5_000);
      const inTime = await presignGetCallerIdentity({ credentials, region: 'eu-west-1', host: 'sts.eu-west-1.amazonaws.com', clusterId: 'c1', date: clock });
      expect(jsonIdentity(await replay(shortLived.url, inTime, 'sts.eu-west-1.amazonaws.com', 'c1')).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/sdk-session`);
      // The same token, replayed once the session is over (well inside the token's own 15 minutes).
      clock = new Date(clock.getTime() + 6_000);
      const late = await replay(shortLived.url, inTime, 'sts.eu-west-1.amazonaws.com', 'c1');
      expect(jsonError(late)).toEqual({ Type: 'Sender', Code: 'ExpiredToken', Message: 'The security token included in the request is expired' });
    } finally {
      await shortLived.close();
    }
  });

  it('refuses a session lifetime that is not a whole number of seconds from 1 to 43200', async () => {
    for (const sessionLifetimeSeconds of [0, 1.5, 43_201]) {
      await expect(startEmulator(CONFIG, { sessionLifetimeSeconds })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    }
  });
});
