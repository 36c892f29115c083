/**
 * The aws CLI's `--query` and `--output` on `eksauth eks get-token` and `eksauth token`, compared byte for byte with
 * what the real aws CLI prints: its formatter (awscli.formatter, run in python3) on the same data, and
 * `aws eks get-token` itself beside `eksauth eks get-token`, with the token and timestamp (different at each signing)
 * put aside. yaml and yaml-stream are aws CLI v2 formats (the v1 here has none); their expected text is what v2's
 * YAMLDumper (ruamel.yaml, safe, block style) printed for the same data.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatAwsOutput, type AwsOutputOptions } from '../../src/cli/aws-output.js';
import { runEksauth } from '../support/eksauth.js';
import { hasCommand, runCommand, tempDir } from '../support/tools.js';

const HAS_AWS = hasCommand('aws');
const HAS_AWSCLI_PYTHON = hasCommand('python3') && HAS_AWS;
if (!HAS_AWS) console.warn('test/cli/aws-output.test.ts: the aws CLI is not on PATH; the comparisons with it are skipped.');

const KEYS = { AWS_ACCESS_KEY_ID: 'EKSAUTHTESTKEY000001', AWS_SECRET_ACCESS_KEY: 'test-secret-0000000000000000000000000000', AWS_REGION: 'eu-west-1', EKSAUTH_NO_CACHE: '1' };
const TOKEN = 'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eQ';
const CREDENTIAL = { kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: {}, status: { expirationTimestamp: '2026-12-02T11:25:24Z', token: TOKEN } };
const NESTED = {
  Reservations: [
    { Owner: '1234', Instances: [{ Id: 'i-1', State: { Name: 'running', Code: 16 }, Tags: ['a', 'b'] }] },
    { Owner: '5678', Instances: [{ Id: 'i-2', State: { Name: 'stopped', Code: 80 }, Ebs: true }] },
  ],
  Wide: { name: '日本語テキスト', other: 'ünï', none: null, yes: true, half: 2.5 },
};

const options = (format: AwsOutputOptions['format'], query?: string): AwsOutputOptions => ({
  format, color: 'off', title: 'get-token', terminalWidth: 80, isTty: false, ...(query === undefined ? {} : { query }),
});

/** What awscli.formatter prints for each [format, data, query] (color off, not a terminal: 80 columns), in one run. */
async function awsFormatter(cases: [string, unknown, string][]): Promise<string[]> {
  const script = [
    'import argparse, io, json, sys, jmespath',
    'from awscli.formatter import get_formatter',
    'results = []',
    'for fmt, data, query in json.loads(sys.stdin.read()):',
    '    args = argparse.Namespace(query=jmespath.compile(query), color="off", output=fmt)',
    '    out = io.StringIO()',
    '    get_formatter(fmt, args)("get-token", data, out)',
    '    results.append(out.getvalue())',
    'sys.stdout.write(json.dumps(results))',
  ].join('\n');
  const result = await runCommand('python3', ['-c', script], { input: JSON.stringify(cases) });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as string[];
}

const FORMATTER_CASES: [string, unknown, string][] = [
  ['json', CREDENTIAL, '@'], ['text', CREDENTIAL, '@'], ['table', CREDENTIAL, '@'],
  ['text', CREDENTIAL, 'status.token'], ['json', CREDENTIAL, 'status.token'], ['json', CREDENTIAL, 'spec'], ['text', CREDENTIAL, 'spec'],
  ['text', CREDENTIAL, 'nothing'], ['json', CREDENTIAL, 'nothing'], ['table', CREDENTIAL, '{a: kind, b: apiVersion}'],
  ['table', CREDENTIAL, '[kind, apiVersion]'], ['text', CREDENTIAL, '[kind, apiVersion]'],
  ['json', NESTED, '@'], ['text', NESTED, '@'], ['table', NESTED, '@'], ['table', NESTED, 'Reservations[].Instances[]'],
  ['text', NESTED, 'Reservations[].Instances[].[Id, State.Name]'], ['table', NESTED, 'Wide'], ['text', NESTED, 'Wide'],
  ['text', NESTED, 'length(Reservations)'], ['table', NESTED, 'Reservations[].Owner'],
];

