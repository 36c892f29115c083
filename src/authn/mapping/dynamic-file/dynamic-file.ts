/**
 * The mapping file EKS's own control plane writes for aws-iam-authenticator's DynamicFile backend: one JSON document
 * with aws-auth's three sections as lists, rows that may carry the principal's `userid`, and bookkeeping fields.
 *
 * ```json
 * { "Version": "7", "LastUpdatedDateTime": "1733130000", "ClusterId": "…",
 *   "mapRoles": [{ "rolearn": "arn:aws:iam::111122223333:role/Admin", "username": "admin", "groups": ["system:masters"], "userid": "AROA…" }],
 *   "mapUsers": [], "mapAccounts": ["444455556666"] }
 * ```
 *
 * Rows are read as aws-auth rows (the same fields, the same checks). With `userIdStrict` rows match on `userid` (the
 * STS principal id, which changes when a principal is deleted and re-created) and their ARN is optional but, when
 * given, must be the caller's too; without it rows match on the ARN and `userid` is accepted and not used.
 */
import { AWS_AUTH_SECTIONS, readAwsAuthRows } from '../aws-auth-format.js';
import type { AwsAuthSections } from '../aws-auth-format.js';
import { invalidMapping, isPlainObject, lastUpdatedSeconds, parseYamlStrings, readFields } from '../fields.js';
import { createLookupSource } from '../lookup-source.js';
import type { AwsAuthParseOptions, MappingSource } from '../types.js';

export interface DynamicFileOptions extends AwsAuthParseOptions {
  /** aws-iam-authenticator's `dynamicfileUserIDStrict`: match rows on `userid` instead of the ARN. */
  userIdStrict: boolean;
  /** Called with the document's `LastUpdatedDateTime` (Unix seconds) when it has one, for the reference's latency metric. */
  onUpdatedAt?: (seconds: number) => void;
}

/**
 * Parses a DynamicFile document into a source named `dynamicfile:<path>`. Throws `ERR_INVALID_MAPPING` when the document
 * or a section does not parse, or when a row lacks the key it is matched on (`rolearn`/`userarn`, or `userid` with
 * `userIdStrict`): the reference refuses such a version whole, so the last good one stays in force. Any other row that
 * fails validation is skipped and reported in the source's `problems` (the other rows apply, as for aws-auth); an empty
 * file maps nobody. Top-level fields other than the sections are ignored, as
 * the reference's JSON decoding ignores them (`Version`, `LastUpdatedDateTime` and `ClusterId` feed only its latency
 * metric), so fields EKS may add later do not stop the file from loading.
 *
 * @example
 * ```ts
 * import { parseDynamicFile } from 'eksauth/verify';
 * const text = '{"Version":"1","mapRoles":[{"rolearn":"arn:aws:iam::111122223333:role/Admin","username":"admin","groups":[],"userid":"AROAEXAMPLE"}]}';
 * const source = parseDynamicFile(text, '/var/eksauth/dynamic.json', { userIdStrict: true });
 * console.log(source.candidates()[0]?.principalId); // → AROAEXAMPLE
 * ```
 */
export function parseDynamicFile(text: string, path: string, options: DynamicFileOptions): MappingSource {
  const name = `dynamicfile:${path}`;
  const doc = parseYamlStrings(text, name) ?? {};
  const sectionsOnly = isPlainObject(doc) ? withoutUnknownKeys(doc) : doc;
  const updatedAt = isPlainObject(doc) ? lastUpdatedSeconds(doc) : undefined;
  const sections = readFields(sectionsOnly, `${name}: `, AWS_AUTH_SECTIONS);
  requireRowKeys(sections, `${name}: `, options.userIdStrict);
  const init = { name, kind: 'file' as const, where: `${name}: ` };
  const rows = readAwsAuthRows(sections, init, options.userIdStrict ? 'required' : 'optional', options);
  const source = createLookupSource({ ...init, ...rows, matchOn: options.userIdStrict ? 'principalId' : 'arn' });
  if (updatedAt !== undefined) options.onUpdatedAt?.(updatedAt);
  return source;
}

const ROW_KEYS = { mapRoles: 'rolearn', mapUsers: 'userarn' } as const;

/** Every row has the field it is looked up by, as the reference demands before it takes a version. */
function requireRowKeys(sections: AwsAuthSections, where: string, userIdStrict: boolean): void {
  for (const [section, arnField] of Object.entries(ROW_KEYS) as [keyof typeof ROW_KEYS, string][]) {
    const rows = sections[section];
    if (!Array.isArray(rows)) continue;
    const key = userIdStrict ? 'userid' : arnField;
    rows.forEach((row: unknown, index) => {
      const value = isPlainObject(row) ? Object.entries(row).find(([field]) => field.toLowerCase() === key)?.[1] : undefined;
      if (value === undefined || value === null || value === '') {
        throw invalidMapping(`${where}${section}[${index}]`, `has no ${key}`, 'every row needs it; this version is refused and the last good one stays in force');
      }
    });
  }
}

function withoutUnknownKeys(doc: Record<string, unknown>): Record<string, unknown> {
  const known = AWS_AUTH_SECTIONS.map((section) => section.toLowerCase());
  return Object.fromEntries(Object.entries(doc).filter(([key]) => known.includes(key.toLowerCase())));
}
