import { Command, CommanderError, Option } from 'commander';
import { reportFailure } from './report.js';
import { configureUsageErrors, NUMBER_ARGUMENT } from './usage-errors.js';
import { addVerifierFlags } from './verifier-flags.js';
import { addServerCommand } from './server-command.js';
import { addAccessCommands } from './access-commands.js';
import { TOKEN_FLAGS } from './token-flags.js';
import { quietUrlParseDeprecation } from './quiet-url-parse.js';
import type { TokenFlags, TokenForm } from './token.js';

quietUrlParseDeprecation();

const program = new Command('eksauth')
  .description('Amazon EKS authentication with AWS IAM: tokens, kubeconfig, verification and the TokenReview webhook')
  .version(process.env.EKSAUTH_VERSION ?? '0.0.0-dev', '--version')
  .enablePositionalOptions();

function addTokenCommand(parent: Command, name: string, description: string, form: TokenForm): void {
  const command = parent.command(name).description(description);
  for (const flag of TOKEN_FLAGS) {
    command.addOption(new Option(`${flag.short ? `-${flag.short}, ` : ''}--${flag.long}${flag.value ? ` <${flag.value}>` : ''}`, flag.description));
  }
  command.action(async (flags: TokenFlags, self: Command) => {
    const { runToken } = await import('./token.js');
    await runToken({ ...self.optsWithGlobals(), ...flags }, process.env, form);
  });
}

addTokenCommand(program, 'token', 'print an ExecCredential with an EKS bearer token (the kubectl exec plugin)', 'token');
// `aws --region R eks get-token --cluster-name C` kubeconfigs work after swapping `command: aws` for eksauth.
program.option('--region <region>', 'region, for the aws eks get-token form').option('--profile <name>', 'profile, for the aws eks get-token form');
const eks = program.command('eks').description('aws eks compatible commands: get-token, update-kubeconfig');
addTokenCommand(eks, 'get-token', 'same as `eksauth token`, with the aws CLI\'s default output (AWS_DEFAULT_OUTPUT, the profile\'s output, else json)', 'eks get-token');

program
  .command('cache')
  .description('the token and credential cache ($KUBECACHEDIR/eksauth, else ~/.kube/cache/eksauth)')
  .command('clean')
  .description('delete cached tokens and credentials')
  .action(async () => (await import('./cache.js')).runCacheClean());

program
  .command('emulator')
  .description('run the local STS emulator (checks SigV4 signatures; for offline tests of kubeconfigs and mappings)')
  .option('--config <file>', 'identities and roles (YAML or JSON); default: the demo identities')
  .option('--port <port>', 'port to listen on (default: a free one)', NUMBER_ARGUMENT.wholeNumber)
  .option('--host <address>', 'loopback address to bind', '127.0.0.1')
  .option('--session-lifetime <seconds>', 'AssumeRole credentials expire after at most this long (default: the DurationSeconds asked, 3600)', NUMBER_ARGUMENT.wholeNumber)
  .option('--with-api-server', 'also run a test API server for the first cluster, eksauth server and a kubeconfig for kubectl')
  .option('--kubeconfig <file>', 'with --with-api-server: the kubeconfig to write (default: ./kubeconfig)')
  .option('--mapping <file>', 'with --with-api-server: aws-auth rows (mapRoles/mapUsers); default: the demo mapping')
  .action(async (flags: import('./emulator.js').RunEmulatorOptions) => {
    const { runEmulator } = await import('./emulator.js');
    await runEmulator(flags);
  });

/** `update-kubeconfig`, also registered as `eks update-kubeconfig` for commands written for the aws CLI. */
function addUpdateKubeconfigCommand(parent: Command): void {
  parent
  .command('update-kubeconfig')
  .description('write kubeconfig entries for an EKS cluster (or --all of them) that run `eksauth token`; aws eks update-kubeconfig compatible')
  .option('--name <cluster>', 'the cluster to describe and add')
  .option('--all', 'every cluster in --regions, or in every region enabled for the account')
  .option('--regions <list>', 'with --all: comma-separated regions to search')
  .option('--kubeconfig <file>', 'the file to update (default: the KUBECONFIG files, else ~/.kube/config)')
  .option('--region <region>', 'region for the EKS calls (default: AWS_REGION, AWS_DEFAULT_REGION, profile)')
  .option('--profile <name>', 'AWS profile for the EKS calls, also written into the exec arguments')
  .option('--endpoint-url <url>', 'EKS endpoint URL (also: AWS_ENDPOINT_URL_EKS)')
  .option('--role-arn <arn>', 'role the token is made with (written into the exec arguments)')
  .option('--assume-role-arn <arn>', 'role to assume for DescribeCluster/ListClusters only (another account)')
  .option('--proxy-url <url>', 'proxy-url for the cluster entry')
  .option('--alias <name>', "context name (default: the user name); placeholders {cluster} {region} {account} {arn}")
  .option('--user-alias <name>', 'user name (default: the cluster ARN); same placeholders')
  .option('--exec-command <command>', 'command of the exec block; `aws` writes the aws eks get-token form', 'eksauth')
  .option('--api-version <version>', 'exec apiVersion: v1beta1 (default) or v1 (adds interactiveMode)')
  .option('--interactive-mode <mode>', 'exec interactiveMode: Never, IfAvailable or Always')
  .option('--set-current-context', 'make the new context current (the default for one cluster)')
  .option('--no-set-current-context', 'keep the current context (the default with --all)')
  .option('--dry-run [format]', 'print instead of writing: the merged YAML (default) or `summary`')
  .option('--verbose', 'print the entries written')
  .option('--concurrency <n>', 'with --all: EKS requests in flight at once (default 8)')
  .option('--ca-bundle <file>', "CA bundle for the AWS calls (default: AWS_CA_BUNDLE, the profile's ca_bundle)")
  .option('--no-verify-ssl', "don't check the TLS certificates of the AWS calls (prints a warning per host)")
  .option('--cli-connect-timeout <seconds>', 'time to open a connection for an AWS call (0: no limit; default 10)')
  .option('--cli-read-timeout <seconds>', 'time to wait between reads of an answer (0: no limit; default 30)')
  .option('--allow-unknown-region', 'accept a region the SDK data does not list, e.g. one newer than this eksauth (also: EKSAUTH_ALLOW_UNKNOWN_REGION=1)')
  .action(async (flags: import('./update-kubeconfig.js').UpdateKubeconfigFlags, self: Command) => {
    const { runUpdateKubeconfig } = await import('./update-kubeconfig.js');
    await runUpdateKubeconfig({ ...self.optsWithGlobals(), ...flags });
  });
}

