/**
 * Conformance with aws-iam-authenticator (pkg/token, pkg/arn, pkg/server, pkg/metrics, pkg/config/certs; v0.6.30 and
 * later): one row per behaviour, the reference's result beside it, each checked through eksauth's CLI (`token`,
 * `verify`, `server init`) or the HTTP answers of a running `eksauth server`, against the STS emulator.
 *
 * The server is started as operators start it, with no --sts-endpoint: it finds the emulator through
 * AWS_ENDPOINT_URL_STS, which is itself one of the rows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { encodeToken } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { eventually, request, review, type ReviewAnswer } from '../server/helpers.js';
import { EKSAUTH_CLI, parseExecCredential, runEksauth, tokenUrl } from '../support/eksauth.js';
import { cleanEnv, freePort, tempDir } from '../support/tools.js';

const CLUSTER = 'conformance';
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** The principals of aws-iam-authenticator's TestGetIdentityFromSTSResponse and TestUserARN, plus the odd ones. */
function identity(name: string, arn: string, userId: string): EmulatorIdentity {
  return { accessKeyId: `CONFORMANCE${name.toUpperCase()}`, secretAccessKey: `secret-${name}`, arn, userId };
}
const USER = identity('user', `arn:aws:iam::${ACCOUNT}:user/Alice`, 'AIDAIYCCCMMMMMMMMGGDA');
const ROOT = identity('root', `arn:aws:iam::${ACCOUNT}:root`, ACCOUNT);
const FED_ALICE = identity('fedalice', `arn:aws:sts::${ACCOUNT}:federated-user/Alice`, `${ACCOUNT}:Alice`);
const FED_BOB = identity('fedbob', `arn:aws:sts::${ACCOUNT}:federated-user/Bob`, `${ACCOUNT}:Bob`);
const ROLE_SESSION = identity('session', `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/Session`, 'AROAZZCCCNNNNNNNNFFFA:Session');
const ROLE_WITH_PATH = identity('pathrole', `arn:aws:sts::${ACCOUNT}:assumed-role/Org/Team/Admin/Session`, 'AROAZZCCCNNNNNNNNFFFB:Session');
const MALFORMED = identity('malformed', `arn:aws:sts::${ACCOUNT}:assumed-role/Broken/Session`, 'AROAZZCCCNNNNNNNNFFFC');
const OUTSIDER = identity('outsider', 'arn:aws:iam::210987654321:user/Mallory', 'AIDAOUTSIDEROOOOOOOOO');
const CONFIG: EmulatorConfig = { identities: [USER, ROOT, FED_ALICE, FED_BOB, ROLE_SESSION, ROLE_WITH_PATH, MALFORMED, OUTSIDER] };

// The reference's TestVerifyHTTPThrottling body: the STS error JSON with its quotes backslash-escaped.
const ESCAPED_THROTTLING_BODY = '{\\"Error\\":{\\"Code\\":\\"Throttling\\",\\"Message\\":\\"Rate exceeded\\",\\"Type\\":\\"Sender\\"},\\"RequestId\\":\\"8c2d3520-24e1-4d5c-ac55-7e226335f447\\"}';

const MAPPING = `mapRoles:
  - rolearn: arn:aws:iam::${ACCOUNT}:role/Org/Team/Admin
    username: team-admin
    groups: [admins]
mapAccounts:
  - "${ACCOUNT}"
`;

let emulator: Emulator;
let throttlingSts: Server;
let throttlingStsUrl: string;
let webhook: { url: string; caPem: string };
let opsUrl: string;
let server: ChildProcess;
let serverLog = '';
const tokens = new Map<EmulatorIdentity, string>();

/** `eksauth token` for `who`, as kubectl runs it. */
async function tokenOf(who: EmulatorIdentity): Promise<string> {
  const cached = tokens.get(who);
  if (cached !== undefined) return cached;
  const result = await runEksauth(['token', '--cluster-name', CLUSTER, '--region', REGION], {
    env: { AWS_ACCESS_KEY_ID: who.accessKeyId, AWS_SECRET_ACCESS_KEY: who.secretAccessKey },
  });
  const token = parseExecCredential(result).status.token;
  tokens.set(who, token);
  return token;
}

/** A token for an STS host `eksauth token` will not make (a region it does not know), signed as `who`. */
async function tokenForHost(who: EmulatorIdentity, hostname: string, signingRegion: string, partition: string): Promise<string> {
  const url = await presignGetCallerIdentity({
    credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
    clusterId: CLUSTER,
    endpoint: { hostname, signingRegion, partition },
  });
  return encodeToken(url);
}

