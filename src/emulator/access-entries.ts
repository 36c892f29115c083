/**
 * The EKS access-entry API of one emulated cluster, held in memory: its `authenticationMode` (changed one way only
 * with UpdateClusterConfig: CONFIG_MAP → API_AND_CONFIG_MAP → API), its access entries, and the access policies
 * associated with them, with the validation EKS applies and EKS's error types and wording where they are known.
 *
 * The usernames EKS gives entries, the entry types and what EKS refuses in a username or group come from the
 * access-entry mapping backend (src/authn/mapping/access-entries/), so the emulator and the webhook that reads the
 * entries agree by construction.
 */
import { randomUUID } from 'node:crypto';
import {
  ACCESS_ENTRY_TYPES,
  defaultStandardUsername,
  isNodeAccessEntryType,
  isServiceLinkedRoleArn,
  isSystemGroup,
  NODE_ACCESS_ENTRY_DEFAULTS,
  sessionTemplateWithoutColon,
} from '../authn/mapping/access-entries/access-entries.js';
import type { AccessScope, AuthenticationMode } from '../authn/mapping/access-entries/access-policies.js';
import {
  ACCESS_SCOPE_TYPES,
  accessPolicyArn,
  AUTHENTICATION_MODES,
  EKS_ACCESS_POLICY_NAMES,
  parseAccessPolicyArn,
} from '../authn/mapping/access-entries/access-policies.js';
import { RESERVED_USERNAME_PREFIXES } from '../authn/mapping/map-identity.js';
import type { AccessEntryType } from '../authn/mapping/types.js';
import { EksError, epochSeconds, invalidParameter, page } from './eks-wire.js';
import { parsePrincipalArn } from './principals.js';

/** The cluster an access-entry store belongs to. */
export interface ClusterRef {
  name: string;
  region: string;
  account: string;
  partition: string;
  status: string;
}

interface AssociatedPolicy {
  policyArn: string;
  accessScope: AccessScope;
  associatedAt: Date;
  modifiedAt: Date;
}

interface StoredEntry {
  principalArn: string;
  type: AccessEntryType;
  username: string;
  kubernetesGroups: string[];
  tags: Record<string, string>;
  accessEntryArn: string;
  createdAt: Date;
  modifiedAt: Date;
  policies: Map<string, AssociatedPolicy>;
}

// The types whose entries EKS documents as taking no access policy: EKS grants those nodes their permissions itself.
const NO_POLICY_TYPES: ReadonlySet<AccessEntryType> = new Set(['EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX']);
// A namespace name (a DNS label), or a prefix of one followed by the `*` wildcard EKS accepts (`dev-*`).
const NAMESPACE = /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?|[a-z0-9][-a-z0-9]{0,61}\*)$/;
const MAX_GROUPS = 100;
const MAX_NAME = 256;

/**
 * One cluster's access configuration and access entries.
 *
 * @example
 * ```ts
 * const access = new ClusterAccess({ name: 'prod', region: 'eu-west-1', account: '111122223333', partition: 'aws', status: 'ACTIVE' }, 'API_AND_CONFIG_MAP', () => new Date());
 * access.createEntry({ principalArn: 'arn:aws:iam::111122223333:role/Admin' }).accessEntry;
 * // { principalArn: …, username: 'arn:aws:sts::111122223333:assumed-role/Admin/{{SessionName}}', type: 'STANDARD', … }
 * ```
 */
export class ClusterAccess {
  private readonly entries = new Map<string, StoredEntry>();
  private readonly updates = new Map<string, Record<string, unknown>>();

  constructor(private readonly cluster: ClusterRef, public mode: AuthenticationMode, private readonly now: () => Date) {}

  listEntries(query: ReadonlyMap<string, string>): Record<string, unknown> {
    this.requireApiMode();
    const policy = query.get('associatedPolicyArn');
    const arns = [...this.entries.values()]
      .filter((entry) => policy === undefined || entry.policies.has(policy))
      .map((entry) => entry.principalArn)
      .sort();
    const { items, nextToken } = page(arns, query);
    return { accessEntries: items, nextToken };
  }

  createEntry(body: Record<string, unknown>): Record<string, unknown> {
    this.requireApiMode();
    const principalArn = this.readPrincipal(body.principalArn);
    const type = readType(body.type);
    if (this.entries.has(principalArn)) {
      throw new EksError(409, 'ResourceInUseException', 'The specified access entry resource is already in use on this cluster.', { clusterName: this.cluster.name });
    }
    const identity = isNodeAccessEntryType(type)
      ? this.nodeIdentity(type, principalArn, body)
      : { username: readUsername(body.username) ?? defaultUsername(principalArn), kubernetesGroups: readGroups(body.kubernetesGroups) ?? [] };
    const now = this.now();
    const entry: StoredEntry = {
      principalArn,
      type,
      ...identity,
      tags: readTags(body.tags),
      accessEntryArn: this.entryArn(principalArn),
      createdAt: now,
      modifiedAt: now,
      policies: new Map(),
    };
    this.entries.set(principalArn, entry);
    return { accessEntry: this.describe(entry) };
  }

