/**
 * "Why am I Unauthorized?": walks the chain kubectl follows, from the kubeconfig entry to the Kubernetes identity,
 * and stops at the first broken link with what to do. Each link reuses the code that does the real thing: the exec
 * plugin is run as kubectl runs it, its token decoded (token/summary) and verified with STS (authn/verify), the
 * cluster described (aws/eks), the access entries read (access/apply) and the identity mapped (mapIdentity) as the
 * webhook maps it; the API server's own answer (a SelfSubjectReview) is the last link.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readAccessEntries } from '../access/apply.js';
import type { AwsAuthSections } from '../authn/mapping/aws-auth-format.js';
import { buildAwsAuthSource } from '../authn/mapping/aws-auth-format.js';
import type { StsIdentity } from '../authn/arn.js';
import { parseAccessEntries } from '../authn/mapping/access-entries/access-entries.js';
import { mapIdentity } from '../authn/mapping/map-identity.js';
import type { MappingSource } from '../authn/mapping/types.js';
import { verifyToken } from '../authn/verify.js';
import { describeCluster, USABLE_CLUSTER_STATUSES, type EksCluster } from '../aws/eks.js';
import { configuredEndpoint, configuredStsEndpoint } from '../aws/sts-endpoint.js';
import { isEksAuthError } from '../errors.js';
import { resolveEksAccess } from '../kubeconfig/update.js';
import { decodeTokenDetails } from '../token/summary.js';
import { caseNote, createEntry, nearestMiss, pathMiss } from './nearest-miss.js';

/** One link of the chain. */
export interface DoctorCheck {
  check: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** For a broken link: what to do. */
  fix?: string;
}

export interface DoctorReport {
  /** True when every link holds. */
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Default: the first of KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  /** The context to check; default: the current one (or the one whose exec args name `clusterName`). */
  context?: string;
  clusterName?: string;
  /** aws-auth as a file's sections, instead of reading kube-system/aws-auth (which needs working credentials). */
  awsAuth?: AwsAuthSections;
  env?: NodeJS.ProcessEnv;
}

const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1beta1', 'client.authentication.k8s.io/v1'];
const UPDATE = (cluster: string): string => `run \`eksauth update-kubeconfig --name ${cluster}\` to write the entry again`;

class Broken extends Error {}

/**
 * Runs the checks in order and stops at the first broken link.
 *
 * @example
 * ```ts
 * import { doctor } from './doctor.js';
 * const report = await doctor({ context: 'prod' });
 * for (const c of report.checks) console.log(c.ok ? '✓' : '✗', c.check, c.detail, c.fix ?? '');
 * ```
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const pass = (check: string, detail: string): void => {
    checks.push({ check, ok: true, detail });
  };
  const fail = (check: string, detail: string, fix: string): never => {
    checks.push({ check, ok: false, detail, fix });
    throw new Broken(detail);
  };
  try {
    await walk(options, pass, fail);
  } catch (err) {
    if (!(err instanceof Broken)) throw err;
  }
  return { ok: checks.every((c) => c.ok), checks };
}

type Pass = (check: string, detail: string) => void;
type Fail = (check: string, detail: string, fix: string) => never;

interface KubeEntry {
  file: string;
  context: string;
  server: string;
  caPem?: string;
  /** The kubeconfig's cluster entry name (update-kubeconfig writes the cluster ARN). */
  clusterEntry: string;
  user: { token?: string; exec?: { apiVersion?: string; command?: string; args?: string[]; env?: { name: string; value: string }[] } };
}

