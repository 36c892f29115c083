import { Command, Option } from 'commander';
import { EksAuthError } from '../errors.js';
import type { TokenFlags } from './token.js';

// Kept free of SDK imports: kubectl runs `eksauth token` before every request, so each command loads its own code.
const program = new Command('eksauth')
  .description('Amazon EKS authentication with AWS IAM: tokens, kubeconfig, verification and the TokenReview webhook')
  .version(process.env.EKSAUTH_VERSION ?? '0.0.0-dev', '--version')
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

function addTokenCommand(parent: Command, name: string, description: string): void {
  parent
    .command(name)
    .description(description)
    .option('--cluster-name <name>', 'cluster name (the x-k8s-aws-id the token is bound to)')
    .option('-i, --cluster-id <id>', 'cluster id: the Outposts local cluster id, or the name (aws-iam-authenticator -i)')
    .option('-r, --role-arn <arn>', 'IAM role to assume before signing')
    .addOption(new Option('--role <arn>', 'alias of --role-arn').hideHelp())
    .option('--region <region>', "the cluster's region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)")
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE)')
    .option('-e, --external-id <id>', 'external id for the role assumption')
    .option('-s, --session-name <name>', 'role session name (default EKSGetTokenAuth)')
    .option('--forward-session-name', "use the caller's own session name for the role session")
    .option('--token-only', 'print only the token, not an ExecCredential')
    .option('--api-version <version>', 'ExecCredential version to print (v1 or v1beta1; default: what kubectl asks for)')
    .addOption(new Option('--output <format>', 'output format (json only; accepted for aws eks get-token compatibility)').default('json'))
    .action(async (flags: TokenFlags, command: Command) => {
      const { runToken } = await import('./token.js');
      await runToken({ ...command.optsWithGlobals(), ...flags });
    });
}

addTokenCommand(program, 'token', 'print an ExecCredential with an EKS bearer token (the kubectl exec plugin)');
// `aws --region R eks get-token --cluster-name C` kubeconfigs work after swapping `command: aws` for eksauth.
program.option('--region <region>').option('--profile <name>');
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
  process.exitCode = reportFailure(err);
}

function reportFailure(err: unknown): number {
  if (err instanceof EksAuthError) {
    process.stderr.write(`eksauth: ${err.message} (${err.code})\n`);
    return err.code === 'ERR_USAGE' ? 2 : 1;
  }
  if (isCommanderExit(err)) return err.exitCode;
  process.stderr.write(`eksauth: unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

function isCommanderExit(err: unknown): err is { exitCode: number } {
  return typeof err === 'object' && err !== null && 'exitCode' in err && typeof err.exitCode === 'number';
}
