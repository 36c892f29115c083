/**
 * The move to access entries, end to end with real kubectl: each principal's Kubernetes identity is read through
 * `kubectl auth whoami` while `eksauth server` maps with the aws-auth ConfigMap; then `eksauth access plan → apply →
 * check` runs against the emulator's EKS API, the cluster switches to `authenticationMode: API`, and a second
 * `eksauth server` maps with the EKSAccessEntries backend (the entries read back from the EKS API). Every principal
 * that `check` said keeps its access gets through kubectl with the username and groups `check` reported: those of
 * aws-auth, except `system:masters` (an access policy now) and, for the node roles, `system:bootstrappers` (EKS gives
 * node entries `system:nodes` and the type's own group). The node role signs in as kubelet does on EC2, with the instance id as its session name, and the webhook resolves
 * `{{EC2PrivateDNSName}}` with a real EC2 DescribeInstances call to the emulator.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../src/access/check.js';
import type { AccessPlan } from '../../src/access/plan.js';
import { describeAccessEntry, listAssociatedAccessPolicies, updateAuthenticationMode } from '../../src/aws/access-entries.js';
import { describeCluster } from '../../src/aws/eks.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { webhookAuthenticator } from '../../src/testbed/webhook-client.js';
import { EKSAUTH_CLI, runEksauth } from '../support/eksauth.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { freePort, hasCommand, runCommand, tempDir } from '../support/tools.js';
import { ALICE, eventually, request, spawnServer, type ServerProcess } from '../server/helpers.js';

const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/access-migration-kubectl.test.ts: kubectl is not on PATH; skipped.');

const CLUSTER = 'prod';
const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const SSO_ROLE = 'AWSReservedSSO_Dev_0123456789abcdef';
/** The node's instance: kubelet's credentials on EC2 are a session of the node role named after it. */
const NODE = { instanceId: 'i-0a1b2c3d4e5f60718', privateDnsName: 'ip-10-0-1-23.eu-west-1.compute.internal' };
/** A Fargate pod's kubelet: a session of the pod execution role named after its node. */
const FARGATE_NODE = 'fargate-ip-10-0-2-34.eu-west-1.compute.internal';
/** The roles kubectl signs in with, as the emulator knows them (the SSO role and Deployer with their IAM path). */
const ROLES = {
  admin: role('eks-admin'),
  node: role('NodeInstanceRole'),
  fargate: role('FargatePodExecutionRole'),
  sso: role(`aws-reserved/sso.amazonaws.com/${SSO_ROLE}`),
  auditor: role('Auditor'),
  deployer: role('teams/platform/Deployer'),
};
const CONFIG: EmulatorConfig = {
  identities: DEMO_EMULATOR_CONFIG.identities,
  roles: Object.values(ROLES).map((arn) => ({ arn, trustedPrincipals: [ALICE.arn] })),
  clusters: [{ name: CLUSTER, region: REGION, endpoint: 'https://127.0.0.1:1' }],
  instances: [{ ...NODE, region: REGION }],
};
const AWS_AUTH = {
  mapRoles: [
    `- rolearn: ${ROLES.admin}\n  username: "admin:{{SessionName}}"\n  groups: [system:masters]`,
    `- rolearn: ${ROLES.node}\n  username: "system:node:{{EC2PrivateDNSName}}"\n  groups: [system:bootstrappers, system:nodes]`,
    `- rolearn: ${ROLES.fargate}\n  username: "system:node:{{SessionName}}"\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]`,
    `- rolearn: ${role(SSO_ROLE)}\n  username: "dev:{{SessionName}}"\n  groups: [developers]`,
    `- rolearn: ${ROLES.deployer}\n  username: deployer\n  groups: [deployers]`,
    `- rolearn: ${ROLES.auditor}\n  username: "auditor:{{SessionName}}"\n  groups: [auditors]`,
  ].join('\n'),
  mapUsers: `- userarn: ${ALICE.arn}\n  username: alice\n  groups: [developers]\n`,
  mapAccounts: '- "444455556666"\n',
};
const SERVICE_ACCOUNT_TOKEN = 'eksauth-server-sa-token';

interface UserInfo {
  username: string;
  groups?: string[];
}

