import { Command, Option } from 'commander';
import { reportFailure } from './report.js';
import { TOKEN_FLAGS } from './token-flags.js';
import type { TokenFlags } from './token.js';

const program = new Command('eksauth')
  .description('Amazon EKS authentication with AWS IAM: tokens, kubeconfig, verification and the TokenReview webhook')
  .version(process.env.EKSAUTH_VERSION ?? '0.0.0-dev', '--version')
  .enablePositionalOptions()
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

function addTokenCommand(parent: Command, name: string, description: string): void {
  const command = parent.command(name).description(description);
  for (const flag of TOKEN_FLAGS) {
    const option = new Option(`${flag.short ? `-${flag.short}, ` : ''}--${flag.long}${flag.value ? ` <${flag.value}>` : ''}`, flag.description);
    command.addOption(flag.hidden ? option.hideHelp() : option);
  }
  command.action(async (flags: TokenFlags, self: Command) => {
    const { runToken } = await import('./token.js');
    await runToken({ ...self.optsWithGlobals(), ...flags });
  });
}

addTokenCommand(program, 'token', 'print an ExecCredential with an EKS bearer token (the kubectl exec plugin)');
// `aws --region R eks get-token --cluster-name C` kubeconfigs work after swapping `command: aws` for eksauth.
program.option('--region <region>', 'region, for the aws eks get-token form').option('--profile <name>', 'profile, for the aws eks get-token form');
addTokenCommand(program.command('eks').description('aws eks compatible commands'), 'get-token', 'same as `eksauth token`');

program
  .command('emulator')
  .description('run the local STS emulator (checks SigV4 signatures; for offline tests of kubeconfigs and mappings)')
  .option('--config <file>', 'identities and roles (YAML or JSON); default: the demo identities')
  .option('--port <port>', 'port to listen on (default: a free one)', (v) => Number.parseInt(v, 10))
  .option('--host <address>', 'loopback address to bind', '127.0.0.1')
  .action(async (flags: { config?: string; port?: number; host?: string }) => {
    const { runEmulator } = await import('./emulator.js');
    await runEmulator(flags);
  });

const collect = (value: string, previous: string[] = []) => [...previous, value];
program
  .command('verify')
  .description('check a token: decode it, ask STS who signed it and, with a mapping, who that is in Kubernetes')
  .requiredOption('-t, --token <token>', "the k8s-aws-v1 token, or '-' to read it from stdin (keeps it out of ps)")
  .requiredOption('-i, --cluster-id <id>', "this cluster's id (the name, for EKS): tokens for other clusters fail")
  .option('--mapping <file>', 'mapping file: an aws-auth ConfigMap, or mapRoles/mapUsers/mapAccounts')
  .option('--access-entries <file>', 'access-entry records (principalArn, type, username, kubernetesGroups)')
  .option('--sts-endpoint <url>', "connect to this STS address instead of the token's host (VPC endpoint, emulator)")
  .option('--partition <name>', 'accept STS hosts of this partition (repeatable; default aws)', collect)
  .option('--region <name>', 'also accept this region, when newer than the SDK data (repeatable)', collect)
  .option('--allowed-account <id>', 'map only identities of this account (repeatable)', collect)
  .option('--clock-skew <seconds>', 'how far in the future X-Amz-Date may be', (v) => Number.parseInt(v, 10))
  .option('--timeout <seconds>', 'time allowed for the STS call', (v) => Number.parseFloat(v))
  .option('-o, --output <format>', 'text or json', 'text')
  .action(async (flags: import('./verify.js').VerifyFlags) => {
    const { runVerify } = await import('./verify.js');
    process.exitCode = await runVerify(flags);
  });

program
  .command('demo')
  .description('run the end-to-end demo on local defaults (no AWS account needed)')
  .action(async () => {
    const { runDemo } = await import('./demo.js');
    await runDemo();
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = isCommanderExit(err) ? err.exitCode : reportFailure(err);
}

function isCommanderExit(err: unknown): err is { exitCode: number } {
  return typeof err === 'object' && err !== null && 'exitCode' in err && typeof err.exitCode === 'number';
}