async function walk(options: DoctorOptions, pass: Pass, fail: Fail): Promise<void> {
  const env = options.env ?? process.env;
  const entry = readKubeEntry(options, env, fail);
  pass('kubeconfig', `context ${entry.context} in ${entry.file}: server ${entry.server}`);
  const { token, execEnv, args } = await obtainToken(entry, env, pass, fail);
  const decoded = decodeTokenDetails(token);
  const expected = clusterFromEntry(entry);
  // The token signs x-k8s-aws-id without carrying its value: the cluster name is the exec args'.
  const named = argValue(args, ['--cluster-name', '--cluster-id', '-i']);
  const clusterName = named ?? options.clusterName ?? expected?.name ?? '';
  if (decoded.state === 'expired') fail('token', `the token expired at ${decoded.validUntil}`, 'tokens last 15 minutes: use the exec plugin (`eksauth update-kubeconfig`) instead of a pasted token, or clear the cache (`eksauth cache clean`)');
  pass('token', `for cluster ${clusterName || '(unnamed)'}, signed for ${decoded.region} (STS host ${decoded.host}), valid until ${decoded.validUntil}`);
  const region = decoded.region;
  if (expected !== undefined && expected.region !== region) {
    fail('region', `the token is signed for ${region}, the cluster ${expected.arn} is in ${expected.region}`, `set --region ${expected.region} in the exec args (or ${UPDATE(expected.name)})`);
  }
  if (expected !== undefined && named !== undefined && named !== expected.name) {
    fail('cluster name', `the exec args name cluster ${named}, the kubeconfig's cluster is ${expected.arn}`, `set --cluster-name ${expected.name} in the exec args (or ${UPDATE(expected.name)}): a token for another cluster is refused`);
  }
  // STS as the exec plugin reaches it: its env (AWS_ENDPOINT_URL_STS, a proxy) over doctor's own.
  const identity = await stsIdentity(token, clusterName, { ...env, ...execEnv }, fail);
  pass('STS identity', `${identity.arn} (canonical ARN ${identity.canonicalArn})`);
  const eks = await resolveEksAccess({ region, ...(argValue(args, ['--profile']) === undefined ? {} : { profile: argValue(args, ['--profile']) }), env: { ...env, ...execEnv } });
  const cluster = await describe(clusterName, eks, region, fail);
  checkCluster(cluster, entry, pass, fail);
  await checkReachable(entry, fail);
  pass('endpoint', `${entry.server} answers over TLS with the kubeconfig's CA`);
  const mode = cluster.authenticationMode ?? 'CONFIG_MAP';
  pass('authentication mode', `${mode}: ${mode === 'API' ? 'access entries only' : mode === 'CONFIG_MAP' ? 'aws-auth only' : 'access entries, then aws-auth'}`);
  const sources = await mappingSources(mode, clusterName, eks, options, entry, pass, fail);
  await checkMapping(identity, sources, clusterName, ec2NameLookup(eks, { ...env, ...execEnv }), pass, fail);
  await checkKubernetes(entry, token, pass, fail);
}

function readKubeEntry(options: DoctorOptions, env: NodeJS.ProcessEnv, fail: Fail): KubeEntry {
  const file = options.kubeconfig ?? (env.KUBECONFIG ?? '').split(delimiter).find((f) => f !== '') ?? join(homedir(), '.kube', 'config');
  if (!existsSync(file)) fail('kubeconfig', `${file} does not exist`, 'run `eksauth update-kubeconfig --name CLUSTER`, or pass --kubeconfig');
  type Named<T> = { name: string } & T;
  const doc = (parseKubeconfigText(file, fail) ?? {}) as {
    'current-context'?: string;
    contexts?: Named<{ context: { cluster: string; user: string } }>[];
    clusters?: Named<{ cluster: { server: string; 'certificate-authority-data'?: string } }>[];
    users?: Named<{ user: KubeEntry['user'] }>[];
  };
  const byCluster = options.clusterName === undefined ? undefined : doc.contexts?.find((c) => {
    const user = doc.users?.find((u) => u.name === c.context.user)?.user;
    return argValue(user?.exec?.args ?? [], ['--cluster-name', '--cluster-id', '-i']) === options.clusterName;
  })?.name;
  const name = options.context ?? byCluster ?? doc['current-context'];
  const context = doc.contexts?.find((c) => c.name === name);
  if (context === undefined) {
    fail('kubeconfig', `${file} has no context ${name ?? '(no current-context)'}`, `pass --context with one of ${(doc.contexts ?? []).map((c) => c.name).join(', ') || '(none)'}, or run \`eksauth update-kubeconfig\``);
  }
  const cluster = doc.clusters?.find((c) => c.name === context!.context.cluster);
  const user = doc.users?.find((u) => u.name === context!.context.user);
  if (cluster === undefined || user === undefined) fail('kubeconfig', `context ${name} names a cluster or user that ${file} does not have`, 'run `eksauth update-kubeconfig --name CLUSTER`');
  const ca = cluster!.cluster['certificate-authority-data'];
  return {
    file, context: name!, server: cluster!.cluster.server, clusterEntry: cluster!.name, user: user!.user,
    ...(ca === undefined ? {} : { caPem: Buffer.from(ca, 'base64').toString('utf8') }),
  };
}

