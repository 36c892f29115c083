/**
 * Mapping conformance with aws-iam-authenticator, through the public surfaces only: `eksauth verify --mapping` (its
 * JSON answer) and the server's TokenReview answers, with real tokens verified by the STS emulator.
 *
 * One aws-auth ConfigMap holds every case at once — near-miss keys, a bad row among good ones, an `sso` row, an
 * assumed-role `rolearn`, a spaced group — and the same tokens (IAM user, role sessions, federated user, root) go to
 * both surfaces. Each row of the table says what the reference answers and, where eksauth answers differently on
 * purpose, why (`differs`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { eventually, logSink, mintToken, request, review } from '../server/helpers.js';
import { describeInstancesXml, forward, instanceIdsOf, startRecorder, type Recorder } from '../support/aws-recorder.js';
import { runEksauth } from '../support/eksauth.js';
import { tempDir } from '../support/tools.js';

const CLUSTER = 'conformance';
const ACCOUNT = '111122223333';
const SCRUBBED_ACCOUNT = '444455556666';
const SERVICE_ACCOUNT_TOKEN = 'eksauth-conformance-service-account-token';
const INSTANCE_ID = 'i-0123456789abcdef0';
const EC2_ROLE = `arn:aws:iam::${ACCOUNT}:role/ec2-describer`;
const SOURCE_ARN = `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/conformance`;

function identity(name: string, arn: string, userId: string, session = false): EmulatorIdentity {
  const key = `EKSAUTHCONF${name.toUpperCase().padEnd(9, '0')}`.slice(0, 20);
  return {
    accessKeyId: key,
    secretAccessKey: `eksauth/conformance/${name}/not+a+real+secret`,
    arn,
    userId,
    ...(session ? { sessionToken: `conformance-session-token-${name}` } : {}),
  };
}

const WHO = {
  alice: identity('alice', `arn:aws:iam::${ACCOUNT}:user/alice`, 'AIDACONFORMANCEALICE1'),
  bob: identity('bob', `arn:aws:iam::${ACCOUNT}:user/bob`, 'AIDACONFORMANCEBOB001'),
  root: identity('root', `arn:aws:iam::${ACCOUNT}:root`, ACCOUNT),
  carol: identity('carol', `arn:aws:sts::${ACCOUNT}:federated-user/carol`, `${ACCOUNT}:carol`),
  deployer: identity('deployer', `arn:aws:sts::${ACCOUNT}:assumed-role/Deployer/pipeline-7`, 'AROACONFORMANCEDEPLOY:pipeline-7', true),
  admin: identity('admin', `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/ops`, 'AROACONFORMANCEADMIN1:ops', true),
  pathed: identity('pathed', `arn:aws:sts::${ACCOUNT}:assumed-role/PathedRole/ci`, 'AROACONFORMANCEPATHED:ci', true),
  typo: identity('typo', `arn:aws:sts::${ACCOUNT}:assumed-role/Typo/ci`, 'AROACONFORMANCETYPO01:ci', true),
  ssoDev: identity('ssodev', `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/dana@example.com`, 'AROACONFORMANCESSODEV:dana@example.com', true),
  ssoDevAdmins: identity('ssoadm', `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Dev_Admins_fedcba9876543210/erin`, 'AROACONFORMANCESSOADM:erin', true),
  sam: identity('sam', `arn:aws:iam::${SCRUBBED_ACCOUNT}:user/sam`, 'AIDACONFORMANCESAM001'),
  node: identity('node', `arn:aws:sts::${ACCOUNT}:assumed-role/NodeRole/${INSTANCE_ID}`, `AROACONFORMANCENODE01:${INSTANCE_ID}`, true),
  // The server's own credentials, which assume the role for EC2 lookups.
  server: identity('server', `arn:aws:iam::${ACCOUNT}:user/eksauth-server`, 'AIDACONFORMANCESERVER'),
};
type Who = keyof typeof WHO;

const EMULATOR_CONFIG: EmulatorConfig = {
  identities: Object.values(WHO),
  roles: [{ arn: EC2_ROLE, trustedPrincipals: [WHO.server.arn] }],
};

/** The aws-auth ConfigMap's data, every case at once. */
const AWS_AUTH_DATA = {
  mapRoles: [
    '- rolearn: arn:aws:sts::111122223333:assumed-role/Deployer/any-session',
    '  username: deployer:{{SessionName}}',
    '  groups: [deployers]',
    '- rolearn: arn:aws:iam::111122223333:role/Admin',
    '  username: admin',
    '  groups: ["Dev Team", "platform"]',
    '- rolearn: not-an-arn',
    '  username: broken',
    '- sso:',
    '    permissionSetName: Dev',
    '    accountID: "111122223333"',
    '  username: sso-dev:{{SessionName}}',
    '  groups: [sso-devs]',
    '- rolearn: arn:aws:iam::111122223333:role/NodeRole',
    '  username: system:node:{{EC2PrivateDNSName}}',
    '  groups: [system:bootstrappers, system:nodes]',
    '- rolearn: arn:aws:iam::111122223333:role/teams/platform/PathedRole',
    '  username: pathed',
    '  groups: [pathed]',
    '',
  ].join('\n'),
  maproles: '- rolearn: arn:aws:iam::111122223333:role/Typo\n  username: typo\n',
  mapUsers: [
    '- userarn: arn:aws:iam::111122223333:user/alice',
    '  username: alice',
    '  groups: [developers]',
    '- userarn: arn:aws:iam::111122223333:user/bob',
    '  username: ops:bob',
    '- userarn: arn:aws:iam::111122223333:root',
    '  username: account-root',
    '  groups: [root-group]',
    '- userarn: arn:aws:sts::111122223333:federated-user/carol',
    '  username: carol',
    '',
  ].join('\n'),
  mapAccounts: `- "${SCRUBBED_ACCOUNT}"\n`,
};

