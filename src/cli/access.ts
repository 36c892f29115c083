/**
 * `eksauth access plan|apply|check` (registered by access-commands.ts): the move from aws-auth to access entries.
 * Parsing and printing only; the behaviour is in src/access/.
 */
import { readFileSync, writeSync } from 'node:fs';
import { applyAccessPlan, readAccessEntries, readAccessPlan, type AppliedStep } from '../access/apply.js';
import { fetchAwsAuth, readAwsAuthText } from '../access/aws-auth.js';
import { checkAccessSwitch, type AccessCheck, type PrincipalAccess } from '../access/check.js';
import { planAccessEntries, type AccessPlan } from '../access/plan.js';
import { AUTHENTICATION_MODES, type AuthenticationMode } from '../authn/mapping/access-entries/access-policies.js';
import type { AwsAuthSections } from '../authn/mapping/aws-auth-format.js';
import { describeCluster } from '../aws/eks.js';
import { EksAuthError } from '../errors.js';
import { resolveEksAccess, type EksAccess } from '../kubeconfig/update.js';
import { reportFormat } from './text-rows.js';
import { readStdin } from './stdin.js';

export interface AccessFlags {
  clusterName?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  awsAuth?: string;
  kubeconfig?: string;
  context?: string;
  roleArn?: string[];
  plan?: string;
  dryRun?: boolean;
  output?: string;
}

const print = (text: string): void => {
  writeSync(1, text);
};

/** `eksauth access plan`. */
export async function runPlan(flags: AccessFlags): Promise<void> {
  const output = reportFormat(flags.output);
  const { plan } = await makePlan(flags);
  print(output === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
}

/** `eksauth access apply`. */
export async function runApply(flags: AccessFlags): Promise<void> {
  const output = reportFormat(flags.output);
  const { plan, eks } = flags.plan === undefined ? await makePlan(flags) : await planFromFile(flags.plan, flags);
  const steps = await applyAccessPlan(plan, {
    eks,
    dryRun: flags.dryRun === true,
    ...(output === 'text' ? { onStep: (step: AppliedStep) => print(`${flags.dryRun === true ? 'would call' : 'done'} ${step.call} ${step.principalArn}: ${step.detail}\n`) } : {}),
  });
  if (output === 'json') print(`${JSON.stringify({ clusterName: plan.clusterName, dryRun: flags.dryRun === true, steps: steps.map(({ policy: _, ...step }) => step) }, null, 2)}\n`);
  else if (steps.length === 0) print(`nothing to do: the access entries of ${plan.clusterName} already match the plan\n`);
  for (const warning of plan.warnings) writeSync(2, `eksauth: warning: ${warning.from}${warning.principal === undefined ? '' : ` (${warning.principal})`} ${warning.message}\n`);
}

/** `eksauth access check`: throws ERR_ACCESS_WOULD_BE_LOST (exit 1) when anyone loses access. */
export async function runCheck(flags: AccessFlags): Promise<void> {
  const output = reportFormat(flags.output);
  const clusterName = requireCluster(flags);
  const eks = await eksAccessOf(flags);
  const mode = await authenticationMode(clusterName, eks);
  const [awsAuth, existing] = await Promise.all([readAwsAuth(flags), mode === 'CONFIG_MAP' ? Promise.resolve([]) : readAccessEntries(clusterName, eks)]);
  const check = checkAccessSwitch(awsAuth, existing, mode);
  print(output === 'json' ? `${JSON.stringify(check, null, 2)}\n` : formatCheck(check));
  const losing = check.principals.filter((p) => p.verdict === 'loses');
  if (losing.length > 0) {
    throw new EksAuthError('ERR_ACCESS_WOULD_BE_LOST', `${losing.length} principal${losing.length === 1 ? '' : 's'} would lose access under authenticationMode API (${losing.map((p) => p.principal).join(', ')}); run \`eksauth access plan\` and \`apply\` before the switch`);
  }
}

async function makePlan(flags: AccessFlags): Promise<{ plan: AccessPlan; eks: EksAccess }> {
  const clusterName = requireCluster(flags);
  const eks = await eksAccessOf(flags);
  const mode = await authenticationMode(clusterName, eks);
  // A CONFIG_MAP cluster has no entries, and EKS refuses the access-entry calls until it allows them.
  const [awsAuth, existing] = await Promise.all([readAwsAuth(flags), mode === 'CONFIG_MAP' ? Promise.resolve([]) : readAccessEntries(clusterName, eks)]);
  const plan = planAccessEntries(clusterName, awsAuth, existing, { roleArns: flags.roleArn ?? [] });
  if (mode === 'CONFIG_MAP') {
    plan.warnings.push({ from: 'cluster', message: `${clusterName} is in authenticationMode CONFIG_MAP, which takes no access entries: \`aws eks update-cluster-config --name ${clusterName} --access-config authenticationMode=API_AND_CONFIG_MAP\` before apply (aws-auth keeps working)` });
  }
  return { plan, eks };
}

async function authenticationMode(clusterName: string, eks: EksAccess): Promise<AuthenticationMode> {
  const cluster = await describeCluster(clusterName, eks);
  return AUTHENTICATION_MODES.find((m) => m === cluster.authenticationMode) ?? 'CONFIG_MAP';
}

async function planFromFile(file: string, flags: AccessFlags): Promise<{ plan: AccessPlan; eks: EksAccess }> {
  const text = file === '-' ? await readStdin() : readText(file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new EksAuthError('ERR_ACCESS_PLAN', `${file} is not JSON; write it with \`eksauth access plan -o json\``);
  }
  const plan = readAccessPlan(doc, file);
  if (flags.clusterName !== undefined && flags.clusterName !== plan.clusterName) {
    throw new EksAuthError('ERR_USAGE', `the plan is for cluster ${plan.clusterName}, not ${flags.clusterName}; plan again for ${flags.clusterName}`);
  }
  return { plan, eks: await eksAccessOf(flags) };
}

function requireCluster(flags: AccessFlags): string {
  if (flags.clusterName === undefined || flags.clusterName === '') throw new EksAuthError('ERR_USAGE', 'name the cluster with --cluster-name NAME');
  return flags.clusterName;
}

async function eksAccessOf(flags: AccessFlags): Promise<EksAccess> {
  // The SDK's Node-version notice is not part of the answer.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return resolveEksAccess({
    ...(flags.region === undefined ? {} : { region: flags.region }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
    ...(flags.endpointUrl === undefined ? {} : { endpointUrl: flags.endpointUrl }),
  });
}

