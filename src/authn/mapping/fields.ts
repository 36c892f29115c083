/**
 * Reading mapping documents strictly: YAML (or JSON) parsed with the failsafe schema, so every scalar stays the string
 * that was written — `012345678901` keeps its leading zero and `yes` stays `yes` — and errors that say where and what
 * to fix.
 */
import { parseDocument } from 'yaml';
import { EksAuthError } from '../../errors.js';
import { canonicalizeArn } from '../arn.js';
import type { CanonicalArn, IdentityArnKind } from '../arn.js';
import { findTemplateProblem } from './templates.js';

/** For problems whose text quotes what was written: the same problem without the quote, and where to point instead. */
export interface ProblemSummary {
  /** The problem without any written value, e.g. `is not a 12-digit AWS account id`. Default: `problem` itself. */
  summary?: string;
  /** The location to name in the summary when `where` itself holds a written key. Default: `where`. */
  at?: string;
}

/**
 * The `ERR_INVALID_MAPPING` error for a problem at `where` (source, then the path to the field). Its `summary` names
 * the source, the path and the kind of problem but nothing written there, for `/readyz` and logs above debug.
 *
 * @example
 * ```ts
 * import { invalidMapping } from './fields.js';
 * throw invalidMapping('aws-auth: data.mapRoles[0].rolearn', 'is missing', 'set it to the role ARN');
 * throw invalidMapping('aws-auth: data.mapAccounts[0]', "('1234') is not a 12-digit AWS account id", undefined, {
 *   summary: 'is not a 12-digit AWS account id',
 * });
 * ```
 */
export function invalidMapping(where: string, problem: string, fix?: string, redact: ProblemSummary = {}): EksAuthError {
  const trim = (location: string): string => location.replace(/:? $/, '');
  return new EksAuthError('ERR_INVALID_MAPPING', `${trim(where)} ${problem}${fix === undefined ? '' : `; ${fix}`}`, {
    summary: `${trim(redact.at ?? where)} ${redact.summary ?? problem}`,
  });
}

/**
 * The location of `key` inside `where`: `aws-auth: data` + `mapRoles` → `aws-auth: data.mapRoles`; a `where` that
 * ends in `': '` (a document's top level) takes the key directly.
 *
 * @example
 * ```ts
 * import { childPath } from './fields.js';
 * childPath('file:/etc/mapping.yaml: ', 'mapRoles'); // 'file:/etc/mapping.yaml: mapRoles'
 * ```
 */
export function childPath(where: string, key: string): string {
  return where.endsWith(' ') ? `${where}${key}` : `${where}.${key}`;
}

/**
 * Parses one YAML or JSON document with every scalar kept as a string. Empty input gives `undefined`.
 *
 * @example
 * ```ts
 * import { parseYamlStrings } from './fields.js';
 * parseYamlStrings('- 012345678901', 'aws-auth: data.mapAccounts'); // ['012345678901']
 * ```
 */
export function parseYamlStrings(text: string, where: string): unknown {
  const doc = parseDocument(text, { schema: 'failsafe' });
  const [error] = doc.errors;
  if (error !== undefined) {
    const at = error.linePos === undefined ? '' : ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`;
    const what = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'syntax error';
    throw invalidMapping(where, `is not valid YAML${at}: ${what}`, undefined, { summary: `is not valid YAML${at}` });
  }
  return doc.toJS() ?? undefined;
}

/**
 * Describes a parsed value's shape for error messages.
 *
 * @example
 * ```ts
 * import { describeShape } from './fields.js';
 * describeShape(['a']); // 'a list'
 * ```
 */
export function describeShape(value: unknown): string {
  if (value === undefined || value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `the ${typeof value} '${String(value).slice(0, 60)}'`;
}

/**
 * True for a plain key/value object (not a list, not null).
 *
 * @example
 * ```ts
 * import { isPlainObject } from './fields.js';
 * isPlainObject({ data: {} }); // true
 * isPlainObject([]); // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a map whose keys are matched case-insensitively against `known` (as aws-iam-authenticator, whose JSON decoding
 * accepts `rolearn`, `roleARN` and `RoleArn` alike). Keys in `ignored` are dropped; any other key is an error, so
 * typos fail loudly instead of silently dropping a mapping. Returns the values under their canonical names.
 *
 * @example
 * ```ts
 * import { readFields } from './fields.js';
 * readFields({ RoleArn: 'arn:aws:iam::111122223333:role/Admin' }, 'mapRoles[0]', ['rolearn', 'username', 'groups']);
 * // { rolearn: 'arn:aws:iam::111122223333:role/Admin' }
 * ```
 */
export function readFields(
  value: unknown,
  where: string,
  known: readonly string[],
  ignored: readonly string[] = [],
): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalidMapping(where, `must be a map, not ${describeShape(value)}`, undefined, { summary: 'must be a map' });
  const fields: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (ignored.some((name) => name.toLowerCase() === lower)) continue;
    const name = known.find((k) => k.toLowerCase() === lower);
    if (name === undefined) {
      throw invalidMapping(childPath(where, key), 'is not a known field', `use ${known.join(', ')}`, { at: where, summary: 'has an unknown field' });
    }
    if (name in fields) {
      throw invalidMapping(childPath(where, key), `repeats the field ${name} in another spelling`, undefined, { at: where, summary: `repeats the field ${name}` });
    }
    fields[name] = field;
  }
  return fields;
}

