/**
 * Hostile clients for the eksauth server's listeners, and the server process's footprint: connections that connect
 * and stay silent (TCP, or TLS after the handshake), slowloris senders that trickle a request, and the resident set
 * size and file descriptors of a server process read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { EKSAUTH_CLI } from '../support/eksauth.js';
import { cleanEnv } from '../support/tools.js';
import { eventually } from './helpers.js';

/** Connections a flood opened, and how many of them the server has closed so far. */
export interface Flood {
  sockets: net.Socket[];
  closed(): number;
  destroy(): void;
}

/** At most this many connects outstanding at once, so the listen backlog (511) never overflows into retries. */
const CONNECT_BATCH = 200;

/**
 * Opens `count` connections that never send a request: plain TCP, or (with `ca`) TLS left idle after the handshake.
 * Resolves once each is connected, or already closed by the server.
 */
export async function idleFlood(port: number, count: number, ca?: string): Promise<Flood> {
  return flood(count, () => (ca === undefined
    ? net.connect(port, '127.0.0.1')
    : tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', checkServerIdentity: () => undefined })));
}

/**
 * Opens `count` connections that send a request's headers one byte every `everyMs`, never finishing them.
 * With `ca`, over TLS.
 */
export async function slowlorisFlood(port: number, count: number, everyMs: number, ca?: string): Promise<Flood> {
  const headers = `POST /authenticate HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Slow: a\r\n'.repeat(10_000)}`;
  const timers: NodeJS.Timeout[] = [];
  const result = await idleFlood(port, count, ca);
  for (const socket of result.sockets) {
    let sent = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || !socket.writable) clearInterval(timer);
      else socket.write(headers[sent++ % headers.length] ?? '');
    }, everyMs);
    timers.push(timer);
  }
  return { ...result, destroy: () => { timers.forEach(clearInterval); result.destroy(); } };
}

async function flood(count: number, connect: () => net.Socket): Promise<Flood> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  for (let start = 0; start < count; start += CONNECT_BATCH) {
    await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, count - start) }, () => new Promise<void>((resolve) => {
      const socket = connect();
      sockets.push(socket);
      socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => resolve());
      socket.once('close', () => { closed += 1; resolve(); });
      socket.on('error', () => undefined);
    })));
  }
  return { sockets, closed: () => closed, destroy: () => sockets.forEach((socket) => socket.destroy()) };
}

/** Resident set size (MiB) and open file descriptors of a process, from /proc. */
export function footprint(pid: number): { rssMiB: number; fds: number } {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
  return { rssMiB: Number(kib) / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Samples `footprint(pid)` until stopped; `peak()` is the largest RSS and fd count seen. */
export function watchFootprint(pid: number, everyMs = 50): { peak(): { rssMiB: number; fds: number }; stop(): void } {
  const peak = footprint(pid);
  const timer = setInterval(() => {
    if (!existsSync(`/proc/${pid}`)) return; // the process died: the test fails on its answers
    const now = footprint(pid);
    peak.rssMiB = Math.max(peak.rssMiB, now.rssMiB);
    peak.fds = Math.max(peak.fds, now.fds);
  }, everyMs);
  return { peak: () => ({ ...peak }), stop: () => clearInterval(timer) };
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `eksauth server ARGS` in its own process (its memory and descriptors are what is measured) with the NODE_OPTIONS
 * of deploy/Dockerfile, as deployed, and optionally a lower open-files limit; resolves once it listens.
 */
export async function startServerProcess(args: string[], options: { maxOpenFiles?: number } = {}): Promise<ServerProcess> {
  const nodeOptions = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8'))?.[1] ?? '';
  const node = [process.execPath, EKSAUTH_CLI, 'server', ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const limit = options.maxOpenFiles === undefined ? '' : `ulimit -n ${options.maxOpenFiles} && `;
  // exec: the shell becomes the server, so the pid is the server's.
  const child = spawn('sh', ['-c', `${limit}exec ${node}`], { env: cleanEnv({ NODE_OPTIONS: nodeOptions }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await eventually(() => output.includes('eksauth server listening') || child.exitCode !== null, 'the server to listen');
  if (child.exitCode !== null) throw new Error(`eksauth server exited ${child.exitCode}: ${output}`);
  return {
    child,
    pid: child.pid ?? 0,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
