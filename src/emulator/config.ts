/**
 * Configuration of the local STS emulator: which access keys exist, who they belong to, and which roles can be
 * assumed by whom. Read from YAML or JSON and validated strictly, because a typo in a test bed silently turns
 * "should be refused" into "was refused for the wrong reason".
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { EksAuthError } from '../errors.js';
import { AUTHENTICATION_MODES, type AuthenticationMode } from '../authn/mapping/access-entries/access-policies.js';
import { parsePrincipalArn } from './principals.js';

/** A long-term access key (or, with `sessionToken`, a fixed set of temporary credentials) and who it belongs to. */
export interface EmulatorIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * `arn:<partition>:iam::<account>:user/<name>`, `…:root`, `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`
   * or `…:federated-user/<name>`; the account comes from here.
   */
  arn: string;
  /**
   * What GetCallerIdentity reports as UserId, e.g. `AIDA…` for a user, `AROA…:<session>` for a role session, the
   * account id for the root user, `<account>:<name>` for a federated user.
   */
  userId: string;
  /**
   * When set, requests must carry this session token (X-Amz-Security-Token), as temporary credentials do. Lets a test
   * pin a role session (say, a node role) or a signature vector that was computed with a session token.
   */
  sessionToken?: string;
}

export interface EmulatorRole {
  /** `arn:<partition>:iam::<account>:role/[path/]<name>`; AssumeRole must name it exactly. */
  arn: string;
  /**
   * Who may assume the role: user or role ARNs (a role ARN admits any session of that role), an account root ARN
   * (anyone in that account) or `*` (anyone). Omitted: any known identity of the role's account.
   */
  trustedPrincipals?: string[];
  /** When set, AssumeRole must pass exactly this ExternalId. */
  externalId?: string;
}

/** The Outposts placement of a local cluster, as DescribeCluster reports it in `outpostConfig`. */
export interface EmulatorOutpostConfig {
  outpostArns: string[];
  controlPlaneInstanceType: string;
  /** Set, the cluster is not a local one: the aws CLI then names it by `--cluster-name`, not `--cluster-id`. */
  etcdInstanceType?: string;
}

/** An EKS cluster that ListClusters and DescribeCluster report to callers of its account and region. */
export interface EmulatorCluster {
  /** The cluster name, as `aws eks describe-cluster --name` takes it. */
  name: string;
  region: string;
  /** The 12-digit account that owns it; default: the account of the first identity. */
  account?: string;
  /** The API server URL, e.g. a test API server's `https://127.0.0.1:PORT`. */
  endpoint: string;
  /**
   * Base64 of the PEM CA bundle (`certificateAuthority.data`). Default: the certificate of the emulator's local CA, a
   * real CA made when the emulator starts (see `EmulatorOptions.certificateAuthority`).
   */
  certificateAuthorityData?: string;
  /** Default ACTIVE. */
  status?: EmulatorClusterStatus;
  /** The cluster id; DescribeCluster reports it for Outposts local clusters only. Default: derived from the ARN. */
  id?: string;
  /** Makes it an Outposts local cluster, which tokens name by `id` instead of `name`. */
  outpostConfig?: EmulatorOutpostConfig;
  /** `accessConfig.authenticationMode` at start (UpdateClusterConfig changes it); default API_AND_CONFIG_MAP. */
  authenticationMode?: AuthenticationMode;
}

export const EMULATOR_CLUSTER_STATUSES = ['CREATING', 'ACTIVE', 'DELETING', 'FAILED', 'UPDATING', 'PENDING'] as const;
export type EmulatorClusterStatus = (typeof EMULATOR_CLUSTER_STATUSES)[number];

/** An EC2 instance that DescribeInstances reports to callers of its account and region. */
export interface EmulatorInstance {
  /** `i-` and 8 or 17 hex digits: what a node role's session name is, on EC2 (see `{{EC2PrivateDNSName}}`). */
  instanceId: string;
  region: string;
  /** e.g. `ip-10-0-1-23.eu-west-1.compute.internal`; '' for an instance that has none (a terminated one). */
  privateDnsName: string;
  /** The 12-digit account that owns it; default: the account of the first identity. */
  account?: string;
}

