import { describe, expect, it } from 'vitest';
import {
  NODE_ACCESS_ENTRY_DEFAULTS,
  parseAccessEntries,
} from '../../../src/authn/mapping/access-entries/access-entries.js';
import type { AccessEntryRecord } from '../../../src/authn/mapping/access-entries/access-entries.js';
import type { EksAuthError } from '../../../src/errors.js';
import { assumedRole, fixture, iamUser, errorOf } from './identities.js';

const parseError = (input: string | readonly AccessEntryRecord[]): EksAuthError => errorOf(() => parseAccessEntries(input));

describe('parseAccessEntries', () => {
  const source = parseAccessEntries(fixture('access-entries', 'access-entries.yaml'));

  it('is an access-entries source', () => {
    expect(source.name).toBe('access-entries');
    expect(source.kind).toBe('access-entries');
    expect(source.candidates()).toHaveLength(7);
  });

  it('gives roles EKS’s default username: the assumed-role ARN without path, ending in {{SessionName}}', () => {
    expect(source.match(assumedRole('Admin', 'alice'))).toEqual({
      source: 'access-entries',
      arn: 'arn:aws:iam::111122223333:role/Admin',
      username: 'arn:aws:sts::111122223333:assumed-role/Admin/{{SessionName}}',
      groups: ['cluster-admins'],
      accessEntryType: 'STANDARD',
    });
    const withPath = parseAccessEntries([{ principalArn: 'arn:aws-cn:iam::111122223333:role/teams/Dev' }]);
    expect(withPath.candidates()[0]?.username).toBe('arn:aws-cn:sts::111122223333:assumed-role/Dev/{{SessionName}}');
  });

  it('gives IAM users their ARN as username', () => {
    expect(source.match(iamUser('alice'))).toMatchObject({
      username: 'arn:aws:iam::111122223333:user/alice',
      groups: [],
      accessEntryType: 'STANDARD',
    });
  });

  it('keeps a custom username and matches a role written with a path', () => {
    expect(source.match(assumedRole('Platform', 'bob'))).toMatchObject({
      arn: 'arn:aws:iam::111122223333:role/teams/platform/Platform',
      username: 'platform:{{SessionName}}',
      groups: ['platform'],
    });
  });

  it.each([
    ['NodeRole', 'EC2_LINUX', 'system:node:{{EC2PrivateDNSName}}', ['system:nodes']],
    ['WindowsNodeRole', 'EC2_WINDOWS', 'system:node:{{EC2PrivateDNSName}}', ['system:nodes', 'eks:kube-proxy-windows']],
    ['FargatePodExecutionRole', 'FARGATE_LINUX', 'system:node:{{SessionName}}', ['system:nodes', 'system:node-proxier']],
    ['HybridNodesRole', 'HYBRID_LINUX', 'system:node:{{SessionName}}', ['system:nodes']],
  ])('gives %s (%s) the built-in node identity', (role, type, username, groups) => {
    expect(source.match(assumedRole(role, 'i-0123456789abcdef0'))).toMatchObject({ username, groups, accessEntryType: type });
  });

  it('has a node identity for every node type', () => {
    expect(Object.keys(NODE_ACCESS_ENTRY_DEFAULTS).sort()).toEqual(
      ['EC2', 'EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX', 'HYBRID_LINUX', 'HYPERPOD_LINUX'],
    );
    for (const { username, groups } of Object.values(NODE_ACCESS_ENTRY_DEFAULTS)) {
      expect(username).toMatch(/^system:node:\{\{(EC2PrivateDNSName|SessionName)\}\}$/);
      expect(groups).toContain('system:nodes');
    }
  });

  it('reads an `aws eks describe-access-entry` answer and `{accessEntries: [...]}`', () => {
    const described = parseAccessEntries(fixture('access-entries', 'describe-access-entry.json'));
    expect(described.candidates()).toEqual([
      expect.objectContaining({ username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:nodes'], accessEntryType: 'EC2_LINUX' }),
    ]);
    // The groups EKS echoes for a node type, in any order, or none; any other group is refused.
    const echoed = (kubernetesGroups: string[]) => parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/W', type: 'EC2_WINDOWS', kubernetesGroups }]);
    expect(echoed(['eks:kube-proxy-windows', 'system:nodes']).candidates()[0]?.groups).toEqual(['system:nodes', 'eks:kube-proxy-windows']);
    expect(echoed([]).candidates()[0]?.groups).toEqual(['system:nodes', 'eks:kube-proxy-windows']);
    expect(() => echoed(['system:nodes'])).toThrow('[0].kubernetesGroups cannot be set for type EC2_WINDOWS; only STANDARD entries take groups; EKS gives EC2_WINDOWS system:nodes, eks:kube-proxy-windows');
    const wrapped = parseAccessEntries('accessEntries:\n  - principalArn: arn:aws:iam::111122223333:user/alice\n', 'entries.yaml');
    expect(wrapped.match(iamUser('alice'))?.source).toBe('entries.yaml');
    expect(parseAccessEntries('').candidates()).toEqual([]);
  });

  it('accepts the type in any case, as the EKS docs write EC2_Windows', () => {
    const windows = parseAccessEntries([
      { principalArn: 'arn:aws:iam::111122223333:role/Win', type: 'EC2_Windows' as 'EC2_WINDOWS' },
    ]);
    expect(windows.candidates()[0]?.accessEntryType).toBe('EC2_WINDOWS');
  });

  it.each([
    ['invalid-system-group.yaml', "access-entries: [0].kubernetesGroups[0] ('system:masters') starts with system:; EKS refuses system: groups"],
    ['invalid-node-username.yaml', 'access-entries: [0].username cannot be set for type EC2_LINUX; remove it: EKS uses system:node:{{EC2PrivateDNSName}}'],
    ['invalid-session-colon.yaml', "access-entries: [0].username needs a ':' before {{SessionName}}; EKS requires it, e.g. 'dev:{{SessionName}}'"],
    ['invalid-session-arn.yaml', 'access-entries: [0].principalArn is an assumed-role ARN; access entries take the role ARN, arn:aws:iam::111122223333:role/Dev, not an STS session ARN'],
    ['invalid-type.yaml', "access-entries: [0].type ('EC2_MAC') is not a known type; use STANDARD, EC2_LINUX"],
  ])('refuses %s with a clear error', (name, message) => {
    const error = parseError(fixture('access-entries', name));
    expect(error.code).toBe('ERR_INVALID_MAPPING');
    expect(error.message).toContain(message);
  });

  it('lets the later of two entries for one principal win, with a warning', () => {
    const source = parseAccessEntries(fixture('access-entries', 'duplicate.yaml'));
    expect(source.candidates()).toHaveLength(1);
    expect(source.warnings?.[0]).toContain('access-entries: [1] maps the same principal (arn:aws:iam::111122223333:role/Dev) as access-entries: [0]; the later row wins');
  });

  it('refuses what EKS refuses in records given as objects', () => {
    expect(parseError([{ principalArn: 'arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS' }]).message).toContain(
      'is a service-linked role',
    );
    expect(parseError([{ principalArn: 'arn:aws:iam::111122223333:user/alice', type: 'EC2_LINUX' }]).message).toContain(
      '[0].principalArn must be a role for type EC2_LINUX',
    );
    expect(parseError([{ principalArn: 'arn:aws:iam::111122223333:role/N', type: 'FARGATE_LINUX', kubernetesGroups: ['x'] }]).message).toContain(
      '[0].kubernetesGroups cannot be set for type FARGATE_LINUX',
    );
    expect(parseError([{ principalArn: 'arn:aws:iam::111122223333:root' }]).message).toContain('access entries take an IAM user or role ARN');
    expect(parseError([{ principalArn: 'arn:aws:iam::111122223333:role/A', username: 'a:{{SessionNam}}' }]).message).toContain(
      'unknown template {{SessionNam}}',
    );
    expect(parseError([{ principalArn: 'arn:aws:iam::111122223333:role/A', extra: 1 } as unknown as AccessEntryRecord]).message).toContain(
      'access-entries: [0].extra is not a known field; use principalArn, type, username, kubernetesGroups',
    );
    expect(parseError('principalArn: arn:aws:iam::111122223333:role/A').message).toContain(
      'access-entries: principalArn is not a known field; use accessEntries, accessEntry',
    );
  });
});
