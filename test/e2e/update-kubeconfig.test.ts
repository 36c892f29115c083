/**
 * `eksauth update-kubeconfig` as users run it, against the emulator's EKS and STS: a hand-kept kubeconfig keeps its
 * comments, order and other users; bad files and unusable clusters fail with one clear line and leave the file
 * byte-identical; 20 parallel runs into one file keep all 20 clusters; and kubectl uses what was written, end to end,
 * through the test API server.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorCluster, EmulatorConfig } from '../../src/emulator/config.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorAuthenticator, startTestApiServer, type BearerAuthenticator, type TestApiServer } from '../../src/testbed/apiserver.js';
import { EKSAUTH_CLI, runEksauth } from '../support/eksauth.js';
import { cleanEnv, hasCommand, runCommand, tempDir, type CommandResult } from '../support/tools.js';

const HAS_KUBECTL = hasCommand('kubectl');
const HAS_AWS = hasCommand('aws');
if (!HAS_KUBECTL) console.warn('test/e2e/update-kubeconfig.test.ts: kubectl is not on PATH; the kubectl parts are skipped.');
if (!HAS_AWS) console.warn('test/e2e/update-kubeconfig.test.ts: the aws CLI is not on PATH; the aws get-token part is skipped.');

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const ACCOUNT = '111122223333';
const PARTNER_ROLE = 'arn:aws:iam::444455556666:role/eks-discovery';
const KUBE = 'kube-e2e';
const FLEET = Array.from({ length: 20 }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
const fixture = (name: string): string => readFileSync(new URL(`../kubeconfig/fixtures/${name}`, import.meta.url), 'utf8');
const arn = (region: string, name: string, account = ACCOUNT): string => `arn:aws:eks:${region}:${account}:cluster/${name}`;

let emulator: Emulator;
let server: TestApiServer;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  // The API server needs the emulator's URL and the emulator the API server's: bind the authenticator late.
  let authenticate: BearerAuthenticator = async () => undefined;
  server = await startTestApiServer({ authenticate: (token) => authenticate(token) });
  const cluster = (name: string, region: string, extra: Partial<EmulatorCluster> = {}): EmulatorCluster =>
    ({ name, region, endpoint: server.url, certificateAuthorityData: Buffer.from(server.caPem).toString('base64'), ...extra });
  const config: EmulatorConfig = {
    identities: DEMO_EMULATOR_CONFIG.identities,
    roles: [...(DEMO_EMULATOR_CONFIG.roles ?? []), { arn: PARTNER_ROLE, trustedPrincipals: [ALICE!.arn] }],
    clusters: [
      ...(DEMO_EMULATOR_CONFIG.clusters ?? []),
      cluster(KUBE, 'eu-west-1'),
      cluster('partner-prod', 'eu-west-1', { account: '444455556666' }),
      ...FLEET.map((name) => cluster(name, 'eu-central-1')),
    ],
  };
  emulator = await startEmulator(config);
  authenticate = emulatorAuthenticator({ clusterId: KUBE, stsEndpoint: emulator.url });
  env = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey, AWS_ENDPOINT_URL_EKS: emulator.url, AWS_ENDPOINT_URL_STS: emulator.url };
});
afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

const update = (args: string[], extraEnv: Record<string, string | undefined> = {}, timeoutMs?: number): Promise<CommandResult> =>
  runEksauth(['update-kubeconfig', ...args], { env: { ...env, ...extraEnv }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

/** 20 Node processes loading the SDK at once take ~20 s of CPU: minutes when the machine's other core is busy too. */
const FLEET_TIMEOUT_MS = 240_000;

function newKubeconfig(content?: string): string {
  const file = join(tempDir('eksauth-e2e-kc-'), 'config');
  if (content !== undefined) writeFileSync(file, content, { mode: 0o600 });
  return file;
}

