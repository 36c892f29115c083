/**
 * `eksauth doctor` against broken set-ups built for real: a test API server whose TokenReviews go to `eksauth server`
 * (access entries, then aws-auth, as EKS under API_AND_CONFIG_MAP), the emulator as STS and EKS (its cluster's
 * endpoint and CA are that API server's), and a kubeconfig per case. Each case must name the broken link and its
 * fix; the working set-up must say all is well, and real kubectl must agree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/diagnose/doctor.js';
import { createAccessEntry } from '../../src/aws/access-entries.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { webhookAuthenticator } from '../../src/testbed/webhook-client.js';
import { EKSAUTH_CLI, runEksauth } from '../support/eksauth.js';
import { writeKubeconfig, type ExecUserConfig, type KubeconfigUser } from '../support/kubeconfig.js';
import { freePort, hasCommand, runCommand, tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, mintToken, request, spawnServer, type ServerProcess } from '../server/helpers.js';

const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/doctor.test.ts: kubectl is not on PATH; skipped.');

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const arnOf = (cluster: string): string => `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${cluster}`;
const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const SERVICE_ACCOUNT_TOKEN = 'eksauth-server-sa-token';
/** IAM Identity Center roles, as IAM names them: under aws-reserved/sso.amazonaws.com/<region>/, with a random suffix. */
const sso = (permissionSet: string, suffix: string): { name: string; withPath: string } => ({
  name: `AWSReservedSSO_${permissionSet}_${suffix}`, withPath: `aws-reserved/sso.amazonaws.com/${REGION}/AWSReservedSSO_${permissionSet}_${suffix}`,
});
/** A node's instance: kubelet's credentials on EC2 are a session of the node role named after it. */
const NODE = { instanceId: 'i-0a1b2c3d4e5f60718', privateDnsName: 'ip-10-0-1-23.eu-west-1.compute.internal' };
const SSO = { dev: sso('Dev', '0123456789abcdef'), ops: sso('Ops', '1111222233334444'), audit: sso('Audit', '5555666677778888') };
/** kube-system/aws-auth: working rows, and the near misses (each with a comment saying what is wrong). */
const AWS_AUTH = {
  mapUsers: `- userarn: ${ALICE.arn}\n  username: alice\n  groups: [developers]\n`,
  mapRoles: [
    `- rolearn: ${role('teams/Dev')}\n  username: dev\n  groups: [developers]`,
    // Only the letter case differs from the role's ARN: ARNs match whatever their case.
    `- rolearn: ${role('VIEWER')}\n  username: viewer\n  groups: [viewers]`,
    // IAM Identity Center roles: without the suffix; with the suffix of an earlier provisioning; with the path.
    `- rolearn: ${role('AWSReservedSSO_Dev')}\n  username: "sso-dev:{{SessionName}}"\n  groups: [developers]`,
    `- rolearn: ${role('AWSReservedSSO_Ops_aaaabbbbccccdddd')}\n  username: "sso-ops:{{SessionName}}"\n  groups: [operators]`,
    `- rolearn: ${role(SSO.audit.withPath)}\n  username: "sso-audit:{{SessionName}}"\n  groups: [auditors]`,
    // A node role: its username is the instance's private DNS name, which EC2 gives.
    `- rolearn: ${role('NodeInstanceRole')}\n  username: "system:node:{{EC2PrivateDNSName}}"\n  groups: [system:bootstrappers, system:nodes]`,
    // The role of the same name in another account.
    `- rolearn: arn:aws:iam::444455556666:role/Deployer\n  username: deployer\n  groups: [deployers]`,
  ].join('\n'),
};