/** A test API server whose TokenReviews go to an `eksauth server` run with `backend`. */
async function startChain(dir: string, backend: string[], env: Record<string, string>): Promise<{ api: TestApiServer; apiKubeconfig: string; server: ServerProcess; close(): Promise<void> }> {
  const port = String(await freePort());
  const stateDir = join(dir, 'state');
  const webhookKubeconfig = join(dir, 'webhook.yaml');
  const shared = ['-i', CLUSTER, '--port', port, '--state-dir', stateDir, '--generate-kubeconfig', webhookKubeconfig];
  const init = await runEksauth(['server', 'init', ...shared]);
  expect(init.code, init.stderr).toBe(0);
  const api = await startTestApiServer({
    authenticate: webhookAuthenticator({ kubeconfigPath: webhookKubeconfig, version: 'v1', retry: { initialDelayMs: 50 } }),
    staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
  });
  api.configMaps.put('kube-system', 'aws-auth', AWS_AUTH);
  const apiKubeconfig = await writeKubeconfig({ server: api.url, caPem: api.caPem, user: { token: SERVICE_ACCOUNT_TOKEN } });
  const server = spawnServer([...shared, '--kubeconfig-pregenerated', '--kubeconfig', apiKubeconfig, '--ops-port', 'off', ...backend], env);
  const caPem = readFileSync(join(stateDir, 'cert.pem'), 'utf8');
  await eventually(async () => (await request(`https://127.0.0.1:${port}/readyz`, { caPem }).catch(() => undefined))?.status === 200,
    `eksauth server ready (log so far: ${server.output()})`);
  return {
    api,
    apiKubeconfig,
    server,
    close: async () => {
      server.stop();
      await server.exited;
      await api.close();
    },
  };
}