export interface EmulatorConfig {
  identities: EmulatorIdentity[];
  roles?: EmulatorRole[];
  /** EKS clusters for ListClusters and DescribeCluster. */
  clusters?: EmulatorCluster[];
  /** EC2 instances for DescribeInstances (the webhook's `{{EC2PrivateDNSName}}` lookups). */
  instances?: EmulatorInstance[];
}

const DEMO_ACCOUNT = '111122223333';

/**
 * Built-in identities for `eksauth emulator` without `--config` and for `eksauth demo`: users alice and bob in
 * account 111122223333, role eks-admin (alice may assume it) and role eks-partner (anyone in the account, with
 * ExternalId `partner-42`). The keys are made up and work only against the emulator.
 */
export const DEMO_EMULATOR_CONFIG: EmulatorConfig = {
  identities: [
    {
      accessKeyId: 'EKSAUTHDEMOALICE0001',
      secretAccessKey: 'eksauth/demo/alice/not+a+real+secret/001',
      arn: `arn:aws:iam::${DEMO_ACCOUNT}:user/alice`,
      userId: 'AIDAEKSAUTHDEMOALICE1',
    },
    {
      accessKeyId: 'EKSAUTHDEMOBOB000001',
      secretAccessKey: 'eksauth/demo/bob/not+a+real+secret/00001',
      arn: `arn:aws:iam::${DEMO_ACCOUNT}:user/bob`,
      userId: 'AIDAEKSAUTHDEMOBOB001',
    },
  ],
  roles: [
    { arn: `arn:aws:iam::${DEMO_ACCOUNT}:role/eks-admin`, trustedPrincipals: [`arn:aws:iam::${DEMO_ACCOUNT}:user/alice`] },
    { arn: `arn:aws:iam::${DEMO_ACCOUNT}:role/eks-partner`, externalId: 'partner-42' },
  ],
  clusters: [
    { name: 'prod', region: 'eu-west-1', endpoint: 'https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com', status: 'ACTIVE' },
    { name: 'staging', region: 'eu-west-1', endpoint: 'https://FEDCBA9876543210FEDCBA9876543210.gr7.eu-west-1.eks.amazonaws.com', status: 'CREATING' },
    {
      name: 'edge',
      region: 'us-west-2',
      endpoint: 'https://10.0.12.34',
      status: 'ACTIVE',
      id: '7f2a9c1e-4b6d-4e8f-9a0b-1c2d3e4f5a6b',
      outpostConfig: { outpostArns: [`arn:aws:outposts:us-west-2:${DEMO_ACCOUNT}:outpost/op-0123456789abcdef0`], controlPlaneInstanceType: 'm5.large' },
    },
  ],
};

const IDENTITY_FIELDS = ['accessKeyId', 'secretAccessKey', 'arn', 'userId', 'sessionToken'] as const;
const ROLE_FIELDS = ['arn', 'trustedPrincipals', 'externalId'] as const;
const CLUSTER_FIELDS = ['name', 'region', 'account', 'endpoint', 'certificateAuthorityData', 'status', 'id', 'outpostConfig', 'authenticationMode'] as const;
const OUTPOST_FIELDS = ['outpostArns', 'controlPlaneInstanceType', 'etcdInstanceType'] as const;
const INSTANCE_FIELDS = ['instanceId', 'region', 'privateDnsName', 'account'] as const;
const TOP_FIELDS = ['identities', 'roles', 'clusters', 'instances'] as const;
const REGION_PATTERN = /^[a-z]{2,6}(-[a-z]{2,10}){1,3}-\d{1,2}$/;
const EXAMPLE = 'identities:\n  - accessKeyId: EXAMPLEKEYID0001\n    secretAccessKey: <secret>\n    arn: arn:aws:iam::111122223333:user/alice\n    userId: AIDAEXAMPLEUSERID0001';

