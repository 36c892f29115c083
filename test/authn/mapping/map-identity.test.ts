import { describe, expect, it, vi } from 'vitest';
import { parseAccessEntries } from '../../../src/authn/mapping/access-entries/access-entries.js';
import { parseAwsAuthConfigMap } from '../../../src/authn/mapping/configmap/configmap.js';
import { parseMappingFile } from '../../../src/authn/mapping/file/mapping-file.js';
import {
  DEFAULT_PRECEDENCE,
  RESERVED_USERNAME_PREFIXES,
  mapIdentity,
  orderByDefaultPrecedence,
} from '../../../src/authn/mapping/map-identity.js';
import type { MapResult, MappingRow, MappingSource, MappingSourceKind } from '../../../src/authn/mapping/types.js';
import { ACCESS_KEY_ID, assumedRole, fixture, iamUser } from './identities.js';

const awsAuth = parseAwsAuthConfigMap(fixture('configmap', 'aws-auth.yaml'));
const accessEntries = parseAccessEntries(fixture('access-entries', 'access-entries.yaml'));
const mappingFile = parseMappingFile(fixture('file', 'mapping.yaml'), '/etc/eksauth/mapping.yaml');

function mapped(result: MapResult): Extract<MapResult, { mapped: true }> {
  if (!result.mapped) throw new Error(`expected a mapping, got: ${result.reason}`);
  return result;
}

function unmapped(result: MapResult): Extract<MapResult, { mapped: false }> {
  if (result.mapped) throw new Error(`expected no mapping, got ${result.user.username}`);
  return result;
}

/** A source with fixed rows, as a user of the library might write one. */
function customSource(rows: MappingRow[], kind?: MappingSourceKind): MappingSource {
  return {
    name: 'custom',
    ...(kind === undefined ? {} : { kind }),
    match: (identity) => rows.find((row) => row.arn?.toLowerCase() === identity.canonicalArn.toLowerCase()),
    candidates: () => rows,
  };
}

describe('mapIdentity: the Kubernetes user', () => {
  it('builds uid and extra exactly as aws-iam-authenticator', async () => {
    const result = mapped(await mapIdentity(assumedRole('Admin', 'alice@example.com'), [awsAuth]));
    expect(result.user).toEqual({
      username: 'admin:alice@example.com',
      uid: 'aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID001',
      groups: ['cluster-admins', 'account-111122223333'],
      extra: {
        arn: ['arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com'],
        canonicalArn: ['arn:aws:iam::111122223333:role/Admin'],
        sessionName: ['alice@example.com'],
        accessKeyId: [ACCESS_KEY_ID],
        principalId: ['AROAEXAMPLEROLEID001'],
        'sigs.k8s.io/aws-iam-authenticator/principalId': ['AROAEXAMPLEROLEID001'],
      },
    });
    expect(result.row.source).toBe('aws-auth');
  });

  it('gives IAM users an empty sessionName extra, as the reference server', async () => {
    const result = mapped(await mapIdentity(iamUser('alice', { principalId: 'AIDAALICE' }), [awsAuth]));
    expect(result.user.uid).toBe('aws-iam-authenticator:111122223333:AIDAALICE');
    expect(result.user.extra.sessionName).toEqual(['']);
    expect(result.user.groups).toEqual(['system:masters']);
  });

  it('maps an SSO session through a row written with the role path', async () => {
    const session = assumedRole('AWSReservedSSO_ClusterAdmin_0123456789abcdef', 'alice@example.com');
    const result = mapped(await mapIdentity(session, [awsAuth]));
    expect(result.user.username).toBe('sso-admin:alice-example.com');
    expect(result.user.groups).toEqual(['system:masters']);
  });

  it('maps a mapAccounts principal to its canonical ARN with no groups', async () => {
    const result = mapped(await mapIdentity(assumedRole('Anything', 'x1'), [awsAuth]));
    expect(result.user.username).toBe('arn:aws:iam::111122223333:role/Anything');
    expect(result.user.groups).toEqual([]);
    expect(result.row.account).toBe('111122223333');
  });

  it('removes repeated groups', async () => {
    const source = customSource([{ source: 'custom', arn: 'arn:aws:iam::111122223333:role/R', username: 'r', groups: ['a', 'b', 'a'] }], 'file');
    expect(mapped(await mapIdentity(assumedRole('R', 's1'), [source])).user.groups).toEqual(['a', 'b']);
  });
});

