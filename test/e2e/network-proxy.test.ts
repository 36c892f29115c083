/**
 * Every AWS call eksauth makes, through a real CONNECT proxy on loopback (test/support/connect-proxy.mjs, its own
 * process) in front of the emulator served over HTTPS with a CA of the test's own: the proxy's log names the
 * emulator's host:port for each kind of call; NO_PROXY bypasses it; a proxy that refuses, a CA bundle that does not
 * trust the emulator and a blackholed endpoint each end in one stderr line with a stable code; `--no-verify-ssl`
 * works, with its warning. The aws CLI (v1, botocore) runs through the same proxy as the reference.
 */
import { exitStatusOf, type ErrorCode } from '../../src/errors.js';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEc2PrivateDnsResolver } from '../../src/authn/mapping/ec2-private-dns.js';
import { verifyToken } from '../../src/authn/verify.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { createServerMetrics } from '../../src/server/metrics.js';
import { createStsPool } from '../../src/server/sts-pool.js';
import { createSelfSignedCertificate } from '../../src/server/tls.js';
import { describeInstancesXml, instanceIdsOf } from '../support/aws-recorder.js';
import { startBlackhole, startConnectProxy, type Blackhole, type ConnectProxy } from '../support/connect-proxy.js';
import { parseExecCredential, runEksauth } from '../support/eksauth.js';
import { freePort, hasCommand, runCommand, tempDir, type CommandResult } from '../support/tools.js';

// The SDK's Node-version notice, from the clients this file runs in-process.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const HAS_AWS = hasCommand('aws');
const HAS_PYTHON = hasCommand('python3');
const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const ADMIN_ROLE = 'arn:aws:iam::111122223333:role/eks-admin';
const INSTANCE = 'i-0123456789abcdef0';

let emulator: Emulator;
let ec2: https.Server;
let ec2Url: string;
let proxy: ConnectProxy;
let dir: string;
let caFile: string;
let otherCaFile: string;
/** The emulator's host:port as a CONNECT line names it. */
let target: string;

beforeAll(async () => {
  dir = tempDir('eksauth-proxy-');
  const serving = await createSelfSignedCertificate({ commonName: 'eksauth-test-aws', ipAddresses: ['127.0.0.1'] });
  const stranger = await createSelfSignedCertificate({ commonName: 'someone-else', ipAddresses: ['127.0.0.1'] });
  caFile = join(dir, 'ca.pem');
  otherCaFile = join(dir, 'other-ca.pem');
  writeFileSync(caFile, serving.certPem);
  writeFileSync(otherCaFile, stranger.certPem);
  const tls = { cert: serving.certPem, key: serving.keyPem };
  emulator = await startEmulator(DEMO_EMULATOR_CONFIG, { tls });
  target = `127.0.0.1:${emulator.port}`;
  ec2 = await startEc2(tls);
  ec2Url = `https://127.0.0.1:${(ec2.address() as AddressInfo).port}`;
  proxy = await startConnectProxy();
});
afterAll(async () => {
  await proxy?.close();
  await emulator?.close();
  await new Promise((resolve) => ec2?.close(resolve));
});
beforeEach(() => proxy.clear());