  describeEntry(principalArn: string): Record<string, unknown> {
    this.requireApiMode();
    return { accessEntry: this.describe(this.entry(principalArn)) };
  }

  updateEntry(principalArn: string, body: Record<string, unknown>): Record<string, unknown> {
    this.requireApiMode();
    const entry = this.entry(principalArn);
    if (isNodeAccessEntryType(entry.type)) {
      refuseNodeIdentity(entry.type, body);
    } else {
      const username = readUsername(body.username);
      const groups = readGroups(body.kubernetesGroups);
      if (username !== undefined) entry.username = username;
      if (groups !== undefined) entry.kubernetesGroups = groups;
    }
    entry.modifiedAt = this.now();
    return { accessEntry: this.describe(entry) };
  }

  deleteEntry(principalArn: string): Record<string, unknown> {
    this.requireApiMode();
    this.entry(principalArn);
    this.entries.delete(principalArn);
    return {};
  }

  associatePolicy(principalArn: string, body: Record<string, unknown>): Record<string, unknown> {
    this.requireApiMode();
    const entry = this.entry(principalArn);
    const policyArn = this.readPolicyArn(body.policyArn);
    const accessScope = readAccessScope(body.accessScope);
    if (NO_POLICY_TYPES.has(entry.type)) {
      throw invalidParameter(`Access policies cannot be associated with an access entry of type ${entry.type}; EKS grants those nodes their permissions.`, this.cluster.name);
    }
    const now = this.now();
    const existing = entry.policies.get(policyArn);
    const associated: AssociatedPolicy = { policyArn, accessScope, associatedAt: existing?.associatedAt ?? now, modifiedAt: now };
    entry.policies.set(policyArn, associated);
    return { clusterName: this.cluster.name, principalArn, associatedAccessPolicy: describePolicy(associated) };
  }

  disassociatePolicy(principalArn: string, policyArn: string): Record<string, unknown> {
    this.requireApiMode();
    const entry = this.entry(principalArn);
    if (!entry.policies.delete(policyArn)) {
      throw new EksError(404, 'ResourceNotFoundException', `The access policy ${policyArn.slice(0, 200)} is not associated with this access entry.`, { clusterName: this.cluster.name });
    }
    return {};
  }

  listAssociatedPolicies(principalArn: string, query: ReadonlyMap<string, string>): Record<string, unknown> {
    this.requireApiMode();
    const entry = this.entry(principalArn);
    const policies = [...entry.policies.values()].sort((a, b) => a.policyArn.localeCompare(b.policyArn)).map(describePolicy);
    const { items, nextToken } = page(policies, query);
    return { clusterName: this.cluster.name, principalArn, nextToken, associatedAccessPolicies: items };
  }

  /** UpdateClusterConfig with `accessConfig.authenticationMode`; the change is applied at once and reported Successful. */
  updateConfig(body: Record<string, unknown>): Record<string, unknown> {
    const unsupported = Object.keys(body).filter((key) => key !== 'accessConfig' && key !== 'clientRequestToken');
    if (unsupported.length > 0) {
      throw invalidParameter(`The emulator's UpdateClusterConfig changes accessConfig only, not ${unsupported.join(', ').slice(0, 100)}.`, this.cluster.name);
    }
    const wanted = readAuthenticationMode(body.accessConfig);
    if (this.cluster.status !== 'ACTIVE') {
      throw new EksError(409, 'ResourceInUseException', `Cluster ${this.cluster.name} is in ${this.cluster.status} state; it can be updated once it is ACTIVE.`, { clusterName: this.cluster.name });
    }
    if (AUTHENTICATION_MODES.indexOf(wanted) !== AUTHENTICATION_MODES.indexOf(this.mode) + 1) {
      throw invalidParameter(`Unsupported authentication mode update from ${this.mode} to ${wanted}`, this.cluster.name);
    }
    this.mode = wanted;
    const update = {
      id: randomUUID(),
      status: 'Successful',
      type: 'AccessConfigUpdate',
      params: [{ type: 'AuthenticationMode', value: wanted }],
      createdAt: epochSeconds(this.now()),
      errors: [],
    };
    this.updates.set(update.id, update);
    return { update };
  }

  describeUpdate(id: string): Record<string, unknown> {
    const update = this.updates.get(id);
    if (update === undefined) {
      throw new EksError(404, 'ResourceNotFoundException', `No update found for ID: ${id.slice(0, 100)}.`, { clusterName: this.cluster.name });
    }
    return { update };
  }