/** `eksauth verify` with the token on stdin; the emulator is found through AWS_ENDPOINT_URL_STS unless `env` says. */
function verify(token: string, args: string[] = [], env: Record<string, string> = { AWS_ENDPOINT_URL_STS: emulator.url }) {
  return runEksauth(['verify', '-t', '-', '-i', CLUSTER, '-o', 'json', ...args], { input: token, env });
}

async function reviewAs(who: EmulatorIdentity): Promise<ReviewAnswer> {
  return review(webhook, await tokenOf(who));
}

async function userOf(who: EmulatorIdentity) {
  const answer = await reviewAs(who);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.status!.user!;
}

/** The server's uid and extra for `who` carry this principal id and session name, as the reference's do. */
async function expectPrincipal(who: EmulatorIdentity, principalId: string, sessionName: string): Promise<void> {
  const user = await userOf(who);
  expect(user.uid).toBe(`aws-iam-authenticator:${ACCOUNT}:${principalId}`);
  expect(user.extra).toMatchObject({ principalId: [principalId], sessionName: [sessionName] });
}

async function metricsText(): Promise<string> {
  return (await request(`${opsUrl}/metrics`)).text;
}

/** One behaviour: what aws-iam-authenticator does, and the check that eksauth does the same. */
interface ConformanceRow {
  behaviour: string;
  reference: string;
  check: () => Promise<void>;
}

