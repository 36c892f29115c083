/** The `eksauth access` commands' flags; their code (and the EKS SDK) loads only when one runs. */
import type { Command } from 'commander';
import type { AccessFlags } from './access.js';

/**
 * Adds `access plan`, `access apply` and `access check` to the program.
 *
 * @example
 * ```ts
 * addAccessCommands(program); // eksauth access plan --cluster-name prod -o json > plan.json
 * ```
 */
export function addAccessCommands(program: Command): void {
  const access = program.command('access').description('move a cluster from the aws-auth ConfigMap to EKS access entries: plan, apply, check');
  const common = (command: Command): Command => command
    .option('--cluster-name <name>', 'the EKS cluster')
    .option('--region <region>', 'region of the EKS calls (default: AWS_REGION, AWS_DEFAULT_REGION, profile)')
    .option('--profile <name>', 'AWS profile for the EKS calls (default: AWS_PROFILE)')
    .option('--endpoint-url <url>', 'EKS endpoint URL (also: AWS_ENDPOINT_URL_EKS)')
    .option('--aws-auth <file>', 'read aws-auth from this file (the ConfigMap, or mapRoles/mapUsers/mapAccounts) instead of the cluster')
    .option('--kubeconfig <file>', 'kubeconfig to read kube-system/aws-auth with (default: KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to read aws-auth with (default: the current one)')
    .option('-o, --output <format>', 'text or json', 'text');
  common(access.command('plan').description('print the access entries and policy associations that reproduce aws-auth, and what cannot carry over'))
    .option('--role-arn <arn>', 'the full ARN (with its IAM path) of a role aws-auth names without it; repeatable', collect, [])
    .action(async (flags: AccessFlags) => (await import('./access.js')).runPlan(flags));
  common(access.command('apply').description('create and update access entries and associate policies as a plan says; idempotent'))
    .option('--plan <file>', "the plan (`eksauth access plan -o json`), or '-' for stdin; default: plan now")
    .option('--role-arn <arn>', 'without --plan: as for plan', collect, [])
    .option('--dry-run', 'print the calls without making them')
    .action(async (flags: AccessFlags) => (await import('./access.js')).runApply(flags));
  common(access.command('check').description('who keeps, loses or gains access when authenticationMode becomes API; exit 1 if anyone loses'))
    .action(async (flags: AccessFlags) => (await import('./access.js')).runCheck(flags));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
