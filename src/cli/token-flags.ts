import type { TokenFlags } from './token.js';

/** One definition of `eksauth token`'s flags, read by both the fast path (node:util) and commander (help, errors). */
export interface FlagSpec {
  long: string;
  short?: string;
  /** Placeholder for a flag that takes a value; absent for booleans. */
  value?: string;
  description: string;
}

export const TOKEN_FLAGS: readonly FlagSpec[] = [
  { long: 'cluster-name', value: 'name', description: 'cluster name (the x-k8s-aws-id the token is bound to)' },
  { long: 'cluster-id', short: 'i', value: 'id', description: 'cluster id: the Outposts local cluster id, or the name (aws-iam-authenticator -i)' },
  { long: 'role-arn', short: 'r', value: 'arn', description: 'IAM role to assume before signing' },
  { long: 'role', value: 'arn', description: "alias of --role-arn (aws-iam-authenticator's name)" },
  { long: 'region', value: 'region', description: "the cluster's region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)" },
  { long: 'profile', value: 'name', description: 'AWS profile (default: AWS_PROFILE)' },
  { long: 'external-id', short: 'e', value: 'id', description: 'external id for the role assumption' },
  { long: 'session-name', short: 's', value: 'name', description: 'role session name (default EKSGetTokenAuth)' },
  { long: 'forward-session-name', description: "use the caller's own session name for the role session" },
  { long: 'token-only', description: 'print only the token, not an ExecCredential' },
  { long: 'api-version', value: 'version', description: 'ExecCredential version to print (v1 or v1beta1; default: what kubectl asks for)' },
  { long: 'output', value: 'format', description: "the aws CLI's output: json, text, table, yaml or yaml-stream (token: one line of JSON unless given; eks get-token: AWS_DEFAULT_OUTPUT, the profile's output, else json)" },
  { long: 'query', value: 'expression', description: 'JMESPath expression applied to the ExecCredential, as the aws CLI (e.g. --query status.token --output text)' },
  { long: 'color', value: 'mode', description: 'on, off or auto (the default): colours of --output table, as the aws CLI' },
  { long: 'debug', description: 'say on stderr what was resolved and from where: profile, region, credential source, STS host, cache hit or miss (never a secret)' },
  { long: 'no-cli-pager', description: 'accepted from aws CLI v2 commands; eksauth never pages' },
  { long: 'no-cache', description: 'neither read nor store cached tokens and credentials (also: EKSAUTH_NO_CACHE=1)' },
  { long: 'allow-unknown-region', description: 'sign for a region the SDK data does not list, e.g. one newer than this eksauth (also: EKSAUTH_ALLOW_UNKNOWN_REGION=1)' },
  { long: 'force-refresh', description: 'sign a new token even if a cached one is still good, and cache it' },
  { long: 'cache', description: "aws-iam-authenticator's flag, accepted: caching is on by default" },
  { long: 'ca-bundle', value: 'file', description: "CA bundle for AWS calls (AssumeRole, SSO, …; default: AWS_CA_BUNDLE, the profile's ca_bundle)" },
  { long: 'no-verify-ssl', description: "don't check the TLS certificates of AWS calls (prints a warning per host)" },
  { long: 'cli-connect-timeout', value: 'seconds', description: 'time to open a connection for an AWS call (0: no limit; default 10)' },
  { long: 'cli-read-timeout', value: 'seconds', description: 'time to wait between reads of an answer (0: no limit; default 30)' },
  { long: 'endpoint-url', value: 'url', description: 'accepted as aws eks get-token does, and like it used by no call (STS: AWS_ENDPOINT_URL_STS)' },
];

/**
 * One parsed flag as the TokenFlags entry commander would make of it: `--cluster-name` → `clusterName`, and a
 * negated flag to its positive key, `--no-cache` → `cache: false`.
 *
 * @example
 * ```ts
 * import { flagEntry } from './token-flags.js';
 * flagEntry('cluster-name', 'prod'); // ['clusterName', 'prod']
 * flagEntry('no-cache', true); // ['cache', false]
 * ```
 */
export function flagEntry(long: string, value: string | boolean): [keyof TokenFlags, string | boolean] {
  const negated = long.startsWith('no-') && value === true;
  const name = negated ? long.slice('no-'.length) : long;
  return [name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof TokenFlags, negated ? false : value];
}