const ROWS: ConformanceRow[] = [
  {
    behaviour: 'federated user: principal id is the whole UserId, no session name',
    reference: 'Identity.UserID "123456789012:Alice", SessionName "" (TestGetIdentityFromSTSResponse); uid aws-iam-authenticator:123456789012:123456789012:Alice',
    check: () => expectPrincipal(FED_ALICE, `${ACCOUNT}:Alice`, ''),
  },
  {
    behaviour: 'two federated users and the root user never share a uid',
    reference: 'uids …:123456789012:Alice, …:123456789012:Bob, …:123456789012 (root keeps its UserId whole)',
    check: async () => {
      const uids = await Promise.all([FED_ALICE, FED_BOB, ROOT].map(async (who) => (await userOf(who)).uid));
      expect(uids).toEqual([
        `aws-iam-authenticator:${ACCOUNT}:${ACCOUNT}:Alice`,
        `aws-iam-authenticator:${ACCOUNT}:${ACCOUNT}:Bob`,
        `aws-iam-authenticator:${ACCOUNT}:${ACCOUNT}`,
      ]);
    },
  },
  {
    behaviour: 'IAM user: principal id is the whole UserId',
    reference: 'Identity.UserID "AIDAIYCCCMMMMMMMMGGDA", SessionName ""',
    check: () => expectPrincipal(USER, 'AIDAIYCCCMMMMMMMMGGDA', ''),
  },
  {
    behaviour: 'assumed role: UserId split into principal id and session name',
    reference: 'Identity.UserID "AROAZZCCCNNNNNNNNFFFA", SessionName "Session"',
    check: () => expectPrincipal(ROLE_SESSION, 'AROAZZCCCNNNNNNNNFFFA', 'Session'),
  },
  {
    behaviour: 'assumed role with a malformed UserId is an STS error',
    reference: 'STSError "malformed UserID" → 403, authenticate_latency_seconds{result="sts_error"}',
    check: async () => {
      const verified = await verify(await tokenOf(MALFORMED));
      expect(verified.code, verified.stdout).toBe(6);
      expect(JSON.parse(verified.stdout).error).toMatchObject({ code: 'ERR_INVALID_IDENTITY' });
      const answer = await reviewAs(MALFORMED);
      expect(answer.status).toBe(403);
      expect(answer.body.status).toMatchObject({ authenticated: false, error: expect.stringContaining('malformed UserId') });
      expect(await metricsText()).toMatch(/^aws_iam_authenticator_authenticate_latency_seconds_count\{result="sts_error"\} [1-9]/m);
    },
  },
  {
    behaviour: 'extra carries sigs.k8s.io/aws-iam-authenticator/principalId',
    reference: 'userExtra["sigs.k8s.io/aws-iam-authenticator/principalId"] = UserID (v0.6.30), beside principalId',
    check: async () => {
      const user = await userOf(FED_BOB);
      expect(user.extra).toMatchObject({
        principalId: [`${ACCOUNT}:Bob`],
        'sigs.k8s.io/aws-iam-authenticator/principalId': [`${ACCOUNT}:Bob`],
      });
    },
  },
  {
    behaviour: 'assumed-role ARN whose role part has slashes maps through the role row',
    reference: 'assumed-role/Org/Team/Admin/Session → role Org/Team/Admin; mapRoles rolearn …:role/Org/Team/Admin matches',
    check: async () => {
      const user = await userOf(ROLE_WITH_PATH);
      expect(user).toMatchObject({ username: 'team-admin', groups: ['admins'] });
      // Deliberate difference: eksauth's canonical ARN drops IAM paths (the reference keeps role/Org/Team/Admin).
      expect(user.extra).toMatchObject({ canonicalArn: [`arn:aws:iam::${ACCOUNT}:role/Admin`], sessionName: ['Session'] });
    },
  },
  {
    behaviour: 'STS throttling with a backslash-escaped body: verify',
    reference: 'STSThrottling "sts getCallerIdentity was throttled" (TestVerifyHTTPThrottling)',
    check: async () => {
      const result = await verify(await tokenOf(USER), ['--sts-endpoint', throttlingStsUrl]);
      expect(result.code, result.stderr).toBe(6);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'ERR_STS_THROTTLED' });
    },
  },
  {
    behaviour: 'STS throttling: the server answers 429',
    reference: 'w.WriteHeader(http.StatusTooManyRequests), result="sts_throttling", sts_throttling_total{StsRegion}',
    check: async () => {
      emulator.setFault({ throttle: true, times: 1 });
      const answer = await review(webhook, await tokenForHost(USER, `sts.${REGION}.amazonaws.com`, REGION, 'aws'));
      expect(answer.status).toBe(429);
      const text = await metricsText();
      expect(text).toMatch(/^aws_iam_authenticator_authenticate_latency_seconds_count\{result="sts_throttling"\} 1$/m);
      expect(text).toMatch(/^aws_iam_authenticator_sts_throttling_total\{StsRegion="eu-west-1"\} 1$/m);
      expect(text).toMatch(/^aws_iam_authenticator_sts_responses_total\{ResponseCode="400",StsRegion="eu-west-1"\} 1$/m);
    },
  },
  {
    behaviour: 'operator-given region outside the SDK data, under its partition’s domains',
    reference: 'NewVerifier(_, "aws-cn", "not-a-region4") accepts sts.not-a-region4.amazonaws.com.cn (TestVerifyHostnames)',
    check: async () => {
      for (const host of ['sts.not-a-region4.amazonaws.com.cn', 'sts.not-a-region4.api.amazonwebservices.com.cn']) {
        const token = await tokenForHost(USER, host, 'not-a-region4', 'aws-cn');
        const accepted = await verify(token, ['--partition', 'aws-cn', '--sts-region', 'not-a-region4']);
        expect(accepted.code, accepted.stdout).toBe(0);
        expect(JSON.parse(accepted.stdout).token).toMatchObject({ host, partition: 'aws-cn', region: 'not-a-region4' });
        const refused = await verify(token, ['--partition', 'aws-cn']);
        expect(refused.code).toBe(3);
      }
    },
  },
  {
    behaviour: 'verify and server default to AWS_ENDPOINT_URL_STS',
    reference: 'every AWS SDK (and the emulator’s printed export): the STS address when none is given',
    check: async () => {
      const result = await verify(await tokenOf(USER));
      expect(result.code, result.stdout).toBe(0);
      expect(JSON.parse(result.stdout).identity).toMatchObject({ arn: USER.arn });
      // The server below was started with AWS_ENDPOINT_URL_STS and no --sts-endpoint, and every review row reaches STS.
      expect(serverLog).not.toMatch(/ENOTFOUND/);
    },
  },
  {
    behaviour: 'eksauth token: botocore’s parameter order, X-Amz-Signature last',
    reference: 'aws-iam-authenticator/botocore presigned URL: …&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=…',
    check: async () => {
      const query = tokenUrl(await tokenOf(USER)).search.slice(1);
      expect(query.split('&').map((pair) => pair.split('=')[0])).toEqual([
        'Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature',
      ]);
      expect(query).toMatch(/&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=[0-9a-f]{64}$/);
    },
  },
  {
    behaviour: 'server init: the certificate names exactly the hostname and address given',
    reference: 'certs.selfSignedCertificate: IP SAN for the address (unless unspecified), DNS or IP SAN for the hostname, nothing else',
    check: async () => {
      const stateDir = join(tempDir(), 'state');
      const result = await runEksauth(['server', 'init', '-i', CLUSTER, '--address', '10.1.2.3', '--hostname', 'eksauth.example.internal',
        '--port', '8443', '--state-dir', stateDir, '--generate-kubeconfig', join(stateDir, 'kubeconfig.yaml')]);
      expect(result.code, result.stderr).toBe(0);
      const certificate = new X509Certificate(readFileSync(join(stateDir, 'cert.pem')));
      expect(certificate.subjectAltName?.split(', ').sort()).toEqual(['DNS:eksauth.example.internal', 'IP Address:10.1.2.3']);
    },
  },
  {
    behaviour: 'metrics: the reference’s names, labels and result values',
    reference: 'pkg/metrics: authenticate_latency_seconds{result}, sts_responses_total{ResponseCode,StsRegion}, sts_connection_failures_total, ec2/configmap/dynamicfile counters',
    check: async () => {
      await request(webhook.url, { method: 'POST', body: 'not a TokenReview', caPem: webhook.caPem });
      await review(webhook, 'k8s-aws-v1.bm90IGEgdG9rZW4');
      expect((await reviewAs(OUTSIDER)).status).toBe(403);
      emulator.setFault({ latencyMs: 3_000, times: 1 });
      const slow = await review(webhook, await tokenForHost(USER, `sts.${REGION}.amazonaws.com`, REGION, 'aws'));
      expect(slow.status).toBe(503);
      const text = await metricsText();
      for (const result of ['success', 'malformed_request', 'invalid_token', 'uknown_user', 'sts_error']) {
        expect(text).toMatch(new RegExp(`^aws_iam_authenticator_authenticate_latency_seconds_count\\{result="${result}"\\} [1-9]`, 'm'));
      }
      expect(text).toMatch(/^aws_iam_authenticator_sts_responses_total\{ResponseCode="200",StsRegion="eu-west-1"\} [1-9]/m);
      expect(text).toMatch(/^aws_iam_authenticator_sts_connection_failures_total\{StsRegion="eu-west-1"\} 1$/m);
      for (const counter of ['ec2_describe_instances_calls_total', 'configmap_watch_failures_total', 'dynamicfile_failures_total']) {
        expect(text).toMatch(new RegExp(`^aws_iam_authenticator_${counter} 0$`, 'm'));
      }
      expect(text).toMatch(/^eksauth_reviews_total\{outcome="authenticated"\} [1-9]/m);
    },
  },
];

