/**
 * `eksauth token` role flows against the STS emulator: AssumeRole goes to the emulator through AWS_ENDPOINT_URL_STS,
 * and the token that comes out is identified by the emulator, so session names and external ids are checked by a
 * real STS stand-in, not by looking at the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCallerIdentity } from '../../src/authn/get-caller-identity.js';
import type { EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { parseExecCredential, runEksauth, tokenUrl } from '../support/eksauth.js';

const ACCOUNT = '111122223333';
const config: EmulatorConfig = {
  identities: [
    { accessKeyId: 'EKSAUTHTESTALICE0001', secretAccessKey: 'alice-secret', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: 'AIDAALICE0000000001' },
    { accessKeyId: 'EKSAUTHTESTBOB000001', secretAccessKey: 'bob-secret', arn: `arn:aws:iam::${ACCOUNT}:user/bob`, userId: 'AIDABOB00000000001' },
    {
      // An SSO user's role session: temporary credentials whose session name is the person's email.
      accessKeyId: 'EKSAUTHTESTJANE00001',
      secretAccessKey: 'jane-secret',
      sessionToken: 'jane-session-token',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/jane@example.com`,
      userId: 'AROASSODEV000000001:jane@example.com',
    },
  ],
  roles: [
    {
      arn: `arn:aws:iam::${ACCOUNT}:role/eks-admin`,
      trustedPrincipals: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Dev_0123456789abcdef`],
    },
    { arn: `arn:aws:iam::${ACCOUNT}:role/eks-partner`, externalId: 'partner-42' },
  ],
};
const [ALICE, BOB, JANE] = config.identities;
const keysOf = (who: (typeof config.identities)[number] | undefined) => ({
  AWS_ACCESS_KEY_ID: who?.accessKeyId,
  AWS_SECRET_ACCESS_KEY: who?.secretAccessKey,
  AWS_SESSION_TOKEN: who?.sessionToken,
});

describe('eksauth token assuming roles through the STS emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(config);
  });
  afterAll(async () => emulator?.close());

  async function tokenFor(who: (typeof config.identities)[number] | undefined, extraArgs: string[]) {
    return runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-east-1', ...extraArgs], {
      env: { ...keysOf(who), AWS_ENDPOINT_URL_STS: emulator.url },
    });
  }
  async function identityOf(result: Awaited<ReturnType<typeof tokenFor>>) {
    return getCallerIdentity(tokenUrl(parseExecCredential(result).status.token), { clusterId: 'c1', stsEndpoint: emulator.url });
  }

  it('signs as the role with aws-cli’s session name, with the session token in the URL', async () => {
    const result = await tokenFor(ALICE, ['--role-arn', `arn:aws:iam::${ACCOUNT}:role/eks-admin`]);
    expect(result.stderr).toBe('');
    const url = tokenUrl(parseExecCredential(result).status.token);
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(true);
    expect((await identityOf(result)).arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/EKSGetTokenAuth`);
  });

  it('accepts --role (aws-cli kubeconfigs) and -s for the session name', async () => {
    const result = await tokenFor(ALICE, ['--role', `arn:aws:iam::${ACCOUNT}:role/eks-admin`, '-s', 'alice-audit']);
    expect((await identityOf(result)).arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/alice-audit`);
  });

  it('forwards the caller’s own session name with --forward-session-name', async () => {
    const result = await tokenFor(JANE, ['-r', `arn:aws:iam::${ACCOUNT}:role/eks-admin`, '--forward-session-name']);
    expect(result.stderr).toBe('');
    expect((await identityOf(result)).arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/jane@example.com`);
  });

  it('passes the external id', async () => {
    const result = await tokenFor(BOB, ['-r', `arn:aws:iam::${ACCOUNT}:role/eks-partner`, '-e', 'partner-42']);
    expect((await identityOf(result)).arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-partner/EKSGetTokenAuth`);
  });

  it.each([
    ['an untrusted caller', BOB, ['-r', `arn:aws:iam::${ACCOUNT}:role/eks-admin`], `arn:aws:iam::${ACCOUNT}:user/bob`],
    ['a missing external id', BOB, ['-r', `arn:aws:iam::${ACCOUNT}:role/eks-partner`], `arn:aws:iam::${ACCOUNT}:user/bob`],
    ['a wrong external id', ALICE, ['-r', `arn:aws:iam::${ACCOUNT}:role/eks-partner`, '-e', 'nope'], `arn:aws:iam::${ACCOUNT}:user/alice`],
  ])('names the role and the caller when AssumeRole is denied: %s', async (_name, who, args, caller) => {
    const result = await tokenFor(who, args);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('(ERR_ASSUME_ROLE_DENIED)');
    expect(result.stderr).toContain(args[1]);
    expect(result.stderr).toContain(caller);
    expect(result.stderr).toMatch(/trust policy/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain(who?.secretAccessKey ?? '?');
  });

  it('refuses --session-name together with --forward-session-name', async () => {
    const result = await tokenFor(JANE, ['-r', `arn:aws:iam::${ACCOUNT}:role/eks-admin`, '-s', 'x1', '--forward-session-name']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('(ERR_USAGE)');
  });
});