/** Collects the location of a problem so every message says which file and which field to fix. */
class ConfigReader {
  constructor(private readonly source: string) {}

  fail(path: string, problem: string): never {
    const where = path === '' ? this.source : `${this.source}: ${path}`;
    throw new EksAuthError('ERR_INVALID_CONFIG', `Invalid emulator config ${where}: ${problem}`);
  }

  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected a mapping with the fields ${allowed.join(', ')} (got ${describe(value)}).`);
    }
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) {
      this.fail(path, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}.`);
    }
    return record;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected a list (got ${describe(value)}).`);
    return value;
  }

  /** A string matching `pattern`; `hint` says what a valid value looks like. Secrets are never echoed. */
  string(value: unknown, path: string, pattern: RegExp, hint: string, secret = false): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, ${hint} (got ${describe(value)}).`);
    if (!pattern.test(value)) {
      this.fail(path, secret ? `invalid value; ${hint}.` : `invalid value ${JSON.stringify(value)}; ${hint}.`);
    }
    return value;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Parses and validates an emulator configuration (YAML, or JSON which is valid YAML).
 *
 * @param source names the file in error messages
 * @throws EksAuthError ERR_INVALID_CONFIG naming the file, the field and what a valid value looks like
 */
export function parseEmulatorConfig(text: string, source: string): EmulatorConfig {
  const reader = new ConfigReader(source);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    reader.fail('', `not valid YAML or JSON: ${syntaxError.message.split('\n')[0]}`);
  }
  const content: unknown = doc.toJS();
  if (content === null || content === undefined) reader.fail('', `the file is empty; it needs at least one identity, e.g.\n${EXAMPLE}`);
  const root = reader.object(content, '', TOP_FIELDS);
  if (root.identities === undefined) reader.fail('identities', `missing; the emulator needs at least one identity, e.g.\n${EXAMPLE}`);
  const identities = reader.array(root.identities, 'identities').map((item, i) => readIdentity(reader, item, `identities[${i}]`));
  if (identities.length === 0) reader.fail('identities', `empty; add at least one identity, e.g.\n${EXAMPLE}`);
  rejectDuplicates(reader, identities.map((id) => id.accessKeyId), 'identities', 'accessKeyId');
  const config: EmulatorConfig = { identities };
  if (root.roles !== undefined) {
    config.roles = reader.array(root.roles, 'roles').map((item, i) => readRole(reader, item, `roles[${i}]`));
    rejectDuplicates(reader, config.roles.map((role) => role.arn), 'roles', 'arn');
  }
  if (root.clusters !== undefined) {
    config.clusters = reader.array(root.clusters, 'clusters').map((item, i) => readCluster(reader, item, `clusters[${i}]`));
    const owner = parsePrincipalArn(identities[0]!.arn)?.account;
    rejectDuplicates(reader, config.clusters.map((c) => `${c.account ?? owner}/${c.region}/${c.name}`), 'clusters', 'name');
  }
  if (root.instances !== undefined) {
    config.instances = reader.array(root.instances, 'instances').map((item, i) => readInstance(reader, item, `instances[${i}]`));
    rejectDuplicates(reader, config.instances.map((instance) => instance.instanceId), 'instances', 'instanceId');
  }
  return config;
}

function readInstance(reader: ConfigReader, value: unknown, path: string): EmulatorInstance {
  const raw = reader.object(value, path, INSTANCE_FIELDS);
  const instance: EmulatorInstance = {
    instanceId: reader.string(raw.instanceId, `${path}.instanceId`, /^i-([0-9a-f]{8}|[0-9a-f]{17})$/, 'i- and 8 or 17 lower-case hex digits, e.g. i-0123456789abcdef0'),
    region: reader.string(raw.region, `${path}.region`, REGION_PATTERN, 'a region name such as eu-west-1'),
    privateDnsName: reader.string(raw.privateDnsName, `${path}.privateDnsName`, /^([a-z0-9-]+(\.[a-z0-9-]+)*)?$/, "a DNS name such as ip-10-0-1-23.eu-west-1.compute.internal, or '' for none"),
  };
  if (raw.account !== undefined) instance.account = reader.string(raw.account, `${path}.account`, /^\d{12}$/, 'a 12-digit account id');
  return instance;
}

