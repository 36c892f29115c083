import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { EKSAUTH_CLI } from './eksauth.js';
import { cleanEnv, type CommandResult } from './tools.js';

export interface BoundedResult extends CommandResult {
  /** Wall time until the child exited or was killed. */
  ms: number;
  /** The child's peak resident set (VmHWM), in MiB, as last seen. */
  peakMiB: number;
  /** Why the child was killed: it ran past `timeoutMs`, or grew past `killAboveMiB`. */
  killedFor?: 'time' | 'memory';
}

export interface BoundedOptions {
  env?: Record<string, string | undefined>;
  /** Kill the child after this long; default 45 000 ms (a busy 2-core machine; the callers bound the time they accept). */
  timeoutMs?: number;
  /** Kill the child once its resident set passes this; default 1 024 MiB, to keep a runaway from the machine. */
  killAboveMiB?: number;
}

/**
 * Runs `eksauth ARGS` like runEksauth, watching it: its peak resident set is read from /proc every 10 ms, and it is
 * killed when it runs too long or grows too large (a hang on a FIFO, a read of /dev/zero), which the result says.
 */
export function runEksauthBounded(args: string[], options: BoundedOptions = {}): Promise<BoundedResult> {
  return startEksauthBounded(args, options).result;
}

/** {@link runEksauthBounded}, with the child process, for tests that signal it. */
export function startEksauthBounded(args: string[], options: BoundedOptions = {}): { child: ChildProcess; result: Promise<BoundedResult> } {
  const started = Date.now();
  const child = spawn(process.execPath, [EKSAUTH_CLI, ...args], { env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let peakMiB = 0;
  let killedFor: BoundedResult['killedFor'];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const watch = setInterval(() => {
    peakMiB = Math.max(peakMiB, peakResidentMiB(child.pid));
    if (peakMiB > (options.killAboveMiB ?? 1024)) killedFor = 'memory';
    else if (Date.now() - started > (options.timeoutMs ?? 45_000)) killedFor = 'time';
    if (killedFor !== undefined) child.kill('SIGKILL');
  }, 10);
  const result = new Promise<BoundedResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(watch);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, peakMiB, ...(killedFor === undefined ? {} : { killedFor }) });
    });
  });
  return { child, result };
}

function peakResidentMiB(pid: number | undefined): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0; // exited
  }
}