  private requireApiMode(): void {
    if (this.mode === 'CONFIG_MAP') {
      throw new EksError(400, 'InvalidRequestException', "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.", { clusterName: this.cluster.name });
    }
  }

  private entry(principalArn: string): StoredEntry {
    const entry = this.entries.get(principalArn);
    if (entry === undefined) {
      throw new EksError(404, 'ResourceNotFoundException', "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.", { clusterName: this.cluster.name });
    }
    return entry;
  }

  private readPrincipal(value: unknown): string {
    if (typeof value !== 'string' || value === '') throw invalidParameter('principalArn is required.', this.cluster.name);
    const principal = parsePrincipalArn(value);
    if (principal === undefined || (principal.kind !== 'user' && principal.kind !== 'role')) {
      throw invalidParameter('The specified principalArn is invalid: invalid principal.', this.cluster.name);
    }
    if (isServiceLinkedRoleArn(value)) {
      throw invalidParameter('The specified principalArn is invalid: service-linked roles cannot be used in access entries.', this.cluster.name);
    }
    if (principal.partition !== this.cluster.partition) {
      throw invalidParameter(`The specified principalArn is invalid: it is in partition ${principal.partition}, the cluster in ${this.cluster.partition}.`, this.cluster.name);
    }
    return value;
  }

  private nodeIdentity(type: Exclude<AccessEntryType, 'STANDARD'>, principalArn: string, body: Record<string, unknown>): { username: string; kubernetesGroups: string[] } {
    const principal = parsePrincipalArn(principalArn);
    if (principal?.kind !== 'role') throw invalidParameter(`The principalArn of an access entry of type ${type} must be an IAM role.`, this.cluster.name);
    if (principal.account !== this.cluster.account) {
      throw invalidParameter(`The role of an access entry of type ${type} must be in the cluster's account ${this.cluster.account}.`, this.cluster.name);
    }
    refuseNodeIdentity(type, body);
    // EKS stores the node identity it gives the type, and DescribeAccessEntry reports it.
    const { username, groups } = NODE_ACCESS_ENTRY_DEFAULTS[type];
    return { username, kubernetesGroups: [...groups] };
  }

  private readPolicyArn(value: unknown): string {
    if (typeof value !== 'string' || value === '') throw invalidParameter('policyArn is required.', this.cluster.name);
    const parsed = parseAccessPolicyArn(value);
    if (parsed === undefined || parsed.partition !== this.cluster.partition) {
      throw new EksError(404, 'ResourceNotFoundException', `The specified policyArn ${value.slice(0, 200)} could not be found. You can view the available access policies with 'list-access-policies'.`, { clusterName: this.cluster.name });
    }
    return value;
  }

  private entryArn(principalArn: string): string {
    const principal = parsePrincipalArn(principalArn)!;
    const kind = principal.kind === 'user' ? 'user' : 'role';
    const name = 'name' in principal ? principal.name : 'root';
    const { partition, region, account, name: cluster } = this.cluster;
    return `arn:${partition}:eks:${region}:${account}:access-entry/${cluster}/${kind}/${principal.account}/${name}/${randomUUID()}`;
  }

  private describe(entry: StoredEntry): Record<string, unknown> {
    return {
      clusterName: this.cluster.name,
      principalArn: entry.principalArn,
      kubernetesGroups: [...entry.kubernetesGroups],
      accessEntryArn: entry.accessEntryArn,
      createdAt: epochSeconds(entry.createdAt),
      modifiedAt: epochSeconds(entry.modifiedAt),
      tags: { ...entry.tags },
      username: entry.username,
      type: entry.type,
    };
  }
}

/**
 * ListAccessPolicies: every access policy EKS documents, in the caller's partition.
 *
 * @example
 * ```ts
 * listAccessPolicies('aws', new Map()).accessPolicies; // [{ name: 'AmazonAIOpsAssistantPolicy', arn: 'arn:aws:eks::aws:cluster-access-policy/…' }, …]
 * ```
 */
export function listAccessPolicies(partition: string, query: ReadonlyMap<string, string>): Record<string, unknown> {
  const policies = EKS_ACCESS_POLICY_NAMES.map((name) => ({ name, arn: accessPolicyArn(name, partition) }));
  const { items, nextToken } = page(policies, query);
  return { accessPolicies: items, nextToken };
}

function readType(value: unknown): AccessEntryType {
  if (value === undefined || value === null) return 'STANDARD';
  const type = ACCESS_ENTRY_TYPES.find((known) => known === value);
  if (type === undefined) {
    throw invalidParameter(`The specified type ${String(value).slice(0, 40)} is invalid. Valid types are ${ACCESS_ENTRY_TYPES.join(', ')}.`);
  }
  return type;
}

