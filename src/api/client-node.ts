/**
 * `eksauth/client-node`: EKS authentication for @kubernetes/client-node (1.x and 2.x, an optional peer dependency),
 * in process: no exec plugin, no child process per token.
 */
export { eksKubeConfig, type EksKubeConfig, type EksKubeConfigOptions } from '../client-node/kubeconfig.js';
export {
  createEksAuthenticator,
  useEksAuthenticator,
  AUTH_PROVIDER_NAME,
  type Authenticator,
  type EksAuthenticator,
  type EksAuthenticatorOptions,
} from '../client-node/authenticator.js';
export { parseTokenExec, type ExecBlock, type ExecTokenTarget } from '../client-node/exec-args.js';
