/**
 * Access-entry-style records, with the defaults and limits EKS applies to its access entries (EKS user guide,
 * "Create access entries"), so a self-managed cluster can use the same model:
 *
 * - `principalArn` is an IAM user or role (a role may have a path), never an STS session or a service-linked role.
 * - `STANDARD` (the default type): username defaults to the user ARN for users and to
 *   `arn:<p>:sts::<acct>:assumed-role/<role name without path>/{{SessionName}}` for roles; a custom username that uses
 *   `{{SessionName}}`/`{{SessionNameRaw}}` needs a `:` before it; `kubernetesGroups` may not start with `system:`.
 * - Node types take a role and no username or groups: EKS gives them its built-in node identity
 *   ({@link NODE_ACCESS_ENTRY_DEFAULTS}).
 *
 * Text input is YAML or JSON: a list of records, `{accessEntries: [...]}`, or one `aws eks describe-access-entry`
 * answer (`{accessEntry: {...}}`); the other fields EKS returns (clusterName, accessEntryArn, dates, tags) are ignored.
 */
import type { CanonicalArn } from '../../arn.js';
import type { LocatedRow } from '../lookup-source.js';
import { createLookupSource } from '../lookup-source.js';
import type { AccessEntryType, MappingRow, MappingSource } from '../types.js';
import {
  describeShape,
  invalidMapping,
  parseYamlStrings,
  readFields,
  readPrincipalArn,
  readString,
  readTemplate,
  readTemplateList,
} from '../fields.js';

/** One access entry as EKS describes it (the fields that matter for authentication). */
export interface AccessEntryRecord {
  principalArn: string;
  /** Default `STANDARD`. */
  type?: AccessEntryType;
  username?: string;
  kubernetesGroups?: string[];
}

export type NodeAccessEntryType = Exclude<AccessEntryType, 'STANDARD'>;

export const ACCESS_ENTRY_TYPES: readonly AccessEntryType[] = [
  'STANDARD', 'EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX', 'EC2', 'HYBRID_LINUX', 'HYPERPOD_LINUX',
];

/**
 * The Kubernetes identity EKS gives each node type. The usernames are the ones the EKS user guide documents ("Create
 * access entries"): `system:node:{{EC2PrivateDNSName}}` for EC2_LINUX and EC2_WINDOWS, `system:node:{{SessionName}}`
 * for FARGATE_LINUX and HYBRID_LINUX. The groups are what EKS stores in the entry and DescribeAccessEntry echoes:
 * `system:nodes` alone for EC2_LINUX (the AWS CLI's own create-access-entry example; terraform-aws-eks#2896, whose
 * perpetual diff is that group). Unlike aws-auth's node rows, no node entry carries `system:bootstrappers` (EKS binds
 * its node-bootstrapper role to `system:nodes` too). The two types that exist only for what their nodes run besides
 * the kubelet keep the one group aws-auth gave them for it: `eks:kube-proxy-windows` (EC2_WINDOWS) and
 * `system:node-proxier` (FARGATE_LINUX). EKS does not document EC2 (Auto Mode) and HYPERPOD_LINUX identities; as for
 * hybrid nodes, their node name is taken from the session name.
 */
export const NODE_ACCESS_ENTRY_DEFAULTS: Readonly<
  Record<NodeAccessEntryType, { readonly username: string; readonly groups: readonly string[] }>