function readCluster(reader: ConfigReader, value: unknown, path: string): EmulatorCluster {
  const raw = reader.object(value, path, CLUSTER_FIELDS);
  const cluster: EmulatorCluster = {
    name: reader.string(raw.name, `${path}.name`, /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'letters, digits, - and _ (1 to 100, starting with a letter or digit), e.g. prod'),
    region: reader.string(raw.region, `${path}.region`, REGION_PATTERN, 'a region name such as eu-west-1'),
    endpoint: reader.string(raw.endpoint, `${path}.endpoint`, /^https?:\/\/[^\s/]+(\/\S*)?$/, 'the API server URL, e.g. https://127.0.0.1:6443'),
  };
  if (raw.certificateAuthorityData !== undefined) {
    cluster.certificateAuthorityData = reader.string(raw.certificateAuthorityData, `${path}.certificateAuthorityData`, /^[A-Za-z0-9+/]*={0,2}$/, 'base64 of the PEM CA bundle');
  }
  if (raw.account !== undefined) cluster.account = reader.string(raw.account, `${path}.account`, /^\d{12}$/, 'a 12-digit account id');
  if (raw.status !== undefined) {
    cluster.status = reader.string(raw.status, `${path}.status`, new RegExp(`^(${EMULATOR_CLUSTER_STATUSES.join('|')})$`), `one of ${EMULATOR_CLUSTER_STATUSES.join(', ')}`) as EmulatorClusterStatus;
  }
  if (raw.id !== undefined) cluster.id = reader.string(raw.id, `${path}.id`, /^[\w-]{1,64}$/, 'letters, digits, - and _, e.g. a UUID');
  if (raw.outpostConfig !== undefined) cluster.outpostConfig = readOutpostConfig(reader, raw.outpostConfig, `${path}.outpostConfig`);
  if (raw.authenticationMode !== undefined) {
    cluster.authenticationMode = reader.string(raw.authenticationMode, `${path}.authenticationMode`, new RegExp(`^(${AUTHENTICATION_MODES.join('|')})$`), `one of ${AUTHENTICATION_MODES.join(', ')}`) as AuthenticationMode;
  }
  return cluster;
}

function readOutpostConfig(reader: ConfigReader, value: unknown, path: string): EmulatorOutpostConfig {
  const raw = reader.object(value, path, OUTPOST_FIELDS);
  return {
    outpostArns: reader.array(raw.outpostArns, `${path}.outpostArns`)
      .map((arn, i) => reader.string(arn, `${path}.outpostArns[${i}]`, /^arn:aws[\w-]*:outposts:/, 'an Outpost ARN such as arn:aws:outposts:us-west-2:111122223333:outpost/op-0123456789abcdef0')),
    controlPlaneInstanceType: reader.string(raw.controlPlaneInstanceType, `${path}.controlPlaneInstanceType`, /^[\w.-]{1,64}$/, 'an EC2 instance type such as m5.large'),
    ...(raw.etcdInstanceType === undefined
      ? {}
      : { etcdInstanceType: reader.string(raw.etcdInstanceType, `${path}.etcdInstanceType`, /^[\w.-]{1,64}$/, 'an EC2 instance type such as m5.large') }),
  };
}

