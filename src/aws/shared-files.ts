import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the AWS CLI and SDKs look for the shared config and credentials files. */
export interface SharedFilePaths {
  configFile: string;
  credentialsFile: string;
}

/**
 * The shared config and credentials files in effect: AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/config and ~/.aws/credentials. Both the settings reader and the token cache key use this one rule.
 *
 * @example
 * ```ts
 * import { sharedFilePaths } from './shared-files.js';
 * sharedFilePaths({ AWS_CONFIG_FILE: '/etc/aws/config' }).configFile; // '/etc/aws/config'
 * ```
 */
export function sharedFilePaths(env: NodeJS.ProcessEnv): SharedFilePaths {
  return {
    configFile: nonEmpty(env.AWS_CONFIG_FILE) ?? join(homeDirectory(env), '.aws', 'config'),
    credentialsFile: nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(homeDirectory(env), '.aws', 'credentials'),
  };
}

/**
 * The home directory of `env`: HOME, else the system's idea of it (USERPROFILE on Windows, the password database).
 * The same rule as os.homedir(), but for the environment given, and without a system call when HOME is set.
 *
 * @example
 * ```ts
 * import { homeDirectory } from './shared-files.js';
 * homeDirectory({ HOME: '/home/me' }); // '/home/me'
 * ```
 */
export function homeDirectory(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