describe('mapIdentity: precedence', () => {
  it('documents the default order and sorts sources into it', () => {
    expect(DEFAULT_PRECEDENCE).toEqual(['access-entries', 'aws-auth', 'file']);
    const custom = customSource([]);
    expect(orderByDefaultPrecedence([mappingFile, custom, awsAuth, accessEntries]).map((s) => s.name)).toEqual([
      'access-entries',
      'aws-auth',
      'file:/etc/eksauth/mapping.yaml',
      'custom',
    ]);
  });

  it('prefers the access entry when a principal is in access entries and aws-auth', async () => {
    const admin = assumedRole('Admin', 'alice');
    const sources = orderByDefaultPrecedence([awsAuth, accessEntries]);
    const result = mapped(await mapIdentity(admin, sources));
    expect(result.row.source).toBe('access-entries');
    expect(result.user.username).toBe('arn:aws:sts::111122223333:assumed-role/Admin/alice');
    expect(result.user.groups).toEqual(['cluster-admins']);
  });

  it('treats the list order as the precedence', async () => {
    const result = mapped(await mapIdentity(assumedRole('Admin', 'alice'), [awsAuth, accessEntries]));
    expect(result.row.source).toBe('aws-auth');
  });

  it('prefers mapUsers over mapAccounts within aws-auth', async () => {
    const result = mapped(await mapIdentity(iamUser('alice'), [awsAuth]));
    expect(result.user.username).toBe('alice');
    expect(result.row.arn).toBe('arn:aws:iam::111122223333:user/alice');
  });

  it('asks the mapping file after aws-auth', async () => {
    const aliceOnly = parseAwsAuthConfigMap(fixture('configmap', 'aws-auth.yaml').replace(/  mapAccounts[\s\S]*$/, ''));
    const sources = orderByDefaultPrecedence([mappingFile, aliceOnly]);
    expect(mapped(await mapIdentity(iamUser('alice'), sources)).user.username).toBe('alice');
    expect(mapped(await mapIdentity(iamUser('alice'), [mappingFile, aliceOnly])).user.username).toBe('alice-from-file');
    const bob = mapped(await mapIdentity(iamUser('bob'), sources));
    expect(bob.row.source).toBe('file:/etc/eksauth/mapping.yaml');
    expect(bob.user.groups).toEqual(['viewers']);
  });

  it('lets the first matching source decide even when its row cannot be applied', async () => {
    const node = assumedRole('eks-node-NodeInstanceRole-74RF4UBDUKL6', 'i-0123456789abcdef0');
    const fallback = customSource(
      [{ source: 'custom', arn: 'arn:aws:iam::111122223333:role/eks-node-NodeInstanceRole-74RF4UBDUKL6', username: 'node', groups: [] }],
      'file',
    );
    const result = unmapped(await mapIdentity(node, [awsAuth, fallback]));
    expect(result.closest?.source).toBe('aws-auth');
  });
});