const MANIFEST = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: AWS_AUTH_DATA });

interface Answer {
  /** undefined: refused (403, or `eksauth verify` exit 5). */
  username?: string;
  groups?: string[];
}

interface Case {
  behaviour: string;
  who: Who;
  /** What eksauth answers, through both `eksauth verify --mapping` and the server. */
  eksauth: Answer;
  /** What aws-iam-authenticator's EKSConfigMap backend answers for the same ConfigMap and token. */
  reference: Answer;
  /** Why eksauth answers differently, when it does. */
  differs?: string;
  /** `--feature-gates=SSORoleMatch=true` for this case. */
  ssoGate?: boolean;
  /** Checked through one surface only: the server here runs with SSORoleMatch on, and only it looks up EC2. */
  only?: 'verify' | 'server';
}

const REFUSED: Answer = {};

const CASES: Case[] = [
  { behaviour: 'IAM user row', who: 'alice', eksauth: { username: 'alice', groups: ['developers'] }, reference: { username: 'alice', groups: ['developers'] } },
  { behaviour: 'root row', who: 'root', eksauth: { username: 'account-root', groups: ['root-group'] }, reference: { username: 'account-root', groups: ['root-group'] } },
  { behaviour: 'federated user row', who: 'carol', eksauth: { username: 'carol', groups: [] }, reference: { username: 'carol', groups: [] } },
  {
    behaviour: 'a group with a space is kept as written', who: 'admin',
    eksauth: { username: 'admin', groups: ['Dev Team', 'platform'] }, reference: { username: 'admin', groups: ['Dev Team', 'platform'] },
  },
  {
    behaviour: 'data keys are exact: maproles maps nobody', who: 'typo', eksauth: REFUSED, reference: REFUSED,
  },
  {
    behaviour: 'rolearn given as an assumed-role ARN means the role', who: 'deployer',
    eksauth: { username: 'deployer:pipeline-7', groups: ['deployers'] }, reference: REFUSED,
    differs: 'the reference\'s EKSConfigMap backend compares rolearn as written, so it matches no session; its MountedFile, ' +
      'DynamicFile and CRD backends canonicalise it to the role, and eksauth does so in every backend',
  },
  {
    behaviour: 'rolearn with an IAM path matches the role\'s sessions', who: 'pathed',
    eksauth: { username: 'pathed', groups: ['pathed'] }, reference: REFUSED,
    differs: 'a session ARN carries no path, and the reference\'s EKSConfigMap compares rolearn as written, so a row with ' +
      'a path matches nobody (EKS\'s docs say to remove it); IAM role names are unique in an account whatever the path, ' +
      'so eksauth drops the path from the row and the row means the role it names',
  },
  {
    behaviour: 'sso row with SSORoleMatch on matches any suffix', who: 'ssoDev', ssoGate: true,
    eksauth: { username: 'sso-dev:dana-example.com', groups: ['sso-devs'] }, reference: { username: 'sso-dev:dana-example.com', groups: ['sso-devs'] },
  },
  {
    behaviour: 'sso row does not match another permission set whose name extends it', who: 'ssoDevAdmins', ssoGate: true,
    eksauth: REFUSED, reference: { username: 'sso-dev:erin', groups: ['sso-devs'] },
    differs: 'the reference globs AWSReservedSSO_Dev_*, which also matches the roles of permission set Dev_Admins; eksauth ' +
      'takes the suffix after the last underscore, so a Dev row never grants Dev_Admins users',
  },
  { behaviour: 'sso row with SSORoleMatch off is skipped', who: 'ssoDev', eksauth: REFUSED, reference: REFUSED, only: 'verify' },
  {
    behaviour: '{{EC2PrivateDNSName}} looked up as ec2DescribeInstancesRoleARN', who: 'node', only: 'server',
    eksauth: { username: `system:node:ip-${INSTANCE_ID}.us-west-2.compute.internal`, groups: ['system:bootstrappers', 'system:nodes'] },
    reference: { username: `system:node:ip-${INSTANCE_ID}.us-west-2.compute.internal`, groups: ['system:bootstrappers', 'system:nodes'] },
  },
  { behaviour: 'a bad row does not disable the good rows beside it', who: 'alice', eksauth: { username: 'alice', groups: ['developers'] }, reference: { username: 'alice', groups: ['developers'] } },
];

