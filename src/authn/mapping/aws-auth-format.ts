/**
 * The aws-auth mapping format, shared by the ConfigMap source and the mapping-file source:
 *
 * ```yaml
 * mapRoles:            # rolearn, username, groups
 *   - rolearn: arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123
 *     username: admin:{{SessionName}}
 *     groups: [system:masters]
 * mapUsers:            # userarn, username, groups
 *   - userarn: arn:aws:iam::111122223333:user/alice
 *     username: alice
 * mapAccounts:         # every principal of these accounts maps to its own ARN, with no groups
 *   - "444455556666"
 * ```
 *
 * Each section is a list, or (as in the ConfigMap's `data`) a string holding that list as YAML. Field names are
 * matched case-insensitively, as aws-iam-authenticator does; a row with an unknown field is skipped (a typo such as
 * `grups` must not silently grant a row without its groups). A `mapRoles` row may instead carry
 * `sso: {permissionSetName, accountID, partition?}`, matching that permission set's role whatever its suffix, when
 * the `SSORoleMatch` feature gate is on. Role ARNs may carry a path:
 * it is stripped before matching, because sessions of a role never show it (EKS's own aws-auth requires rows without
 * a path; here both forms work). A row's username and groups are templates, see `templates.ts`.
 */
import { IDENTITY_ARN_PARTITIONS } from '../arn.js';
import type { CanonicalArn } from '../arn.js';
import { isEksAuthError } from '../../errors.js';
import type { LocatedRow } from './lookup-source.js';
import { createLookupSource } from './lookup-source.js';
import type { AwsAuthParseOptions, MappingProblem, MappingSource, SsoRoleMatch } from './types.js';
import {
  describeShape,
  invalidMapping,
  parseYamlStrings,
  readFields,
  readPrincipalArn,
  readString,
  readTemplate,
  readTemplateList,
} from './fields.js';

export const AWS_AUTH_SECTIONS = ['mapRoles', 'mapUsers', 'mapAccounts'] as const;
export type AwsAuthSections = Partial<Record<(typeof AWS_AUTH_SECTIONS)[number], unknown>>;

export interface AwsAuthSourceInit {
  /** The source name rows carry, e.g. `aws-auth` or `file:/etc/eksauth/mapping.yaml`. */
  name: string;
  kind: 'aws-auth' | 'file';
  /** Prefix for error locations, followed by the section name: e.g. `aws-auth: data.` or `file:/etc/mapping.yaml: `. */
  where: string;
  /** Problems found before the sections were read (near-miss ConfigMap keys); the source reports them too. */
  problems?: readonly MappingProblem[];
}

/**
 * The rows' `userid` (the principal id, as EKS's DynamicFile rows carry it): not a field (aws-auth), `optional`, or
 * `required` — then the row's ARN is optional, as in aws-iam-authenticator's `dynamicfileUserIDStrict`.
 */
export type UserIdField = 'absent' | 'optional' | 'required';

/** The rows of the three sections, parsed, before they become a source. */
export interface AwsAuthRows {
  /** Rows with an ARN (or, with a `userid` field, a principal id). */
  principals: LocatedRow[];
  /** `mapRoles` rows with an `sso` match (read only with the `SSORoleMatch` gate on). */
  sso: LocatedRow[];
  accounts: LocatedRow[];
  /** Rows left out, and the problems of `init.problems`. */
  problems: MappingProblem[];
}

const ACCOUNT_ID = /^\d{12}$/;
// AWS's rule for permission set names (the reference checks the same).
const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;

/**
 * Builds a source from the three aws-auth sections (lists, YAML strings, or absent). A section that does not parse
 * (bad YAML, not a list) throws `ERR_INVALID_MAPPING`, so a watcher keeps the last good version; a row that fails
 * validation is left out and reported in the source's `problems`, and the other rows apply, as in
 * aws-iam-authenticator.
 *
 * @example
 * ```ts
 * import { buildAwsAuthSource } from './aws-auth-format.js';
 * const source = buildAwsAuthSource(
 *   { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: [system:masters]\n' },
 *   { name: 'aws-auth', kind: 'aws-auth', where: 'aws-auth: data.' },
 * );
 * source.candidates()[0]?.username; // 'admin'
 * ```
 */
export function buildAwsAuthSource(sections: AwsAuthSections, init: AwsAuthSourceInit, options: AwsAuthParseOptions = {}): MappingSource {
  const { principals, sso, accounts, problems } = readAwsAuthRows(sections, init, 'absent', options);
  return createLookupSource({ name: init.name, kind: init.kind, principals, sso, accounts, problems });
}

