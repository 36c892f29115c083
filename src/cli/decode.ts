import { EksAuthError } from '../errors.js';
import { decodeTokenDetails, type DecodedToken } from '../token/summary.js';
import { readStdin } from './stdin.js';
import { duration, reportFormat, rows, tokenRows } from './text-rows.js';

export interface DecodeFlags {
  output?: string;
}

/**
 * `eksauth decode TOKEN|-`: what a token says, offline. `-` reads the token, or an ExecCredential as `eksauth token`
 * prints it, from stdin (keeping the token out of `ps`).
 *
 * @example
 * ```ts
 * await runDecode('k8s-aws-v1.aHR0cHM6…', { output: 'json' }); // prints {"host": "sts.eu-west-1.amazonaws.com", …}
 * ```
 */
export async function runDecode(argument: string, flags: DecodeFlags): Promise<void> {
  const output = reportFormat(flags.output);
  const token = argument === '-' ? tokenFromInput(await readStdin()) : argument.trim();
  const now = new Date();
  const details = decodeTokenDetails(token, { now });
  process.stdout.write(output === 'json' ? `${JSON.stringify(details, null, 2)}\n` : formatText(details, now));
}

/** The token in stdin: the token itself, or the `status.token` of an ExecCredential. */
function tokenFromInput(input: string): string {
  const text = input.trim();
  if (!text.startsWith('{')) return text;
  let token: unknown;
  try {
    token = (JSON.parse(text) as { status?: { token?: unknown } }).status?.token;
  } catch {
    throw new EksAuthError('ERR_USAGE', 'stdin starts with "{" but is not JSON; pipe a k8s-aws-v1 token or the ExecCredential `eksauth token` prints');
  }
  if (typeof token !== 'string') throw new EksAuthError('ERR_USAGE', 'the JSON on stdin has no status.token; pipe a k8s-aws-v1 token or the ExecCredential `eksauth token` prints');
  return token;
}

function formatText(details: DecodedToken, now: Date): string {
  const state = details.state === 'valid'
    ? `valid for ${duration(details.remainingSeconds * 1000)} more`
    : details.state === 'expired' ? `expired at ${details.validUntil}` : 'signed in the future (check the clocks)';
  return `${['token', ...tokenRows(details, now), ...rows([['X-Amz-Expires', `${details.expiresInSeconds}s (STS ignores it)`], ['state', state]])].join('\n')}\n`;
}