function parseKubeconfigText(file: string, fail: Fail): unknown {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return fail('kubeconfig', `${file} cannot be read as YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`, 'fix the file, or write the entry again with `eksauth update-kubeconfig --name CLUSTER` into a new --kubeconfig');
  }
}

/** The token kubectl would send: the user's static token, or what the exec plugin prints, run as kubectl runs it. */
async function obtainToken(entry: KubeEntry, env: NodeJS.ProcessEnv, pass: Pass, fail: Fail): Promise<{ token: string; execEnv: Record<string, string>; args: string[] }> {
  if (entry.user.token !== undefined) {
    pass('credentials', 'the user has a static token (no exec plugin)');
    return { token: entry.user.token, execEnv: {}, args: [] };
  }
  const exec = entry.user.exec;
  if (exec?.command === undefined) fail('exec', `user of context ${entry.context} has neither an exec block nor a token`, UPDATE('CLUSTER'));
  if (!EXEC_API_VERSIONS.includes(exec!.apiVersion ?? '')) {
    fail('exec', `apiVersion ${exec!.apiVersion ?? '(none)'}: kubectl 1.24 and later accept only ${EXEC_API_VERSIONS.join(' and ')}`, 'set apiVersion: client.authentication.k8s.io/v1beta1 in the exec block, or write the entry again with `eksauth update-kubeconfig`');
  }
  const command = findCommand(exec!.command!, entry.file, env);
  if (command === undefined) fail('exec', `command ${exec!.command} is not on PATH`, `install it, or set command: to its full path (\`which ${exec!.command}\`); the PATH kubectl sees is ${env.PATH ?? '(empty)'}`);
  const args = exec!.args ?? [];
  const execEnv = Object.fromEntries((exec!.env ?? []).map((e) => [e.name, e.value]));
  const profileArg = argValue(args, ['--profile']);
  const profileNote = profileArg !== undefined && execEnv.AWS_PROFILE !== undefined && execEnv.AWS_PROFILE !== profileArg
    ? `; note: --profile ${profileArg} in the args wins over AWS_PROFILE=${execEnv.AWS_PROFILE} in its env` : '';
  pass('exec', `${exec!.apiVersion}: ${command} ${args.join(' ')}${profileNote}`);
  const run = await runPlugin(command!, args, { ...env, ...execEnv, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: exec!.apiVersion, kind: 'ExecCredential', spec: { interactive: false } }) });
  if (run.token === undefined) fail('credentials', `the exec plugin failed: ${run.error}`, fixFromPluginError(run.error));
  pass('credentials', 'the exec plugin printed an ExecCredential with a token');
  return { token: run.token!, execEnv, args };
}

function runPlugin(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ token?: string; error: string }> {
  return new Promise((done) => {
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const lastLine = stderr.trim().split('\n').at(-1) ?? '';
      if (err !== null) {
        done({ error: lastLine || err.message });
        return;
      }
      try {
        const token = (JSON.parse(stdout) as { status?: { token?: unknown } }).status?.token;
        done(typeof token === 'string' ? { token, error: '' } : { error: 'its output has no status.token' });
      } catch {
        done({ error: 'its output is not an ExecCredential (JSON)' });
      }
    });
  });
}

