import { describe, expect, it } from 'vitest';
import { IDENTITY_ARN_PARTITIONS, canonicalizeArn, toStsIdentity } from '../../src/authn/arn.js';
import { EksAuthError } from '../../src/errors.js';

function expectCode(fn: () => unknown, code: string, ...fragments: string[]): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EksAuthError);
    expect((err as EksAuthError).code).toBe(code);
    for (const fragment of fragments) expect((err as EksAuthError).message).toContain(fragment);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('canonicalizeArn', () => {
  it('knows every partition', () => {
    expect(IDENTITY_ARN_PARTITIONS).toEqual([
      'aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc',
    ]);
  });

  describe.each(IDENTITY_ARN_PARTITIONS)('in partition %s', (p) => {
    it('takes a role part with slashes as a path and its role, as aws-iam-authenticator does', () => {
      expect(canonicalizeArn(`arn:${p}:sts::123456789012:assumed-role/Org/Team/Admin/Session`)).toMatchObject({
        canonicalArn: `arn:${p}:iam::123456789012:role/Admin`,
        kind: 'assumed-role',
        name: 'Admin',
        sessionName: 'Session',
      });
    });

    it('turns an assumed-role session into its role', () => {
      expect(canonicalizeArn(`arn:${p}:sts::111122223333:assumed-role/Admin/alice@example.com`)).toEqual({
        canonicalArn: `arn:${p}:iam::111122223333:role/Admin`,
        partition: p,
        accountId: '111122223333',
        kind: 'assumed-role',
        name: 'Admin',
        sessionName: 'alice@example.com',
      });
    });

    it('strips the path of roles (SSO roles) and users', () => {
      const sso = `arn:${p}:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123`;
      expect(canonicalizeArn(sso)).toMatchObject({
        canonicalArn: `arn:${p}:iam::111122223333:role/AWSReservedSSO_Admin_0123`,
        kind: 'role',
        name: 'AWSReservedSSO_Admin_0123',
      });
      expect(canonicalizeArn(`arn:${p}:iam::111122223333:user/division/team/bob`)).toMatchObject({
        canonicalArn: `arn:${p}:iam::111122223333:user/bob`,
        kind: 'user',
        name: 'bob',
      });
    });

    it('keeps users, roles, the root and federated users as they are, case included', () => {
      for (const arn of [
        `arn:${p}:iam::111122223333:user/Alice`,
        `arn:${p}:iam::111122223333:role/S3Access`,
        `arn:${p}:iam::111122223333:root`,
        `arn:${p}:sts::111122223333:federated-user/Bob`,
      ]) {
        expect(canonicalizeArn(arn).canonicalArn).toBe(arn);
      }
      expect(canonicalizeArn(`arn:${p}:iam::111122223333:root`).kind).toBe('root');
      expect(canonicalizeArn(`arn:${p}:sts::111122223333:federated-user/Bob`)).toMatchObject({
        kind: 'federated-user',
        name: 'Bob',
      });
    });
  });

  it.each([
    ['arn:aws-mars:iam::111122223333:user/alice', "partition 'aws-mars'"],
    ['arn:aws:iam:us-east-1:111122223333:user/alice', 'no region'],
    ['arn:aws:iam::11112222333:user/alice', '12 digits'],
    ['arn:aws:s3:::bucket', "service 's3'"],
    ['arn:aws:iam::111122223333:group/admins', "'group'"],
    ['arn:aws:iam::111122223333:role/Admin*', 'role name'],
    ['arn:aws:iam::111122223333:role/teams//Admin', 'IAM path'],
    ['arn:aws:sts::111122223333:assumed-role/Admin', 'assumed-role/<role name>/<session name>'],
    ['arn:aws:sts::111122223333:assumed-role/Org//Admin/alice', 'IAM path'],
    ['arn:aws:sts::111122223333:assumed-role/Admin/a', 'session name'],
    ['arn:aws:sts::111122223333:session/x', "'session'"],
    ['arn:aws:iam::111122223333:user/alice:bob', 'arn:<partition>'],
    ['not-an-arn', 'arn:<partition>'],
    ['', '1 to 2048'],
  ])('refuses %s', (arn, why) => {
    expectCode(() => canonicalizeArn(arn), 'ERR_INVALID_ARN', why, 'expected e.g.');
  });

  it('shortens very long input in the message', () => {
    const arn = `arn:aws:iam::111122223333:user/${'a'.repeat(1500)}`;
    try {
      canonicalizeArn(arn);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(600);
    }
  });
});

