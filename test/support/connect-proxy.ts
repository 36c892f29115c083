/**
 * Network stand-ins for the proxy tests, each a process of its own on 127.0.0.1: a logging CONNECT proxy (the npm
 * `proxy` package, test/support/connect-proxy.mjs) and a blackhole port whose connections never complete.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY. */
  url: string;
  /** What the proxy was asked to carry so far: `CONNECT host:port` lines, in order. */
  log(): string[];
  /** Forgets the lines logged so far. */
  clear(): void;
  close(): Promise<void>;
}

const PROXY_SCRIPT = fileURLToPath(new URL('./connect-proxy.mjs', import.meta.url));

/** Spawns the proxy and resolves once it listens; with `auth` (`user:password`), it answers 407 to anyone else. */
export async function startConnectProxy(options: { auth?: string } = {}): Promise<ConnectProxy> {
  const args = options.auth === undefined ? [] : ['--auth', options.auth];
  const child = spawn(process.execPath, [PROXY_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let lines: string[] = [];
  const port = await firstLine(child, /^listening (\d+)$/, (line) => lines.push(line));
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => [...lines],
    clear: () => {
      lines = [];
    },
    close: () => stop(child),
  };
}

export interface Blackhole {
  port: number;
  close(): Promise<void>;
}

// A listening socket with a backlog of 0 that never accepts, its queue filled at once: Linux then drops further SYNs,
// so a connection to the port hangs in SYN_SENT as one to a firewalled host does. Python, because Node accepts
// every connection itself.
const BLACKHOLE = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    fillers.append(c)
time.sleep(0.3)
print('listening %d' % port, flush=True)
sys.stdin.read()
`;

/** Spawns the blackhole (python3) and resolves with its port; it ends when closed or when the test process ends. */
export async function startBlackhole(): Promise<Blackhole> {
  const child = spawn('python3', ['-c', BLACKHOLE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await firstLine(child, /^listening (\d+)$/, () => undefined);
  return { port: Number(port), close: () => stop(child) };
}

function firstLine(child: ChildProcess, ready: RegExp, onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let started = false;
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!started) reject(new Error(`the helper exited (${code}) before it listened`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = ready.exec(line);
        if (!started && match) {
          started = true;
          resolve(match[1] ?? '');
        } else {
          onLine(line);
        }
      }
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
