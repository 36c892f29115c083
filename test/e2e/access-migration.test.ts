/**
 * `eksauth access plan → apply → check` with the real CLI against the emulator's EKS access-entry API, for an
 * aws-auth with users, roles, node roles, Fargate, an SSO role, mapAccounts, a role with a path and the rows that
 * cannot carry over.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../src/access/check.js';
import type { AccessPlan } from '../../src/access/plan.js';
import { describeAccessEntry, listAccessEntries, listAssociatedAccessPolicies, updateAuthenticationMode } from '../../src/aws/access-entries.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { runEksauth } from '../support/eksauth.js';
import { tempDir } from '../support/tools.js';

const ACCOUNT = '111122223333';
const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const SSO_ROLE = 'AWSReservedSSO_Dev_0123456789abcdef';
const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const CONFIG: EmulatorConfig = {
  ...DEMO_EMULATOR_CONFIG,
  clusters: [
    { name: 'prod', region: 'eu-west-1', endpoint: 'https://127.0.0.1:1' },
    { name: 'legacy', region: 'eu-west-1', endpoint: 'https://127.0.0.1:1', authenticationMode: 'CONFIG_MAP' },
  ],
};
/** The ConfigMap manifest as `kubectl get configmap aws-auth -o yaml` prints it. */
export const AWS_AUTH = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: ${role('eks-admin')}
      username: "admin:{{SessionName}}"
      groups: [system:masters]
    - rolearn: ${role('NodeInstanceRole')}
      username: "system:node:{{EC2PrivateDNSName}}"
      groups: [system:bootstrappers, system:nodes]
    - rolearn: ${role('FargatePodExecutionRole')}
      username: "system:node:{{SessionName}}"
      groups: [system:bootstrappers, system:nodes, system:node-proxier]
    - rolearn: ${role(SSO_ROLE)}
      username: "dev:{{SessionName}}"
      groups: [developers]
    - rolearn: ${role('teams/platform/Deployer')}
      username: deployer
      groups: [deployers]
    - rolearn: ${role('AWSServiceRoleForAmazonEKSNodegroup')}
      username: "eks:node-manager"
      groups: []
    - rolearn: ${role('Auditor')}
      username: "auditor-{{AccessKeyID}}"
      groups: [auditors, system:monitoring]
  mapUsers: |
    - userarn: ${ALICE!.arn}
      username: alice
      groups: [developers, system:masters]
  mapAccounts: |
    - "444455556666"