async function readAwsAuth(flags: AccessFlags): Promise<AwsAuthSections> {
  if (flags.awsAuth !== undefined) return readAwsAuthText(readText(flags.awsAuth), flags.awsAuth);
  return fetchAwsAuth(flags.kubeconfig === undefined ? { discover: true } : { kubeconfigPath: flags.kubeconfig }, flags.context);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new EksAuthError('ERR_USAGE', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path`);
  }
}

function formatPlan(plan: AccessPlan): string {
  const lines = [`access entries for cluster ${plan.clusterName}`];
  for (const entry of plan.entries) {
    const identity = entry.type === 'STANDARD'
      ? `username ${entry.username ?? '(EKS default)'}, groups [${entry.kubernetesGroups.join(', ')}]`
      : 'node identity set by EKS';
    lines.push(`  ${entry.action.padEnd(9)} ${entry.principalArn} ${entry.type}: ${identity}  (${entry.from})`);
    for (const policy of entry.policies) lines.push(`            + ${policy.policyArn} (${policy.accessScope.type})`);
  }
  if (plan.warnings.length > 0) lines.push('cannot carry over as is');
  for (const warning of plan.warnings) lines.push(`  ! ${warning.from}${warning.principal === undefined ? '' : ` ${warning.principal}`}: ${warning.message}`);
  return `${lines.join('\n')}\n`;
}

function formatCheck(check: AccessCheck): string {
  const show = (access: PrincipalAccess | undefined): string => access === undefined
    ? 'no access'
    : `${access.username} [${access.groups.join(', ')}]${access.policies.length === 0 ? '' : ` + ${access.policies.join(', ')}`} (${access.via})`;
  const marks: Record<string, string> = { keeps: '✓', changes: '~', loses: '✗', gains: '+' };
  const lines = [`authenticationMode now: ${check.mode}; after the switch: API`];
  for (const p of check.principals) {
    lines.push(`${marks[p.verdict] ?? ' '} ${p.verdict.padEnd(7)} ${p.principal}`);
    lines.push(`    now: ${show(p.now)}`, `    API: ${show(p.underApi)}`);
    if (p.note !== undefined) lines.push(`    ${p.note}`);
  }
  return `${lines.join('\n')}\n`;
}
