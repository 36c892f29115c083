/**
 * Helpers for eksauth server tests: tokens minted in-process for the demo identities, TokenReview requests over real
 * HTTPS, a log sink that keeps every line the server writes, and the CLI server in a process of its own.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { resolveStsEndpoint } from '../../src/aws/sts-endpoint.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorIdentity } from '../../src/emulator/config.js';
import { encodeToken } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { EKSAUTH_CLI } from '../support/eksauth.js';
import { cleanEnv } from '../support/tools.js';

export const [ALICE, BOB] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity, EmulatorIdentity];
export const REGION = 'eu-west-1';

/** A `k8s-aws-v1.` token for `who`, signed now (or at `signedAt`) for `clusterId`. */
export async function mintToken(who: EmulatorIdentity, clusterId: string, signedAt?: Date): Promise<string> {
  const url = await presignGetCallerIdentity({
    credentials: {
      accessKeyId: who.accessKeyId,
      secretAccessKey: who.secretAccessKey,
      ...(who.sessionToken === undefined ? {} : { sessionToken: who.sessionToken }),
    },
    clusterId,
    endpoint: resolveStsEndpoint({ region: REGION }),
    ...(signedAt === undefined ? {} : { signingDate: signedAt }),
  });
  return encodeToken(url);
}

/**
 * Mints tokens that are all different (each signed a second further back), so that none is answered from the
 * verification cache.
 */
export function distinctTokens(who: EmulatorIdentity, clusterId: string): (count: number) => Promise<string[]> {
  const start = Date.now();
  let signedSecondsAgo = 0;
  return (count) => Promise.all(Array.from({ length: count }, () => mintToken(who, clusterId, new Date(start - 1000 * ++signedSecondsAgo))));
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface RequestOptions {
  method?: string;
  body?: string;
  caPem?: string;
  headers?: Record<string, string>;
  /** Fail when no complete answer arrives within this; default 30 s. */
  timeoutMs?: number;
}

/** One HTTPS request trusting `caPem` (or plain HTTP for http:// URLs), with its own connection. */
export function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const transport = url.startsWith('https:') ? https : http;
    const req = transport.request(url, {
      method: options.method ?? 'GET',
      agent: false,
      ...(options.caPem === undefined ? {} : { ca: options.caPem }),
      headers: { 'Content-Type': 'application/json', ...options.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url} within the client's timeout`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface ReviewAnswer {
  status: number;
  body: {
    apiVersion?: string;
    kind?: string;
    spec?: Record<string, unknown>;
    status?: { authenticated?: boolean; error?: string; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
    message?: string;
  };
}

/** POSTs a TokenReview for `token` to the server's webhook URL, as kube-apiserver does. */
export async function review(
  server: { url: string; caPem: string },
  token: string,
  version: 'v1' | 'v1beta1' = 'v1',
  timeoutMs?: number,
): Promise<ReviewAnswer> {
  const body = JSON.stringify({ apiVersion: `authentication.k8s.io/${version}`, kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: { token } });
  const answer = await request(server.url, { method: 'POST', body, caPem: server.caPem, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  return { status: answer.status, body: answer.json as ReviewAnswer['body'] };
}

/** A log destination for startServer that keeps the lines. */
export function logSink(): { write(line: string): void; lines(): string[]; entries(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    write: (line) => {
      lines.push(...line.split('\n').filter((l) => l !== ''));
    },
    lines: () => [...lines],
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Polls `check` until it returns true (checking state, not timing). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}


/** `eksauth server` (the built CLI) running in its own process, with its stdout and stderr collected. */
export interface ServerProcess {
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): void;
}

/** Spawns `eksauth server ARGS` in the clean test environment plus `env`. */
export function spawnServer(args: string[], env: Record<string, string | undefined> = {}): ServerProcess {
  const child = spawn(process.execPath, [EKSAUTH_CLI, 'server', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  return {
    output: () => output,
    exited: new Promise((resolve) => child.once('exit', resolve)),
    stop: () => child.kill('SIGTERM'),
  };
}