`;

describe('eksauth access plan → apply → check against the emulator', () => {
  let emulator: Emulator;
  const dir = tempDir();
  const awsAuthFile = join(dir, 'aws-auth.yaml');
  const planFile = join(dir, 'plan.json');
  const env = (): Record<string, string> => ({
    AWS_ACCESS_KEY_ID: ALICE!.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE!.secretAccessKey, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_EKS: emulator.url,
  });
  const eks = () => ({ region: 'eu-west-1', credentials: ALICE!, endpoint: emulator.url });
  const access = (args: string[]) => runEksauth(['access', ...args, '--cluster-name', 'prod', '--aws-auth', awsAuthFile], { env: env() });

  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
    writeFileSync(awsAuthFile, AWS_AUTH);
  });
  afterAll(async () => emulator?.close());

  it('plans one entry per row that can carry over, with the policy for system:masters and a warning for each loss', async () => {
    const result = await access(['plan', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    writeFileSync(planFile, result.stdout);
    const plan = JSON.parse(result.stdout) as AccessPlan;
    expect(plan.entries.map(({ principalArn, type, username, kubernetesGroups, policies, action }) => ({ principalArn, type, username, kubernetesGroups, policies, action }))).toEqual([
      { principalArn: role('eks-admin'), type: 'STANDARD', username: 'admin:{{SessionName}}', kubernetesGroups: [], policies: [{ policyArn: ADMIN_POLICY, accessScope: { type: 'cluster' } }], action: 'create' },
      { principalArn: role('NodeInstanceRole'), type: 'EC2_LINUX', kubernetesGroups: [], policies: [], action: 'create' },
      { principalArn: role('FargatePodExecutionRole'), type: 'FARGATE_LINUX', kubernetesGroups: [], policies: [], action: 'create' },
      { principalArn: role(`aws-reserved/sso.amazonaws.com/${SSO_ROLE}`), type: 'STANDARD', username: 'dev:{{SessionName}}', kubernetesGroups: ['developers'], policies: [], action: 'create' },
      { principalArn: role('teams/platform/Deployer'), type: 'STANDARD', username: 'deployer', kubernetesGroups: ['deployers'], policies: [], action: 'create' },
      { principalArn: role('Auditor'), type: 'STANDARD', kubernetesGroups: ['auditors'], policies: [], action: 'create' },
      { principalArn: ALICE!.arn, type: 'STANDARD', username: 'alice', kubernetesGroups: ['developers'], policies: [{ policyArn: ADMIN_POLICY, accessScope: { type: 'cluster' } }], action: 'create' },
    ]);
    const warnings = plan.warnings.map((w) => `${w.from}: ${w.message}`).join('\n');
    expect(warnings).toMatch(/mapRoles\[3\]: is an IAM Identity Center role: its ARN has the path aws-reserved\/sso\.amazonaws\.com\//);
    expect(warnings).toMatch(/mapRoles\[4\]: has an IAM path in its rolearn: EKS matches aws-auth rows on the role ARN without path/);
    expect(warnings).toMatch(/mapRoles\[5\]: is a service-linked role/);
    expect(warnings).toMatch(/mapRoles\[6\]: has the username auditor-\{\{AccessKeyID\}\}, which uses \{\{AccessKeyID\}\}/);
    expect(warnings).toMatch(/mapRoles\[6\]: grants system:monitoring, which access entries refuse/);
    expect(warnings).toMatch(/mapAccounts\[0\]: maps every principal of account 444455556666/);
    // EKS gives node entries system:nodes (and Fargate's system:node-proxier), not system:bootstrappers.
    expect(warnings).toMatch(/mapRoles\[1\]: grants system:bootstrappers, which EKS does not give EC2_LINUX entries \(their groups are system:nodes\)/);
    expect(warnings).toMatch(/mapRoles\[2\]: grants system:bootstrappers, which EKS does not give FARGATE_LINUX entries \(their groups are system:nodes, system:node-proxier\)/);
    expect(plan.warnings).toHaveLength(8);
  });

  it('prints the plan as text with the policies and the warnings', async () => {
    const result = await access(['plan']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`create    ${role('eks-admin')} STANDARD: username admin:{{SessionName}}, groups []`);
    expect(result.stdout).toContain(`+ ${ADMIN_POLICY} (cluster)`);
    expect(result.stdout).toContain(`create    ${role('NodeInstanceRole')} EC2_LINUX: node identity set by EKS`);
    expect(result.stdout).toContain('! aws-auth: data.mapAccounts[0]: maps every principal of account 444455556666');
  });

  it('check before apply: everyone would lose access under API, exit 1 with one line naming them', async () => {
    const result = await access(['check', '-o', 'json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^eksauth: 7 principals would lose access under authenticationMode API \(.*\); run `eksauth access plan` and `apply` before the switch \(ERR_ACCESS_WOULD_BE_LOST\)\n$/);
    const check = JSON.parse(result.stdout) as AccessCheck;
    expect(check.mode).toBe('API_AND_CONFIG_MAP');
    expect(check.principals.filter((p) => p.verdict === 'loses').map((p) => p.principal).sort()).toEqual(
      [role('eks-admin'), role('NodeInstanceRole'), role('FargatePodExecutionRole'), role(SSO_ROLE), role('Auditor'), ALICE!.arn, 'account 444455556666'].sort());
  });

  it('apply --dry-run makes no call; apply creates and associates; a second apply has nothing to do', async () => {
    const dry = await access(['apply', '--plan', planFile, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would call CreateAccessEntry ${role('NodeInstanceRole')}: type EC2_LINUX`);
    expect(await listAccessEntries('prod', eks())).toEqual([]);

    const applied = await access(['apply', '--plan', planFile, '-o', 'json']);
    expect(applied.code, applied.stderr).toBe(0);
    const { steps } = JSON.parse(applied.stdout) as { steps: { call: string; principalArn: string }[] };
    expect(steps.filter((s) => s.call === 'CreateAccessEntry')).toHaveLength(7);
    expect(steps.filter((s) => s.call === 'AssociateAccessPolicy').map((s) => s.principalArn)).toEqual([role('eks-admin'), ALICE!.arn]);
    expect((await describeAccessEntry('prod', role('NodeInstanceRole'), eks())).username).toBe('system:node:{{EC2PrivateDNSName}}');
    expect((await listAssociatedAccessPolicies('prod', ALICE!.arn, eks())).map((p) => p.policyArn)).toEqual([ADMIN_POLICY]);

    const again = await access(['apply', '--plan', planFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('nothing to do: the access entries of prod already match the plan\n');
  });

  it('updates an entry that exists with other groups (which eksctl cannot), and plans it as an update', async () => {
    const { updateAccessEntry } = await import('../../src/aws/access-entries.js');
    await updateAccessEntry('prod', ALICE!.arn, { kubernetesGroups: ['somebody-else'] }, eks());
    const plan = JSON.parse((await access(['plan', '-o', 'json'])).stdout) as AccessPlan;
    expect(plan.entries.find((e) => e.principalArn === ALICE!.arn)?.action).toBe('update');
    const result = await access(['apply']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`done UpdateAccessEntry ${ALICE!.arn}: username alice, groups [developers]\n`);
    expect((await describeAccessEntry('prod', ALICE!.arn, eks())).kubernetesGroups).toEqual(['developers']);
  });

  it('check after apply: every entry already wins over its aws-auth row, so all keep access; mapAccounts still loses', async () => {
    const result = await access(['check', '-o', 'json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('1 principal would lose access under authenticationMode API (account 444455556666)');
    const verdicts = Object.fromEntries((JSON.parse(result.stdout) as AccessCheck).principals.map((p) => [p.principal, p.verdict]));
    expect(verdicts).toEqual({
      [role('eks-admin')]: 'keeps',
      [role('NodeInstanceRole')]: 'keeps',
      [role('FargatePodExecutionRole')]: 'keeps',
      [role(`aws-reserved/sso.amazonaws.com/${SSO_ROLE}`)]: 'keeps',
      // Its entry already wins over aws-auth (where the path made the row match nobody on EKS).
      [role('teams/platform/Deployer')]: 'keeps',
      [role('Auditor')]: 'keeps',
      [ALICE!.arn]: 'keeps',
      'account 444455556666': 'loses',
    });
  });

  it('a CONFIG_MAP cluster: the plan says to allow access entries first; check compares with aws-auth alone', async () => {
    const legacy = (args: string[]) => runEksauth(['access', ...args, '--cluster-name', 'legacy', '--aws-auth', awsAuthFile], { env: env() });
    const planned = await legacy(['plan', '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as AccessPlan;
    expect(plan.entries.every((e) => e.action === 'create')).toBe(true);
    expect(plan.warnings.at(-1)?.message).toMatch(/^legacy is in authenticationMode CONFIG_MAP, which takes no access entries: `aws eks update-cluster-config --name legacy --access-config authenticationMode=API_AND_CONFIG_MAP` before apply/);
    const checked = await legacy(['check', '-o', 'json']);
    expect(checked.code).toBe(1);
    expect((JSON.parse(checked.stdout) as AccessCheck).mode).toBe('CONFIG_MAP');
  });

  it('stops at the first failing call, naming it and what was done before', async () => {
    await updateAuthenticationMode('prod', 'API', eks());
    const plan = JSON.parse((await access(['plan', '-o', 'json'])).stdout) as AccessPlan;
    const broken: AccessPlan = {
      ...plan,
      entries: [
        { principalArn: role('Fresh'), type: 'STANDARD', kubernetesGroups: ['fresh'], policies: [], action: 'create', from: 'test' },
        { principalArn: role('Broken'), type: 'STANDARD', kubernetesGroups: ['system:masters'], policies: [], action: 'create', from: 'test' },
        { principalArn: role('Never'), type: 'STANDARD', kubernetesGroups: [], policies: [], action: 'create', from: 'test' },
      ],
    };
    writeFileSync(planFile, JSON.stringify(broken));
    const result = await access(['apply', '--plan', planFile]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`done CreateAccessEntry ${role('Fresh')}: type STANDARD, username (EKS default), groups [fresh]\n`);
    expect(result.stderr).toMatch(new RegExp(`^eksauth: stopped at CreateAccessEntry for ${role('Broken')}: .*system:.*; done before it: CreateAccessEntry ${role('Fresh')}; fix the cause and run apply again \\(it skips what is done\\) \\(ERR_ACCESS_APPLY\\)\\n$`));
    expect(await listAccessEntries('prod', eks())).not.toContain(role('Never'));
  });
});