/** eksauth's (and aws-cli's) last stderr line already says what to do; else a generic fix. */
function fixFromPluginError(error: string): string {
  if (/ERR_NO_CREDENTIALS|Unable to locate credentials/.test(error)) return 'configure credentials: `aws configure`, `aws sso login`, or set AWS_PROFILE in the exec env';
  if (/aws sso login/.test(error)) return /aws sso login[^`)]*/.exec(error)?.[0] ?? 'run `aws sso login`';
  if (/ERR_ASSUME_ROLE/.test(error)) return 'the role in --role-arn cannot be assumed by your credentials: check its trust policy (and the external id)';
  if (/ERR_CREDENTIALS_EXPIRED/.test(error)) return 'refresh the credentials named in the message';
  return 'run the exec command by hand to see the whole message';
}

function findCommand(command: string, kubeconfigFile: string, env: NodeJS.ProcessEnv): string | undefined {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  // As client-go: a command with a path separator is relative to the kubeconfig's directory.
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(dirname(kubeconfigFile), command);
    return executable(path) ? path : undefined;
  }
  return (env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, command)).find(executable);
}

function argValue(args: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (names.includes(arg)) return args[i + 1];
    const name = names.find((n) => arg.startsWith(`${n}=`));
    if (name !== undefined) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** The cluster the kubeconfig entry is for, when its name is an EKS cluster ARN (as update-kubeconfig writes it). */
function clusterFromEntry(entry: KubeEntry): { arn: string; region: string; name: string } | undefined {
  const match = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster\/(.+)$/.exec(entry.clusterEntry);
  return match === null ? undefined : { arn: entry.clusterEntry, region: match[1]!, name: match[2]! };
}

// Failures to get an answer from STS, as against an answer that refuses the token.
const STS_UNREACHED: ReadonlySet<string> = new Set(['ERR_STS_UNAVAILABLE', 'ERR_STS_THROTTLED', 'ERR_STS_RESPONSE', 'ERR_PROXY', 'ERR_TLS']);

async function stsIdentity(token: string, clusterName: string, env: NodeJS.ProcessEnv, fail: Fail): Promise<StsIdentity> {
  const stsEndpoint = configuredStsEndpoint(env);
  try {
    return (await verifyToken(token, { clusterId: clusterName, network: { env }, ...(stsEndpoint === undefined ? {} : { stsEndpoint }) })).identity;
  } catch (err) {
    const message = isEksAuthError(err) ? err.message : String(err);
    if (isEksAuthError(err) && STS_UNREACHED.has(err.code)) {
      return fail('STS identity', `no answer from STS: ${message}`, 'check the network path to STS (proxy, AWS_ENDPOINT_URL_STS in the exec env, DNS) and retry');
    }
    return fail('STS identity', `STS refused the token: ${message}`, 'check the credentials and the clock; `eksauth whoami` shows who they are');
  }
}

async function describe(name: string, eks: Awaited<ReturnType<typeof resolveEksAccess>>, region: string, fail: Fail): Promise<EksCluster> {
  try {
    return await describeCluster(name, eks);
  } catch (err) {
    const why = isEksAuthError(err) ? err.message : String(err);
    if (isEksAuthError(err, 'ERR_CLUSTER_NOT_FOUND')) {
      return fail('cluster', `no cluster ${name} in ${region}`, `check --cluster-name and --region in the exec args (\`aws eks list-clusters --region ${region}\`)`);
    }
    return fail('cluster', `DescribeCluster failed: ${why}`, describeFix(err));
  }
}

/** What to do when DescribeCluster gives no answer about the cluster, by the kind of failure. */
function describeFix(err: unknown): string {
  if (isEksAuthError(err, 'ERR_EKS_ACCESS_DENIED')) return 'allow eks:DescribeCluster to these credentials, or run doctor with credentials that have it';
  if (isEksAuthError(err, 'ERR_EKS_REJECTED')) return 'refresh the credentials doctor runs with (`eksauth whoami` shows them)';
  return 'check the network path to EKS (proxy, AWS_ENDPOINT_URL_EKS, DNS) and retry';
}

