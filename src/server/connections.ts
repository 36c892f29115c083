/**
 * How long connections live and how many there may be, on the webhook and ops listeners, so that clients that
 * connect and do nothing (or trickle a request byte by byte) cannot exhaust memory or file descriptors, nor lock
 * kube-apiserver out.
 *
 * - A new connection must finish its TLS handshake and start a request within `idleTimeoutMs`; kube-apiserver
 *   sends its review at once, so only idlers are cut. Between requests the keep-alive timeout applies instead.
 * - The whole request (headers and body) must arrive within `readTimeoutMs` (slowloris).
 * - At most `maxConnections` are held. When full, a new connection closes the least recently used connection that is
 *   not waiting for its answer (idle, handshaking, or still sending its request): a flood only ever displaces
 *   itself, since kube-apiserver's connections are the ones in use. Only when every connection is waiting for an
 *   answer is the new one refused, and answers come within `reviewTimeout`.
 * - One request at a time per connection: a request pipelined behind one still being answered gets 429 and the
 *   connection closes (Go's client, kube-apiserver's, never pipelines). So reviews in flight, and the STS calls they
 *   make, never outnumber the connections.
 */
import type * as http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { failureStatus, sendJson } from '../lib/http.js';
import type { ListenerName, ServerMetrics } from './metrics.js';

export interface ConnectionLimits {
  maxConnections: number;
  idleTimeoutMs: number;
  readTimeoutMs: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Longer than the idle timeout of Go's HTTP client (90 s), so kube-apiserver never sends on a connection we are closing. */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;
/** How often Node checks the read timeout: a slow request is cut within this of `readTimeoutMs`. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

const CLIENT_ERROR_ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

interface Connection {
  /** The TCP socket (under TLS, the one the TLS socket wraps): destroying it closes the connection at any stage. */
  socket: Socket;
  /** The request being handled, from its headers until its answer is sent. */
  request?: IncomingMessage;
}

/**
 * Applies the timeouts and the cap to `server` (before it listens) and returns the request handler wrapper that
 * marks connections in use.
 *
 * @example
 * ```ts
 * const server = http.createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS });
 * const guard = guardConnections(server, 'ops', { maxConnections: 32, idleTimeoutMs: 5_000, readTimeoutMs: 10_000 }, metrics);
 * server.on('request', guard.track(handler));
 * ```
 */
export function guardConnections(server: http.Server, listener: ListenerName, limits: ConnectionLimits, metrics: ServerMetrics): ConnectionGuard {
  const guard = new ConnectionGuard(listener, limits.maxConnections, metrics);
  // Node applies `timeout` to every new connection (after the TLS handshake); a request clears it (track) and the
  // keep-alive timeout replaces it once the answer is out.
  server.timeout = limits.idleTimeoutMs;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = limits.readTimeoutMs;
  server.requestTimeout = limits.readTimeoutMs;
  server.on('connection', (socket: Socket) => guard.admit(socket));
  server.on('timeout', (socket: Socket) => {
    metrics.connectionClosed(listener, 'idle');
    socket.destroy();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') metrics.connectionClosed(listener, 'handshake_timeout');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(listener, metrics, err, socket));
  return guard;
}

/** What Node does without a `clientError` listener (a bare status, then close), plus counting read timeouts. */
function answerClientError(listener: ListenerName, metrics: ServerMetrics, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') metrics.connectionClosed(listener, 'read_timeout');
  if (socket.writable && socket.bytesWritten === 0) {
    socket.write(`HTTP/1.1 ${CLIENT_ERROR_ANSWERS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy();
}

/** The connections of one listener, least recently used first: admits, evicts or refuses, and marks those in use. */
export class ConnectionGuard {
  /** By `address:port`, least recently used first (a request moves its connection to the end). */
  private readonly open = new Map<string, Connection>();

  constructor(
    private readonly listener: ListenerName,
    private readonly maxConnections: number,
    private readonly metrics: ServerMetrics,
  ) {}

  /** Takes a new TCP connection: makes room by closing the least recently used idle one, or refuses it. */
  admit(socket: Socket): void {
    const key = keyOf(socket);
    if (key === undefined) return; // already closed by the peer
    if (this.open.size >= this.maxConnections && !this.evictOne()) {
      this.metrics.connectionClosed(this.listener, 'refused');
      socket.destroy();
      return;
    }
    this.open.set(key, { socket });
    this.report();
    socket.once('close', () => {
      if (this.open.get(key)?.socket !== socket) return;
      this.open.delete(key);
      this.report();
    });
  }

  /** Wraps the request handler: the connection is in use until the answer is sent, and no longer idle. */
  track(handler: Handler): Handler {
    return (req, res) => {
      req.socket.setTimeout(0);
      const key = keyOf(req.socket);
      const connection = key === undefined ? undefined : this.open.get(key);
      if (connection?.request !== undefined) {
        refusePipelined(res);
        return;
      }
      if (key !== undefined && connection !== undefined) {
        this.open.delete(key);
        this.open.set(key, connection);
        connection.request = req;
        res.once('close', () => {
          if (connection.request === req) delete connection.request;
        });
      }
      handler(req, res);
    };
  }

  /** Closes the least recently used connection that is not waiting for an answer; false when there is none. */
  private evictOne(): boolean {
    for (const [key, connection] of this.open) {
      if (connection.request?.complete === true) continue;
      this.open.delete(key);
      connection.socket.destroy();
      this.metrics.connectionClosed(this.listener, 'evicted');
      return true;
    }
    return false;
  }

  private report(): void {
    this.metrics.connections(this.listener, this.open.size);
  }
}

function refusePipelined(res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  sendJson(res, 429, failureStatus(429, 'TooManyRequests', 'one request at a time on a connection: wait for each answer before sending the next (pipelining is not served)'));
}

/** A live connection's peer `address:port`, the same for the TCP socket and the TLS socket over it. */
function keyOf(socket: Socket): string | undefined {
  return socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${String(socket.remotePort)}`;
}
