/** The sections `verify`, `decode` and `whoami` print, laid out alike: one place, so they cannot drift apart. */
import type { StsIdentity } from '../authn/arn.js';
import { EksAuthError } from '../errors.js';
import type { TokenSummary } from '../token/summary.js';

/**
 * `  name            value` lines, the layout of every section `verify`, `decode` and `whoami` print.
 *
 * @example
 * ```ts
 * rows([['arn', 'arn:aws:iam::111122223333:user/alice']]); // ['  arn             arn:aws:iam::111122223333:user/alice']
 * ```
 */
export function rows(pairs: [string, string][]): string[] {
  return pairs.map(([name, value]) => `  ${name.padEnd(15)} ${value}`);
}

/**
 * A duration for people: `42s`, `13m05s`, `2h03m`.
 *
 * @example
 * ```ts
 * duration(785_000); // '13m05s'
 * ```
 */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(Math.abs(ms) / 1000));
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/**
 * The `token` section's rows: where the token goes, when it was signed and how long STS honours it, what is signed,
 * which key signed it and whether a session token is present (never the token itself).
 *
 * @example
 * ```ts
 * tokenRows(summarizeToken(validateToken(token)), new Date());
 * // ['  STS host        sts.eu-west-1.amazonaws.com (partition aws, region eu-west-1)', '  signed at       …', …]
 * ```
 */
export function tokenRows(t: TokenSummary, now: Date): string[] {
  const age = now.getTime() - Date.parse(t.signedAt);
  const left = Date.parse(t.validUntil) - now.getTime();
  const when = age >= 0 ? `${duration(age)} ago` : `${duration(age)} in the future`;
  return rows([
    ['STS host', `${t.host} (partition ${t.partition}, region ${t.region})`],
    ['signed at', `${t.signedAt} (${when}; STS honours it ${left > 0 ? `for ${duration(left)} more` : 'no longer'})`],
    ['signed headers', t.signedHeaders.join(';')],
    ['access key id', t.accessKeyId],
    ['session token', t.sessionToken ? 'present (not shown)' : 'none'],
  ]);
}

/**
 * The `STS identity` section's rows; `canonicalNote` follows the canonical ARN.
 *
 * @example
 * ```ts
 * identityRows(identity); // ['  arn             arn:aws:sts::…:assumed-role/Admin/alice', '  canonical arn   arn:aws:iam::…:role/Admin', …]
 * ```
 */
export function identityRows(id: StsIdentity, canonicalNote = ''): string[] {
  return rows([
    ['arn', id.arn],
    ['canonical arn', `${id.canonicalArn}${canonicalNote}`],
    ['account', id.accountId],
    ['user id', id.userId],
    ...(id.sessionName === undefined ? [] : [['session name', id.sessionName] as [string, string]]),
  ]);
}

/**
 * The `-o` of the report commands (`verify`, `decode`, `whoami`, `doctor`, `access`): text (the default) or json.
 *
 * @example
 * ```ts
 * reportFormat(undefined); // 'text'
 * reportFormat('yaml'); // throws ERR_USAGE
 * ```
 */
export function reportFormat(output: string | undefined): 'text' | 'json' {
  const format = output ?? 'text';
  if (format !== 'text' && format !== 'json') throw new EksAuthError('ERR_USAGE', `-o ${format} is not supported: use -o text or -o json`);
  return format;
}