function checkCluster(cluster: EksCluster, entry: KubeEntry, pass: Pass, fail: Fail): void {
  if (!USABLE_CLUSTER_STATUSES.includes(cluster.status)) {
    fail('cluster', `${cluster.arn} is ${cluster.status}`, cluster.status === 'CREATING' ? `wait until it is ACTIVE (\`aws eks wait cluster-active --name ${cluster.name}\`)` : 'only an ACTIVE cluster answers: check it in the EKS console');
  }
  if (cluster.endpoint !== '' && stripSlash(cluster.endpoint) !== stripSlash(entry.server)) {
    fail('cluster', `${cluster.name}'s endpoint is ${cluster.endpoint}, the kubeconfig's server ${entry.server}`, UPDATE(cluster.name));
  }
  const eksCa = Buffer.from(cluster.certificateAuthorityData, 'base64').toString('utf8').trim();
  if (eksCa !== '' && entry.caPem !== undefined && eksCa !== entry.caPem.trim()) {
    fail('cluster', `the kubeconfig's certificate-authority-data is not ${cluster.name}'s CA`, UPDATE(cluster.name));
  }
  pass('cluster', `${cluster.arn} is ${cluster.status}; endpoint and CA match the kubeconfig`);
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function checkReachable(entry: KubeEntry, fail: Fail): Promise<void> {
  return new Promise((done, reject) => {
    const request = httpsRequest(`${entry.server}/version`, { ...(entry.caPem === undefined ? {} : { ca: entry.caPem }), timeout: 10_000 }, (response) => {
      response.resume();
      done();
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (err) => {
      try {
        fail('endpoint', `${entry.server} cannot be reached: ${err.message}`, /certificate|self.signed|CERT/i.test(err.message) ? 'the CA does not match the server: write the entry again with `eksauth update-kubeconfig`' : 'check the network path (VPN, proxy, private endpoint access)');
      } catch (broken) {
        reject(broken);
      }
    });
    request.end();
  });
}

async function mappingSources(
  mode: string,
  clusterName: string,
  eks: Awaited<ReturnType<typeof resolveEksAccess>>,
  options: DoctorOptions,
  entry: KubeEntry,
  pass: Pass,
  fail: Fail,
): Promise<MappingSource[]> {
  const sources: MappingSource[] = [];
  if (mode !== 'CONFIG_MAP') {
    const entries = await readAccessEntries(clusterName, eks).catch((err: unknown) =>
      fail('mapping', `the access entries cannot be read: ${isEksAuthError(err) ? err.message : String(err)}`, 'doctor needs eks:ListAccessEntries and eks:DescribeAccessEntry on the cluster; run it with credentials that have them'));
    sources.push(parseAccessEntries(entries.map(({ entry: e }) => ({ principalArn: e.principalArn, type: e.type, username: e.username, kubernetesGroups: e.kubernetesGroups }))));
  }
  if (mode !== 'API') {
    const sections = options.awsAuth ?? await readClusterAwsAuth(entry, pass);
    if (sections !== undefined) sources.push(buildAwsAuthSource(sections, { name: 'aws-auth', kind: 'aws-auth', where: 'aws-auth: data.' }));
  }
  return sources;
}

async function readClusterAwsAuth(entry: KubeEntry, pass: Pass): Promise<AwsAuthSections | undefined> {
  const { fetchAwsAuth } = await import('../access/aws-auth.js');
  try {
    return await fetchAwsAuth({ kubeconfigPath: entry.file }, entry.context);
  } catch {
    pass('aws-auth', 'kube-system/aws-auth could not be read with these credentials; pass --aws-auth FILE to check its rows too');
    return undefined;
  }
}

/** `{{EC2PrivateDNSName}}` for doctor, and why it could not be looked up if it could not. */
interface Ec2NameLookup {
  resolve: (instanceId: string) => Promise<string>;
  failure?: string;
}

/**
 * `{{EC2PrivateDNSName}}` as the webhook resolves it (EC2 DescribeInstances), with the credentials doctor has. When
 * they may not call EC2 the row still matches, since EKS looks the name up with its own rights: the name is then shown
 * as not resolved, and why, instead of failing the mapping.
 */
function ec2NameLookup(eks: Awaited<ReturnType<typeof resolveEksAccess>>, env: NodeJS.ProcessEnv): Ec2NameLookup {
  let describe: ((instanceId: string) => Promise<string>) | undefined;
  const lookup: Ec2NameLookup = {
    resolve: async (instanceId) => {
      const endpoint = configuredEndpoint('EC2', env);
      describe ??= (await import('../authn/mapping/ec2-private-dns.js')).createEc2PrivateDnsResolver({
        region: eks.region, credentials: eks.credentials, ...(endpoint === undefined ? {} : { endpoint }),
      });
      return describe(instanceId).catch((err: unknown) => {
        lookup.failure = isEksAuthError(err) ? err.message : String(err);
        return `<private-DNS-name-of-${instanceId}>`;
      });
    },
  };
  return lookup;
}

async function checkMapping(identity: StsIdentity, sources: MappingSource[], clusterName: string, ec2Name: Ec2NameLookup, pass: Pass, fail: Fail): Promise<void> {
  // EKS matches aws-auth rows on the role ARN without path; eksauth's own reading would forgive a path.
  const path = pathMiss(identity, sources);
  if (path !== undefined) fail('mapping', path.detail, path.fix);
  const result = await mapIdentity(identity, sources, { reservedPrefixAllowList: ['system:node:'], ec2PrivateDnsName: ec2Name.resolve });
  if (result.mapped) {
    const unresolved = ec2Name.failure === undefined ? undefined : `EC2 did not answer doctor (${ec2Name.failure}); EKS looks the name up itself`;
    const notes = [caseNote(identity, result.row), unresolved].filter((n) => n !== undefined);
    pass('mapping', `${result.row.source}: ${result.user.username} [${result.user.groups.join(', ')}]${notes.map((n) => `; ${n}`).join('')}`);
    return;
  }
  const miss = nearestMiss(identity, sources, clusterName);
  if (miss !== undefined) fail('mapping', miss.detail, miss.fix);
  const searched = sources.some((s) => s.kind === 'aws-auth') ? 'access entry or aws-auth row' : 'access entry';
  // The nearest row of the caller's own account (mapIdentity never offers another account's).
  const nearest = result.closest === undefined ? '' : `; nearest: ${result.closest.arn ?? result.closest.account ?? ''} in ${result.closest.source}${result.hint === undefined ? '' : ` (${result.hint})`}`;
  fail('mapping', `${identity.canonicalArn} matches no ${searched}${nearest}`,
    `add an access entry: ${createEntry(clusterName, identity.canonicalArn)} (with its path if the role has one), or a row in aws-auth`);
}

async function checkKubernetes(entry: KubeEntry, token: string, pass: Pass, fail: Fail): Promise<void> {
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  const answer = await new Promise<{ status: number; text: string }>((done, reject) => {
    const request = httpsRequest(`${entry.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(entry.caPem === undefined ? {} : { ca: entry.caPem }), timeout: 15_000,
    }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      response.on('end', () => done({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
  if (answer.status === 401) fail('kubernetes', 'the API server answers Unauthorized although the identity maps', 'the cluster\'s authenticator sees something else: check the authentication mode and that the entry/row was saved');
  if (answer.status >= 300) fail('kubernetes', `the API server answered ${answer.status} to a SelfSubjectReview`, 'kubectl auth whoami -v6 shows the whole answer');
  const user = (JSON.parse(answer.text) as { status?: { userInfo?: { username?: string; groups?: string[] } } }).status?.userInfo;
  pass('kubernetes', `${user?.username ?? '?'} [${(user?.groups ?? []).join(', ')}]`);
}
