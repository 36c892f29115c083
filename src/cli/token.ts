import { writeSync } from 'node:fs';
import { EksAuthError } from '../errors.js';
import { toExecCredential } from '../exec/exec-credential.js';
import { clusterFromExecInfo, parseApiVersion, readExecInfo, type ExecInfo } from '../exec/exec-info.js';
import { getToken } from '../token/generate.js';

export interface TokenFlags {
  clusterName?: string;
  clusterId?: string;
  roleArn?: string;
  role?: string;
  region?: string;
  profile?: string;
  externalId?: string;
  sessionName?: string;
  forwardSessionName?: boolean;
  tokenOnly?: boolean;
  apiVersion?: string;
  output?: string;
}

/** `eksauth token`: stdout gets the ExecCredential and nothing else; warnings go to stderr. */
export async function runToken(flags: TokenFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // The SDK's Node-version notice would reach the user's terminal through kubectl on every call.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (flags.output !== undefined && flags.output !== 'json') {
    throw new EksAuthError('ERR_USAGE', `--output ${flags.output} is not supported: eksauth token prints JSON (--output json)`);
  }
  const info = readExecInfo(env.KUBERNETES_EXEC_INFO);
  for (const warning of info.warnings) writeSync(2, `${warning}\n`);
  const apiVersion = flags.apiVersion === undefined ? info.apiVersion : parseApiVersion(flags.apiVersion);
  const target = tokenTarget(flags, info, env.KUBERNETES_EXEC_INFO);
  const roleArn = flags.roleArn ?? flags.role;
  const result = await getToken({
    ...target,
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    ...(flags.externalId === undefined ? {} : { externalId: flags.externalId }),
    ...(flags.sessionName === undefined ? {} : { sessionName: flags.sessionName }),
    forwardSessionName: flags.forwardSessionName === true,
    ...(info.interactive === undefined ? {} : { interactive: info.interactive }),
    env,
  });
  // A plain write to fd 1: constructing process.stdout costs more than the rest of the output step.
  writeSync(1, flags.tokenOnly ? `${result.token}\n` : `${JSON.stringify(toExecCredential(result, apiVersion))}\n`);
}

// Flags name the cluster; without them a ClusterProfile's exec extension does (cluster-inventory mode).
function tokenTarget(flags: TokenFlags, info: ExecInfo, rawExecInfo: string | undefined): { clusterId: string; region?: string } {
  if (flags.clusterName !== undefined && flags.clusterId !== undefined) {
    throw new EksAuthError(
      'ERR_USAGE',
      '--cluster-name and --cluster-id cannot be used together: use --cluster-id only for Outposts local clusters',
    );
  }
  const clusterId = flags.clusterName ?? flags.clusterId;
  if (clusterId !== undefined) return { clusterId, ...(flags.region === undefined ? {} : { region: flags.region }) };
  const fromProfile = clusterFromExecInfo(info, rawExecInfo);
  return { clusterId: fromProfile.clusterId, region: flags.region ?? fromProfile.region };
}
