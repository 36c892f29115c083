import { describe, expect, it } from 'vitest';
import { parseAwsAuthConfigMap } from '../../../src/authn/mapping/configmap/configmap.js';
import type { EksAuthError } from '../../../src/errors.js';
import { assumedRole, fixture, iamUser, errorOf } from './identities.js';

const parseError = (input: string | object): EksAuthError => errorOf(() => parseAwsAuthConfigMap(input));

describe('parseAwsAuthConfigMap', () => {
  const source = parseAwsAuthConfigMap(fixture('configmap', 'aws-auth.yaml'));

  it('reads every row, names the source and keeps account ids as written', () => {
    expect(source.name).toBe('aws-auth');
    expect(source.kind).toBe('aws-auth');
    expect(source.candidates().map((row) => row.arn ?? row.account)).toEqual([
      'arn:aws:iam::111122223333:role/eks-node-NodeInstanceRole-74RF4UBDUKL6',
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ClusterAdmin_0123456789abcdef',
      'arn:aws:iam::111122223333:role/Admin',
      'arn:aws:iam::111122223333:user/alice',
      '111122223333',
      '012345678901',
    ]);
  });

  it('matches an SSO session to its row written with the role path', () => {
    const session = assumedRole('AWSReservedSSO_ClusterAdmin_0123456789abcdef', 'alice@example.com');
    expect(source.match(session)).toMatchObject({
      source: 'aws-auth',
      username: 'sso-admin:{{SessionName}}',
      groups: ['system:masters'],
    });
  });

  it('matches on the lower-cased canonical ARN', () => {
    expect(source.match(assumedRole('admin', 'ci'))?.arn).toBe('arn:aws:iam::111122223333:role/Admin');
    expect(source.match(iamUser('ALICE'))?.username).toBe('alice');
  });

  it('prefers mapUsers/mapRoles rows over mapAccounts, which map to the caller’s ARN', () => {
    expect(source.match(iamUser('alice'))?.username).toBe('alice');
    expect(source.match(iamUser('carol'))).toEqual({
      source: 'aws-auth',
      account: '111122223333',
      username: 'arn:aws:iam::111122223333:user/carol',
      groups: [],
    });
    expect(source.match(iamUser('dave', { account: '012345678901' }))?.account).toBe('012345678901');
    expect(source.match(iamUser('erin', { account: '999988887777' }))).toBeUndefined();
  });

  it('does not match a role row for an IAM user of the same name', () => {
    expect(parseAwsAuthConfigMap(fixture('configmap', 'aws-auth.yaml').replace(/mapAccounts[\s\S]*$/, '')).match(iamUser('Admin'))).toBeUndefined();
  });

  it('accepts field names in any case', () => {
    const crazy = parseAwsAuthConfigMap(fixture('configmap', 'aws-auth-crazy-case-keys.yaml'));
    expect(crazy.candidates()).toHaveLength(3);
    expect(crazy.match(iamUser('admin', { account: '555555555555' }))?.groups).toEqual(['system:masters']);
  });

  it('accepts a ConfigMap object, and one without data', () => {
    const fromObject = parseAwsAuthConfigMap(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '42' },
        data: { mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n' },
      },
      'kube-system/aws-auth',
    );
    expect(fromObject.match(iamUser('alice'))).toMatchObject({ source: 'kube-system/aws-auth', username: 'alice', groups: [] });
    expect(parseAwsAuthConfigMap({ kind: 'ConfigMap', metadata: { name: 'aws-auth' } }).candidates()).toEqual([]);
    expect(parseAwsAuthConfigMap('').candidates()).toEqual([]);
  });

  it('gives snapshots that callers cannot change', () => {
    const [row] = source.candidates();
    expect(Object.isFrozen(row)).toBe(true);
    expect(Object.isFrozen(row?.groups)).toBe(true);
  });

  it.each([
    ['invalid-yaml.yaml', 'aws-auth: data.mapRoles is not valid YAML at line 4, column 1: Flow sequence'],
    ['invalid-data-list.yaml', "aws-auth: data.mapRoles must be a string, not a list; ConfigMap data values are strings: write 'mapRoles: |'"],
  ])('refuses %s, whose section does not parse, with a clear error', (name, message) => {
    const error = parseError(fixture('configmap', name));
    expect(error.code).toBe('ERR_INVALID_MAPPING');
    expect(error.message).toContain(message);
  });

  it.each([
    ['bad-row-unknown-field.yaml', 'aws-auth: data.mapUsers[0] has an unknown field; row skipped',
      'aws-auth: data.mapUsers[0].group is not a known field; use userarn, username, groups; row skipped'],
    ['bad-row-account.yaml', 'aws-auth: data.mapAccounts[1] is not a 12-digit AWS account id; row skipped',
      "aws-auth: data.mapAccounts[1] ('1111-2222-3333') is not a 12-digit AWS account id; row skipped"],
    ['bad-row-template.yaml', 'aws-auth: data.mapRoles[0].username has an unknown or unbalanced template; row skipped',
      'aws-auth: data.mapRoles[0].username has an unknown template {{Sessionname}}; known: {{AccountID}}, {{SessionName}}, {{SessionNameRaw}}, {{AccessKeyID}}, {{EC2PrivateDNSName}}; row skipped'],
  ])('skips the bad row of %s and keeps the others, saying where without the content', (name, summary, detail) => {
    const source = parseAwsAuthConfigMap(fixture('configmap', name));
    expect(source.problems).toEqual([{ kind: 'invalid-row', summary, detail }]);
  });

  it('keeps the good rows beside a bad one', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'bad-row-account.yaml'));
    expect(source.candidates().map((row) => row.account)).toEqual(['111122223333']);
  });

  it('reads an assumed-role rolearn as its role, matching every session', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'assumed-role-rolearn.yaml'));
    expect(source.problems).toEqual([]);
    expect(source.match(assumedRole('Deployer', 'another-session'))?.username).toBe('deployer');
  });

  it('reads data keys exactly: a near miss maps nobody and names the key EKS reads', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'near-miss-keys.yaml'));
    expect(source.match(assumedRole('Admin', 'ci'))).toBeUndefined();
    expect(source.match(iamUser('alice'))).toBeUndefined();
    expect(source.match(iamUser('zoe', { account: '444455556666' }))?.account).toBe('444455556666');
    expect(source.problems?.map((problem) => [problem.kind, problem.summary])).toEqual([
      ['near-miss-key', 'aws-auth: data.maproles is not read (keys are case-sensitive): EKS reads mapRoles; rename the key'],
      ['near-miss-key', 'aws-auth: data.MapUsers is not read (keys are case-sensitive): EKS reads mapUsers; rename the key'],
      ['unknown-key', 'aws-auth: data has a key EKS does not read (only mapRoles, mapUsers, mapAccounts); it is ignored'],
    ]);
  });

  it('matches sso rows to the permission set role whatever the suffix, with SSORoleMatch on', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'sso.yaml'), 'aws-auth', { ssoRoleMatch: true });
    expect(source.problems).toEqual([]);
    expect(source.match(assumedRole('AWSReservedSSO_Dev_0123456789abcdef', 'alice'))?.username).toBe('dev:{{SessionName}}');
    expect(source.match(assumedRole('awsreservedsso_dev_fedcba9876543210', 'bob'))?.groups).toEqual(['Dev Team']);
    expect(source.match(assumedRole('AWSReservedSSO_Dev_Admins_0123456789abcdef', 'carol'))).toBeUndefined();
    expect(source.match(assumedRole('AWSReservedSSO_Dev_0123', 'ci', { account: '444455556666' }))).toBeUndefined();
    expect(source.match(assumedRole('AWSReservedSSO_Ops_0123', 'ci'))).toBeUndefined();
    expect(source.match(assumedRole('AWSReservedSSO_Ops_0123', 'ci', { partition: 'aws-cn' }))?.username).toBe('ops:{{SessionName}}');
    expect(source.match(assumedRole('Admin', 'ci'))?.username).toBe('admin');
  });

  it('skips sso rows with a warning while SSORoleMatch is off, and keeps the other rows', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'sso.yaml'));
    expect(source.match(assumedRole('AWSReservedSSO_Dev_0123456789abcdef', 'alice'))).toBeUndefined();
    expect(source.match(assumedRole('Admin', 'ci'))?.username).toBe('admin');
    expect(source.problems?.map((problem) => problem.summary)).toEqual([
      'aws-auth: data.mapRoles[0] is an sso row, which needs --feature-gates=SSORoleMatch=true; row skipped',
      'aws-auth: data.mapRoles[1] is an sso row, which needs --feature-gates=SSORoleMatch=true; row skipped',
    ]);
  });

  it.each([
    [{ permissionSetName: 'Dev', accountID: '1234' }, 'mapRoles[0].sso.accountID is not a 12-digit AWS account id'],
    [{ permissionSetName: 'Dev Team', accountID: '111122223333' }, 'mapRoles[0].sso.permissionSetName is not a permission set name'],
    [{ permissionSetName: 'Dev', accountID: '111122223333', partition: 'mars' }, 'mapRoles[0].sso.partition is not an AWS partition'],
  ])('skips an sso row that fails validation: %j', (sso, summary) => {
    const mapRoles = JSON.stringify([{ sso, username: 'dev' }]);
    const source = parseAwsAuthConfigMap({ data: { mapRoles } }, 'aws-auth', { ssoRoleMatch: true });
    expect(source.problems?.[0]?.summary).toBe(`aws-auth: data.${summary}; row skipped`);
  });

  it('skips a role row with both or neither of rolearn and sso', () => {
    const mapRoles = JSON.stringify([
      { rolearn: 'arn:aws:iam::111122223333:role/A', sso: { permissionSetName: 'A', accountID: '111122223333' }, username: 'a' },
      { username: 'b' },
    ]);
    const source = parseAwsAuthConfigMap({ data: { mapRoles } }, 'aws-auth', { ssoRoleMatch: true });
    expect(source.problems?.map((problem) => problem.summary)).toEqual([
      'aws-auth: data.mapRoles[0] needs exactly one of rolearn and sso; row skipped',
      'aws-auth: data.mapRoles[1] needs exactly one of rolearn and sso; row skipped',
    ]);
  });

  it('lets the later of two rows for one principal win, with a warning, as aws-iam-authenticator does', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'duplicate.yaml'));
    expect(source.match(assumedRole('Deployer', 'ci'))?.username).toBe('deployer-again');
    expect(source.candidates()).toHaveLength(1);
    expect(source.warnings).toEqual([
      'aws-auth: data.mapRoles[1] maps the same principal (arn:aws:iam::111122223333:role/Deployer) as aws-auth: data.mapRoles[0]; the later row wins: remove one of them',
    ]);
  });

  it('refuses other objects and wrong kinds', () => {
    expect(parseError({ kind: 'Secret', data: {} }).message).toContain("aws-auth: kind is the string 'Secret'; an aws-auth ConfigMap has ConfigMap here");
    expect(parseError({ kind: 'ConfigMap', spec: {} }).message).toContain('aws-auth: spec is not a known field');
    expect(parseError('- just a list').message).toContain('aws-auth must be a map, not a list');
  });

  it('skips rows without a username or with groups that are not a list', () => {
    const problems = (data: Record<string, string>): string[] =>
      (parseAwsAuthConfigMap({ data }).problems ?? []).map((problem) => problem.detail);
    expect(problems({ mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Admin\n' })).toEqual([
      'aws-auth: data.mapRoles[0].username is missing or empty; row skipped',
    ]);
    expect(problems({ mapUsers: '- userarn: arn:aws:iam::111122223333:user/a\n  username: a\n  groups: admins\n' })[0]).toContain(
      'aws-auth: data.mapUsers[0].groups must be a list of group names',
    );
  });
});
