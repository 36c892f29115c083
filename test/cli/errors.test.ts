/**
 * Every failure of every command, run through the built CLI: exactly one line on stderr, `eksauth: … (ERR_CODE)`,
 * with the exit status of the README's table (2 for mistakes in what eksauth was given, 1 for failures of the world),
 * and nothing on stdout. Usage mistakes name the command and, where there is one, what was meant.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { exitStatusOf, type ErrorCode } from '../../src/errors.js';
import { runEksauth } from '../support/eksauth.js';
import { tempDir } from '../support/tools.js';

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const KEYS = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey, EKSAUTH_NO_CACHE: '1' };
/** No credentials anywhere, and no instance metadata to wait for. */
const NO_CREDENTIALS = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', EKSAUTH_NO_CACHE: '1' };

interface Case {
  args: string[];
  code: ErrorCode;
  /** The whole message between `eksauth: ` and ` (CODE)`, or a pattern for one with a temporary path in it. */
  message: string | RegExp;
  env?: Record<string, string | undefined>;
}

const dir = tempDir('eksauth-errors-');
const badMapping = join(dir, 'mapping.yaml');
writeFileSync(badMapping, 'mapRoles: 5\n');
// A token made offline (static keys): enough for verify to reach its flag checks.
let token = '';

const CASES: [string, () => Case][] = [
  // commander's mistakes, on every level
  ['no command', () => ({ args: [], code: 'ERR_USAGE', message: "a command is needed (token, eks, cache, emulator, update-kubeconfig, verify, server, decode, whoami, access, doctor, demo): run 'eksauth --help' for what each does" })],
  ['an unknown command', () => ({ args: ['tokn'], code: 'ERR_USAGE', message: "unknown command 'tokn'; did you mean token?" })],
  ['an unknown command without a near one', () => ({ args: ['frobnicate'], code: 'ERR_USAGE', message: "unknown command 'frobnicate'; run 'eksauth --help' for the commands" })],
  ['eks without its command', () => ({ args: ['eks'], code: 'ERR_USAGE', message: "eks: a command is needed (get-token, update-kubeconfig): run 'eksauth eks --help' for what each does" })],
  ['an unknown eks command', () => ({ args: ['eks', 'describe-cluster'], code: 'ERR_USAGE', message: "eks: unknown command 'describe-cluster'; run 'eksauth eks --help' for the commands" })],
  ['cache without its command', () => ({ args: ['cache'], code: 'ERR_USAGE', message: "cache: a command is needed (clean): run 'eksauth cache --help' for what each does" })],
  ['token: an unknown option', () => ({ args: ['token', '--cluster-name', 'c', '--bogus'], code: 'ERR_USAGE', message: "token: unknown option '--bogus'; run 'eksauth token --help' for the flags" })],
  ['token: a typo of a flag', () => ({ args: ['token', '--cluster-name', 'c', '--regoin', 'eu-west-1'], code: 'ERR_USAGE', message: "token: unknown option '--regoin'; did you mean --region?" })],
  ['token: a missing value', () => ({ args: ['token', '--cluster-name', 'c', '--region'], code: 'ERR_USAGE', message: "token: option '--region <region>' argument missing; run 'eksauth token --help' for the flags" })],
  ['token: --name of update-kubeconfig', () => ({ args: ['token', '--name', 'c'], code: 'ERR_USAGE', message: "token: unknown option '--name'; did you mean --cluster-name?" })],
  ['eks get-token: an unknown option', () => ({ args: ['eks', 'get-token', '--cluster-name', 'c', '--bogus'], code: 'ERR_USAGE', message: "eks get-token: unknown option '--bogus'; run 'eksauth eks get-token --help' for the flags" })],
  ['token: a bad --output, with the one meant', () => ({ args: ['token', '--cluster-name', 'c', '--output', 'yml'], code: 'ERR_USAGE', message: '--output yml is not one of json, text, table, yaml, yaml-stream; did you mean --output yaml?' })],
  ['token: a bad --color', () => ({ args: ['token', '--cluster-name', 'c', '--color', 'blue'], code: 'ERR_USAGE', message: '--color blue is not one of on, off, auto' })],
  ['token: a --query that does not parse', () => ({ args: ['eks', 'get-token', '--cluster-name', 'c', '--query', '[kind'], code: 'ERR_USAGE', message: '--query "[kind" is not a JMESPath expression (Invalid token (EOF): ""); e.g. --query status.token' })],
  ['token: --token-only with --output text', () => ({ args: ['token', '--cluster-name', 'c', '--token-only', '--output', 'text'], code: 'ERR_USAGE', message: '--token-only prints the bare token: leave out --query and --output, or use --query status.token --output text instead' })],
  ['token: both cluster flags', () => ({ args: ['token', '--cluster-name', 'a', '--cluster-id', 'b'], code: 'ERR_USAGE', message: '--cluster-name and --cluster-id cannot be used together: use --cluster-id only for Outposts local clusters' })],
  ['eks get-token: an AWS_DEFAULT_OUTPUT that is no format', () => ({ args: ['eks', 'get-token', '--cluster-name', 'c'], env: { ...KEYS, AWS_DEFAULT_OUTPUT: 'xml' }, code: 'ERR_INVALID_CONFIG', message: 'AWS_DEFAULT_OUTPUT is "xml", not an output format: use one of json, text, table, yaml, yaml-stream' })],
  ['token: no cluster', () => ({ args: ['token', '--region', 'eu-west-1'], code: 'ERR_NO_CLUSTER', message: 'no cluster given: pass --cluster-name NAME (--cluster-id ID for Outposts local clusters), or run under a ClusterProfile with provideClusterInfo: true (KUBERNETES_EXEC_INFO is empty)' })],
  ['token: a profile that does not exist', () => ({ args: ['token', '--cluster-name', 'c', '--region', 'eu-west-1', '--profile', 'nope'], env: NO_CREDENTIALS, code: 'ERR_PROFILE_NOT_FOUND', message: 'AWS profile "nope" does not exist in /dev/null or /dev/null (no profiles are configured); create it with `aws configure --profile nope` or pass an existing --profile' })],
  ['update-kubeconfig: --cluster-name of get-token', () => ({ args: ['update-kubeconfig', '--cluster-name', 'prod'], code: 'ERR_USAGE', message: "update-kubeconfig: unknown option '--cluster-name'; did you mean --name?" })],
  ['eks update-kubeconfig: --cluster-name of get-token', () => ({ args: ['--region', 'eu-west-1', 'eks', 'update-kubeconfig', '--cluster-name', 'prod'], code: 'ERR_USAGE', message: "eks update-kubeconfig: unknown option '--cluster-name'; did you mean --name?" })],
  ['update-kubeconfig: no cluster', () => ({ args: ['update-kubeconfig', '--region', 'eu-west-1'], code: 'ERR_USAGE', message: 'name the cluster with --name NAME, or pass --all for every cluster' })],
  ['update-kubeconfig: a bad --dry-run format', () => ({ args: ['update-kubeconfig', '--name', 'prod', '--dry-run', 'csv'], code: 'ERR_USAGE', message: '--dry-run csv is not a format: use --dry-run (the merged YAML, as aws-cli) or --dry-run summary' })],
  ['cache clean: an unknown option', () => ({ args: ['cache', 'clean', '--all'], code: 'ERR_USAGE', message: "cache clean: unknown option '--all'; run 'eksauth cache clean --help' for the flags" })],
  ['emulator: a typo of a flag', () => ({ args: ['emulator', '--prot', '1'], code: 'ERR_USAGE', message: "emulator: unknown option '--prot'; did you mean --port?" })],
  ['demo: an argument it does not take', () => ({ args: ['demo', 'now'], code: 'ERR_USAGE', message: "demo: too many arguments for 'demo'. Expected 0 arguments but got 1; run 'eksauth demo --help' for the flags" })],
  ['verify: a missing required flag', () => ({ args: ['verify', '-i', 'prod'], code: 'ERR_USAGE', message: "verify: required option '-t, --token <token>' not specified; run 'eksauth verify --help' for the flags" })],
  ['verify: a bad -o', () => ({ args: ['verify', '-t', token, '-i', 'prod', '-o', 'yaml'], code: 'ERR_USAGE', message: '-o yaml is not supported: use -o text or -o json' })],
  ['verify: --sts-endpoint without a scheme', () => ({ args: ['verify', '-t', token, '-i', 'prod', '--sts-endpoint', '127.0.0.1:1'], code: 'ERR_INVALID_CONFIG', message: 'The STS endpoint override is not a URL; use the form https://host[:port].' })],
  ['verify: an invalid mapping file', () => ({ args: ['verify', '-t', token, '-i', 'prod', '--mapping', badMapping], code: 'ERR_INVALID_MAPPING', message: `file:${badMapping}: mapRoles must be a list, not the string '5'` })],
  ['verify: a mapping file that is not there', () => ({ args: ['verify', '-t', token, '-i', 'prod', '--mapping', join(dir, 'none.yaml')], code: 'ERR_USAGE', message: `--mapping ${join(dir, 'none.yaml')}: cannot read it (ENOENT); check the path` })],
  ['server: a bad choice, with the one meant', () => ({ args: ['server', '--log-level', 'debgu'], code: 'ERR_USAGE', message: "server: option '--log-level <level>' argument 'debgu' is invalid. Allowed choices are debug, info, warn, error, silent; did you mean --log-level debug?" })],
  ['server: a missing value', () => ({ args: ['server', '--port'], code: 'ERR_USAGE', message: "server: option '--port <port>' argument missing; run 'eksauth server --help' for the flags" })],
  ['server: a port that is not a number', () => ({ args: ['server', '--port', 'http'], code: 'ERR_USAGE', message: '--port must be a whole number (got "http").' })],
  ['server init: an unknown option', () => ({ args: ['server', 'init', '--kubeconfig-pregenerated'], code: 'ERR_USAGE', message: "server init: unknown option '--kubeconfig-pregenerated'; run 'eksauth server init --help' for the flags" })],
  // failures of the world: exit 1
  ['token: no credentials anywhere', () => ({ args: ['token', '--cluster-name', 'c', '--region', 'eu-west-1'], env: NO_CREDENTIALS, code: 'ERR_NO_CREDENTIALS', message: /^no AWS credentials found/ })],
  ['update-kubeconfig: a cluster EKS does not have', () => ({ args: ['update-kubeconfig', '--name', 'nope', '--region', 'eu-west-1', '--endpoint-url', emulator.url, '--kubeconfig', join(dir, 'kubeconfig')], code: 'ERR_CLUSTER_NOT_FOUND', message: /^Cluster not found: no cluster named "nope" in eu-west-1 for these credentials; check the name and --region/ })],
];

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  const made = await runEksauth(['token', '--cluster-name', 'prod', '--region', 'eu-west-1', '--token-only'], { env: KEYS });
  expect(made.code, made.stderr).toBe(0);
  token = made.stdout.trim();
});
afterAll(async () => emulator?.close());