/**
 * Parses the three sections into rows (what {@link buildAwsAuthSource} indexes), for sources that index them
 * differently, such as DynamicFile rows matched on `userid`. A section that does not parse throws
 * `ERR_INVALID_MAPPING`; a row that fails validation is left out and reported in `problems`.
 *
 * @example
 * ```ts
 * import { readAwsAuthRows } from './aws-auth-format.js';
 * const rows = readAwsAuthRows(
 *   { mapRoles: [{ userid: 'AROAEXAMPLE', username: 'admin', groups: [] }] },
 *   { name: 'dynamicfile:/m.json', kind: 'file', where: 'dynamicfile:/m.json: ' },
 *   'required',
 * );
 * rows.principals[0]?.row.principalId; // 'AROAEXAMPLE'
 * ```
 */
export function readAwsAuthRows(
  sections: AwsAuthSections,
  init: AwsAuthSourceInit,
  userId: UserIdField = 'absent',
  options: AwsAuthParseOptions = {},
): AwsAuthRows {
  const at = (section: string): string => `${init.where}${section}`;
  const problems: MappingProblem[] = [...(init.problems ?? [])];
  const roles = readRows(sections.mapRoles, at('mapRoles'), problems, (item, where) => readRoleRow(item, where, init.name, userId, options));
  const users = readRows(sections.mapUsers, at('mapUsers'), problems, (item, where) => readUserRow(item, where, init.name, userId));
  const accounts = readRows(sections.mapAccounts, at('mapAccounts'), problems, (item, where) => readAccountRow(item, where, init.name));
  return {
    principals: [...roles, ...users].filter((located) => located.row.sso === undefined),
    sso: roles.filter((located) => located.row.sso !== undefined),
    accounts,
    problems,
  };
}

/** Reads a section's rows; a row that throws `ERR_INVALID_MAPPING` (or is an `sso` row with the gate off) is skipped. */
function readRows(
  value: unknown,
  where: string,
  problems: MappingProblem[],
  readRow: (item: unknown, where: string) => LocatedRow | MappingProblem,
): LocatedRow[] {
  const rows: LocatedRow[] = [];
  readSection(value, where).forEach((item, index) => {
    const at = `${where}[${index}]`;
    try {
      const row = readRow(item, at);
      if ('row' in row) rows.push(row);
      else problems.push(row);
    } catch (err) {
      if (!isEksAuthError(err, 'ERR_INVALID_MAPPING')) throw err;
      problems.push({ kind: 'invalid-row', summary: `${err.summary ?? at}; row skipped`, detail: `${err.message}; row skipped` });
    }
  });
  return rows;
}

function readSection(value: unknown, where: string): unknown[] {
  const list = typeof value === 'string' ? parseYamlStrings(value, where) : value;
  if (list === undefined || list === null || list === '') return [];
  if (!Array.isArray(list)) throw invalidMapping(where, `must be a list, not ${describeShape(list)}`, undefined, { summary: 'must be a list' });
  return list;
}

// `userid` is the reference's DynamicFile-only field; aws-auth rows may carry it and it changes nothing there.
const IGNORED_ROW_FIELDS = ['userid'];

/** The row fields besides the ARN, username and groups, and those accepted but ignored, for a {@link UserIdField}. */
function rowFields(userId: UserIdField): { extra: string[]; ignored: string[] } {
  return userId === 'absent' ? { extra: [], ignored: IGNORED_ROW_FIELDS } : { extra: ['userid'], ignored: [] };
}