function readIdentity(reader: ConfigReader, value: unknown, path: string): EmulatorIdentity {
  const raw = reader.object(value, path, IDENTITY_FIELDS);
  const identity: EmulatorIdentity = {
    accessKeyId: reader.string(raw.accessKeyId, `${path}.accessKeyId`, /^\w{1,128}$/, 'letters, digits or _ (1 to 128), e.g. EXAMPLEKEYID0001'),
    secretAccessKey: reader.string(raw.secretAccessKey, `${path}.secretAccessKey`, /^[\x21-\x7e]{1,128}$/, '1 to 128 printable characters without spaces', true),
    arn: reader.string(raw.arn, `${path}.arn`, /^arn:/, 'an ARN like arn:aws:iam::111122223333:user/alice'),
    userId: reader.string(raw.userId, `${path}.userId`, /^[\w:+=,.@-]{1,128}$/, 'the unique id GetCallerIdentity reports, e.g. AIDAEXAMPLEUSERID0001'),
  };
  const principal = parsePrincipalArn(identity.arn);
  if (principal === undefined || principal.kind === 'role') {
    reader.fail(`${path}.arn`, `${JSON.stringify(identity.arn)} is not a principal that signs requests; use arn:aws:iam::<12-digit account>:user/<name>, arn:aws:iam::<account>:root, arn:aws:sts::<account>:assumed-role/<role>/<session> or arn:aws:sts::<account>:federated-user/<name> (to let a user assume a role, list the role under roles instead).`);
  }
  if (raw.sessionToken !== undefined) {
    identity.sessionToken = reader.string(raw.sessionToken, `${path}.sessionToken`, /^[\x21-\x7e]{1,4096}$/, '1 to 4096 printable characters without spaces', true);
  }
  return identity;
}

function readRole(reader: ConfigReader, value: unknown, path: string): EmulatorRole {
  const raw = reader.object(value, path, ROLE_FIELDS);
  const arn = reader.string(raw.arn, `${path}.arn`, /^arn:/, 'a role ARN like arn:aws:iam::111122223333:role/eks-admin');
  if (parsePrincipalArn(arn)?.kind !== 'role') {
    reader.fail(`${path}.arn`, `${JSON.stringify(arn)} is not a role ARN; use arn:aws:iam::<12-digit account>:role/[path/]<name>.`);
  }
  const role: EmulatorRole = { arn };
  if (raw.trustedPrincipals !== undefined) {
    role.trustedPrincipals = reader.array(raw.trustedPrincipals, `${path}.trustedPrincipals`)
      .map((entry, i) => readTrustEntry(reader, entry, `${path}.trustedPrincipals[${i}]`));
  }
  if (raw.externalId !== undefined) {
    role.externalId = reader.string(raw.externalId, `${path}.externalId`, /^[\w+=,.@:/-]{2,1224}$/, '2 to 1224 characters from letters, digits and +=,.@:/-_');
  }
  return role;
}

function readTrustEntry(reader: ConfigReader, value: unknown, path: string): string {
  const entry = reader.string(value, path, /^(\*|arn:.*)$/, "'*' or an IAM ARN like arn:aws:iam::111122223333:user/alice");
  if (entry !== '*' && parsePrincipalArn(entry) === undefined) {
    reader.fail(path, `${JSON.stringify(entry)} is not a user, role, root or assumed-role ARN; use e.g. arn:aws:iam::111122223333:user/alice or arn:aws:iam::111122223333:role/ci.`);
  }
  return entry;
}

function rejectDuplicates(reader: ConfigReader, values: string[], list: string, field: string): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    const first = seen.get(value);
    if (first !== undefined) reader.fail(`${list}[${i}].${field}`, `duplicates ${list}[${first}].${field}; each ${field} may appear once.`);
    seen.set(value, i);
  });
}

/**
 * Reads and validates an emulator configuration file.
 *
 * @throws EksAuthError ERR_INVALID_CONFIG when the file cannot be read or is not a valid configuration
 */
export async function loadEmulatorConfig(path: string): Promise<EmulatorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new EksAuthError('ERR_INVALID_CONFIG', `Cannot read emulator config ${path} (${code}); check the path given to --config.`, { cause: err });
  }
  return parseEmulatorConfig(text, path);
}