describe('mapping conformance with aws-iam-authenticator', () => {
  let emulator: Emulator;
  let api: TestApiServer;
  let server: RunningServer;
  let mappingFile: string;
  let sts: Recorder;
  let ec2: Recorder;
  const savedEnv = { ...process.env };
  const log = logSink();
  const tokens = new Map<Who, string>();
  const token = (who: Who): string => tokens.get(who) ?? '';

  beforeAll(async () => {
    emulator = await startEmulator(EMULATOR_CONFIG);
    api = await startTestApiServer({
      authenticate: async () => undefined,
      staticTokens: { [SERVICE_ACCOUNT_TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } },
    });
    api.configMaps.put('kube-system', 'aws-auth', AWS_AUTH_DATA);
    mappingFile = join(tempDir(), 'aws-auth.json');
    writeFileSync(mappingFile, MANIFEST);
    for (const who of Object.keys(WHO) as Who[]) tokens.set(who, await mintToken(WHO[who], CLUSTER));
    // The server finds STS and EC2, and its own credentials, the way the SDK does in a pod: from the environment.
    sts = await startRecorder((request, body) => forward(emulator.url, request, body));
    ec2 = await startRecorder(async (_request, body) => ({ status: 200, body: describeInstancesXml(instanceIdsOf(body)) }));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_STS: sts.url, AWS_ENDPOINT_URL_EC2: ec2.url,
      AWS_ACCESS_KEY_ID: WHO.server.accessKeyId, AWS_SECRET_ACCESS_KEY: WHO.server.secretAccessKey,
    });
    server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(tempDir(), 'state'), stsEndpoint: emulator.url,
      backendMode: ['EKSConfigMap'],
      featureGates: { SSORoleMatch: true, IAMIdentityMappingCRD: false, ConfiguredInitDirectories: false },
      scrubbedAccounts: [SCRUBBED_ACCOUNT],
      reservedPrefixConfig: { EKSConfigMap: ['ops:'] },
      region: 'us-west-2', ec2DescribeInstancesRoleArn: EC2_ROLE, sourceArn: SOURCE_ARN,
    }, { logDestination: log, kubernetes: { server: api.url, caPem: api.caPem, token: SERVICE_ACCOUNT_TOKEN } });
    await eventually(async () => (await review(server, token('alice'))).status === 200, 'the ConfigMap loaded');
  });
  afterAll(async () => {
    process.env = savedEnv;
    await server?.close();
    await Promise.all([api?.close(), sts?.close(), ec2?.close()]);
    await emulator?.close();
  });

  async function verify(who: Who, extra: string[] = []): Promise<{ code: number | null; answer: Answer; stderr: string }> {
    const result = await runEksauth(
      ['verify', '-t', '-', '-i', CLUSTER, '--sts-endpoint', emulator.url, '--mapping', mappingFile, '-o', 'json', ...extra],
      { input: token(who) },
    );
    const report = JSON.parse(result.stdout) as { mapping?: { mapped: boolean; user?: { username: string; groups: string[] } } };
    const user = report.mapping?.mapped === true ? report.mapping.user : undefined;
    return { code: result.code, answer: user === undefined ? REFUSED : { username: user.username, groups: user.groups }, stderr: result.stderr };
  }

  async function serverAnswer(who: Who): Promise<Answer> {
    const { status, body } = await review(server, token(who));
    const user = body.status?.user;
    return status === 200 && user?.username !== undefined ? { username: user.username, groups: user.groups ?? [] } : REFUSED;
  }

  describe.each(CASES)('$behaviour ($who)', (row) => {
    if (row.only !== 'server') {
      it('eksauth verify --mapping answers as the table says', async () => {
        const { code, answer } = await verify(row.who, row.ssoGate === true ? ['--feature-gates', 'SSORoleMatch=true'] : []);
        expect(answer).toEqual(row.eksauth);
        expect(code).toBe(row.eksauth.username === undefined ? 5 : 0);
      });
    }

    if (row.only !== 'verify') {
      it('the server answers the same TokenReview', async () => {
        expect(await serverAnswer(row.who)).toEqual(row.eksauth);
      });
    }

    it('matches the reference unless the table says why not', () => {
      if (row.differs === undefined) expect(row.eksauth).toEqual(row.reference);
      else expect(row.eksauth).not.toEqual(row.reference);
    });
  });

  it('warns about the near-miss key and the bad row in verify, naming the key EKS reads', async () => {
    const { stderr } = await verify('alice');
    expect(stderr).toContain('data.maproles is not read (keys are case-sensitive): EKS reads mapRoles; rename the key');
    expect(stderr).toContain("data.mapRoles[2].rolearn is not usable: 'not-an-arn'");
    expect(stderr).toContain('data.mapRoles[3] is an sso row, which needs --feature-gates=SSORoleMatch=true; row skipped');
  });

  it('counts the near-miss key and the bad row in the server metrics, and serves the rest', async () => {
    const metrics = (await request(server.url.replace('/authenticate', '/metrics'), { caPem: server.caPem })).text;
    expect(metrics).toContain('eksauth_mapping_skipped_total{source="configmap:kube-system/aws-auth",kind="near-miss-key"} 1');
    expect(metrics).toContain('eksauth_mapping_skipped_total{source="configmap:kube-system/aws-auth",kind="invalid-row"} 1');
    expect(metrics).toContain('eksauth_mapping_source_healthy{source="configmap:kube-system/aws-auth"} 1');
  });

  it('reservedPrefixConfig refuses a username its backend reserves, as the reference (server only)', async () => {
    expect(await serverAnswer('bob')).toEqual(REFUSED);
    expect((await verify('bob')).answer).toEqual({ username: 'ops:bob', groups: [] });
  });

  it('scrubbedAccounts: the answer carries the administrative uid and no extra, and the log no ARN', async () => {
    const { status, body } = await review(server, token('sam'));
    expect(status).toBe(200);
    expect(body.status?.user).toEqual({
      username: `arn:aws:iam::${SCRUBBED_ACCOUNT}:user/sam`,
      uid: `aws-iam-authenticator:administrative:arn:aws:iam::${SCRUBBED_ACCOUNT}:user/sam`,
      groups: [],
      extra: {},
    });
    const granted = log.entries().filter((entry) => entry.msg === 'access granted' && entry.username === `arn:aws:iam::${SCRUBBED_ACCOUNT}:user/sam`);
    expect(granted).not.toEqual([]);
    for (const entry of granted) expect(entry).not.toHaveProperty('arn');
    for (const entry of granted) expect(entry).not.toHaveProperty('principalId');
  });

  it('looks up EC2 as ec2DescribeInstancesRoleARN, sending sourceARN as the reference does', async () => {
    await serverAnswer('node');
    const assume = sts.requests.find((request) => request.body.includes('Action=AssumeRole'));
    expect(assume).toMatchObject({ status: 200, headers: { 'x-amz-source-arn': SOURCE_ARN, 'x-amz-source-account': ACCOUNT } });
    expect(assume?.body).toContain(`RoleArn=${encodeURIComponent(EC2_ROLE)}`);
    expect(ec2.requests.map((request) => instanceIdsOf(request.body))).toEqual([[INSTANCE_ID]]);
    expect(ec2.requests[0]?.headers.authorization).not.toContain(WHO.server.accessKeyId);
    const metrics = (await request(server.url.replace('/authenticate', '/metrics'), { caPem: server.caPem })).text;
    expect(metrics).toContain(`aws_iam_authenticator_ec2_describe_instances_calls_total ${ec2.requests.length}`);
  });

  it('keeps the uid and extra of other accounts as the reference sets them', async () => {
    const { body } = await review(server, token('alice'));
    expect(body.status?.user?.uid).toBe('aws-iam-authenticator:111122223333:AIDACONFORMANCEALICE1');
    expect(body.status?.user?.extra?.arn).toEqual([WHO.alice.arn]);
  });
});