/** EC2 over TLS, answering DescribeRegions (one region) and DescribeInstances (a DNS name per id). */
async function startEc2(tls: { cert: string; key: string }): Promise<https.Server> {
  const server = https.createServer(tls, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const xml = body.includes('Action=DescribeRegions')
        ? '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint></item></regionInfo></DescribeRegionsResponse>'
        : describeInstancesXml(instanceIdsOf(body));
      response.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Alice's keys, every AWS endpoint at the TLS emulator (or the EC2 stand-in), trusting the test CA, through the proxy. */
function proxied(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: ALICE?.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey,
    AWS_ENDPOINT_URL_STS: emulator.url,
    AWS_ENDPOINT_URL_EKS: emulator.url,
    AWS_ENDPOINT_URL_EC2: ec2Url,
    AWS_CA_BUNDLE: caFile,
    HTTPS_PROXY: proxy.url,
    EKSAUTH_NO_CACHE: '1',
    ...extra,
  };
}

const token = (args: string[], env = proxied()): Promise<CommandResult> =>
  runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1', ...args], { env });

/** The one-line failure every command prints: nothing on stdout, one stderr line ending in the code. */
function expectOneLineFailure(result: CommandResult, code: ErrorCode, exitCode = exitStatusOf(code)): string {
  expect(result.stdout).toBe('');
  expect(result.code).toBe(exitCode);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^eksauth: .* \\(${code}\\)$`));
  return lines[0] ?? '';
}

// Each test runs real processes (eksauth, the aws CLI): on a loaded machine one can take many seconds.
const SLOW = { timeout: 90_000 };

describe('each AWS call goes through HTTPS_PROXY', SLOW, () => {
  it('token --role-arn: STS AssumeRole, and nothing on stderr', async () => {
    const result = await token(['--role-arn', ADMIN_ROLE]);
    expect(parseExecCredential(result).status.token).toMatch(/^k8s-aws-v1\./);
    expect(result.stderr).toBe('');
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
  });

  it('token --forward-session-name: STS GetCallerIdentity, then AssumeRole', async () => {
    parseExecCredential(await token(['--role-arn', ADMIN_ROLE, '--forward-session-name']));
    expect(proxy.log()).toEqual([`CONNECT ${target}`, `CONNECT ${target}`]);
  });

  it("the SDK chain's inner STS client (a role_arn + source_profile profile)", async () => {
    const config = join(dir, 'config-role-profile');
    const credentials = join(dir, 'credentials-role-profile');
    writeFileSync(config, `[profile admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = alice\nregion = eu-west-1\n`);
    writeFileSync(credentials, `[alice]\naws_access_key_id = ${ALICE?.accessKeyId}\naws_secret_access_key = ${ALICE?.secretAccessKey}\n`);
    const env = proxied({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials });
    parseExecCredential(await runEksauth(['token', '--cluster-name', 'prod', '--profile', 'admin'], { env }));
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
  });

  it('token signed from static keys makes no call at all', async () => {
    parseExecCredential(await token([]));
    expect(proxy.log()).toEqual([]);
  });

  it('update-kubeconfig: EKS DescribeCluster', async () => {
    const kubeconfig = join(dir, 'kubeconfig-describe');
    const result = await runEksauth(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', kubeconfig], { env: proxied() });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
  });

  it('update-kubeconfig --all: EC2 DescribeRegions, EKS ListClusters and DescribeCluster', async () => {
    const kubeconfig = join(dir, 'kubeconfig-all');
    const result = await runEksauth(['update-kubeconfig', '--all', '--region', 'eu-west-1', '--kubeconfig', kubeconfig], { env: proxied() });
    expect(result.code).toBe(0);
    const ec2Target = `CONNECT ${new URL(ec2Url).host}`;
    expect(proxy.log()[0]).toBe(ec2Target);
    expect(proxy.log().slice(1).every((line) => line === `CONNECT ${target}`)).toBe(true);
    expect(proxy.log().length).toBeGreaterThanOrEqual(2);
    const names = (parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { name: string }[] }).clusters.map((c) => c.name);
    expect(names).toContain('arn:aws:eks:eu-west-1:111122223333:cluster/prod');
  });

  it("verify: the verifier's STS GetCallerIdentity", async () => {
    const minted = parseExecCredential(await token([], proxied({ HTTPS_PROXY: undefined })));
    const result = await runEksauth(['verify', '-t', minted.status.token, '-i', 'prod', '--sts-endpoint', emulator.url, '-o', 'json'], { env: proxied() });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ identity: { arn: ALICE?.arn } });
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
  });

  it("server: the STS pool's agent tunnels through the proxy and keeps its maxSockets", async () => {
    const minted = parseExecCredential(await token([], proxied({ HTTPS_PROXY: undefined })));
    const env = { HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: caFile };
    const pool = createStsPool({ stsMaxSockets: 3, stsEndpoint: emulator.url, network: { env } }, await createServerMetrics());
    try {
      const { identity } = await pool.track(() => verifyToken(minted.status.token, { clusterId: 'prod', stsEndpoint: emulator.url, agent: pool.agent }));
      expect(identity.arn).toBe(ALICE?.arn);
      expect(pool.agent.maxSockets).toBe(3);
      expect(proxy.log()).toEqual([`CONNECT ${target}`]);
    } finally {
      pool.close();
    }
  });

  it("the server's {{EC2PrivateDNSName}} lookup: EC2 DescribeInstances", async () => {
    const resolve = createEc2PrivateDnsResolver({
      region: 'eu-west-1',
      endpoint: ec2Url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      timeoutMs: 30_000,
      network: { env: { HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: caFile } },
    });
    expect(await resolve(INSTANCE)).toMatch(/compute\.internal$/);
    expect(proxy.log()).toEqual([`CONNECT ${new URL(ec2Url).host}`]);
  });
});

describe('NO_PROXY', SLOW, () => {
  it.each([['127.0.0.1'], ['.0.0.1'], ['*']])('NO_PROXY=%s sends the call straight to the host', async (noProxy) => {
    parseExecCredential(await token(['--role-arn', ADMIN_ROLE], proxied({ NO_PROXY: noProxy })));
    expect(proxy.log().filter((line) => line === `CONNECT ${target}`)).toEqual([]);
  });

  it('a NO_PROXY entry for another port, or another host, still uses the proxy', async () => {
    parseExecCredential(await token(['--role-arn', ADMIN_ROLE], proxied({ no_proxy: '127.0.0.1:1,localhost' })));
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
  });
});

describe('failures are one line with a stable code', SLOW, () => {
  it('a proxy that refuses connections: ERR_PROXY naming the proxy', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const line = expectOneLineFailure(await token(['--role-arn', ADMIN_ROLE], proxied({ HTTPS_PROXY: closed })), 'ERR_PROXY');
    expect(line).toContain(`the proxy ${closed} refused the connection`);
    expect(line).toContain('STS AssumeRole');
  });

  it('a proxy that wants credentials: 407 is ERR_PROXY, never showing the password; user:password in the URL passes', async () => {
    const guarded = await startConnectProxy({ auth: 'ops:s3cret-pw' });
    try {
      const args = ['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', join(dir, 'guarded')];
      const wrong = guarded.url.replace('//', '//ops:wrong-pw@');
      const line = expectOneLineFailure(await runEksauth(args, { env: proxied({ HTTPS_PROXY: wrong }) }), 'ERR_PROXY');
      expect(line).toContain(`DescribeCluster in eu-west-1 failed: the proxy ${guarded.url} answered the CONNECT with HTTP 407`);
      expect(line).not.toContain('wrong-pw');
      const right = guarded.url.replace('//', '//ops:s3cret-pw@');
      expect(await runEksauth(args, { env: proxied({ HTTPS_PROXY: right }) })).toMatchObject({ code: 0, stderr: '' });
      expect(guarded.log()).toEqual([`CONNECT ${target}`, `CONNECT ${target}`]);
    } finally {
      await guarded.close();
    }
  });

  it('verify through a refusing proxy: ERR_PROXY, exit status 6 (STS not reached)', async () => {
    const minted = parseExecCredential(await token([], proxied({ HTTPS_PROXY: undefined })));
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await runEksauth(['verify', '-t', minted.status.token, '-i', 'prod', '--sts-endpoint', emulator.url, '-o', 'json'], { env: proxied({ HTTPS_PROXY: closed }) });
    expect(result.code).toBe(6);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'ERR_PROXY' } });
  });

  it('a CA bundle that does not trust the endpoint: ERR_TLS naming the bundle and the fix', async () => {
    const line = expectOneLineFailure(await token(['--role-arn', ADMIN_ROLE], proxied({ AWS_CA_BUNDLE: otherCaFile })), 'ERR_TLS');
    expect(line).toBe(
      `eksauth: STS AssumeRole of ${ADMIN_ROLE} failed: the server's TLS certificate was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT) by the CA bundle ${otherCaFile} ` +
        "(from AWS_CA_BUNDLE); add the CA that signed the server's certificate to it, or point --ca-bundle (or AWS_CA_BUNDLE) at the right one (ERR_TLS)",
    );
    expect(line).toContain('--ca-bundle');
  });

  it('--ca-bundle wins over AWS_CA_BUNDLE, and the profile ca_bundle comes last', async () => {
    parseExecCredential(await token(['--role-arn', ADMIN_ROLE, '--ca-bundle', caFile], proxied({ AWS_CA_BUNDLE: otherCaFile })));
    const config = join(dir, 'config-ca-bundle');
    writeFileSync(config, `[default]\nca_bundle = ${otherCaFile}\n`);
    const line = expectOneLineFailure(await token(['--role-arn', ADMIN_ROLE], proxied({ AWS_CA_BUNDLE: undefined, AWS_CONFIG_FILE: config })), 'ERR_TLS');
    expect(line).toContain(`the CA bundle ${otherCaFile} (from ca_bundle of profile default)`);
  });

  it('a CA bundle that cannot be read: ERR_INVALID_CONFIG naming it', async () => {
    const missing = join(dir, 'no-such-ca.pem');
    const line = expectOneLineFailure(await token(['--role-arn', ADMIN_ROLE, '--ca-bundle', missing]), 'ERR_INVALID_CONFIG');
    expect(line).toContain(`cannot read the CA bundle ${missing} (from --ca-bundle): ENOENT`);
  });

  it('--no-verify-ssl: the call succeeds without a CA bundle, with the warning once per host', async () => {
    const result = await token(['--role-arn', ADMIN_ROLE, '--forward-session-name', '--no-verify-ssl'], proxied({ AWS_CA_BUNDLE: undefined }));
    parseExecCredential(result);
    expect(result.stderr).toBe(
      "eksauth: warning: InsecureRequestWarning: Unverified HTTPS request is being made to host '127.0.0.1'. Adding certificate verification is strongly advised. (--no-verify-ssl)\n",
    );
    expect(proxy.log()).toHaveLength(2);
  });

  it('the same flags read by commander (a grouped -iNAME sends the line there) and in the eks get-token form', async () => {
    const viaCommander = await runEksauth(['token', '-iprod', '--region', 'eu-west-1', '--role-arn', ADMIN_ROLE, '--no-verify-ssl', '--cli-connect-timeout', '5'], { env: proxied({ AWS_CA_BUNDLE: undefined }) });
    parseExecCredential(viaCommander);
    expect(viaCommander.stderr).toMatch(/^eksauth: warning: InsecureRequestWarning: .*'127\.0\.0\.1'/);
    // As aws eks get-token: --endpoint-url is accepted and used by no call; AssumeRole still goes to AWS_ENDPOINT_URL_STS.
    const getToken = ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'prod', '--role-arn', ADMIN_ROLE, '--endpoint-url', 'https://127.0.0.1:1', '--ca-bundle', caFile];
    parseExecCredential(await runEksauth(getToken, { env: proxied({ AWS_CA_BUNDLE: otherCaFile }) }));
    expect(proxy.log()).toEqual([`CONNECT ${target}`, `CONNECT ${target}`]);
  });

  it('an invalid timeout is a usage error', async () => {
    expectOneLineFailure(await token(['--cli-connect-timeout', 'soon']), 'ERR_USAGE', 2);
  });
});

