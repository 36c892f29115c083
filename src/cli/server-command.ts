/**
 * The `eksauth server` and `eksauth server init` commands: flag definitions only (commander needs them to parse); the
 * server code, pino, prom-client and the Kubernetes client load when a command runs.
 */
import { Command, Option } from 'commander';
import { addVerifierFlags } from './verifier-flags.js';

/** Flags as commander hands them over (strings; repeatable ones as lists). */
export interface ServerFlags {
  config?: string;
  clusterId?: string;
  address?: string;
  port?: string;
  hostname?: string;
  stateDir?: string;
  generateKubeconfig?: string;
  kubeconfigPregenerated?: boolean;
  backendMode?: string;
  mappingFile?: string;
  configmap?: string;
  kubeconfig?: string;
  master?: string;
  dynamicfilePath?: string;
  dynamicfileUserIdStrict?: boolean;
  dynamicBackendModePath?: string;
  partition?: string[];
  stsRegion?: string[];
  ec2Region?: string;
  featureGates?: string;
  ec2DescribeInstancesQps?: string;
  ec2DescribeInstancesBurst?: string;
  stsEndpoint?: string;
  cacheTtl?: string;
  reviewTimeout?: string;
  accessEntriesRefreshInterval?: string;
  allowedAccount?: string[];
  opsAddress?: string;
  opsPort?: string;
  maxConnections?: string;
  opsMaxConnections?: string;
  idleTimeout?: string;
  readTimeout?: string;
  stsMaxSockets?: string;
  logLevel?: string;
}

/** Flags both commands take, so that `init` writes the files `server` then reads. */
function addSharedFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (eksauth or aws-iam-authenticator config.yaml); flags override it')
    .option('-i, --cluster-id <id>', "this cluster's id (the name, for EKS): tokens made for other clusters fail")
    .option('--address <ip>', 'address the webhook listens on (default 127.0.0.1)')
    .option('--port <port>', 'webhook port (default 21362)')
    .option('--hostname <name>', 'host name in the webhook URL and certificate (default: the address)')
    .option('--state-dir <dir>', 'where cert.pem and key.pem live (default /var/eksauth)')
    .option('--generate-kubeconfig <path>', "where to write the webhook kubeconfig for kube-apiserver's --authentication-token-webhook-config-file");
}

/**
 * Registers `server` and its `init` subcommand on the program.
 *
 * @example
 * ```ts
 * addServerCommand(program); // eksauth server --cluster-id prod …; eksauth server init --cluster-id prod …
 * ```
 */
export function addServerCommand(program: Command): void {
  const server = addVerifierFlags(
    addSharedFlags(
      program.command('server').description('run the TokenReview webhook for kube-apiserver (a drop-in for aws-iam-authenticator server)'),
    ),
  )
    .option('--kubeconfig-pregenerated', 'the webhook kubeconfig was written by `eksauth server init`: leave it alone')
    .option('--backend-mode <modes>', 'mapping backends in precedence order: MountedFile, EKSConfigMap, CRD, DynamicFile, EKSAccessEntries (comma-separated)')
    .option('--mapping-file <path>', 'MountedFile mapping (aws-auth format), reloaded on change; default: the config file\'s mapRoles/mapUsers/mapAccounts')
    .option('--configmap <namespace/name>', 'ConfigMap the EKSConfigMap backend watches (default kube-system/aws-auth)')
    .option('--kubeconfig <path>', 'kubeconfig for the EKSConfigMap and CRD backends (default: the pod\'s service account, else KUBECONFIG or ~/.kube/config)')
    .option('--master <url>', 'API server URL that replaces the kubeconfig\'s, for the EKSConfigMap and CRD backends')
    .option('--dynamicfile-path <path>', 'the DynamicFile backend\'s JSON mapping file (server.dynamicfilepath)')
    .option('--dynamicfile-user-id-strict', 'DynamicFile rows match on the principal id (userid), not the ARN (server.dynamicfileUserIDStrict)')
    .option('--dynamic-backend-mode-path <path>', 'JSON file whose backendMode switches the backends while the server runs (server.dynamicBackendModePath)')
    .option('--ec2-region <region>', 'region for {{EC2PrivateDNSName}} lookups (default AWS_REGION)')
    .option('--ec2-describeInstances-qps <n>', 'most EC2 DescribeInstances calls a second for {{EC2PrivateDNSName}} (default 15; 0: no limit)')
    .option('--ec2-describeInstances-burst <n>', 'burst above that rate (default 5)')
    .option('--feature-gates <gates>', "aws-iam-authenticator's gates, e.g. SSORoleMatch=true (sso rows in mapRoles)")
    .option('--cache-ttl <duration>', 'reuse a verified identity for at most this long, e.g. 60s; 0 turns the cache off')
    .option('--review-timeout <duration>', 'answer every review within this, e.g. 5s')
    .option('--access-entries-refresh-interval <duration>', 'how often the EKSAccessEntries backend reads the access entries again (default 30s)')
    .option('--ops-address <ip>', 'address of the plain-HTTP /healthz, /readyz, /metrics listener (default 127.0.0.1)')
    .option('--ops-port <port>', "port of that listener (default 21363; 'off' for none)")
    .option('--max-connections <n>', 'most connections the webhook holds; when full the least recently used idle one is closed (default 512)')
    .option('--ops-max-connections <n>', 'most connections the ops listener holds (default 32)')
    .option('--idle-timeout <duration>', 'close a connection that has not started a request within this, TLS handshake included (default 5s)')
    .option('--read-timeout <duration>', "close a connection whose request's headers and body take longer than this to arrive (default 10s)")
    .option('--sts-max-sockets <n>', 'most connections to STS at once (default: --max-connections)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']))
    .action(async (flags: ServerFlags) => {
      const { runServer } = await import('./server.js');
      await runServer(flags);
    });
  addSharedFlags(server.command('init').description('write the serving key and certificate and the webhook kubeconfig, then exit'))
    .action(async (flags: ServerFlags) => {
      const { runServerInit } = await import('./server.js');
      await runServerInit(flags);
    });
}
