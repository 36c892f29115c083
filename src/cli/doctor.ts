import { readFileSync, writeSync } from 'node:fs';
import { readAwsAuthText } from '../access/aws-auth.js';
import { doctor, type DoctorReport } from '../diagnose/doctor.js';
import { EksAuthError } from '../errors.js';
import { reportFormat } from './text-rows.js';

export interface DoctorFlags {
  context?: string;
  clusterName?: string;
  kubeconfig?: string;
  awsAuth?: string;
  output?: string;
}

/**
 * `eksauth doctor`: one line per link of the chain from the kubeconfig to RBAC; the first broken one ends it with its
 * fix, and the command exits 1 with ERR_CHAIN_BROKEN.
 *
 * @example
 * ```ts
 * await runDoctor({ context: 'prod', output: 'json' });
 * ```
 */
export async function runDoctor(flags: DoctorFlags): Promise<void> {
  const output = reportFormat(flags.output);
  if (flags.context !== undefined && flags.clusterName !== undefined) throw new EksAuthError('ERR_USAGE', 'pass --context or --cluster-name, not both');
  // The SDK's Node-version notice is not part of the answer.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const report = await doctor({
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(flags.clusterName === undefined ? {} : { clusterName: flags.clusterName }),
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.awsAuth === undefined ? {} : { awsAuth: readAwsAuthText(readFileSync(flags.awsAuth, 'utf8'), flags.awsAuth) }),
  });
  writeSync(1, output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatText(report));
  const broken = report.checks.find((check) => !check.ok);
  if (broken !== undefined) throw new EksAuthError('ERR_CHAIN_BROKEN', `the chain breaks at ${broken.check}: ${broken.fix ?? broken.detail}`);
}

function formatText(report: DoctorReport): string {
  const lines = report.checks.flatMap((check) => [
    `${check.ok ? '✓' : '✗'} ${check.check}: ${check.detail}`,
    ...(check.fix === undefined ? [] : [`  fix: ${check.fix}`]),
  ]);
  if (report.ok) lines.push('all is well: kubectl gets through with this identity');
  return `${lines.join('\n')}\n`;
}