describe.skipIf(!HAS_KUBECTL)('aws-auth → access entries: the same Kubernetes identities through kubectl after the switch to API', () => {
  let emulator: Emulator;
  const dir = tempDir();
  const closers: (() => Promise<void>)[] = [];
  const awsEnv = (): Record<string, string> => ({
    AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey, AWS_REGION: REGION,
    AWS_ENDPOINT_URL_EKS: emulator.url, AWS_ENDPOINT_URL_STS: emulator.url, AWS_ENDPOINT_URL_EC2: emulator.url,
  });
  const eks = () => ({ region: REGION, credentials: ALICE, endpoint: emulator.url });
  const signIns: Record<string, string[]> = {
    [ALICE.arn]: [],
    [ROLES.admin]: ['--role-arn', ROLES.admin],
    [ROLES.node]: ['--role-arn', ROLES.node, '--session-name', NODE.instanceId],
    [ROLES.fargate]: ['--role-arn', ROLES.fargate, '--session-name', FARGATE_NODE],
    [ROLES.sso]: ['--role-arn', ROLES.sso],
    [ROLES.auditor]: ['--role-arn', ROLES.auditor],
    [ROLES.deployer]: ['--role-arn', ROLES.deployer],
  };

  async function whoami(api: TestApiServer, args: string[]): Promise<UserInfo | undefined> {
    const kubeconfig = await writeKubeconfig({
      server: api.url, caPem: api.caPem,
      user: { exec: { command: EKSAUTH_CLI, interactiveMode: 'Never', args: ['token', '--cluster-name', CLUSTER, '--region', REGION, ...args] } },
    });
    const result = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json'], { env: awsEnv() });
    if (result.code !== 0) return undefined;
    const { username, groups } = (JSON.parse(result.stdout) as { status: { userInfo: UserInfo } }).status.userInfo;
    return { username, groups: [...(groups ?? [])].sort() };
  }
  async function everyone(api: TestApiServer): Promise<Record<string, UserInfo | undefined>> {
    const entries = await Promise.all(Object.entries(signIns).map(async ([arn, args]) => [arn, await whoami(api, args)] as const));
    return Object.fromEntries(entries);
  }

  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
    // The ConfigMap manifest as `kubectl get configmap aws-auth -o yaml` prints it: each section a block string.
    const block = (text: string): string => text.trimEnd().replace(/^/gm, '    ');
    writeFileSync(join(dir, 'aws-auth.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapRoles: |\n${block(AWS_AUTH.mapRoles)}\n  mapUsers: |\n${block(AWS_AUTH.mapUsers)}\n  mapAccounts: |\n${block(AWS_AUTH.mapAccounts)}\n`);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await emulator?.close();
  });

  it('plan → apply → check, switch to API: whoever check says keeps access has the same username and groups', async () => {
    const before = await startChain(join(dir, 'configmap'), ['--backend-mode', 'EKSConfigMap'], awsEnv());
    closers.push(before.close);
    const aws = await everyone(before.api);
    // eksauth's aws-auth reading (unlike EKS's) strips a rolearn's path, so Deployer gets through it too.
    expect(Object.values(aws).every((user) => user !== undefined), JSON.stringify(aws)).toBe(true);

    const access = (args: string[]) => runEksauth(['access', ...args, '--cluster-name', CLUSTER, '--aws-auth', join(dir, 'aws-auth.yaml')], { env: awsEnv() });
    const plan = await access(['plan', '-o', 'json']);
    expect(plan.code, plan.stderr).toBe(0);
    // The same plan from the cluster's own kube-system/aws-auth, read through the Kubernetes API.
    const fromCluster = await runEksauth(['access', 'plan', '-o', 'json', '--cluster-name', CLUSTER, '--kubeconfig', before.apiKubeconfig], { env: awsEnv() });
    expect(fromCluster.code, fromCluster.stderr).toBe(0);
    expect(JSON.parse(fromCluster.stdout)).toEqual(JSON.parse(plan.stdout));
    const warned = (JSON.parse(plan.stdout) as AccessPlan).warnings.filter((w) => w.principal === ROLES.node).map((w) => w.message);
    expect(warned).toEqual(['grants system:bootstrappers, which EKS does not give EC2_LINUX entries (their groups are system:nodes): RBAC bindings to system:bootstrappers no longer apply to these nodes']);
    writeFileSync(join(dir, 'plan.json'), plan.stdout);
    const applied = await access(['apply', '--plan', join(dir, 'plan.json')]);
    expect(applied.code, applied.stderr).toBe(0);
    const checked = await access(['check', '-o', 'json']);
    expect(checked.stderr).toContain('1 principal would lose access under authenticationMode API (account 444455556666)');
    const check = JSON.parse(checked.stdout) as AccessCheck;
    const keeps = check.principals.filter((p) => p.verdict === 'keeps').map((p) => p.principal);
    expect(keeps.sort(), checked.stdout).toEqual([ALICE.arn, ROLES.admin, ROLES.node, ROLES.fargate, ROLES.sso, ROLES.auditor, ROLES.deployer].sort());

    await updateAuthenticationMode(CLUSTER, 'API', eks());
    expect((await describeCluster(CLUSTER, eks())).authenticationMode).toBe('API');
    const after = await startChain(join(dir, 'entries'), ['--backend-mode', 'EKSAccessEntries', '--access-entries-refresh-interval', '5s'], awsEnv());
    closers.push(after.close);
    const entries = await everyone(after.api);

    expect(entries[ROLES.node]).toEqual({ username: `system:node:${NODE.privateDnsName}`, groups: ['system:authenticated', 'system:nodes'] });
    expect(entries[ROLES.fargate]).toEqual({ username: `system:node:${FARGATE_NODE}`, groups: ['system:authenticated', 'system:node-proxier', 'system:nodes'] });
    expect((await describeAccessEntry(CLUSTER, ROLES.node, eks())).kubernetesGroups).toEqual(['system:nodes']);
    for (const { principal: arn, underApi } of check.principals.filter((p) => keeps.includes(p.principal) && p.principal in signIns)) {
      const was = aws[arn]!;
      // Under API, system:masters is AmazonEKSClusterAdminPolicy (associated by apply), and node entries have the groups
      // EKS gives node types, without aws-auth's system:bootstrappers (as the plan warned): what check reported.
      const dropped = new Set(['system:masters', ...(arn === ROLES.node || arn === ROLES.fargate ? ['system:bootstrappers'] : [])]);
      expect(entries[arn], arn).toEqual({ username: was.username, groups: was.groups?.filter((g) => !dropped.has(g)) });
      expect(entries[arn]?.groups, arn).toEqual([...(underApi?.groups ?? []), 'system:authenticated'].sort());
      if (was.groups?.includes('system:masters') === true) {
        expect((await listAssociatedAccessPolicies(CLUSTER, arn, eks())).map((p) => p.policyArn)).toEqual(['arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']);
      }
    }
    // Each node identity was looked up once per server: the webhook's EC2 cache answered the rest.
    expect(emulator.stats().byAction.DescribeInstances).toBe(2);
    expect(after.server.output()).not.toContain('X-Amz-Signature');
  });
});
