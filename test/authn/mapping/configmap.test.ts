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
    ['invalid-assumed-role.yaml', 'aws-auth: data.mapRoles[1].rolearn is an assumed-role ARN; use the role\'s ARN, arn:aws:iam::111122223333:role/Deployer'],
    ['invalid-unknown-field.yaml', 'aws-auth: data.mapUsers[0].group is not a known field; use userarn, username, groups'],
    ['invalid-account.yaml', "aws-auth: data.mapAccounts[1] ('1111-2222-3333') is not a 12-digit AWS account id"],
    ['invalid-template.yaml', 'aws-auth: data.mapRoles[0].username has an unknown template {{Sessionname}}'],
    ['invalid-data-list.yaml', "aws-auth: data.mapRoles must be a string, not a list; ConfigMap data values are strings: write 'mapRoles: |'"],
  ])('refuses %s with a clear error', (name, message) => {
    const error = parseError(fixture('configmap', name));
    expect(error.code).toBe('ERR_INVALID_MAPPING');
    expect(error.message).toContain(message);
  });

  it('lets the later of two rows for one principal win, with a warning, as aws-iam-authenticator does', () => {
    const source = parseAwsAuthConfigMap(fixture('configmap', 'duplicate.yaml'));
    expect(source.match(assumedRole('Deployer', 'ci'))?.username).toBe('deployer-again');
    expect(source.candidates()).toHaveLength(1);
    expect(source.warnings).toEqual([
      'aws-auth: data.mapRoles[1] maps the same principal (arn:aws:iam::111122223333:role/Deployer) as aws-auth: data.mapRoles[0]; the later row wins: remove one of them',
    ]);
  });

  it('refuses other objects, wrong kinds and typos in data keys', () => {
    expect(parseError({ kind: 'Secret', data: {} }).message).toContain("aws-auth: kind is the string 'Secret'; an aws-auth ConfigMap has ConfigMap here");
    expect(parseError({ kind: 'ConfigMap', data: { mapRole: '' } }).message).toContain(
      'aws-auth: data.mapRole is not a known field; use mapRoles, mapUsers, mapAccounts',
    );
    expect(parseError({ kind: 'ConfigMap', spec: {} }).message).toContain('aws-auth: spec is not a known field');
    expect(parseError('- just a list').message).toContain('aws-auth must be a map, not a list');
    expect(parseError({ data: { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Admin\n' } }).message).toContain(
      'aws-auth: data.mapRoles[0].username is missing or empty',
    );
    expect(parseError({ data: { mapUsers: '- userarn: arn:aws:iam::111122223333:user/a\n  username: a\n  groups: admins\n' } }).message).toContain(
      'aws-auth: data.mapUsers[0].groups must be a list of group names',
    );
  });
});