/** A stand-in STS answering every request as the reference's throttling test does. */
async function startThrottlingSts(): Promise<Server> {
  const sts = createServer((_req, res) => {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(ESCAPED_THROTTLING_BODY);
  });
  await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
  return sts;
}

async function startCliServer(): Promise<void> {
  const dir = tempDir();
  writeFileSync(join(dir, 'mapping.yaml'), MAPPING);
  const [port, opsPort] = [await freePort(), await freePort()];
  server = spawn(process.execPath, [
    EKSAUTH_CLI, 'server', '-i', CLUSTER, '--port', String(port), '--ops-port', String(opsPort), '--state-dir', join(dir, 'state'),
    '--mapping-file', join(dir, 'mapping.yaml'), '--review-timeout', '1s', '--cache-ttl', '0',
  ], { env: cleanEnv({ AWS_ENDPOINT_URL_STS: emulator.url }), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (chunk: Buffer) => { serverLog += chunk.toString('utf8'); });
  server.stderr?.on('data', (chunk: Buffer) => { serverLog += chunk.toString('utf8'); });
  opsUrl = `http://127.0.0.1:${opsPort}`;
  await eventually(async () => (await request(`${opsUrl}/readyz`).catch(() => undefined))?.status === 200, `eksauth server ready (log: ${serverLog})`);
  webhook = { url: `https://127.0.0.1:${port}/authenticate`, caPem: readFileSync(join(dir, 'state', 'cert.pem'), 'utf8') };
}

describe('conformance with aws-iam-authenticator: identity and verification', () => {
  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
    throttlingSts = await startThrottlingSts();
    throttlingStsUrl = `http://127.0.0.1:${(throttlingSts.address() as AddressInfo).port}`;
    await startCliServer();
  });
  afterAll(async () => {
    server?.kill('SIGTERM');
    throttlingSts?.close();
    await emulator?.close();
  });

  it.each(ROWS)('$behaviour (reference: $reference)', async ({ check }) => {
    await check();
  });
});
