/**
 * The plan's and the check's rules, one by one, on aws-auth sections and existing entries given as data (the
 * end-to-end runs against the emulator are in test/e2e/access-migration*.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkAccessSwitch } from '../../src/access/check.js';
import { planAccessEntries, type ExistingAccessEntry } from '../../src/access/plan.js';

const role = (name: string): string => `arn:aws:iam::111122223333:role/${name}`;
const row = (arn: string, username: string, groups: string[] = []): string => `- rolearn: ${arn}\n  username: "${username}"\n  groups: [${groups.join(', ')}]\n`;
const plan = (mapRoles: string, existing: ExistingAccessEntry[] = [], roleArns: string[] = []) => planAccessEntries('prod', { mapRoles }, existing, { roleArns });
const entry = (principalArn: string, username: string, kubernetesGroups: string[], type: ExistingAccessEntry['entry']['type'] = 'STANDARD'): ExistingAccessEntry => ({
  entry: { principalArn, type, username, kubernetesGroups }, policies: [],
});

describe('access plan rules', () => {
  it('a Windows node row becomes EC2_WINDOWS', () => {
    expect(plan(row(role('Win'), 'system:node:{{EC2PrivateDNSName}}', ['system:bootstrappers', 'system:nodes', 'eks:kube-proxy-windows'])).entries[0]?.type).toBe('EC2_WINDOWS');
  });

  it('{{AccountID}} is written out; a username equal to EKS’s default is left to EKS', () => {
    const { entries, warnings } = plan(row(role('A'), 'a-{{AccountID}}:{{SessionName}}') + row(role('B'), 'arn:aws:sts::{{AccountID}}:assumed-role/B/{{SessionName}}'));
    expect(entries.map((e) => e.username)).toEqual(['a-111122223333:{{SessionName}}', undefined]);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['{{SessionName}}', /has no ':' before \{\{SessionName\}\}/],
    ['eks:ops', /starts with eks:, which access entries refuse/],
    ['node-{{EC2PrivateDNSName}}', /uses \{\{EC2PrivateDNSName\}\}/],
  ])('the username %s falls back to EKS’s default, with a warning', (username, why) => {
    const { entries, warnings } = plan(row(role('Ops'), username, ['ops']));
    expect(entries[0]).toMatchObject({ principalArn: role('Ops'), kubernetesGroups: ['ops'] });
    expect(entries[0]?.username).toBeUndefined();
    expect(warnings[0]?.message).toMatch(why);
    expect(warnings[0]?.message).toContain("the entry gets EKS's default arn:aws:sts::111122223333:assumed-role/Ops/{{SessionName}}");
  });

  it('--role-arn (or an existing entry) gives a pathless row its role’s path', () => {
    expect(plan(row(role('Dev'), 'dev'), [], [role('teams/Dev')]).entries[0]?.principalArn).toBe(role('teams/Dev'));
    const existing = [entry(role('teams/Dev'), 'dev', [])];
    expect(plan(row(role('Dev'), 'dev'), existing).entries[0]).toMatchObject({ principalArn: role('teams/Dev'), action: 'unchanged' });
  });

  it('a node row: its groups EKS does not give the node type are named; an existing node entry (with EKS’s groups) is unchanged', () => {
    const node = row(role('N'), 'system:node:{{EC2PrivateDNSName}}', ['system:bootstrappers', 'system:nodes']);
    const { entries, warnings } = plan(node);
    expect(entries[0]).toMatchObject({ type: 'EC2_LINUX', kubernetesGroups: [], action: 'create' });
    expect(warnings.map((w) => w.message)).toEqual([
      'grants system:bootstrappers, which EKS does not give EC2_LINUX entries (their groups are system:nodes): RBAC bindings to system:bootstrappers no longer apply to these nodes',
    ]);
    expect(plan(node, [entry(role('N'), 'system:node:{{EC2PrivateDNSName}}', ['system:nodes'], 'EC2_LINUX')]).entries[0]?.action).toBe('unchanged');
  });

  it('an existing entry of another type is left alone, with a warning', () => {
    const { entries, warnings } = plan(row(role('N'), 'system:node:{{EC2PrivateDNSName}}', ['system:bootstrappers', 'system:nodes']), [entry(role('N'), 'n', [])]);
    expect(entries[0]?.action).toBe('unchanged');
    expect(warnings.at(-1)?.message).toMatch(/has an access entry of type STANDARD, the row needs EC2_LINUX/);
  });

  it('a principal mapped twice: the first row, and a warning for the second', () => {
    const { entries, warnings } = plan(row(role('A'), 'first') + row(role('A'), 'second'));
    expect(entries.map((e) => e.username)).toEqual(['first']);
    expect(warnings[0]).toMatchObject({ from: 'aws-auth: data.mapRoles[1]' });
  });

  it('an sso row cannot carry over; the warning names the role to create an entry for', () => {
    const { entries, warnings } = plan('- sso: {permissionSetName: Admin, accountID: "111122223333"}\n  username: admin\n');
    expect(entries).toEqual([]);
    expect(warnings[0]?.message).toContain('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_<suffix>');
  });
});

describe('access check', () => {
  const awsAuth = { mapRoles: row(role('A'), 'a', ['as']) + row(role('B'), 'b', ['system:masters']) };

  it('under CONFIG_MAP only aws-auth counts now: an entry that differs is flagged as a change', () => {
    const check = checkAccessSwitch(awsAuth, [entry(role('A'), 'a2', ['as'])], 'CONFIG_MAP');
    expect(check.principals.map((p) => [p.principal, p.verdict, p.note])).toEqual([
      [role('A'), 'changes', 'username a → a2'],
      [role('B'), 'loses', 'no access entry: create one (`eksauth access plan`, then `apply`)'],
    ]);
    expect(check.anyoneLoses).toBe(true);
  });

  it('system:masters counts as AmazonEKSClusterAdminPolicy; an entry with no aws-auth row gains access under CONFIG_MAP', () => {
    const admin: ExistingAccessEntry = { ...entry(role('B'), 'b', []), policies: [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } }] };
    const check = checkAccessSwitch(awsAuth, [entry(role('A'), 'a', ['as']), admin, entry(role('C'), 'c', [])], 'CONFIG_MAP');
    expect(check.principals.map((p) => p.verdict)).toEqual(['keeps', 'keeps', 'gains']);
    expect(check.anyoneLoses).toBe(false);
  });

  it('a node row and its node entry: under CONFIG_MAP the node changes to the groups EKS gives the type; with entries on, it keeps them', () => {
    const fargate = { mapRoles: row(role('F'), 'system:node:{{SessionName}}', ['system:bootstrappers', 'system:nodes', 'system:node-proxier']) };
    const entries = [entry(role('F'), 'system:node:{{SessionName}}', ['system:nodes', 'system:node-proxier'], 'FARGATE_LINUX')];
    expect(checkAccessSwitch(fargate, entries, 'API_AND_CONFIG_MAP').principals.map((p) => p.verdict)).toEqual(['keeps']);
    const check = checkAccessSwitch(fargate, entries, 'CONFIG_MAP');
    expect(check.principals).toEqual([expect.objectContaining({
      verdict: 'changes',
      underApi: expect.objectContaining({ username: 'system:node:{{SessionName}}', groups: ['system:node-proxier', 'system:nodes'] }),
      note: 'groups [system:bootstrappers, system:node-proxier, system:nodes] → [system:node-proxier, system:nodes]',
    })]);
    expect(check.anyoneLoses).toBe(false);
  });
});