describe('every failure is one stderr line with its code and exit status, and nothing on stdout', () => {
  it.concurrent.each(CASES)('%s', async (_, make) => {
    const { args, code, message, env = KEYS } = make();
    const result = await runEksauth(args, { env });
    expect(result.stdout).toBe('');
    expect(result.stderr.endsWith('\n') && result.stderr.split('\n').length === 2, result.stderr).toBe(true);
    const line = /^eksauth: (.*) \((ERR_[A-Z_]+)\)\n$/.exec(result.stderr);
    expect(line?.[2], result.stderr).toBe(code);
    if (typeof message === 'string') expect(line?.[1]).toBe(message);
    else expect(line?.[1]).toMatch(message);
    expect(result.code).toBe(exitStatusOf(code));
  });

  it('gives the statuses of the README: 2 for input mistakes, 1 for the rest', () => {
    expect(new Set(CASES.map(([, make]) => exitStatusOf(make().code)))).toEqual(new Set([1, 2]));
    expect(exitStatusOf('ERR_USAGE')).toBe(2);
    expect(exitStatusOf('ERR_INVALID_MAPPING')).toBe(2);
    expect(exitStatusOf('ERR_NO_CREDENTIALS')).toBe(1);
  });
});

describe('help and --version are not failures', () => {
  it.each([[['--help']], [['token', '--help']], [['eks', 'update-kubeconfig', '--help']], [['--version']]])('eksauth %j exits 0 with stdout only', async (args) => {
    const result = await runEksauth(args);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toBe('');
  });
});