function refuseNodeIdentity(type: AccessEntryType, body: Record<string, unknown>): void {
  if (body.username !== undefined && body.username !== null) {
    throw invalidParameter(`The username cannot be set for an access entry of type ${type}; EKS sets it to ${NODE_ACCESS_ENTRY_DEFAULTS[type as Exclude<AccessEntryType, 'STANDARD'>].username}.`);
  }
  if (Array.isArray(body.kubernetesGroups) ? body.kubernetesGroups.length > 0 : body.kubernetesGroups !== undefined && body.kubernetesGroups !== null) {
    throw invalidParameter(`Kubernetes groups cannot be set for an access entry of type ${type}.`);
  }
}

function defaultUsername(principalArn: string): string {
  const principal = parsePrincipalArn(principalArn)!;
  const name = 'name' in principal ? principal.name : 'root';
  const kind = principal.kind === 'role' ? 'role' : 'user';
  const canonicalArn = `arn:${principal.partition}:iam::${principal.account}:${kind}/${name}`;
  return defaultStandardUsername({ arn: principalArn, canonicalArn, partition: principal.partition, accountId: principal.account, kind, name });
}

function readUsername(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME) throw invalidParameter(`The username must be a string of 1 to ${MAX_NAME} characters.`);
  const reserved = RESERVED_USERNAME_PREFIXES.find((prefix) => value.toLowerCase().startsWith(prefix));
  if (reserved !== undefined) throw invalidParameter(`The username must not begin with ${reserved}`);
  const template = sessionTemplateWithoutColon(value);
  if (template !== undefined) throw invalidParameter(`The username ${value.slice(0, 100)} is invalid: a ':' must come before ${template}.`);
  return value;
}

function readGroups(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > MAX_GROUPS) throw invalidParameter(`kubernetesGroups must be a list of at most ${MAX_GROUPS} names.`);
  for (const group of value) {
    if (typeof group !== 'string' || group === '' || group.length > MAX_NAME) throw invalidParameter(`A kubernetes group name must be a string of 1 to ${MAX_NAME} characters.`);
    if (isSystemGroup(group)) throw invalidParameter(`The kubernetes group name ${group} is invalid, it cannot start with system:`);
  }
  return [...new Set(value as string[])];
}

function readTags(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const valid = typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((tag) => typeof tag === 'string');
  if (!valid) throw invalidParameter('tags must map tag keys to string values.');
  return { ...(value as Record<string, string>) };
}

function readAccessScope(value: unknown): AccessScope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameter('accessScope is required: {"type": "cluster"} or {"type": "namespace", "namespaces": [...]}.');
  const { type, namespaces } = value as Record<string, unknown>;
  const scopeType = ACCESS_SCOPE_TYPES.find((known) => known === type);
  if (scopeType === undefined) throw invalidParameter(`The access scope type ${String(type).slice(0, 40)} is invalid. Valid types are cluster, namespace.`);
  const list = namespaces === undefined || namespaces === null ? [] : namespaces;
  if (!Array.isArray(list) || !list.every((name): name is string => typeof name === 'string')) throw invalidParameter('accessScope.namespaces must be a list of namespace names.');
  if (scopeType === 'cluster') {
    if (list.length > 0) throw invalidParameter('Namespaces cannot be given for an access scope of type cluster.');
    return { type: 'cluster', namespaces: [] };
  }
  if (list.length === 0) throw invalidParameter('An access scope of type namespace needs at least one namespace.');
  const wrong = list.find((name) => !NAMESPACE.test(name));
  if (wrong !== undefined) throw invalidParameter(`The namespace ${wrong.slice(0, 70)} is invalid: use a Kubernetes namespace name, optionally ending in * (e.g. dev-*).`);
  return { type: 'namespace', namespaces: [...new Set(list)] };
}

function readAuthenticationMode(value: unknown): AuthenticationMode {
  const mode = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).authenticationMode : undefined;
  const known = AUTHENTICATION_MODES.find((candidate) => candidate === mode);
  if (known === undefined) {
    throw invalidParameter(`accessConfig.authenticationMode must be one of ${AUTHENTICATION_MODES.join(', ')}${mode === undefined ? '' : ` (got ${String(mode).slice(0, 40)})`}.`);
  }
  return known;
}

function describePolicy(policy: AssociatedPolicy): Record<string, unknown> {
  return {
    policyArn: policy.policyArn,
    accessScope: { type: policy.accessScope.type, namespaces: [...(policy.accessScope.namespaces ?? [])] },
    associatedAt: epochSeconds(policy.associatedAt),
    modifiedAt: epochSeconds(policy.modifiedAt),
  };
}