describe('a hand-kept kubeconfig', () => {
  it('keeps its comments, key order, other users and unknown keys after an update', async () => {
    const file = newKubeconfig(fixture('commented.yaml'));
    const result = await update(['--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', file]);
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: `Added new context ${arn('eu-west-1', 'prod')} to ${file}\n` });
    const text = readFileSync(file, 'utf8');
    const comments = fixture('commented.yaml').match(/#.*$/gm) ?? [];
    expect(comments).toHaveLength(5);
    for (const comment of comments) expect(text).toContain(comment);
    const doc = parse(text) as Record<string, unknown> & { users: { name: string; user: unknown }[] };
    expect(Object.keys(doc)).toEqual(['kind', 'apiVersion', 'current-context', 'users', 'clusters', 'contexts', 'preferences', 'x-team-notes']);
    expect(doc.users.slice(0, 2)).toEqual([
      { name: 'dev', user: { token: 'dev-static-token' } },
      { name: 'ci-bot', user: { 'client-certificate': '/etc/ci/cert.pem', 'client-key': '/etc/ci/key.pem' } },
    ]);
    expect(doc['x-team-notes']).toEqual({ owner: 'platform', 'on-call': 'yes' });
    if (HAS_KUBECTL) {
      const contexts = await runCommand('kubectl', ['--kubeconfig', file, 'config', 'get-contexts', '-o', 'name']);
      expect(contexts.stdout.split('\n').filter(Boolean).sort()).toEqual([arn('eu-west-1', 'prod'), 'dev']);
    }
  });
});

const AS_ROOT = process.getuid?.() === 0;

/** Whether a user other than the owner may execute `path` (every directory on the way must let others through). */
function othersCanExecute(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  return parts.every((_, i) => (statSync(`/${parts.slice(0, i + 1).join('/')}`).mode & 0o001) !== 0);
}

