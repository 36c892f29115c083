/**
 * moto_server (an independent AWS emulator) as a child process on 127.0.0.1, for tests that check eksauth against
 * data the project did not write.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv, freePort, hasCommand } from './tools.js';

export interface Moto {
  url: string;
  stop(): Promise<void>;
}

export const HAS_MOTO = hasCommand('moto_server');

/**
 * Starts moto_server and waits until it answers.
 *
 * @example
 * const moto = await startMoto();
 * // aws eks create-cluster --endpoint-url ${moto.url} …
 * await moto.stop();
 */
export async function startMoto(timeoutMs = 60_000): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { env: cleanEnv(), stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/moto-api/`)).status < 500) return { url, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`moto_server did not answer on ${url} within ${timeoutMs} ms`);
}