describe('mapIdentity: assumed roles and IAM users', () => {
  it('never maps an IAM user through a role row of the same name, and says why', async () => {
    const roleOnly = parseAwsAuthConfigMap({ data: { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n' } });
    const result = unmapped(await mapIdentity(iamUser('Admin'), [roleOnly]));
    expect(result.hint).toContain('closest row of your account: role arn:aws:iam::111122223333:role/Admin in aws-auth');
  });

  it('maps an assumed role through its role row and an IAM user through its user row', async () => {
    const both = parseAwsAuthConfigMap({
      data: {
        mapRoles: '- rolearn: arn:aws:iam::111122223333:role/ops\n  username: ops-role:{{SessionName}}\n',
        mapUsers: '- userarn: arn:aws:iam::111122223333:user/ops\n  username: ops-user\n',
      },
    });
    expect(mapped(await mapIdentity(assumedRole('ops', 'pager'), [both])).user.username).toBe('ops-role:pager');
    expect(mapped(await mapIdentity(iamUser('ops', { path: 'team/' }), [both])).user.username).toBe('ops-user');
  });
});

describe('mapIdentity: templates', () => {
  const nodeRow = assumedRole('eks-node-NodeInstanceRole-74RF4UBDUKL6', 'i-0123456789abcdef0');

  it('resolves {{EC2PrivateDNSName}} with the session name as instance id', async () => {
    const ec2PrivateDnsName = vi.fn(async () => 'ip-10-0-0-1.eu-west-1.compute.internal');
    const result = mapped(
      await mapIdentity(nodeRow, [awsAuth], { ec2PrivateDnsName, reservedPrefixAllowList: ['system:node:'] }),
    );
    expect(result.user.username).toBe('system:node:ip-10-0-0-1.eu-west-1.compute.internal');
    expect(result.user.groups).toEqual(['system:bootstrappers', 'system:nodes']);
    expect(ec2PrivateDnsName).toHaveBeenCalledWith('i-0123456789abcdef0');
  });

  it('is unmapped, with the reason, without a resolver or an instance id', async () => {
    const options = { reservedPrefixAllowList: ['system:node:'] };
    expect(unmapped(await mapIdentity(nodeRow, [awsAuth], options)).hint).toContain('no EC2 resolver is configured');
    const notAnInstance = assumedRole('eks-node-NodeInstanceRole-74RF4UBDUKL6', 'mallory');
    const result = unmapped(await mapIdentity(notAnInstance, [awsAuth], { ...options, ec2PrivateDnsName: async () => 'x' }));
    expect(result.hint).toContain('is not an EC2 instance id');
    expect(result.hint).toContain('role arn:aws:iam::111122223333:role/eks-node-NodeInstanceRole-74RF4UBDUKL6 in aws-auth matches');
    expect(result.reason).toBe(
      'arn:aws:iam::111122223333:role/eks-node-NodeInstanceRole-74RF4UBDUKL6 matches a mapping row that cannot be applied; ' +
        'ask a cluster operator to fix the row (eksauth verify with the mappings says what is wrong)',
    );
    expect(`${result.reason} ${result.hint}`).not.toContain('mallory');
    expect(result.closest?.arn).toBe('arn:aws:iam::111122223333:role/eks-node-NodeInstanceRole-74RF4UBDUKL6');
  });

  it('renders Fargate access entries with the session name', async () => {
    const result = mapped(await mapIdentity(assumedRole('FargatePodExecutionRole', 'fargate-ip-192-168-1-1'), [accessEntries]));
    expect(result.user.username).toBe('system:node:fargate-ip-192-168-1-1');
    expect(result.user.groups).toEqual(['system:nodes', 'system:node-proxier']);
  });
});

describe('mapIdentity: reserved names', () => {
  it('lists the reserved username prefixes', () => {
    expect(RESERVED_USERNAME_PREFIXES).toEqual(['system:', 'eks:', 'aws:', 'amazon:', 'iam:']);
  });

  it('accepts the node rows EKS writes into aws-auth without an allow-list', async () => {
    const node = assumedRole('eks-node-NodeInstanceRole-74RF4UBDUKL6', 'i-0123456789abcdef0');
    const ec2PrivateDnsName = async (): Promise<string> => 'ip-10-0-0-1.ec2.internal';
    expect(mapped(await mapIdentity(node, [awsAuth], { ec2PrivateDnsName })).user.username).toBe('system:node:ip-10-0-0-1.ec2.internal');
  });

  it('refuses any other reserved username from aws-auth unless allow-listed', async () => {
    const source = parseAwsAuthConfigMap({
      kind: 'ConfigMap',
      data: { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Ops\n  username: system:ops:{{SessionName}}\n' },
    });
    const ops = assumedRole('Ops', 'alice');
    const refused = unmapped(await mapIdentity(ops, [source]));
    expect(refused.hint).toContain(
      "its username template 'system:ops:{{SessionName}}' gives a name with the reserved prefix 'system:'; allow it with MapOptions.reservedPrefixAllowList",
    );
    expect(refused.reason).not.toContain('system:ops');
    expect(`${refused.reason} ${refused.hint}`).not.toContain('alice');
    expect(mapped(await mapIdentity(ops, [source], { reservedPrefixAllowList: ['system:ops:'] })).user.username).toBe('system:ops:alice');
    expect((await mapIdentity(ops, [source], { reservedPrefixAllowList: ['system:masters'] })).mapped).toBe(false);
  });

  it('accepts the built-in node identity of node-type access entries without an allow-list', async () => {
    const result = mapped(
      await mapIdentity(assumedRole('NodeRole', 'i-0123456789abcdef0'), [accessEntries], {
        ec2PrivateDnsName: async () => 'ip-10-0-0-2.ec2.internal',
      }),
    );
    expect(result.user.username).toBe('system:node:ip-10-0-0-2.ec2.internal');
    expect(result.user.groups).toEqual(['system:nodes']);
  });

  it.each(['eks:admin', 'AWS:admin', 'amazon:x', 'iam:x', 'system:admin'])('refuses the custom username %s', async (username) => {
    const entries = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:user/alice', username }]);
    const result = unmapped(await mapIdentity(iamUser('alice'), [entries]));
    expect(result.hint).toContain('reserved prefix');
  });

  it('allows an allow-listed reserved prefix for custom usernames', async () => {
    const entries = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:user/alice', username: 'eks:alice' }]);
    expect(mapped(await mapIdentity(iamUser('alice'), [entries], { reservedPrefixAllowList: ['eks:'] })).user.username).toBe('eks:alice');
  });

  it.each(['', 'sys', 'node:'])('refuses the allow-list entry %j, which does not extend a reserved prefix', async (prefix) => {
    const entries = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:user/alice', username: 'eks:alice' }]);
    await expect(mapIdentity(iamUser('alice'), [entries], { reservedPrefixAllowList: ['system:node:', prefix] })).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: expect.stringContaining(`entry '${prefix}' does not start with a reserved prefix`),
    });
  });

  it('allows system: groups from aws-auth and file rows only', async () => {
    expect(mapped(await mapIdentity(iamUser('alice'), [awsAuth])).user.groups).toEqual(['system:masters']);
    const row: MappingRow = { source: 'custom', arn: 'arn:aws:iam::111122223333:user/alice', username: 'alice', groups: ['system:masters'] };
    expect(mapped(await mapIdentity(iamUser('alice'), [customSource([row], 'file')])).user.groups).toEqual(['system:masters']);
    for (const kind of ['access-entries', undefined] as const) {
      const result = unmapped(await mapIdentity(iamUser('alice'), [customSource([row], kind)]));
      expect(result.hint).toContain("its group template 'system:masters' gives a system: group");
    }
  });

  it('checks rendered groups, so a session name cannot make an access-entry group a system: group', async () => {
    const entries = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/Dev', kubernetesGroups: ['{{SessionName}}:masters'] }]);
    expect(mapped(await mapIdentity(assumedRole('Dev', 'dev'), [entries])).user.groups).toEqual(['dev:masters']);
    const result = unmapped(await mapIdentity(assumedRole('Dev', 'system'), [entries]));
    expect(result.hint).toContain('gives a system: group');
  });
});

describe('mapIdentity: rendered names', () => {
  const row = (username: string, groups: string[] = []): MappingSource =>
    customSource([{ source: 'custom', arn: 'arn:aws:iam::111122223333:user/alice', username, groups }], 'file');

  it.each([
    ['{{SessionName}}', [], 'the username renders empty'],
    ['a'.repeat(257), [], 'the username renders longer than 256 characters'],
    ['alice smith', [], 'the username renders with whitespace or control characters'],
    ['alice\u200b', [], 'the username renders with whitespace or control characters'],
    ['alice', ['ok', 'bad\tgroup'], 'group 2 renders with whitespace other than spaces, or control characters'],
    ['alice', ['bad\u200bgroup'], 'group 1 renders with whitespace other than spaces, or control characters'],
  ])('refuses the username %j with groups %j', async (username, groups, problem) => {
    const result = unmapped(await mapIdentity(iamUser('alice'), [row(username, groups)]));
    expect(result.hint).toContain(problem);
  });

  it('keeps a group with a space as written, as aws-iam-authenticator does', async () => {
    expect(mapped(await mapIdentity(iamUser('alice'), [row('alice', ['Dev Team'])])).user.groups).toEqual(['Dev Team']);
  });

  it('refuses usernames with a prefix reservedPrefixConfig reserves for the source kind only', async () => {
    const options = { reservedUsernamePrefixes: { file: ['admin:'] } };
    expect(unmapped(await mapIdentity(iamUser('alice'), [row('admin:alice')], options)).hint).toContain(
      "gives a name with the prefix 'admin:', which the server reserves for file sources (reservedPrefixConfig)",
    );
    const awsAuthOnly = { reservedUsernamePrefixes: { 'aws-auth': ['admin:'] } };
    expect(mapped(await mapIdentity(iamUser('alice'), [row('admin:alice')], awsAuthOnly)).user.username).toBe('admin:alice');
  });

  it('accepts a 256-character username', async () => {
    expect(mapped(await mapIdentity(iamUser('alice'), [row('a'.repeat(256))])).user.username).toHaveLength(256);
  });
});

describe('mapIdentity: accounts', () => {
  it('refuses identities from accounts outside the allow-list before asking any source', async () => {
    const match = vi.fn(() => undefined);
    const spy: MappingSource = { name: 'spy', match, candidates: () => [] };
    const result = unmapped(
      await mapIdentity(iamUser('alice', { account: '444455556666' }), [spy], { allowedAccounts: ['111122223333'] }),
    );
    expect(result.reason).toBe('account 444455556666 is not in the allowed accounts (MapOptions.allowedAccounts)');
    expect(match).not.toHaveBeenCalled();
    expect(mapped(await mapIdentity(iamUser('alice'), [awsAuth], { allowedAccounts: ['111122223333'] })).user.username).toBe('alice');
  });
});

describe('mapIdentity: explaining unmapped callers', () => {
  const admins = parseAwsAuthConfigMap({
    data: {
      mapRoles: [
        '- rolearn: arn:aws:iam::111122223333:role/Admin',
        '  username: admin',
        '- rolearn: arn:aws:iam::111122223333:role/ReadOnly',
        '  username: reader',
        '- rolearn: arn:aws:iam::444455556666:role/admin-dev',
        '  username: other-account',
      ].join('\n'),
    },
  });

  const NOT_MAPPED = 'is not mapped to a Kubernetes user; ask a cluster operator to add a mapping row or access entry for it ' +
    '(eksauth verify with the mappings names the nearest row)';

  it('tells the caller only that it is not mapped, and the operator the closest row of its account', async () => {
    const result = unmapped(await mapIdentity(assumedRole('admin-dev', 'alice@example.com'), [admins]));
    expect(result.reason).toBe(`arn:aws:iam::111122223333:role/admin-dev ${NOT_MAPPED}`);
    expect(result.hint).toBe('searched aws-auth; closest row of your account: role arn:aws:iam::111122223333:role/Admin in aws-auth');
    expect(result.closest?.arn).toBe('arn:aws:iam::111122223333:role/Admin');
  });

  it('breaks ties between equally close rows by precedence', async () => {
    const result = unmapped(await mapIdentity(assumedRole('admin-dev', 'alice'), [accessEntries, admins]));
    expect(result.hint).toBe('searched access-entries, aws-auth; closest row of your account: role arn:aws:iam::111122223333:role/Admin in access-entries');
    expect(result.closest?.source).toBe('access-entries');
  });

  it('never names a row of another account, however near', async () => {
    // admin-dev of 444455556666 is mapped; the same name in 444455556667 (or a mapAccounts row one digit off) is not.
    const accounts = parseAwsAuthConfigMap({ data: { mapAccounts: '- "444455556666"' } });
    for (const sources of [[admins], [accounts]]) {
      const result = unmapped(await mapIdentity(assumedRole('admin-dev', 'session-1', { account: '444455556667' }), sources));
      expect(result.reason).toBe(`arn:aws:iam::444455556667:role/admin-dev ${NOT_MAPPED}`);
      expect(result.hint).toMatch(/; no row names a principal of account 444455556667$/);
      expect(result.closest).toBeUndefined();
      expect(JSON.stringify(result)).not.toContain('444455556666');
    }
  });

  it('names nothing when the account has no rows, or there are no sources', async () => {
    const result = unmapped(await mapIdentity(iamUser('zed', { account: '999988887777' }), [admins]));
    expect(result.reason).toBe(`arn:aws:iam::999988887777:user/zed ${NOT_MAPPED}`);
    expect(result.hint).toBe('searched aws-auth; no row names a principal of account 999988887777');
    expect(unmapped(await mapIdentity(iamUser('zed'), [])).hint).toBe(
      'no mapping sources are configured; no row names a principal of account 111122223333',
    );
  });

  it('never puts the access key id or the session name in a reason or a hint', async () => {
    const caller = assumedRole('admin-dev', 'secret-session-name', { accessKeyId: 'ASIASECRETKEYID00001' });
    const results = [
      await mapIdentity(caller, [admins]),
      await mapIdentity(caller, [awsAuth], { allowedAccounts: ['444455556666'] }),
      await mapIdentity(assumedRole('eks-node-NodeInstanceRole-74RF4UBDUKL6', 'secret-session-name'), [awsAuth], {
        ec2PrivateDnsName: async () => 'x',
      }),
    ];
    for (const result of results) {
      const { reason, hint } = unmapped(result);
      expect(`${reason} ${hint}`).not.toContain('secret-session-name');
      expect(`${reason} ${hint}`).not.toContain('ASIASECRETKEYID00001');
    }
  });
});
