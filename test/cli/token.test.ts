import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eksauthBuilds, parseExecCredential, runEksauth as runBuild, tokenUrl } from '../support/eksauth.js';
import { tempDir, type RunOptions } from '../support/tools.js';

const KEYS = { AWS_ACCESS_KEY_ID: 'EKSAUTHTESTKEY000001', AWS_SECRET_ACCESS_KEY: 'test-secret-0000000000000000000000000000' };
const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const execInfo = (apiVersion: string, spec: Record<string, unknown> = { interactive: false }) =>
  JSON.stringify({ kind: 'ExecCredential', apiVersion, spec });

// Every case runs on the Node build and on the single-file binary, when it is built.
describe.each(eksauthBuilds('test/cli/token.test.ts'))('$name build', (build) => {
  const runEksauth = (args: string[], options?: RunOptions) => runBuild(args, options, build);

  describe('eksauth token with static environment credentials', () => {
    it('prints a v1beta1 ExecCredential and nothing else when KUBERNETES_EXEC_INFO is unset', async () => {
      const before = Date.now();
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-west-2'], { env: KEYS });
      expect(result.stderr).toBe('');
      const credential = parseExecCredential(result);
      expect(Object.keys(credential)).toEqual(['kind', 'apiVersion', 'spec', 'status']);
      expect(credential.apiVersion).toBe(V1BETA1);
      expect(credential.status.token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
      const url = tokenUrl(credential.status.token);
      expect(url.host).toBe('sts.us-west-2.amazonaws.com');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^EKSAUTHTESTKEY000001\/\d{8}\/us-west-2\/sts\/aws4_request$/);
      expect(credential.status.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // Signed somewhere between `before` and now (seconds apart on a busy machine), 14 minutes on, in whole seconds.
      const expires = Date.parse(credential.status.expirationTimestamp);
      expect(expires).toBeGreaterThan(before + 14 * 60_000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 14 * 60_000);
    });

    it.each([
      [V1, V1, ''],
      [V1BETA1, V1BETA1, ''],
      ['client.authentication.k8s.io/v1alpha1', 'client.authentication.k8s.io/v1alpha1', 'deprecated API version'],
      ['client.authentication.k8s.io/v9', V1BETA1, 'Unrecognized API version in KUBERNETES_EXEC_INFO'],
    ])('answers KUBERNETES_EXEC_INFO %s with %s', async (asked, answered, warning) => {
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-east-1'], {
        env: { ...KEYS, KUBERNETES_EXEC_INFO: execInfo(asked) },
      });
      expect(parseExecCredential(result).apiVersion).toBe(answered);
      if (warning === '') expect(result.stderr).toBe('');
      else expect(result.stderr).toContain(warning);
    });

    it('warns and falls back to v1beta1 when KUBERNETES_EXEC_INFO is not JSON', async () => {
      const result = await runEksauth(['token', '-i', 'c1', '--region', 'us-east-1'], { env: { ...KEYS, KUBERNETES_EXEC_INFO: '{oops' } });
      expect(parseExecCredential(result).apiVersion).toBe(V1BETA1);
      expect(result.stderr).toMatch(/^Error parsing KUBERNETES_EXEC_INFO, defaulting to client.authentication.k8s.io\/v1beta1/);
    });

    it('pins the version with --api-version and prints a bare token with --token-only', async () => {
      const pinned = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-east-1', '--api-version', 'v1'], { env: KEYS });
      expect(parseExecCredential(pinned).apiVersion).toBe(V1);
      const bare = await runEksauth(['token', '-i', 'c1', '--region', 'us-east-1', '--token-only'], { env: KEYS });
      expect(bare.stdout).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+\n$/);
    });

    it('accepts the aws CLI argument form (`--region R eks get-token … --output json`)', async () => {
      const result = await runEksauth(['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'c1', '--output', 'json'], { env: KEYS });
      expect(tokenUrl(parseExecCredential(result).status.token).host).toBe('sts.eu-west-1.amazonaws.com');
    });

    it.each([
      [{ AWS_REGION: 'cn-north-1' }, 'sts.cn-north-1.amazonaws.com.cn'],
      [{ AWS_DEFAULT_REGION: 'us-gov-west-1' }, 'sts.us-gov-west-1.amazonaws.com'],
      [{ AWS_REGION: 'us-west-2', AWS_USE_FIPS_ENDPOINT: 'true' }, 'sts-fips.us-west-2.amazonaws.com'],
      [{ AWS_REGION: 'us-west-2', AWS_USE_DUALSTACK_ENDPOINT: 'true' }, 'sts.us-west-2.api.aws'],
      [{ AWS_REGION: 'us-west-2', AWS_STS_REGIONAL_ENDPOINTS: 'legacy' }, 'sts.amazonaws.com'],
    ])('signs for the STS host the settings %j select', async (settings, host) => {
      const result = await runEksauth(['token', '--cluster-name', 'c1'], { env: { ...KEYS, ...settings } });
      expect(tokenUrl(parseExecCredential(result).status.token).host).toBe(host);
    });

    it('reports credential expiry when it comes before the 14 minutes', async () => {
      const expiry = new Date(Date.now() + 5 * 60_000);
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-east-1'], {
        env: { ...KEYS, AWS_SESSION_TOKEN: 'session-token-value', AWS_CREDENTIAL_EXPIRATION: expiry.toISOString() },
      });
      const credential = parseExecCredential(result);
      expect(credential.status.expirationTimestamp).toBe(expiry.toISOString().replace(/\.\d{3}Z$/, 'Z'));
      expect(tokenUrl(credential.status.token).searchParams.get('X-Amz-Security-Token')).toBe('session-token-value');
    });
  });

  describe('eksauth token in cluster-inventory mode (provideClusterInfo)', () => {
    const clusterInfo = (config: unknown) =>
      execInfo(V1, { interactive: false, cluster: { server: 'https://example.invalid', 'certificate-authority-data': 'LS0t', config } });

    it('takes region and clusterId from spec.cluster.config and echoes the version', async () => {
      const result = await runEksauth(['token'], { env: { ...KEYS, KUBERNETES_EXEC_INFO: clusterInfo({ region: 'ap-southeast-2', clusterId: 'fleet-7' }) } });
      const credential = parseExecCredential(result);
      expect(credential.apiVersion).toBe(V1);
      expect(tokenUrl(credential.status.token).host).toBe('sts.ap-southeast-2.amazonaws.com');
      expect(result.stderr).toBe('');
    });

    it.each([
      ['no cluster info at all', execInfo(V1), /ExecCredential does not contain cluster information/],
      ['config null', clusterInfo(null), /missing ExecCredential\.Spec\.Cluster\.Config \(extensions\)/],
      ['config not an object', clusterInfo('ap-southeast-2'), /invalid extensions config: /],
      ['clusterId missing', clusterInfo({ region: 'ap-southeast-2' }), /extensions must include region and clusterId/],
      ['region malformed', clusterInfo({ region: 'Sydney', clusterId: 'fleet-7' }), /"Sydney" is not an AWS region name/],
    ])('fails clearly with %s', async (_name, info, message) => {
      const result = await runEksauth(['token'], { env: { ...KEYS, KUBERNETES_EXEC_INFO: info } });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  });

  describe('eksauth token refuses bad input with one line on stderr and nothing on stdout', () => {
    it.each([
      ['no cluster', ['token', '--region', 'us-east-1'], 'ERR_NO_CLUSTER', /pass --cluster-name/],
      ['an empty cluster name', ['token', '--cluster-name', '', '--region', 'us-east-1'], 'ERR_NO_CLUSTER', /no cluster given/],
      ['both cluster flags', ['token', '--cluster-name', 'a', '--cluster-id', 'b', '--region', 'us-east-1'], 'ERR_USAGE', /cannot be used together/],
      ['a malformed region', ['token', '--cluster-name', 'c1', '--region', 'us_east_1'], 'ERR_INVALID_REGION', /"us_east_1" is not an AWS region/],
      ['a missing profile', ['token', '--cluster-name', 'c1', '--region', 'us-east-1', '--profile', 'nope'], 'ERR_PROFILE_NOT_FOUND', /profile "nope" does not exist/],
      ['a role that is not an ARN', ['token', '--cluster-name', 'c1', '--region', 'us-east-1', '--role-arn', 'admin'], 'ERR_INVALID_ROLE_ARN', /"admin" is not an IAM role ARN/],
      ['an --output that is no format', ['token', '--cluster-name', 'c1', '--region', 'us-east-1', '--output', 'xml'], 'ERR_USAGE', /--output xml is not one of json, text, table, yaml, yaml-stream/],
      ['an unknown --api-version', ['token', '--cluster-name', 'c1', '--region', 'us-east-1', '--api-version', 'v3'], 'ERR_INVALID_API_VERSION', /"v3" is not an ExecCredential API version/],
    ])('%s', async (_name, args, code, message) => {
      const result = await runEksauth(args, { env: KEYS });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain(`(${code})`);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('asks for a region when none is configured', async () => {
      const result = await runEksauth(['token', '--cluster-name', 'c1'], { env: KEYS });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/no AWS region: pass --region, set AWS_REGION/);
    });

    it('names the sources it tried when there are no credentials', async () => {
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-east-1']);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('(ERR_NO_CREDENTIALS)');
      expect(result.stderr).toMatch(/environment .*shared files .*SSO.*credential_process.*web identity.*container.*instance metadata/);
      expect(result.stderr).toContain('aws configure');
    });
  });

  describe('eksauth token with the SDK credential chain', () => {
    function awsFiles(config: string, credentials = ''): Record<string, string> {
      const dir = tempDir('eksauth-aws-');
      writeFileSync(join(dir, 'config'), config);
      writeFileSync(join(dir, 'credentials'), credentials);
      return { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), HOME: dir };
    }

    it('uses --profile over static keys in the environment, silently, and reads its region', async () => {
      const files = awsFiles('[profile dev]\nregion = eu-central-1\n', '[dev]\naws_access_key_id = PROFILEKEY0000000001\naws_secret_access_key = profile-secret\n');
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--profile', 'dev'], { env: { ...KEYS, ...files } });
      const url = tokenUrl(parseExecCredential(result).status.token);
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^PROFILEKEY0000000001\/\d{8}\/eu-central-1\//);
      expect(result.stderr).toBe(''); // no SDK Node-version or multiple-source warning reaches kubectl's terminal
    });

    it('runs credential_process', async () => {
      const script = "console.log(JSON.stringify({Version:1,AccessKeyId:'PROCESSKEY0000000001',SecretAccessKey:'s'}))";
      const files = awsFiles(`[default]\ncredential_process = ${process.execPath} -e "${script}"\n`);
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--region', 'us-east-1'], { env: files });
      expect(tokenUrl(parseExecCredential(result).status.token).searchParams.get('X-Amz-Credential')).toMatch(/^PROCESSKEY0000000001\//);
      expect(result.stderr).toBe('');
    });

    it('tells the user to run `aws sso login --profile X` when the SSO session has expired', async () => {
      const files = awsFiles(
        '[profile corp-dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\nregion = us-east-1\n' +
          '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n',
      );
      const cache = join(files.HOME ?? '', '.aws', 'sso', 'cache');
      mkdirSync(cache, { recursive: true });
      const { createHash } = await import('node:crypto');
      writeFileSync(
        join(cache, `${createHash('sha1').update('corp').digest('hex')}.json`),
        JSON.stringify({ startUrl: 'https://corp.awsapps.com/start', region: 'us-east-1', accessToken: 'expired-token', expiresAt: '2020-01-01T00:00:00Z' }),
      );
      const result = await runEksauth(['token', '--cluster-name', 'c1', '--profile', 'corp-dev'], { env: files });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('aws sso login --profile corp-dev');
      expect(result.stderr).toContain('(ERR_SSO_SESSION_EXPIRED)');
      expect(result.stderr).not.toContain('expired-token');
    });
  });
});