describe.skipIf(!HAS_AWSCLI_PYTHON)('formatAwsOutput equals the aws CLI formatter on the same data', () => {
  let expected: string[] = [];
  beforeAll(async () => {
    expected = await awsFormatter(FORMATTER_CASES);
  }, 60_000);

  it.each(FORMATTER_CASES.map((c, i) => [...c, i] as const))('--output %s of %#, --query %s', (format, data, query, i) => {
    expect(formatAwsOutput(data, options(format as AwsOutputOptions['format'], query))).toBe(expected[i]);
  });
});

describe('yaml and yaml-stream as aws CLI v2 prints them', () => {
  it('puts a token, longer than the line, on a line of its own below its key and quotes the timestamp', () => {
    expect(formatAwsOutput(CREDENTIAL, options('yaml'))).toBe(
      `apiVersion: client.authentication.k8s.io/v1beta1\nkind: ExecCredential\nspec: {}\nstatus:\n  expirationTimestamp: '2026-12-02T11:25:24Z'\n  token: \n    ${TOKEN}\n`,
    );
    expect(formatAwsOutput(CREDENTIAL, options('yaml-stream', '{kind: kind, apiVersion: `v1`}'))).toBe('- apiVersion: v1\n  kind: ExecCredential\n');
  });

  it('quotes what YAML would read as another type, and prints scalars as JSON', () => {
    const data = { a: [1, 2, { b: null, c: true }], d: [], e: 'yes', f: '123', g: 'null', h: '', i: 'a: b', n: '2026-12-02', o: "it's", u: '0x1F' };
    expect(formatAwsOutput(data, options('yaml'))).toBe(
      "a:\n- 1\n- 2\n- b: null\n  c: true\nd: []\ne: yes\nf: '123'\ng: 'null'\nh: ''\ni: 'a: b'\nn: '2026-12-02'\no: it's\nu: '0x1F'\n",
    );
    expect(formatAwsOutput(CREDENTIAL, options('yaml', 'status.token'))).toBe(`"${TOKEN}"\n`);
    expect(formatAwsOutput(CREDENTIAL, options('yaml', 'spec'))).toBe('');
  });
});

/** Signing time and token differ between two runs; everything else must not. */
const normalise = (text: string): string =>
  text.replace(/k8s-aws-v1\.[\w-]+/g, 'TOKEN').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'TIMESTAMP');

