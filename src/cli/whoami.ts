import { whoami, type WhoamiReport } from '../diagnose/whoami.js';
import { duration, identityRows, reportFormat, rows } from './text-rows.js';

export interface WhoamiFlags {
  clusterName?: string;
  region?: string;
  profile?: string;
  output?: string;
}

/**
 * `eksauth whoami`: the credentials a token would be signed with, who STS says they are, the STS host a token would
 * use, and (with --cluster-name) the cached token.
 *
 * @example
 * ```ts
 * await runWhoami({ clusterName: 'prod', region: 'eu-west-1', output: 'json' });
 * ```
 */
export async function runWhoami(flags: WhoamiFlags): Promise<void> {
  const output = reportFormat(flags.output);
  // The SDK's Node-version notice is not part of the answer.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const now = new Date();
  const report = await whoami({
    ...(flags.clusterName === undefined ? {} : { clusterName: flags.clusterName }),
    ...(flags.region === undefined ? {} : { region: flags.region }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    now: () => now,
  });
  process.stdout.write(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatText(report, now));
}

function formatText(report: WhoamiReport, now: Date): string {
  const { credentials, identity, sts, cachedToken } = report;
  const expiry = credentials.expiration === undefined
    ? 'none (long-term keys)'
    : `${credentials.expiration} (${Date.parse(credentials.expiration) > now.getTime() ? `in ${duration(Date.parse(credentials.expiration) - now.getTime())}` : 'expired'})`;
  const lines = [
    'credentials',
    ...rows([
      ['source', credentials.source.description],
      ['profile', credentials.profile ?? '(none named: the default chain)'],
      ['access key id', `${credentials.accessKeyId} (${credentials.temporary ? 'temporary, with a session token' : 'long-term'})`],
      ['expires', expiry],
    ]),
    'STS identity',
    ...identityRows(identity, ' (what aws-auth rows and access entries match)'),
    'token',
    ...rows([
      ['STS host', `${sts.hostname} (partition ${sts.partition}, signing region ${sts.signingRegion}${report.region === undefined ? ', no region set: the global endpoint' : ''})`],
      ...(sts.endpointOverride === undefined ? [] : [['sent to', `${sts.endpointOverride} (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL)`] as [string, string]]),
      ...(cachedToken === undefined ? [] : [['cached token', cachedTokenText(cachedToken, now)] as [string, string]]),
    ]),
  ];
  return `${lines.join('\n')}\n`;
}

function cachedTokenText(cached: NonNullable<WhoamiReport['cachedToken']>, now: Date): string {
  if (cached.expiration === null) return `none for cluster ${cached.cluster}`;
  return `for cluster ${cached.cluster}, valid until ${cached.expiration} (${duration(Date.parse(cached.expiration) - now.getTime())} left)`;
}