function readRoleRow(
  item: unknown,
  where: string,
  source: string,
  userId: UserIdField,
  options: AwsAuthParseOptions,
): LocatedRow | MappingProblem {
  const { extra, ignored } = rowFields(userId);
  const fields = readFields(item, where, ['rolearn', 'sso', 'username', 'groups', ...extra], ignored);
  // With a required userid the row's ARN may be left out: the row is then matched on its principal id alone.
  const hasArn = userId === 'required' ? !isBlank(fields.rolearn) : fields.rolearn !== undefined;
  const hasSso = fields.sso !== undefined;
  if (hasArn ? hasSso : !hasSso && userId !== 'required') {
    throw invalidMapping(where, 'needs exactly one of rolearn and sso', undefined, { summary: 'needs exactly one of rolearn and sso' });
  }
  const names = readUsernameAndGroups(fields, where);
  if (fields.sso === undefined) {
    // An assumed-role ARN names its role (the reference canonicalises it the same way); the row matches every session.
    const principal = readPrincipal(fields, where, userId, 'rolearn', (value) =>
      readPrincipalArn(value, `${where}.rolearn`, ['role', 'assumed-role'], roleFix).arn);
    return { where, row: { source, ...principal, ...names } };
  }
  const sso = readSsoMatch(fields.sso, `${where}.sso`);
  if (options.ssoRoleMatch !== true) {
    const problem = 'is an sso row, which needs --feature-gates=SSORoleMatch=true; row skipped';
    return { kind: 'feature-gate-off', summary: `${where} ${problem}`, detail: `${where} ${problem}` };
  }
  return { where, row: { source, sso, ...names } };
}

/** The row's ARN and principal id; with a required `userid` the ARN may be left out (it is then not checked). */
function readPrincipal(
  fields: Record<string, unknown>,
  where: string,
  userId: UserIdField,
  arnField: string,
  readArn: (value: unknown) => string,
): { arn?: string; principalId?: string } {
  const principalId = userId === 'absent' || (userId === 'optional' && isBlank(fields.userid))
    ? undefined
    : readString(fields.userid, `${where}.userid`, 'dynamicfileUserIDStrict matches rows on the principal id: set userid (e.g. AROA…)');
  const arn = userId === 'required' && isBlank(fields[arnField]) ? undefined : readArn(fields[arnField]);
  return { ...(arn === undefined ? {} : { arn }), ...(principalId === undefined ? {} : { principalId }) };
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function readSsoMatch(value: unknown, where: string): SsoRoleMatch {
  const fields = readFields(value, where, ['permissionSetName', 'accountID', 'partition']);
  const permissionSetName = readString(fields.permissionSetName, `${where}.permissionSetName`);
  if (!PERMISSION_SET_NAME.test(permissionSetName)) {
    throw invalidMapping(`${where}.permissionSetName`, `('${permissionSetName.slice(0, 40)}') is not a permission set name`,
      'use 1 to 32 letters, digits and +=,.@_-', { summary: 'is not a permission set name' });
  }
  const accountId = readAccountId(fields.accountID, `${where}.accountID`);
  const partition = fields.partition === undefined ? 'aws' : readString(fields.partition, `${where}.partition`);
  if (!IDENTITY_ARN_PARTITIONS.includes(partition)) {
    throw invalidMapping(`${where}.partition`, `('${partition.slice(0, 20)}') is not an AWS partition`,
      `use one of ${IDENTITY_ARN_PARTITIONS.join(', ')}`, { summary: 'is not an AWS partition' });
  }
  return { permissionSetName, accountId, partition };
}

function roleFix(parsed: CanonicalArn): string {
  return parsed.kind === 'user' || parsed.kind === 'root' || parsed.kind === 'federated-user'
    ? 'mapRoles takes role ARNs; put users in mapUsers (userarn)'
    : 'use a role ARN';
}

function readUserRow(item: unknown, where: string, source: string, userId: UserIdField): LocatedRow {
  const { extra, ignored } = rowFields(userId);
  const fields = readFields(item, where, ['userarn', 'username', 'groups', ...extra], ignored);
  const principal = readPrincipal(fields, where, userId, 'userarn', (value) => readPrincipalArn(
    value,
    `${where}.userarn`,
    ['user', 'root', 'federated-user'],
    () => 'mapUsers takes IAM user ARNs; put roles in mapRoles (rolearn)',
  ).arn);
  return { where, row: { source, ...principal, ...readUsernameAndGroups(fields, where) } };
}

function readUsernameAndGroups(fields: Record<string, unknown>, where: string): { username: string; groups: string[] } {
  return {
    username: readTemplate(fields.username, `${where}.username`),
    groups: readTemplateList(fields.groups, `${where}.groups`),
  };
}

function readAccountRow(item: unknown, where: string, source: string): LocatedRow {
  return { where, row: { source, account: readAccountId(item, where), username: '', groups: [] } };
}

function readAccountId(value: unknown, where: string): string {
  const account = readString(value, where);
  if (!ACCOUNT_ID.test(account)) {
    throw invalidMapping(where, `('${account.slice(0, 40)}') is not a 12-digit AWS account id`, undefined, { summary: 'is not a 12-digit AWS account id' });
  }
  return account;
}