addUpdateKubeconfigCommand(program);
addUpdateKubeconfigCommand(eks);

addVerifierFlags(
  program
  .command('verify')
  .description('check a token: decode it, ask STS who signed it and, with a mapping, who that is in Kubernetes')
  .requiredOption('-t, --token <token>', "the k8s-aws-v1 token, or '-' to read it from stdin (keeps it out of ps)")
  .requiredOption('-i, --cluster-id <id>', "this cluster's id (the name, for EKS): tokens for other clusters fail")
  .option('--mapping <file>', 'mapping file: an aws-auth ConfigMap, or mapRoles/mapUsers/mapAccounts')
  .option('--access-entries <file>', 'access-entry records (principalArn, type, username, kubernetesGroups)')
  .option('--feature-gates <gates>', "aws-iam-authenticator's gates, e.g. SSORoleMatch=true (sso rows in mapRoles)")
  .option('--clock-skew <seconds>', 'how far in the future X-Amz-Date may be', NUMBER_ARGUMENT.wholeNumber)
  .option('--timeout <seconds>', 'time allowed for the STS call', NUMBER_ARGUMENT.seconds)
  .option('--ca-bundle <file>', "CA bundle STS's certificate is checked against (default: AWS_CA_BUNDLE, else the system's)")
  .option('-o, --output <format>', 'text or json', 'text'),
)
  .action(async (flags: import('./verify.js').VerifyFlags) => {
    const { runVerify } = await import('./verify.js');
    process.exitCode = await runVerify(flags);
  });

addServerCommand(program);

program
  .command('decode')
  .description('show what a token contains (host, region, signing date, validity, signed headers, key id), offline; never the signature or session token')
  .argument('<token>', "the k8s-aws-v1 token, or '-' to read it (or the ExecCredential of `eksauth token`) from stdin")
  .option('-o, --output <format>', 'text or json', 'text')
  .action(async (token: string, flags: import('./decode.js').DecodeFlags) => (await import('./decode.js')).runDecode(token, flags));

program
  .command('whoami')
  .description('who your credentials are to STS, where they came from, the STS host a token would use, and the cached token')
  .option('--cluster-name <name>', 'the cluster a token would be for: its cached token is looked up')
  .option('--region <region>', 'region, as for `eksauth token` (default: AWS_REGION, AWS_DEFAULT_REGION, profile)')
  .option('--profile <name>', 'AWS profile, as for `eksauth token` (default: AWS_PROFILE)')
  .option('-o, --output <format>', 'text or json', 'text')
  .action(async (flags: import('./whoami.js').WhoamiFlags) => (await import('./whoami.js')).runWhoami(flags));

addAccessCommands(program);

program
  .command('doctor')
  .description('walk the chain from the kubeconfig to RBAC and stop at the first broken link, with its fix')
  .option('--context <name>', 'the kubeconfig context to check (default: the current one)')
  .option('--cluster-name <name>', 'check the context whose exec args name this cluster')
  .option('--kubeconfig <file>', 'the kubeconfig (default: KUBECONFIG, else ~/.kube/config)')
  .option('--aws-auth <file>', "aws-auth's rows from a file, when your credentials cannot read kube-system/aws-auth")
  .option('-o, --output <format>', 'text or json', 'text')
  .action(async (flags: import('./doctor.js').DoctorFlags) => (await import('./doctor.js')).runDoctor(flags));

program
  .command('demo')
  .description('run the end-to-end demo on local defaults (no AWS account needed)')
  .action(async () => {
    const { runDemo } = await import('./demo.js');
    await runDemo();
  });

configureUsageErrors(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Help and --version arrive here as a CommanderError with exit code 0; every other error is an EksAuthError.
  process.exitCode = err instanceof CommanderError ? err.exitCode : reportFailure(err);
}