// Root reads any file whatever its mode, so as root eksauth runs as nobody, with a Node that nobody may run (the
// Node of `npm test`'s second run lives under root's home).
const NOBODY_NODE = !AS_ROOT ? process.execPath : [process.execPath, '/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path) && othersCanExecute(path));
if (NOBODY_NODE === undefined) console.warn('test/e2e/update-kubeconfig.test.ts: no Node that user nobody may run; the unreadable-file test is skipped.');

function runAsNobody(args: string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NOBODY_NODE!, [EKSAUTH_CLI, ...args], {
      env: cleanEnv({ ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', HOME: '/nonexistent' }),
      cwd: '/',
      ...(AS_ROOT ? { uid: 65534, gid: 65534 } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('failures leave the kubeconfig byte-identical', () => {
  const prod = ['--name', 'prod', '--region', 'eu-west-1'];
  it.each([
    ['a YAML syntax error', fixture('invalid-yaml.yaml'), prod, 'ERR_KUBECONFIG_CORRUPT', /is not valid YAML at line 4, column \d+: /],
    ['clusters that are a string', fixture('invalid-string-clusters.yaml'), prod, 'ERR_KUBECONFIG_CORRUPT', /has a bad "clusters" at line 2, column 11: it must be a list, not a string/],
    ['two YAML documents', fixture('invalid-two-documents.yaml'), prod, 'ERR_KUBECONFIG_CORRUPT', /is not valid YAML at line 3, column 1: Source contains multiple documents/],
    ['a CREATING cluster', fixture('valid-existing.yaml'), ['--name', 'staging', '--region', 'eu-west-1'], 'ERR_CLUSTER_STATUS', /^Cluster status is CREATING \(arn:aws:eks:eu-west-1:111122223333:cluster\/staging\): wait until it is ACTIVE/],
    ['an unknown cluster', fixture('valid-existing.yaml'), ['--name', 'nope', '--region', 'eu-west-1'], 'ERR_CLUSTER_NOT_FOUND', /^Cluster not found: no cluster named "nope" in eu-west-1/],
  ])('for %s', async (_, content, args, code, message) => {
    const file = newKubeconfig(content);
    const before = readFileSync(file);
    const result = await update([...args, '--kubeconfig', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const line = result.stderr.replace(/^eksauth: /, '');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(line).toMatch(message);
    expect(line.trimEnd()).toMatch(new RegExp(`\\(${code}\\)$`));
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(join(file, '..'))).toEqual(['config']); // no lock or temporary file left behind
  });

  it('for a directory in the file’s place', async () => {
    const dir = join(tempDir('eksauth-e2e-dir-'), 'config');
    mkdirSync(dir);
    writeFileSync(join(dir, 'inside'), 'x');
    const result = await update(['--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`eksauth: kubeconfig ${dir} is a directory, not a file; fix it, or pass --kubeconfig with another file (nothing was changed) (ERR_KUBECONFIG_INACCESSIBLE)\n`);
    expect(readdirSync(dir)).toEqual(['inside']);
    expect(readdirSync(join(dir, '..'))).toEqual(['config']);
  });

  it.skipIf(NOBODY_NODE === undefined)('for a file it may not read', async () => {
    const dir = tempDir('eksauth-e2e-unreadable-');
    chmodSync(dir, 0o755);
    const file = join(dir, 'config');
    writeFileSync(file, fixture('valid-existing.yaml'), { mode: 0o000 });
    chmodSync(file, 0o000);
    const before = readFileSync(file);
    const result = await runAsNobody(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', file]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(`eksauth: kubeconfig ${file} cannot be read (EACCES); fix it, or pass --kubeconfig with another file (nothing was changed) (ERR_KUBECONFIG_INACCESSIBLE)\n`);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['config']);
  });
});

describe('concurrent runs', () => {
  it('20 parallel update-kubeconfig runs for 20 clusters into one file leave a valid file with all 20', { timeout: FLEET_TIMEOUT_MS + 30_000 }, async () => {
    const file = newKubeconfig(fixture('commented.yaml'));
    const results = await Promise.all(FLEET.map((name) => update(['--name', name, '--region', 'eu-central-1', '--kubeconfig', file], {}, FLEET_TIMEOUT_MS)));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const doc = parse(readFileSync(file, 'utf8')) as Record<'clusters' | 'users' | 'contexts', { name: string }[]>;
    const expected = FLEET.map((name) => arn('eu-central-1', name)).sort();
    for (const list of ['clusters', 'users', 'contexts'] as const) {
      expect(doc[list].map((e) => e.name).filter((n) => n.startsWith('arn:')).sort()).toEqual(expected);
    }
    // and the hand-kept entries: dev everywhere, ci-bot among the users
    expect([doc.clusters.length, doc.users.length, doc.contexts.length]).toEqual([21, 22, 21]);
    expect(readFileSync(file, 'utf8')).toContain('# the laptop user, with a static token');
    expect(readdirSync(join(file, '..'))).toEqual(['config']);
  });
});

describe('--all, --assume-role-arn and --dry-run', () => {
  it('--all writes every usable cluster with templated names and prints a summary table', async () => {
    const file = newKubeconfig(fixture('valid-existing.yaml'));
    const result = await update(['--all', '--regions', 'eu-west-1,us-west-2,ap-south-1', '--alias', '{cluster}-{region}', '--kubeconfig', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(''); // no progress line: stderr is not a terminal
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REGION +CLUSTER +STATUS +CONTEXT +RESULT$/);
    expect(lines.slice(1, -1).map((l) => l.split(/ {2,}/).slice(0, 5).join('|'))).toEqual([
      'eu-west-1|kube-e2e|ACTIVE|kube-e2e-eu-west-1|added',
      'eu-west-1|prod|ACTIVE|prod-eu-west-1|added',
      expect.stringMatching(/^eu-west-1\|staging\|CREATING\|-\|skipped: Cluster status is CREATING/),
      'us-west-2|edge|ACTIVE|edge-us-west-2|added',
    ]);
    expect(lines.at(-1)).toBe(`3 added, 0 updated, 1 skipped, 0 failed; kubeconfig ${file}`);
    const doc = parse(readFileSync(file, 'utf8')) as { contexts: { name: string }[]; 'current-context': string };
    expect(doc.contexts.map((c) => c.name)).toEqual(['existing', 'kube-e2e-eu-west-1', 'prod-eu-west-1', 'edge-us-west-2']);
    expect(doc['current-context']).toBe('existing');
  });

  it('--all refuses names that would collide', async () => {
    const file = newKubeconfig();
    const result = await update(['--all', '--regions', 'eu-west-1,us-west-2', '--alias', 'same', '--kubeconfig', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the context name "same" would be given to both .* \(ERR_USAGE\)\n$/);
  });

  it('--assume-role-arn describes a cluster of another account; the role is not written', async () => {
    const file = newKubeconfig();
    const denied = await update(['--name', 'partner-prod', '--region', 'eu-west-1', '--kubeconfig', file]);
    expect(denied.stderr).toContain('(ERR_CLUSTER_NOT_FOUND)');
    const result = await update(['--name', 'partner-prod', '--region', 'eu-west-1', '--assume-role-arn', PARTNER_ROLE, '--kubeconfig', file]);
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`name: ${arn('eu-west-1', 'partner-prod', '444455556666')}`);
    expect(text).not.toContain('eks-discovery');
  });

  it('--dry-run prints the merged YAML a real run then writes, and --dry-run summary what changes', async () => {
    const file = newKubeconfig(fixture('same-arn-old.yaml'));
    const args = ['--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', file];
    const dry = await update([...args, '--dry-run']);
    const summary = await update([...args, '--dry-run', 'summary']);
    expect(readFileSync(file, 'utf8')).toBe(fixture('same-arn-old.yaml'));
    expect(summary.stdout.split('\n')).toEqual([
      `kubeconfig ${file}`,
      `~ cluster ${arn('eu-west-1', 'prod')}`,
      expect.stringMatching(/^ {4}cluster\.certificate-authority-data: T0xEX0NB → LS0t.*\(\d+ chars\)$/),
      '    cluster.server: https://OLDENDPOINT.gr7.eu-west-1.eks.amazonaws.com → https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
      `~ user ${arn('eu-west-1', 'prod')}`,
      '    user.exec.apiVersion: client.authentication.k8s.io/v1alpha1 → client.authentication.k8s.io/v1beta1',
      '    user.exec.args: ["token","-i","prod"] → ["token","--cluster-name","prod","--region","eu-west-1"]',
      '    user.exec.command: aws-iam-authenticator → eksauth',
      `= context ${arn('eu-west-1', 'prod')} (unchanged)`,
      `~ current-context: first → ${arn('eu-west-1', 'prod')}`,
      '',
    ]);
    const real = await update(args);
    expect(real.stdout).toBe(`Updated context ${arn('eu-west-1', 'prod')} in ${file}\n`);
    expect(readFileSync(file, 'utf8')).toBe(dry.stdout);
  });
});

describe.skipIf(!HAS_KUBECTL)('kubectl with the written kubeconfig → test API server → STS emulator', () => {
  async function whoami(extraArgs: string[], kubectlEnv = env): Promise<string> {
    const file = newKubeconfig();
    const written = await update(['--name', KUBE, '--region', 'eu-west-1', '--kubeconfig', file, ...extraArgs]);
    expect(written.code, written.stderr).toBe(0);
    const result = await runCommand('kubectl', ['--kubeconfig', file, 'auth', 'whoami', '-o', 'json'], { env: kubectlEnv });
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username;
  }

  it('runs eksauth token from the exec block (v1beta1)', async () => {
    expect(await whoami(['--exec-command', EKSAUTH_CLI])).toBe(ALICE?.arn);
  });

  it('with apiVersion v1 and interactiveMode, as an assumed role', async () => {
    const username = await whoami(['--exec-command', EKSAUTH_CLI, '--api-version', 'v1', '--role-arn', `arn:aws:iam::${ACCOUNT}:role/eks-admin`]);
    expect(username).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/eks-admin/EKSGetTokenAuth`);
  });

  it.skipIf(!HAS_AWS)('runs the real aws eks get-token with --exec-command aws', async () => {
    // With AWS_ENDPOINT_URL_STS the aws CLI would presign for the emulator's own address instead of the STS host.
    expect(await whoami(['--exec-command', 'aws'], { ...env, AWS_ENDPOINT_URL_STS: undefined })).toBe(ALICE?.arn);
  });
});