describe('toStsIdentity', () => {
  it('splits an assumed role UserId into principal id and session name', () => {
    const identity = toStsIdentity(
      {
        arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com',
        account: '111122223333',
        userId: 'AROAEXAMPLEROLEID001:alice@example.com',
      },
      'ASIAEXAMPLEKEY000001',
    );
    expect(identity).toEqual({
      arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com',
      canonicalArn: 'arn:aws:iam::111122223333:role/Admin',
      accountId: '111122223333',
      userId: 'AROAEXAMPLEROLEID001:alice@example.com',
      principalId: 'AROAEXAMPLEROLEID001',
      sessionName: 'alice@example.com',
      accessKeyId: 'ASIAEXAMPLEKEY000001',
      partition: 'aws',
    });
  });

  it('gives IAM users no session name', () => {
    const identity = toStsIdentity(
      { arn: 'arn:aws-us-gov:iam::111122223333:user/ops/bob', account: '111122223333', userId: 'AIDAEXAMPLEUSERID001' },
      'AKIAEXAMPLEKEY000001',
    );
    expect(identity.canonicalArn).toBe('arn:aws-us-gov:iam::111122223333:user/bob');
    expect(identity.principalId).toBe('AIDAEXAMPLEUSERID001');
    expect(identity).not.toHaveProperty('sessionName');
    expect(identity.partition).toBe('aws-us-gov');
  });

  // aws-iam-authenticator v0.6.30 (getIdentityFromSTSResponse): the whole UserId for users, root and federated users.
  it.each([
    ['arn:aws:sts::111122223333:federated-user/Alice', '111122223333:Alice'],
    ['arn:aws:iam::111122223333:root', '111122223333'],
    ['arn:aws:iam::111122223333:user/alice', 'AIDAEXAMPLEUSERID001'],
  ])('keeps the UserId of %s whole, with no session name', (arn, userId) => {
    const identity = toStsIdentity({ arn, account: '111122223333', userId }, 'AKIA1');
    expect(identity.principalId).toBe(userId);
    expect(identity).not.toHaveProperty('sessionName');
  });

  it('refuses an account that is not the ARN’s', () => {
    expectCode(
      () => toStsIdentity({ arn: 'arn:aws:iam::111122223333:user/bob', account: '444455556666', userId: 'AIDA1' }, 'AKIA1'),
      'ERR_INVALID_IDENTITY',
      "'444455556666'",
    );
  });

  it.each(['', 'AROA', 'AROA:a:b', ':session', 'AROA:'])('refuses the malformed role session UserId %j', (userId) => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/Admin/alice';
    expectCode(
      () => toStsIdentity({ arn, account: '111122223333', userId }, 'AKIA1'),
      'ERR_INVALID_IDENTITY',
      'UserId',
    );
  });

  it('refuses a missing access key id and an invalid ARN', () => {
    expectCode(
      () => toStsIdentity({ arn: 'arn:aws:iam::111122223333:user/bob', account: '111122223333', userId: 'AIDA1' }, ''),
      'ERR_INVALID_IDENTITY',
    );
    expectCode(
      () => toStsIdentity({ arn: 'arn:aws:ec2::111122223333:user/bob', account: '111122223333', userId: 'AIDA1' }, 'AKIA1'),
      'ERR_INVALID_ARN',
    );
  });
});
