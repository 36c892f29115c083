/**
 * HTTP plumbing shared by eksauth's servers (the webhook, the STS emulator, the test API server).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EksAuthError } from '../errors.js';

/**
 * The request body, or undefined as soon as it exceeds `limit` bytes (declared or streamed): the rest is not read,
 * so a caller answering 413 should also close the connection.
 *
 * @example
 * ```ts
 * const body = await readBody(req, 64 * 1024);
 * if (body === undefined) return sendJson(res, 413, failureStatus(413, 'RequestEntityTooLarge', 'body over 64 KiB'));
 * ```
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A `meta.k8s.io/v1` Status, the body Kubernetes sends with every error; client-go turns it into an error carrying
 * `message`.
 *
 * @example
 * ```ts
 * failureStatus(400, 'BadRequest', 'spec.token is missing'); // { kind: 'Status', code: 400, message: … }
 * ```
 */
export function failureStatus(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * Sends `body` as JSON, never cacheable, and returns the status (for request logs).
 *
 * @example
 * ```ts
 * sendJson(res, 400, failureStatus(400, 'BadRequest', 'spec.token is missing'));
 * ```
 */
export function sendJson(res: ServerResponse, status: number, body: object): number {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
  return status;
}

/**
 * Binds `server` and resolves with the port it got. A port that is taken or cannot be bound rejects with ERR_USAGE
 * naming the address and `flag`, the setting that chooses it: Node's bare EADDRINUSE names neither.
 *
 * @example
 * ```ts
 * const port = await listen(http.createServer(handler), { host: '127.0.0.1', port: 0, what: 'the emulator', flag: '--port' });
 * ```
 */
export function listen(server: Server, where: { host: string; port: number; what: string; flag: string }): Promise<number> {
  const { host, port, what, flag } = where;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new EksAuthError('ERR_USAGE', `The port of ${what} must be a whole number from 0 to 65535 (got ${String(port)}); check ${flag}.`));
  }
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      const reason = err.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${err.code ?? err.message})`;
      const address = `${bracketHost(host)}:${port}`;
      reject(new EksAuthError('ERR_USAGE', `The address of ${what}, ${address}, ${reason}; stop what holds it or choose another ${flag} (0 picks a free port).`, { cause: err }));
    };
    server.once('error', fail);
    server.listen(port, unbracketHost(host), () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * The host as a URL writes it: an IPv6 address in brackets, anything else as it is.
 *
 * @example
 * ```ts
 * bracketHost('::1'); // '[::1]'
 * bracketHost('[::1]'); // '[::1]'
 * bracketHost('127.0.0.1'); // '127.0.0.1'
 * ```
 */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The host as sockets and DNS take it: an IPv6 address without the brackets a URL puts around it.
 *
 * @example
 * ```ts
 * unbracketHost('[::1]'); // '::1'
 * unbracketHost('localhost'); // 'localhost'
 * ```
 */
export function unbracketHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}
