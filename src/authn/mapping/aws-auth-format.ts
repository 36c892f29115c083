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
 * matched case-insensitively, as aws-iam-authenticator does; unknown fields are errors. Role ARNs may carry a path:
 * it is stripped before matching, because sessions of a role never show it (EKS's own aws-auth requires rows without
 * a path; here both forms work). A row's username and groups are templates, see `templates.ts`.
 */
import type { CanonicalArn } from '../arn.js';
import type { LocatedRow } from './lookup-source.js';
import { createLookupSource } from './lookup-source.js';
import type { MappingSource } from './types.js';
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
}

/**
 * The rows' `userid` (the principal id, as EKS's DynamicFile rows carry it): not a field (aws-auth), `optional`, or
 * `required` — then the row's ARN is optional, as in aws-iam-authenticator's `dynamicfileUserIDStrict`.
 */
export type UserIdField = 'absent' | 'optional' | 'required';

/** The rows of the three sections, parsed, before they become a source. */
export interface AwsAuthRows {
  principals: LocatedRow[];
  accounts: LocatedRow[];
}

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Builds a source from the three aws-auth sections (lists, YAML strings, or absent).
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
export function buildAwsAuthSource(sections: AwsAuthSections, init: AwsAuthSourceInit): MappingSource {
  const { principals, accounts } = readAwsAuthRows(sections, init);
  return createLookupSource({ name: init.name, kind: init.kind, principals, accounts });
}

/**
 * Parses the three sections into rows (what {@link buildAwsAuthSource} indexes), for sources that index them
 * differently, such as DynamicFile rows matched on `userid`.
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
export function readAwsAuthRows(sections: AwsAuthSections, init: AwsAuthSourceInit, userId: UserIdField = 'absent'): AwsAuthRows {
  const at = (section: string): string => `${init.where}${section}`;
  const roles = readSection(sections.mapRoles, at('mapRoles')).map((item, i) =>
    readRoleRow(item, `${at('mapRoles')}[${i}]`, init.name, userId),
  );
  const users = readSection(sections.mapUsers, at('mapUsers')).map((item, i) =>
    readUserRow(item, `${at('mapUsers')}[${i}]`, init.name, userId),
  );
  const accounts = readSection(sections.mapAccounts, at('mapAccounts')).map((item, i) =>
    readAccountRow(item, `${at('mapAccounts')}[${i}]`, init.name),
  );
  return { principals: [...roles, ...users], accounts };
}

function readSection(value: unknown, where: string): unknown[] {
  const list = typeof value === 'string' ? parseYamlStrings(value, where) : value;
  if (list === undefined || list === null || list === '') return [];
  if (!Array.isArray(list)) throw invalidMapping(where, `must be a list, not ${describeShape(list)}`, undefined, { summary: 'must be a list' });
  return list;
}

function readRoleRow(item: unknown, where: string, source: string, userId: UserIdField): LocatedRow {
  const fields = readFields(item, where, ['rolearn', 'username', 'groups', ...userIdFields(userId)]);
  const principal = readPrincipal(fields, where, userId, 'rolearn', (value) => readPrincipalArn(value, `${where}.rolearn`, ['role'], roleFix).arn);
  return { where, row: { source, ...principal, ...readUsernameAndGroups(fields, where) } };
}

function userIdFields(userId: UserIdField): string[] {
  return userId === 'absent' ? [] : ['userid'];
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

function roleFix(parsed: CanonicalArn): string {
  return parsed.kind === 'assumed-role'
    ? `use the role's ARN, ${parsed.canonicalArn}`
    : 'mapRoles takes role ARNs; put users in mapUsers (userarn)';
}

function readUserRow(item: unknown, where: string, source: string, userId: UserIdField): LocatedRow {
  const fields = readFields(item, where, ['userarn', 'username', 'groups', ...userIdFields(userId)]);
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
  const account = readString(item, where);
  if (!ACCOUNT_ID.test(account)) {
    throw invalidMapping(where, `('${account.slice(0, 40)}') is not a 12-digit AWS account id`, undefined, { summary: 'is not a 12-digit AWS account id' });
  }
  return { where, row: { source, account, username: '', groups: [] } };
}