describe.runIf(HAS_PYTHON)('--cli-connect-timeout against a blackhole', SLOW, () => {
  let blackhole: Blackhole;
  beforeAll(async () => {
    blackhole = await startBlackhole();
  });
  afterAll(async () => blackhole?.close());

  it('an endpoint that never completes the connection: the connect timeout fires', async () => {
    const env = proxied({ HTTPS_PROXY: undefined, AWS_ENDPOINT_URL_EKS: `https://127.0.0.1:${blackhole.port}` });
    const args = ['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', join(dir, 'never'), '--cli-connect-timeout', '1'];
    const line = expectOneLineFailure(await runEksauth(args, { env }), 'ERR_EKS_UNAVAILABLE');
    expect(line).toContain('1000 ms');
  });

  it('a proxy that never completes the connection: ERR_PROXY naming it and the timeout', async () => {
    const blackholeProxy = `http://127.0.0.1:${blackhole.port}`;
    const result = await token(['--role-arn', ADMIN_ROLE, '--cli-connect-timeout', '1'], proxied({ HTTPS_PROXY: blackholeProxy }));
    expect(expectOneLineFailure(result, 'ERR_PROXY')).toContain(`the proxy ${blackholeProxy} did not answer within 1 s`);
  });
});

describe.runIf(HAS_AWS)('the aws CLI through the same proxy (the reference)', SLOW, () => {
  const aws = (args: string[], extra: Record<string, string | undefined> = {}): Promise<CommandResult> =>
    runCommand('aws', [...args, '--region', 'eu-west-1', '--output', 'json'], { env: proxied({ HTTPS_PROXY: proxy.url, ...extra }), timeoutMs: 60_000 });

  it('aws eks describe-cluster --endpoint-url goes through the proxy as eksauth does, and NO_PROXY bypasses it alike', async () => {
    const result = await aws(['eks', 'describe-cluster', '--name', 'prod', '--endpoint-url', emulator.url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ cluster: { name: 'prod' } });
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
    proxy.clear();
    expect((await aws(['eks', 'describe-cluster', '--name', 'prod', '--endpoint-url', emulator.url], { NO_PROXY: '.0.0.1' })).code).toBe(0);
    expect(proxy.log()).toEqual([]);
  });

  it('aws eks get-token --role-arn sends its AssumeRole through the proxy too', async () => {
    const result = await aws(['eks', 'get-token', '--cluster-name', 'prod', '--role-arn', ADMIN_ROLE]);
    expect(result.code).toBe(0);
    expect(proxy.log()).toEqual([`CONNECT ${target}`]);
  });

  it('aws names the refusing proxy too (exit 255, where eksauth exits 1 with a code)', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await aws(['eks', 'describe-cluster', '--name', 'prod', '--endpoint-url', emulator.url], { HTTPS_PROXY: closed, AWS_MAX_ATTEMPTS: '1' });
    expect(result.code).toBe(255);
    expect(result.stderr.trim()).toBe(`Failed to connect to proxy URL: "${closed}"`);
  });
});