/**
 * Reads a value that must be a non-empty string.
 *
 * @example
 * ```ts
 * import { readString } from './fields.js';
 * readString('admin', 'mapUsers[0].username'); // 'admin'
 * ```
 */
export function readString(value: unknown, where: string, fix?: string): string {
  if (value === undefined || value === null || value === '') throw invalidMapping(where, 'is missing or empty', fix);
  if (typeof value !== 'string') throw invalidMapping(where, `must be a string, not ${describeShape(value)}`, fix, { summary: 'must be a string' });
  return value;
}

/**
 * Reads a username or group template: a non-empty string whose `{{…}}` are all known templates.
 *
 * @example
 * ```ts
 * import { readTemplate } from './fields.js';
 * readTemplate('dev:{{SessionName}}', 'mapRoles[0].username'); // 'dev:{{SessionName}}'
 * ```
 */
export function readTemplate(value: unknown, where: string): string {
  const template = readString(value, where);
  const problem = findTemplateProblem(template);
  if (problem !== undefined) throw invalidMapping(where, `has an ${problem}`, undefined, { summary: 'has an unknown or unbalanced template' });
  return template;
}

/**
 * Reads a principal ARN and checks it is one of the `allowed` kinds; `wrongKindFix` tells the user where such an ARN
 * belongs instead.
 *
 * @example
 * ```ts
 * import { readPrincipalArn } from './fields.js';
 * readPrincipalArn('arn:aws:iam::111122223333:role/Admin', 'mapRoles[0].rolearn', ['role'], 'users go in mapUsers');
 * ```
 */
export function readPrincipalArn(
  value: unknown,
  where: string,
  allowed: readonly IdentityArnKind[],
  wrongKindFix: (parsed: CanonicalArn) => string,
): CanonicalArn & { arn: string } {
  const arn = readString(value, where, 'set it to an IAM ARN such as arn:aws:iam::111122223333:role/Admin');
  let parsed: CanonicalArn;
  try {
    parsed = canonicalizeArn(arn);
  } catch (err) {
    throw invalidMapping(where, `is not usable: ${err instanceof Error ? err.message : String(err)}`, undefined, { summary: 'is not a usable IAM ARN' });
  }
  if (!allowed.includes(parsed.kind)) {
    throw invalidMapping(where, `is ${parsed.kind === 'assumed-role' ? 'an' : 'a'} ${parsed.kind} ARN`, wrongKindFix(parsed));
  }
  return { ...parsed, arn };
}

/**
 * Reads an optional list of group templates; absent or empty means no groups.
 *
 * @example
 * ```ts
 * import { readTemplateList } from './fields.js';
 * readTemplateList(['system:masters', 'team-{{AccountID}}'], 'mapUsers[0].groups'); // ['system:masters', 'team-{{AccountID}}']
 * ```
 */
export function readTemplateList(value: unknown, where: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (!Array.isArray(value)) {
    throw invalidMapping(where, `must be a list of group names, not ${describeShape(value)}`, undefined, { summary: 'must be a list of group names' });
  }
  return value.map((item, index) => readTemplate(item, `${where}[${index}]`));
}

/**
 * A document's `LastUpdatedDateTime` as Unix seconds, when it is one (a string or a number, the key matched
 * case-insensitively): EKS stamps its DynamicFile and backend-mode file with it, for the reference's latency metric.
 *
 * @example
 * ```ts
 * import { lastUpdatedSeconds } from './fields.js';
 * lastUpdatedSeconds({ Version: '3', LastUpdatedDateTime: '1733130000' }); // 1733130000
 * ```
 */
export function lastUpdatedSeconds(doc: Record<string, unknown>): number | undefined {
  const value = Object.entries(doc).find(([key]) => key.toLowerCase() === 'lastupdateddatetime')?.[1];
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(seconds) ? seconds : undefined;
}
