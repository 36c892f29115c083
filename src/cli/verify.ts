import { readFile } from 'node:fs/promises';
import { parseAccessEntries } from '../authn/mapping/access-entries/access-entries.js';
import { parseFeatureGates } from '../authn/mapping/feature-gates.js';
import { parseMappingFile } from '../authn/mapping/file/mapping-file.js';
import { mapIdentity, orderByDefaultPrecedence } from '../authn/mapping/map-identity.js';
import type { MappingSource, MapResult } from '../authn/mapping/types.js';
import { verifyToken, type VerifiedToken } from '../authn/verify.js';
import { networkOptions } from '../aws/network.js';
import { configuredStsEndpoint } from '../aws/sts-endpoint.js';
import { EksAuthError, EXIT_STATUS, exitStatusOf, type ErrorCode } from '../errors.js';
import { summarizeToken } from '../token/summary.js';
import { readStdin } from './stdin.js';
import { identityRows, reportFormat, rows, tokenRows } from './text-rows.js';

export interface VerifyFlags {
  token: string;
  clusterId: string;
  mapping?: string;
  accessEntries?: string;
  stsEndpoint?: string;
  partition?: string[];
  stsRegion?: string[];
  allowedAccount?: string[];
  clockSkew?: number;
  timeout?: number;
  output?: string;
  featureGates?: string;
  caBundle?: string;
}

/** Exit codes a script can branch on; documented in the README. */
export const VERIFY_EXIT = { ok: EXIT_STATUS.ok, usage: EXIT_STATUS.usage, invalidToken: 3, unauthenticated: 4, unmapped: 5, stsUnavailable: 6 } as const;

interface VerifyReport {
  verified?: VerifiedToken;
  mapping?: MapResult;
  error?: EksAuthError;
}

/** `eksauth verify`: what a token claims, who STS says signed it, and (with a mapping) who that is in Kubernetes. */
export async function runVerify(flags: VerifyFlags): Promise<number> {
  const output = reportFormat(flags.output);
  const sources = await loadSources(flags);
  for (const warning of sources.flatMap(warningsOf)) process.stderr.write(`warning: ${warning}\n`);
  const token = flags.token === '-' ? (await readStdin()).trim() : flags.token;
  const report = await verifyAndMap(token, flags, sources);
  process.stdout.write(output === 'json' ? `${JSON.stringify(toJson(report), null, 2)}\n` : formatText(report, new Date()));
  return exitCodeOf(report);
}

async function verifyAndMap(token: string, flags: VerifyFlags, sources: MappingSource[]): Promise<VerifyReport> {
  let verified: VerifiedToken;
  const stsEndpoint = flags.stsEndpoint || configuredStsEndpoint();
  try {
    verified = await verifyToken(token, {
      clusterId: flags.clusterId,
      ...(stsEndpoint ? { stsEndpoint } : {}),
      ...(flags.partition?.length ? { partitions: flags.partition } : {}),
      ...(flags.stsRegion?.length ? { regions: flags.stsRegion } : {}),
      ...(flags.clockSkew === undefined ? {} : { maxClockSkewSeconds: flags.clockSkew }),
      ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout * 1000 }),
      network: networkOptions({ ...(flags.caBundle === undefined ? {} : { caBundle: flags.caBundle }) }),
    });
  } catch (err) {
    // A verdict on the token is the report; a mistake in the flags (an --sts-endpoint without a scheme) is a failure.
    if (err instanceof EksAuthError && exitStatusOf(err.code) !== EXIT_STATUS.usage) return { error: err };
    throw err;
  }
  if (sources.length === 0) return { verified };
  const mapping = await mapIdentity(verified.identity, sources, {
    ...(flags.allowedAccount?.length ? { allowedAccounts: flags.allowedAccount } : {}),
  });
  return { verified, mapping };
}

/** A local tool for the operator: what was skipped is said with the written values. */
function warningsOf(source: MappingSource): string[] {
  return [...(source.problems ?? []).map((problem) => problem.detail), ...(source.warnings ?? [])];
}

async function loadSources(flags: VerifyFlags): Promise<MappingSource[]> {
  const sources: MappingSource[] = [];
  const gates = parseFeatureGates(flags.featureGates ?? '', '--feature-gates');
  if (flags.mapping) {
    sources.push(parseMappingFile(await readInput(flags.mapping, '--mapping'), flags.mapping, { ssoRoleMatch: gates.SSORoleMatch }));
  }
  if (flags.accessEntries) sources.push(parseAccessEntries(await readInput(flags.accessEntries, '--access-entries'), `access-entries:${flags.accessEntries}`));
  return orderByDefaultPrecedence(sources);
}

async function readInput(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new EksAuthError('ERR_USAGE', `${flag} ${path}: cannot read it (${code}); check the path`);
  }
}

// ERR_INVALID_IDENTITY: STS answered, but with an identity that cannot be (a malformed UserId): nonsense, not a refusal.
const STS_UNAVAILABLE: ReadonlySet<ErrorCode> = new Set(['ERR_STS_UNAVAILABLE', 'ERR_STS_THROTTLED', 'ERR_STS_RESPONSE', 'ERR_INVALID_IDENTITY', 'ERR_PROXY', 'ERR_TLS']);

function exitCodeOf(report: VerifyReport): number {
  if (report.error) {
    if (report.error.code.startsWith('ERR_TOKEN_')) return VERIFY_EXIT.invalidToken;
    return STS_UNAVAILABLE.has(report.error.code) ? VERIFY_EXIT.stsUnavailable : VERIFY_EXIT.unauthenticated;
  }
  return report.mapping?.mapped === false ? VERIFY_EXIT.unmapped : VERIFY_EXIT.ok;
}

function outcomeOf(report: VerifyReport): string {
  if (report.error) {
    const code = exitCodeOf(report);
    return code === VERIFY_EXIT.invalidToken ? 'invalid-token' : code === VERIFY_EXIT.stsUnavailable ? 'sts-unavailable' : 'unauthenticated';
  }
  if (report.mapping === undefined) return 'authenticated';
  return report.mapping.mapped ? 'mapped' : 'unmapped';
}

function toJson(report: VerifyReport): Record<string, unknown> {
  return {
    outcome: outcomeOf(report),
    ...(report.verified ? { token: summarizeToken(report.verified.token), identity: report.verified.identity } : {}),
    ...(report.mapping ? { mapping: report.mapping } : {}),
    ...(report.error ? { error: { code: report.error.code, message: report.error.message } } : {}),
  };
}

function formatText(report: VerifyReport, now: Date): string {
  const lines: string[] = [];
  if (report.verified) {
    lines.push('token', ...tokenRows(summarizeToken(report.verified.token), now));
    lines.push('STS identity', ...identityRows(report.verified.identity));
  }
  if (report.mapping?.mapped) {
    const { user, row } = report.mapping;
    lines.push(`Kubernetes user (from ${row.source})`, ...rows([
      ['username', user.username],
      ['uid', user.uid],
      ['groups', user.groups.join(', ') || '(none)'],
    ]));
  } else if (report.mapping) {
    lines.push(`not mapped: ${report.mapping.reason}`);
    // The operator's own terminal: the nearest row (of the principal's account only) is theirs to see.
    if (report.mapping.hint !== undefined) lines.push(`  hint: ${report.mapping.hint}`);
  }
  if (report.error) lines.push(`${outcomeOf(report)}: ${report.error.message} (${report.error.code})`);
  return `${lines.join('\n')}\n`;
}
