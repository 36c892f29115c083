/**
 * Running real tools (kubectl, aws, the eksauth CLI) from tests in a clean, offline-safe environment.
 *
 * Children never see the developer's AWS or Kubernetes configuration: HOME is a temp dir, the AWS config and
 * credentials files are empty temp files, and IMDS is always disabled so nothing ever reaches 169.254.169.254.
 * Every directory made here (and children's own TMPDIR, inside the sandbox) is removed after each test file by
 * test/support/cleanup.ts.
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
  /** Kill the child after this long; default 60 000 ms (below the 90 s test timeout, so the test sees its output). */
  timeoutMs?: number;
}

/** Variables worth keeping from the parent: how to find tools (PATH, pyenv for `aws`) and locale. */
const PASSTHROUGH = ['PATH', 'LANG', 'LC_ALL', 'PYENV_ROOT', 'PYENV_VERSION', 'SYSTEMROOT'];

interface Sandbox {
  root: string;
  home: string;
  /** TMPDIR for children: whatever they leave in it goes with the sandbox. */
  tmp: string;
  awsConfigFile: string;
  awsCredentialsFile: string;
}

let sandbox: Sandbox | undefined;
const dirsToRemove = new Set<string>();

/**
 * Removes every directory {@link tempDir} made and the sandbox, and returns how many it removed. Run after each test
 * file (test/support/cleanup.ts); a process `exit` hook is not enough, since vitest ends its workers without one.
 *
 * @example afterAll(removeTempDirs)
 */
export function removeTempDirs(): number {
  const count = dirsToRemove.size;
  const failures: unknown[] = [];
  for (const dir of dirsToRemove) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      failures.push(err); // try the others, then report: a leak should fail loudly, not pile up in /tmp
    }
  }
  dirsToRemove.clear();
  sandbox = undefined;
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} temp dirs could not be removed`);
  return count;
}

/** One sandbox per test file, created on first use and removed with the other temp dirs. */
function getSandbox(): Sandbox {
  if (sandbox) return sandbox;
  const root = tempDir('eksauth-test-env-');
  const home = join(root, 'home');
  mkdirSync(home);
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const awsConfigFile = join(root, 'aws-config');
  const awsCredentialsFile = join(root, 'aws-credentials');
  writeFileSync(awsConfigFile, '');
  writeFileSync(awsCredentialsFile, '');
  sandbox = { root, home, tmp, awsConfigFile, awsCredentialsFile };
  return sandbox;
}

/** A fresh temp directory, removed after the test file (see {@link removeTempDirs}). */
export function tempDir(prefix = 'eksauth-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirsToRemove.add(dir);
  return dir;
}

/**
 * The environment children run with: PATH and a few locale/tool variables from the parent, HOME in a temp dir,
 * empty AWS config and credentials files, IMDS disabled, then `overrides`.
 *
 * @example cleanEnv({ AWS_ACCESS_KEY_ID: 'EKSAUTHDEMOALICE0001', AWS_SECRET_ACCESS_KEY: '…' })
 */
export function cleanEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const { home, tmp, awsConfigFile, awsCredentialsFile } = getSandbox();
  const env: Record<string, string | undefined> = {};
  for (const name of PASSTHROUGH) env[name] = process.env[name];
  Object.assign(env, {
    HOME: home,
    TMPDIR: tmp,
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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
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