describe.skipIf(!HAS_KUBECTL)('eksauth doctor names the first broken link and its fix', () => {
  let api: TestApiServer;
  let otherApi: TestApiServer;
  let emulator: Emulator;
  let server: ServerProcess;
  const dir = tempDir();
  const awsAuthFile = join(dir, 'aws-auth.yaml');
  const awsEnv = (): Record<string, string> => ({
    AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey,
    AWS_ENDPOINT_URL_STS: emulator.url, AWS_ENDPOINT_URL_EKS: emulator.url, AWS_ENDPOINT_URL_EC2: emulator.url,
  });

  beforeAll(async () => {
    const port = String(await freePort());
    const stateDir = join(dir, 'state');
    const webhookKubeconfig = join(dir, 'webhook.yaml');
    const shared = ['-i', 'prod', '--port', port, '--state-dir', stateDir, '--generate-kubeconfig', webhookKubeconfig];
    const init = await runEksauth(['server', 'init', ...shared]);
    expect(init.code, init.stderr).toBe(0);
    api = await startTestApiServer({
      authenticate: webhookAuthenticator({ kubeconfigPath: webhookKubeconfig, version: 'v1', retry: { initialDelayMs: 50 } }),
      staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
    });
    otherApi = await startTestApiServer({ authenticate: () => Promise.resolve(undefined) });
    api.configMaps.put('kube-system', 'aws-auth', AWS_AUTH);
    // The same rows as a file, as `--aws-auth` takes them when the caller's credentials cannot read the ConfigMap.
    const block = (text: string): string => text.trimEnd().replace(/^/gm, '    ');
    writeFileSync(awsAuthFile, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapRoles: |\n${block(AWS_AUTH.mapRoles)}\n  mapUsers: |\n${block(AWS_AUTH.mapUsers)}\n`);
    const caData = Buffer.from(api.caPem).toString('base64');
    const config: EmulatorConfig = {
      identities: DEMO_EMULATOR_CONFIG.identities,
      roles: [
        ...['eks-admin', 'Unmapped', 'teams/Dev', 'Viewer', 'Deployer', 'NodeInstanceRole', ...Object.values(SSO).map((r) => r.withPath)].map((name) => ({ arn: role(name), trustedPrincipals: [ALICE.arn] })),
        { arn: role('BobOnly'), trustedPrincipals: [BOB.arn] },
      ],
      clusters: [
        { name: 'prod', region: REGION, endpoint: api.url, certificateAuthorityData: caData },
        { name: 'booting', region: REGION, endpoint: api.url, certificateAuthorityData: caData, status: 'CREATING' },
      ],
      instances: [{ ...NODE, region: REGION }],
    };
    emulator = await startEmulator(config);
    await createAccessEntry('prod', { principalArn: role('eks-admin'), kubernetesGroups: ['admins'] }, { region: REGION, credentials: ALICE, endpoint: emulator.url });
    const apiKubeconfig = await writeKubeconfig({ server: api.url, caPem: api.caPem, user: { token: SERVICE_ACCOUNT_TOKEN } });
    server = spawnServer([...shared, '--kubeconfig-pregenerated', '--kubeconfig', apiKubeconfig, '--ops-port', 'off', '--backend-mode', 'EKSAccessEntries,EKSConfigMap'],
      { ...awsEnv(), AWS_REGION: REGION });
    const caPem = readFileSync(join(stateDir, 'cert.pem'), 'utf8');
    await eventually(async () => (await request(`https://127.0.0.1:${port}/readyz`, { caPem }).catch(() => undefined))?.status === 200,
      `eksauth server ready (log so far: ${server.output()})`);
  });
  afterAll(async () => {
    server?.stop();
    await server?.exited;
    await api?.close();
    await otherApi?.close();
    await emulator?.close();
  });

  const exec = (args: string[], extra: Partial<ExecUserConfig> = {}): KubeconfigUser => ({
    exec: { command: EKSAUTH_CLI, interactiveMode: 'Never', args: ['token', ...args], ...extra },
  });
  const tokenArgs = (cluster = 'prod', region = REGION, more: string[] = []): string[] => ['--cluster-name', cluster, '--region', region, ...more];
  async function kubeconfigFor(user: KubeconfigUser, cluster = 'prod', caPem = api.caPem): Promise<string> {
    return writeKubeconfig({ server: api.url, caPem, user, name: arnOf(cluster) });
  }
  async function doctorOn(kubeconfig: string, env: Record<string, string | undefined> = awsEnv(), more: string[] = []): Promise<{ report: DoctorReport; code: number | null; stderr: string }> {
    const result = await runEksauth(['doctor', '--kubeconfig', kubeconfig, '-o', 'json', ...more], { env });
    return { report: JSON.parse(result.stdout) as DoctorReport, code: result.code, stderr: result.stderr };
  }
  /** The broken link: the last check, failed; every check before it held. */
  function brokenLink(report: DoctorReport): { check: string; detail: string; fix: string } {
    const last = report.checks.at(-1)!;
    expect(report.ok).toBe(false);
    expect(last.ok).toBe(false);
    expect(report.checks.slice(0, -1).every((c) => c.ok)).toBe(true);
    return { check: last.check, detail: last.detail, fix: last.fix ?? '' };
  }

  it('a working set-up: every link holds, all is well, and kubectl gets through as the same user', async () => {
    const kubeconfig = await kubeconfigFor(exec(tokenArgs()));
    const result = await runEksauth(['doctor', '--kubeconfig', kubeconfig], { env: awsEnv() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').filter((l) => l.startsWith('✓')).map((l) => l.split(':')[0])).toEqual([
      '✓ kubeconfig', '✓ exec', '✓ credentials', '✓ token', '✓ STS identity', '✓ cluster', '✓ endpoint', '✓ authentication mode', '✓ mapping', '✓ kubernetes',
    ]);
    expect(result.stdout).toContain('✓ mapping: aws-auth: alice [developers]');
    expect(result.stdout).toContain('✓ kubernetes: alice [developers, system:authenticated]');
    expect(result.stdout).toContain('all is well');
    const whoami = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json'], { env: awsEnv() });
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout).status.userInfo.username).toBe('alice');
  });

  it('a node role: {{EC2PrivateDNSName}} resolved through EC2 as the webhook resolves it; unresolved when doctor cannot call EC2, still mapped', async () => {
    const kubeconfig = await kubeconfigFor(exec(tokenArgs('prod', REGION, ['--role-arn', role('NodeInstanceRole'), '--session-name', NODE.instanceId])));
    const node = `system:node:${NODE.privateDnsName}`;
    const resolved = await doctorOn(kubeconfig);
    expect(resolved.code, JSON.stringify(resolved.report.checks.at(-1))).toBe(0);
    expect(resolved.report.checks.find((c) => c.check === 'mapping')?.detail).toBe(`aws-auth: ${node} [system:bootstrappers, system:nodes]`);
    expect(resolved.report.checks.find((c) => c.check === 'kubernetes')?.detail).toBe(`${node} [system:bootstrappers, system:nodes, system:authenticated]`);
    const unreachable = await doctorOn(kubeconfig, { ...awsEnv(), AWS_ENDPOINT_URL_EC2: `http://127.0.0.1:${await freePort()}`, AWS_MAX_ATTEMPTS: '1' });
    expect(unreachable.code, JSON.stringify(unreachable.report.checks.at(-1))).toBe(0);
    expect(unreachable.report.checks.find((c) => c.check === 'mapping')?.detail).toMatch(
      new RegExp(`^aws-auth: system:node:<private-DNS-name-of-${NODE.instanceId}> \\[system:bootstrappers, system:nodes\\]; EC2 did not answer doctor \\(.+\\); EKS looks the name up itself$`));
    expect(unreachable.report.checks.find((c) => c.check === 'kubernetes')?.detail).toBe(`${node} [system:bootstrappers, system:nodes, system:authenticated]`);
  });

  it('asks STS where the exec plugin does: AWS_ENDPOINT_URL_STS only in the exec env (as the offline kit writes it)', async () => {
    const user = exec(tokenArgs(), { env: { AWS_ENDPOINT_URL_STS: emulator.url } });
    const { report, code } = await doctorOn(await kubeconfigFor(user), { ...awsEnv(), AWS_ENDPOINT_URL_STS: undefined });
    expect(code, JSON.stringify(report.checks.at(-1))).toBe(0);
    expect(report.checks.find((c) => c.check === 'STS identity')?.detail).toMatch(/^arn:aws:iam::111122223333:user\/alice /);
  });

  it('no answer from STS is not a refusal: the fix is the network path', async () => {
    const user = exec(tokenArgs(), { env: { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${await freePort()}` } });
    const { report } = await doctorOn(await kubeconfigFor(user), { ...awsEnv(), AWS_ENDPOINT_URL_STS: undefined });
    const broken = brokenLink(report);
    expect(broken.check).toBe('STS identity');
    expect(broken.detail).toMatch(/^no answer from STS: /);
    expect(broken.fix).toMatch(/network path to STS/);
  });

  it('--profile in the exec args and another AWS_PROFILE in its env: noted on the exec line (the args win)', async () => {
    const user = exec(tokenArgs('prod', REGION, ['--profile', 'alice']), { env: { AWS_PROFILE: 'other' } });
    const config = join(dir, 'profiles');
    writeFileSync(config, `[profile alice]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n`);
    const { report } = await doctorOn(await kubeconfigFor(user), { ...awsEnv(), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: config });
    expect(report.checks.find((c) => c.check === 'exec')?.detail).toMatch(/note: --profile alice in the args wins over AWS_PROFILE=other in its env$/);
    expect(report.ok, JSON.stringify(report.checks.at(-1))).toBe(true);
  });

  it('an access entry wins for a role and doctor reports it, in JSON', async () => {
    const { report, code } = await doctorOn(await kubeconfigFor(exec(tokenArgs('prod', REGION, ['--role-arn', role('eks-admin')]))));
    expect(code).toBe(0);
    expect(report.checks.find((c) => c.check === 'mapping')?.detail).toBe('access-entries: arn:aws:sts::111122223333:assumed-role/eks-admin/EKSGetTokenAuth [admins]');
  });

  /** What kubectl gets through as with a kubeconfig: the username, or undefined when refused. */
  async function kubectlUser(kubeconfig: string): Promise<string | undefined> {
    const whoami = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json'], { env: awsEnv() });
    if (whoami.code !== 0) {
      expect(whoami.stderr).toContain('Unauthorized');
      return undefined;
    }
    return (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username;
  }

  it('a row that differs from the role’s ARN only in letter case maps it (on EKS as here): all is well, with a note; kubectl agrees', async () => {
    const kubeconfig = await kubeconfigFor(exec(tokenArgs('prod', REGION, ['--role-arn', role('Viewer')])));
    const { report, code } = await doctorOn(kubeconfig);
    expect(code, JSON.stringify(report.checks.at(-1))).toBe(0);
    expect(report.checks.find((c) => c.check === 'mapping')?.detail).toBe(`aws-auth: viewer [viewers]; the row writes ${role('VIEWER')}: ARNs match whatever their letter case, on EKS as here`);
    expect(await kubectlUser(kubeconfig)).toBe('viewer');
  });

  // The caller cannot read kube-system/aws-auth when no row maps it: its rows come from a file, as an operator gives them.
  it.each([
    {
      name: 'an IAM Identity Center role mapped without its suffix', as: SSO.dev.withPath,
      detail: `${role(SSO.dev.name)} matches no row; nearest: the aws-auth row for ${role('AWSReservedSSO_Dev')}, the IAM Identity Center role of permission set Dev without its suffix`,
      fix: `change rolearn: ${role('AWSReservedSSO_Dev')} to rolearn: ${role(SSO.dev.name)} in aws-auth`,
    },
    {
      name: 'an IAM Identity Center role mapped with the suffix of an earlier provisioning', as: SSO.ops.withPath,
      detail: `${role(SSO.ops.name)} matches no row; nearest: the aws-auth row for ${role('AWSReservedSSO_Ops_aaaabbbbccccdddd')}, the IAM Identity Center role of permission set Ops with the suffix _aaaabbbbccccdddd, not _1111222233334444 (the suffix is new each time the permission set is provisioned again)`,
      fix: `change rolearn: ${role('AWSReservedSSO_Ops_aaaabbbbccccdddd')} to rolearn: ${role(SSO.ops.name)} in aws-auth`,
    },
    {
      name: 'an IAM Identity Center role mapped with its path', as: SSO.audit.withPath,
      detail: `the aws-auth row for ${role(SSO.audit.withPath)} has an IAM path: EKS matches rows on the role ARN without path, so it maps nobody (IAM Identity Center roles have the path aws-reserved/sso.amazonaws.com/, which aws-auth leaves out)`,
      fix: `write rolearn: ${role(SSO.audit.name)} in aws-auth, or give the role an access entry (\`eksauth access plan\`)`,
      // eksauth's own webhook forgives the path (on purpose, see the README); EKS does not, and doctor checks for EKS.
      kubectl: 'sso-audit:EKSGetTokenAuth',
    },
    {
      name: 'a row for the role of the same name in another account', as: 'Deployer',
      detail: `${role('Deployer')} matches no row; a row names a role Deployer of another account (not shown), and rows match the account too`,
      fix: `map your own ARN, ${role('Deployer')} (account ${ACCOUNT}): \`aws eks create-access-entry --cluster-name prod --principal-arn ${role('Deployer')}\`, or a row in aws-auth`,
    },
  ])('the nearest miss: $name', async ({ as, detail, fix, kubectl }) => {
    const kubeconfig = await kubeconfigFor(exec(tokenArgs('prod', REGION, ['--role-arn', role(as)])));
    const { report, code, stderr } = await doctorOn(kubeconfig, awsEnv(), ['--aws-auth', awsAuthFile]);
    expect(brokenLink(report)).toEqual({ check: 'mapping', detail, fix });
    expect(code).toBe(1);
    expect(stderr).toBe(`eksauth: the chain breaks at mapping: ${fix} (ERR_CHAIN_BROKEN)\n`);
    // No other account's row, nor its account, in what doctor prints.
    expect(JSON.stringify(report)).not.toMatch(/444455556666|deployers/);
    expect(await kubectlUser(kubeconfig)).toBe(kubectl);
  });

  it.each([
    {
      name: 'no credentials',
      user: () => exec(tokenArgs()), env: (): Record<string, string | undefined> => ({ ...awsEnv(), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }),
      check: 'credentials', detail: /ERR_NO_CREDENTIALS/, fix: /aws configure/,
    },
    {
      name: 'an expired SSO session',
      user: () => exec(tokenArgs()),
      env: (): Record<string, string | undefined> => {
        const config = join(dir, 'sso-config');
        writeFileSync(config, '[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = eu-west-1\n');
        return { ...awsEnv(), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: 'sso', AWS_CONFIG_FILE: config };
      },
      check: 'credentials', detail: /ERR_SSO_SESSION_EXPIRED/, fix: /^aws sso login --profile sso$/,
    },
    { name: 'the wrong region in the exec args', user: () => exec(tokenArgs('prod', 'eu-central-1')), check: 'region', detail: /signed for eu-central-1, the cluster .*prod is in eu-west-1/, fix: /--region eu-west-1/ },
    { name: 'a v1alpha1 exec block', user: () => exec(tokenArgs(), { apiVersion: 'client.authentication.k8s.io/v1alpha1' }), check: 'exec', detail: /apiVersion client\.authentication\.k8s\.io\/v1alpha1/, fix: /v1beta1/ },
    { name: 'a binary not on PATH', user: (): KubeconfigUser => ({ exec: { command: 'eksauth-not-installed', args: ['token'] } }), check: 'exec', detail: /eksauth-not-installed is not on PATH/, fix: /full path/ },
    { name: 'a role the credentials cannot assume', user: () => exec(tokenArgs('prod', REGION, ['--role-arn', role('BobOnly')])), check: 'credentials', detail: /ERR_ASSUME_ROLE_DENIED/, fix: /trust policy/ },
    { name: 'an unmapped role', user: () => exec(tokenArgs('prod', REGION, ['--role-arn', role('Unmapped')])), check: 'mapping', detail: /role\/Unmapped matches no access entry/, fix: /create-access-entry .*role\/Unmapped/ },
    { name: 'a role whose aws-auth row has a path', user: () => exec(tokenArgs('prod', REGION, ['--role-arn', role('teams/Dev')])), check: 'mapping', detail: /row for .*role\/teams\/Dev has an IAM path/, fix: /rolearn: arn:aws:iam::111122223333:role\/Dev/ },
    { name: 'the wrong cluster name in the exec args', user: () => exec(tokenArgs('staging')), check: 'cluster name', detail: /name cluster staging, the kubeconfig's cluster is .*cluster\/prod/, fix: /--cluster-name prod/ },
    { name: 'an expired token', user: async (): Promise<KubeconfigUser> => ({ token: await mintToken(ALICE, 'prod', new Date(Date.now() - 20 * 60_000)) }), check: 'token', detail: /expired at/, fix: /exec plugin/ },
    { name: 'a cluster that is not ACTIVE', user: () => exec(tokenArgs('booting')), cluster: 'booting', check: 'cluster', detail: /cluster\/booting is CREATING/, fix: /wait until it is ACTIVE/ },
    { name: 'a CA that is not the cluster’s', user: () => exec(tokenArgs()), ca: () => otherApi.caPem, check: 'cluster', detail: /certificate-authority-data is not prod's CA/, fix: /update-kubeconfig --name prod/ },
  ])('$name', async ({ user, env, check, detail, fix, cluster, ca }) => {
    const kubeconfig = await kubeconfigFor(await user(), cluster, ca?.());
    const { report, code, stderr } = await doctorOn(kubeconfig, env?.());
    const broken = brokenLink(report);
    expect(broken.check).toBe(check);
    expect(broken.detail).toMatch(detail);
    expect(broken.fix).toMatch(fix);
    expect(code).toBe(1);
    expect(stderr).toBe(`eksauth: the chain breaks at ${check}: ${broken.fix} (ERR_CHAIN_BROKEN)\n`);
  });
});
