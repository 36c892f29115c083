import { basename } from 'node:path';
import { parseArgs } from 'node:util';

/** What a kubeconfig exec block that runs an EKS token command says about the token to make. */
export interface ExecTokenTarget {
  clusterName?: string;
  clusterId?: string;
  region?: string;
  roleArn?: string;
  profile?: string;
  externalId?: string;
  sessionName?: string;
  /** The exec block's `env` entries (AWS_PROFILE, AWS_REGION, …), applied over the program's environment. */
  env: Record<string, string>;
}

/** A kubeconfig `user.exec` block, as client-node and kubectl read it. */
export interface ExecBlock {
  command?: string;
  args?: string[] | null;
  env?: { name: string; value: string }[] | null;
}

// The flags the three token commands share (`eksauth token`, `aws eks get-token`, `aws-iam-authenticator token`),
// short forms included; every other flag (--output, --api-version, --cache, …) changes nothing about the token.
const TOKEN_ARGS = {
  'cluster-name': { type: 'string' },
  'cluster-id': { type: 'string', short: 'i' },
  'role-arn': { type: 'string', short: 'r' },
  role: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'external-id': { type: 'string', short: 'e' },
  'session-name': { type: 'string', short: 's' },
} as const;

/** The programs, by file name (without a .cjs/.js extension: the CLI's own file), whose token command this library can stand in for. */
const TOKEN_COMMANDS: Record<string, readonly string[]> = {
  eksauth: ['token'],
  aws: ['eks', 'get-token'],
  'aws-iam-authenticator': ['token'],
};

/**
 * Reads the token an exec block would print, when it runs `eksauth token`, `aws eks get-token` or
 * `aws-iam-authenticator token`; undefined for any other command (it stays with client-node's exec support).
 *
 * @example
 * ```ts
 * import { parseTokenExec } from 'eksauth/client-node';
 * console.log(parseTokenExec({ command: 'aws', args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'prod'] }));
 * // → { env: {}, clusterName: 'prod', region: 'eu-west-1' }
 * ```
 */
export function parseTokenExec(exec: ExecBlock): ExecTokenTarget | undefined {
  const subcommand = TOKEN_COMMANDS[basename(exec.command ?? '').replace(/\.c?js$/, '')];
  if (subcommand === undefined) return undefined;
  const { values, positionals } = parseArgs({ args: exec.args ?? [], options: TOKEN_ARGS, strict: false, allowPositionals: true });
  if (!subcommand.every((word, i) => positionals.includes(word) && positionals.indexOf(word) >= i)) return undefined;
  const text = (name: keyof typeof TOKEN_ARGS): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  const target: ExecTokenTarget = { env: Object.fromEntries((exec.env ?? []).map(({ name, value }) => [name, value])) };
  const fields: [keyof Omit<ExecTokenTarget, 'env'>, string | undefined][] = [
    ['clusterName', text('cluster-name')],
    ['clusterId', text('cluster-id')],
    ['region', text('region')],
    ['roleArn', text('role-arn') ?? text('role')],
    ['profile', text('profile')],
    ['externalId', text('external-id')],
    ['sessionName', text('session-name')],
  ];
  for (const [key, value] of fields) if (value !== undefined) target[key] = value;
  return target;
}