describe.skipIf(!HAS_AWS)('eksauth eks get-token prints what aws eks get-token prints', () => {
  const both = async (args: string[], env: Record<string, string | undefined> = KEYS) => {
    const [aws, ours] = await Promise.all([runCommand('aws', ['eks', 'get-token', ...args], { env }), runEksauth(['eks', 'get-token', ...args], { env })]);
    expect(aws.code, aws.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    return { aws: normalise(aws.stdout), ours: normalise(ours.stdout), raw: ours.stdout };
  };

  // One after another: each runs the aws CLI, whose start-up is most of the time, on a machine of two cores.
  it.each([
    [[]], [['--output', 'json']], [['--output', 'text']], [['--query', 'status.token', '--output', 'text']],
    [['--query', 'status', '--output', 'json']], [['--query', 'status.token']], [['--query', '{kind: kind, v: apiVersion}', '--output', 'table']],
    [['--query', 'spec', '--output', 'json']], [['--query', 'missing', '--output', 'text']], [['--color', 'on', '--query', '[kind]', '--output', 'text']],
  ])('with %j', async (args) => {
    const { aws, ours } = await both(['--cluster-name', 'prod', ...args]);
    expect(ours).toBe(aws);
  });

  it('so that TOKEN=$(… --query status.token --output text) is the bare token', async () => {
    const { raw } = await both(['--cluster-name', 'prod', '--query', 'status.token', '--output', 'text']);
    expect(raw).toMatch(/^k8s-aws-v1\.[\w-]+\n\n$/);
    expect(raw.trim()).toMatch(/^k8s-aws-v1\.[\w-]+$/);
  });

  it('honours AWS_DEFAULT_OUTPUT, and the profile output setting, as the aws CLI does', async () => {
    const fromEnv = await both(['--cluster-name', 'prod'], { ...KEYS, AWS_DEFAULT_OUTPUT: 'text' });
    expect(fromEnv.ours).toBe('client.authentication.k8s.io/v1beta1\tExecCredential\nSTATUS\tTIMESTAMP\tTOKEN\n\n');
    expect(fromEnv.ours).toBe(fromEnv.aws);
    const dir = tempDir('eksauth-output-profile-');
    writeFileSync(join(dir, 'config'), '[default]\noutput = json\n\n[profile texty]\noutput = text\n');
    writeFileSync(join(dir, 'credentials'), `[texty]\naws_access_key_id = ${KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${KEYS.AWS_SECRET_ACCESS_KEY}\n`);
    const files = { ...KEYS, AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
    const fromProfile = await both(['--cluster-name', 'prod', '--profile', 'texty'], files);
    expect(fromProfile.ours).toBe(fromEnv.ours);
    expect(fromProfile.ours).toBe(fromProfile.aws);
  });
});

describe('eksauth token keeps kubectl’s one line unless asked', () => {
  it('ignores AWS_DEFAULT_OUTPUT, which would break kubectl, and formats only for --output or --query', async () => {
    const plain = await runEksauth(['token', '--cluster-name', 'prod'], { env: { ...KEYS, AWS_DEFAULT_OUTPUT: 'text' } });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^\{"kind":"ExecCredential",.*\}\n$/);
    const text = await runEksauth(['token', '--cluster-name', 'prod', '--query', 'status.token', '--output', 'text', '--no-cli-pager'], { env: KEYS });
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^k8s-aws-v1\.[\w-]+\n\n$/);
  });

  it('says with --debug, on stderr, what it resolved and from where, without a secret', async () => {
    const result = await runEksauth(['token', '--cluster-name', 'prod', '--debug'], { env: KEYS });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('eksauth: debug: '))).toBe(true);
    expect(result.stderr).toContain('cache: off (--no-cache or EKSAUTH_NO_CACHE)');
    expect(result.stderr).toContain('region: eu-west-1 from AWS_REGION');
    expect(result.stderr).toContain('STS host: sts.eu-west-1.amazonaws.com (partition aws, signing region eu-west-1)');
    expect(result.stderr).toContain('credentials: CREDENTIALS_ENV_VARS; long-term');
    expect(result.stderr).not.toContain(KEYS.AWS_SECRET_ACCESS_KEY);
    expect(result.stderr).not.toContain('k8s-aws-v1.');
    const token = (JSON.parse(result.stdout) as { status: { token: string } }).status.token;
    expect(result.stderr).not.toContain(token.slice(11, 40));
  });

  it('reports a cache miss, then a hit', async () => {
    const cacheDir = tempDir('eksauth-debug-cache-');
    // No shared files: one written in the last two seconds (the sandbox's) keeps the cache from storing anything.
    const env = { ...KEYS, EKSAUTH_NO_CACHE: undefined, KUBECACHEDIR: cacheDir, AWS_CONFIG_FILE: join(cacheDir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(cacheDir, 'none') };
    const first = await runEksauth(['token', '--cluster-name', 'prod', '--debug'], { env });
    const second = await runEksauth(['token', '--cluster-name', 'prod', '--debug'], { env });
    expect(first.stderr).toContain('eksauth: debug: cache: miss, signing\n');
    expect(second.stderr).toContain('eksauth: debug: cache: hit\n');
    expect(second.stdout).toBe(first.stdout);
  });
});