> = {
  EC2_LINUX: { username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:nodes'] },
  EC2_WINDOWS: { username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:nodes', 'eks:kube-proxy-windows'] },
  FARGATE_LINUX: { username: 'system:node:{{SessionName}}', groups: ['system:nodes', 'system:node-proxier'] },
  HYBRID_LINUX: { username: 'system:node:{{SessionName}}', groups: ['system:nodes'] },
  EC2: { username: 'system:node:{{SessionName}}', groups: ['system:nodes'] },
  HYPERPOD_LINUX: { username: 'system:node:{{SessionName}}', groups: ['system:nodes'] },
};

const RECORD_FIELDS = ['principalArn', 'type', 'username', 'kubernetesGroups'] as const;
const IGNORED_FIELDS = ['clusterName', 'accessEntryArn', 'createdAt', 'modifiedAt', 'tags'];
const SESSION_TEMPLATES = ['{{SessionName}}', '{{SessionNameRaw}}'];

/**
 * Whether an ARN names a service-linked role (path `/aws-service-role/`), which EKS access entries refuse.
 *
 * @example
 * ```ts
 * import { isServiceLinkedRoleArn } from 'eksauth/verify';
 * isServiceLinkedRoleArn('arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS'); // true
 * ```
 */
export function isServiceLinkedRoleArn(arn: string): boolean {
  return arn.includes(':role/aws-service-role/');
}

/**
 * True for the access-entry types that describe nodes rather than people or workloads.
 *
 * @example
 * ```ts
 * import { isNodeAccessEntryType } from 'eksauth/verify';
 * isNodeAccessEntryType('FARGATE_LINUX'); // true
 * isNodeAccessEntryType('STANDARD'); // false
 * ```
 */
export function isNodeAccessEntryType(type: AccessEntryType | undefined): type is NodeAccessEntryType {
  return type !== undefined && type !== 'STANDARD';
}

/**
 * Parses access-entry records (text or objects) into a mapping source named `source`, applying EKS's defaults and
 * refusing what EKS refuses, with `ERR_INVALID_MAPPING` naming the record and field.
 *
 * @example
 * ```ts
 * import { parseAccessEntries } from 'eksauth/verify';
 * const source = parseAccessEntries([
 *   { principalArn: 'arn:aws:iam::111122223333:role/Admin', kubernetesGroups: ['cluster-admins'] },
 *   { principalArn: 'arn:aws:iam::111122223333:role/NodeRole', type: 'EC2_LINUX' },
 * ]);
 * for (const row of source.candidates()) console.log(row.username);
 * // → arn:aws:sts::111122223333:assumed-role/Admin/{{SessionName}}
 * // → system:node:{{EC2PrivateDNSName}}
 * ```
 */
export function parseAccessEntries(input: string | readonly AccessEntryRecord[], source = 'access-entries'): MappingSource {
  const records = typeof input === 'string' ? readRecordList(parseYamlStrings(input, source), source) : input;
  const principals = records.map((record, i) => readAccessEntry(record, `${source}: [${i}]`, source));
  return createLookupSource({ name: source, kind: 'access-entries', principals });
}

function readRecordList(doc: unknown, source: string): readonly unknown[] {
  if (doc === undefined || doc === null || doc === '') return [];
  if (Array.isArray(doc)) return doc;
  const top = readFields(doc, `${source}: `, ['accessEntries', 'accessEntry']);
  const list: unknown = top.accessEntries ?? [];
  if (!Array.isArray(list)) {
    throw invalidMapping(`${source}: accessEntries`, `must be a list, not ${describeShape(list)}`, undefined, { summary: 'must be a list' });
  }
  return top.accessEntry === undefined ? list : [top.accessEntry, ...list];
}

function readAccessEntry(record: unknown, where: string, source: string): LocatedRow {
  const fields = readFields(record, where, RECORD_FIELDS, IGNORED_FIELDS);
  const type = readType(fields.type, `${where}.type`);
  const principal = readPrincipalArn(fields.principalArn, `${where}.principalArn`, ['user', 'role'], principalFix);
  if (isServiceLinkedRoleArn(principal.arn)) {
    throw invalidMapping(`${where}.principalArn`, 'is a service-linked role', 'EKS access entries do not take them');
  }
  const identity = isNodeAccessEntryType(type)
    ? readNodeIdentity(fields, where, type, principal)
    : readStandardIdentity(fields, where, principal);
  const row: MappingRow = { source, arn: principal.arn, ...identity, accessEntryType: type };
  return { where, row };
}

function principalFix(parsed: CanonicalArn): string {
  return parsed.kind === 'assumed-role'
    ? `access entries take the role ARN, ${parsed.canonicalArn}, not an STS session ARN`
    : 'access entries take an IAM user or role ARN';
}

function readType(value: unknown, where: string): AccessEntryType {
  if (value === undefined || value === null || value === '') return 'STANDARD';
  const type = readString(value, where).toUpperCase();
  const known = ACCESS_ENTRY_TYPES.find((t) => t === type);
  if (known === undefined) {
    throw invalidMapping(where, `('${type.slice(0, 40)}') is not a known type`, `use ${ACCESS_ENTRY_TYPES.join(', ')}`, { summary: 'is not a known type' });
  }
  return known;
}

function readNodeIdentity(
  fields: Record<string, unknown>,
  where: string,
  type: NodeAccessEntryType,
  principal: CanonicalArn,
): { username: string; groups: string[] } {
  const defaults = NODE_ACCESS_ENTRY_DEFAULTS[type];
  if (principal.kind !== 'role') throw invalidMapping(`${where}.principalArn`, `must be a role for type ${type}`);
  // describe-access-entry answers echo the node identity EKS set (or, in records written by hand, no groups at all);
  // anything else is refused, as EKS refuses it.
  const username = fields.username ?? defaults.username;
  if (username !== defaults.username) {
    throw invalidMapping(`${where}.username`, `cannot be set for type ${type}`, `remove it: EKS uses ${defaults.username}`);
  }
  if (fields.kubernetesGroups !== undefined && !isNodeGroupEcho(fields.kubernetesGroups, defaults.groups)) {
    throw invalidMapping(`${where}.kubernetesGroups`, `cannot be set for type ${type}`, `only STANDARD entries take groups; EKS gives ${type} ${defaults.groups.join(', ')}`);
  }
  return { username: defaults.username, groups: [...defaults.groups] };
}

/** An empty list, or the node groups EKS gives the type (in any order), as DescribeAccessEntry echoes them. */
function isNodeGroupEcho(value: unknown, groups: readonly string[]): boolean {
  if (!Array.isArray(value)) return false;
  return value.length === 0 || (value.length === groups.length && groups.every((group) => value.includes(group)));
}

function readStandardIdentity(
  fields: Record<string, unknown>,
  where: string,
  principal: CanonicalArn & { arn: string },
): { username: string; groups: string[] } {
  const username =
    fields.username === undefined || fields.username === null || fields.username === ''
      ? defaultStandardUsername(principal)
      : readCustomUsername(fields.username, `${where}.username`);
  return { username, groups: readGroups(fields.kubernetesGroups, `${where}.kubernetesGroups`) };
}

/**
 * The username EKS gives a STANDARD access entry that sets none: the user's ARN, or the role's assumed-role ARN
 * (without path) ending in `{{SessionName}}`.
 *
 * @example
 * ```ts
 * import { canonicalizeArn, defaultStandardUsername } from 'eksauth/verify';
 * const arn = 'arn:aws:iam::111122223333:role/teams/Dev';
 * defaultStandardUsername({ ...canonicalizeArn(arn), arn });
 * // 'arn:aws:sts::111122223333:assumed-role/Dev/{{SessionName}}'
 * ```
 */
export function defaultStandardUsername(principal: CanonicalArn & { arn: string }): string {
  if (principal.kind !== 'role') return principal.arn;
  return `arn:${principal.partition}:sts::${principal.accountId}:assumed-role/${principal.name}/{{SessionName}}`;
}

/**
 * The session template (`{{SessionName}}` or `{{SessionNameRaw}}`) that a custom username uses without a `:` before
 * it, which EKS refuses; undefined when the username is acceptable in that respect.
 *
 * @example
 * ```ts
 * import { sessionTemplateWithoutColon } from 'eksauth/verify';
 * sessionTemplateWithoutColon('dev{{SessionName}}'); // '{{SessionName}}'
 * sessionTemplateWithoutColon('dev:{{SessionName}}'); // undefined
 * ```
 */
export function sessionTemplateWithoutColon(username: string): string | undefined {
  return SESSION_TEMPLATES.find((template) => {
    const at = username.indexOf(template);
    return at >= 0 && !username.slice(0, at).includes(':');
  });
}

/**
 * Whether EKS refuses this Kubernetes group in an access entry: every group starting with `system:`.
 *
 * @example
 * ```ts
 * import { isSystemGroup } from 'eksauth/verify';
 * isSystemGroup('system:masters'); // true
 * isSystemGroup('cluster-admins'); // false
 * ```
 */
export function isSystemGroup(group: string): boolean {
  return group.toLowerCase().startsWith('system:');
}

function readCustomUsername(value: unknown, where: string): string {
  const username = readTemplate(value, where);
  const template = sessionTemplateWithoutColon(username);
  if (template !== undefined) {
    throw invalidMapping(where, `needs a ':' before ${template}`, `EKS requires it, e.g. 'dev:${template}'`);
  }
  return username;
}

function readGroups(value: unknown, where: string): string[] {
  const groups = readTemplateList(value, where);
  const system = groups.findIndex(isSystemGroup);
  if (system !== -1) {
    throw invalidMapping(
      `${where}[${system}]`,
      `('${groups[system]}') starts with system:`,
      'EKS refuses system: groups in access entries; use an aws-auth row or another group name',
      { summary: 'starts with system:' },
    );
  }
  return groups;
}
