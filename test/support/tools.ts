/**
 * Running real tools (kubectl, aws, the eksauth CLI) from tests in a clean, offline-safe environment.
 *
 * Children never see the developer's AWS or Kubernetes configuration: HOME is a temp dir, the AWS config and
 * credentials files are empty temp files, and IMDS is always disabled so nothing ever reaches 169.254.169.254.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface CommandResult {
  /** Exit code; null when the process was killed by a signal (then see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Added to the clean environment; `undefined` removes a variable. `AWS_EC2_METADATA_DISABLED` stays `true`. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  cwd?: string;
  /** Kill the child after this long; default 30 000 ms. */
  timeoutMs?: number;
}

/** Variables worth keeping from the parent: how to find tools (PATH, pyenv for `aws`), temp dir and locale. */
const PASSTHROUGH = ['PATH', 'TMPDIR', 'LANG', 'LC_ALL', 'PYENV_ROOT', 'PYENV_VERSION', 'SYSTEMROOT'];

interface Sandbox {
  root: string;
  home: string;
  awsConfigFile: string;
  awsCredentialsFile: string;
}

let sandbox: Sandbox | undefined;
const dirsToRemove = new Set<string>();

/** One exit hook for all temp dirs (a hook per dir would trip Node's listener-leak warning). */
function removeOnExit(dir: string): void {
  if (dirsToRemove.size === 0) {
    process.once('exit', () => dirsToRemove.forEach((path) => rmSync(path, { recursive: true, force: true })));
  }
  dirsToRemove.add(dir);
}

/** One sandbox per test process, created on first use and removed when the process exits. */
function getSandbox(): Sandbox {
  if (sandbox) return sandbox;
  const root = mkdtempSync(join(tmpdir(), 'eksauth-test-env-'));
  const home = join(root, 'home');
  mkdirSync(home);
  const awsConfigFile = join(root, 'aws-config');
  const awsCredentialsFile = join(root, 'aws-credentials');
  writeFileSync(awsConfigFile, '');
  writeFileSync(awsCredentialsFile, '');
  removeOnExit(root);
  sandbox = { root, home, awsConfigFile, awsCredentialsFile };
  return sandbox;
}

/** A fresh temp directory, removed when the test process exits. */
export function tempDir(prefix = 'eksauth-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  removeOnExit(dir);
  return dir;
}

/**
 * The environment children run with: PATH and a few locale/tool variables from the parent, HOME in a temp dir,
 * empty AWS config and credentials files, IMDS disabled, then `overrides`.
 *
 * @example cleanEnv({ AWS_ACCESS_KEY_ID: 'EKSAUTHDEMOALICE0001', AWS_SECRET_ACCESS_KEY: '…' })
 */
export function cleanEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const { home, awsConfigFile, awsCredentialsFile } = getSandbox();
  const env: Record<string, string | undefined> = {};
  for (const name of PASSTHROUGH) env[name] = process.env[name];
  Object.assign(env, {
    HOME: home,
    AWS_CONFIG_FILE: awsConfigFile,
    AWS_SHARED_CREDENTIALS_FILE: awsCredentialsFile,
    AWS_PAGER: '',
  }, overrides, { AWS_EC2_METADATA_DISABLED: 'true' });
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** True when `name` is an executable on PATH. */
export function hasCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * Runs a command with {@link cleanEnv} and collects its output. Never rejects for a non-zero exit; it rejects only
 * when the command cannot be started.
 *
 * @example
 * const { code, stdout } = await runCommand('kubectl', ['--kubeconfig', path, 'get', '--raw', '/api']);
 */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: cleanEnv(options.env),
      cwd: options.cwd ?? getSandbox().home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined); // the child may exit without reading stdin
    child.stdin.end(options.input ?? '');
  });
}

/** A loopback port that was free a moment ago, for servers that must be told their port in advance. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
