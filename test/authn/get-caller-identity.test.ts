/**
 * getCallerIdentity against tiny loopback servers that play a well-behaved or misbehaving STS.
 * The real signature check is covered by get-caller-identity.emulator.test.ts.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getCallerIdentity } from '../../src/authn/get-caller-identity.js';
import type { GetCallerIdentityOptions } from '../../src/authn/get-caller-identity.js';
import { EksAuthError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';
import { createSelfSignedCertificate } from '../../src/server/tls.js';
import { encodeToken } from '../../src/token/format.js';
import { freePort } from '../support/tools.js';

const STS_HOST = 'sts.us-east-1.amazonaws.com';
const SIGNATURE = '5e1f0c3b9a7d4e2f8c6b1a0d9e8f7c6b5a4d3e2f1c0b9a8d7e6f5c4b3a2d1e0f';
const SESSION_TOKEN_DECODED = 'IQoJb3JpZ2luX2VjSESSIONTOKEN/+secret==';
const SESSION_TOKEN = encodeURIComponent(SESSION_TOKEN_DECODED);
const QUERY = [
  'Action=GetCallerIdentity',
  'Version=2011-06-15',
  'X-Amz-Algorithm=AWS4-HMAC-SHA256',
  'X-Amz-Credential=ASIAEXAMPLEKEY123456%2F20260101%2Fus-east-1%2Fsts%2Faws4_request',
  'X-Amz-Date=20260101T000000Z',
  'X-Amz-Expires=60',
  'X-Amz-SignedHeaders=host%3Bx-k8s-aws-id',
  `X-Amz-Security-Token=${SESSION_TOKEN}`,
  `X-Amz-Signature=${SIGNATURE}`,
].join('&');
const PRESIGNED = new URL(`https://${STS_HOST}/?${QUERY}`);
const TOKEN = encodeToken(PRESIGNED.href);
const SECRETS = [QUERY, SIGNATURE, SESSION_TOKEN, SESSION_TOKEN_DECODED, TOKEN, 'ASIAEXAMPLEKEY123456', 'X-Amz-'];

const IDENTITY_JSON = JSON.stringify({
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: {
      Arn: 'arn:aws:sts::111122223333:assumed-role/admin/alice',
      UserId: 'AROAEXAMPLEROLEID:alice',
      Account: '111122223333',
    },
    ResponseMetadata: { RequestId: '01234567-89ab-cdef-0123-456789abcdef' },
  },
});
const IDENTITY = {
  arn: 'arn:aws:sts::111122223333:assumed-role/admin/alice',
  userId: 'AROAEXAMPLEROLEID:alice',
  account: '111122223333',
};

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

interface Stub {
  endpoint: string;
  requests: SeenRequest[];
  connections: () => number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closeLater(server: net.Server & { closeAllConnections?: () => void }): void {
  cleanups.push(() => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  }));
  // Sockets a test left hanging on purpose must not keep close() waiting.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  cleanups.push(async () => sockets.forEach((socket) => socket.destroy()));
}

/** An HTTP server standing in for STS; `handler` decides how it (mis)behaves. */
async function startStub(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Stub> {
  const requests: SeenRequest[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', () => (connections += 1));
  closeLater(server);
  const port = await listen(server);
  return { endpoint: `http://127.0.0.1:${port}`, requests, connections: () => connections };
}

function reply(status: number, body: string, headers: http.OutgoingHttpHeaders = {}) {
  return (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body);
  };
}

function stsError(code: string, message: string): string {
  return JSON.stringify({ Error: { Code: code, Message: message, Type: 'Sender' }, RequestId: 'req-1' });
}

function call(stub: { endpoint: string }, options: Partial<GetCallerIdentityOptions> = {}, url: URL = PRESIGNED) {
  return getCallerIdentity(url, { clusterId: 'c1', stsEndpoint: stub.endpoint, ...options });
}

/** Awaits a failure, checks its code and that the message gives nothing of the token away. */
async function expectFailure(promise: Promise<unknown>, code: ErrorCode): Promise<EksAuthError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EksAuthError);
  const error = err as EksAuthError;
  expect(error.code, error.message).toBe(code);
  for (const secret of SECRETS) expect(error.message).not.toContain(secret);
  return error;
}

describe('getCallerIdentity: the request it sends', () => {
  it('returns the identity from a well-formed STS answer', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expect(call(stub)).resolves.toEqual(IDENTITY);
  });

  it('sends GET /?<query> with only Host (the STS host), x-k8s-aws-id and Accept', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await call(stub, { clusterId: 'prod-cluster' });
    expect(stub.requests).toHaveLength(1);
    const [seen] = stub.requests;
    expect(seen?.method).toBe('GET');
    expect(seen?.url).toBe(`/?${QUERY}`);
    expect(seen?.headers).toMatchObject({ host: STS_HOST, 'x-k8s-aws-id': 'prod-cluster', accept: 'application/json' });
    // Node adds only its connection-management header.
    expect(Object.keys(seen?.headers ?? {}).sort()).toEqual(['accept', 'connection', 'host', 'x-k8s-aws-id']);
  });

  it('rebuilds the request: userinfo, port, path and fragment of the URL are never sent', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    const crafted = new URL(`https://evil:pw@${STS_HOST}:8443/other/path?${QUERY}#frag`);
    await expect(call(stub, {}, crafted)).resolves.toEqual(IDENTITY);
    expect(stub.requests[0]?.url).toBe(`/?${QUERY}`);
    expect(stub.requests[0]?.headers.host).toBe(STS_HOST);
    expect(stub.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('reuses a kept-alive connection for the next call', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await call(stub);
    await call(stub);
    expect(stub.requests).toHaveLength(2);
    expect(stub.connections()).toBe(1);
  });

  it('retries once on a fresh connection when a kept-alive one turns out to be closed', async () => {
    const perSocket = new WeakMap<net.Socket, number>();
    const stub = await startStub((req, res) => {
      const count = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, count);
      if (count > 1) req.socket.destroy(); // as a server whose idle timeout just fired
      else reply(200, IDENTITY_JSON)(req, res);
    });
    await call(stub);
    await expect(call(stub)).resolves.toEqual(IDENTITY);
    expect(stub.connections()).toBe(2);
  });

  it('speaks TLS to an https endpoint, verifying the endpoint name while sending the STS Host', async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'fake-sts', ipAddresses: ['127.0.0.1'] });
    const seen: http.IncomingHttpHeaders[] = [];
    const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
      seen.push(req.headers);
      reply(200, IDENTITY_JSON)(req, res);
    });
    closeLater(server);
    const endpoint = `https://127.0.0.1:${await listen(server)}`;
    const agent = new https.Agent({ ca: certPem });
    cleanups.push(async () => agent.destroy());
    await expect(call({ endpoint }, { agent })).resolves.toEqual(IDENTITY);
    expect(seen[0]?.host).toBe(STS_HOST);
    const untrusted = await expectFailure(call({ endpoint }), 'ERR_TLS');
    expect(untrusted.message).toMatch(/TLS certificate was not accepted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  });
});

describe('getCallerIdentity: STS errors', () => {
  it.each([
    [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'],
    [403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'],
    [400, 'ExpiredToken', 'The security token included in the request is expired'],
    [403, 'AccessDenied', 'Access denied'],
  ])('HTTP %i %s is ERR_STS_REJECTED with STS code and message', async (status, code, message) => {
    const stub = await startStub(reply(status, stsError(code, message)));
    const err = await expectFailure(call(stub), 'ERR_STS_REJECTED');
    expect(err.message).toContain(`HTTP ${status}, ${code}: ${message}`);
    expect(err.message).toContain(STS_HOST);
    expect(err.message).toContain(stub.endpoint);
    expect(err.message).toContain('"c1"');
  });

  it('reads the XML ErrorResponse too', async () => {
    const xml = '<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>'
      + '<Message>Signature &amp; date mismatch</Message></Error><RequestId>r</RequestId></ErrorResponse>';
    const stub = await startStub(reply(403, xml, { 'Content-Type': 'text/xml' }));
    const err = await expectFailure(call(stub), 'ERR_STS_REJECTED');
    expect(err.message).toContain('SignatureDoesNotMatch: Signature & date mismatch');
  });

  it('is ERR_STS_REJECTED for a 4xx without an STS error body', async () => {
    const stub = await startStub(reply(401, ''));
    const err = await expectFailure(call(stub), 'ERR_STS_REJECTED');
    expect(err.message).toContain('HTTP 401, no STS error code');
  });

  it.each([
    ['HTTP 400 Throttling', 400, stsError('Throttling', 'Rate exceeded')],
    ['HTTP 429', 429, ''],
    ['HTTP 503 with a throttling code', 503, stsError('RequestLimitExceeded', 'slow down')],
    // aws-iam-authenticator's TestVerifyHTTPThrottling body: the JSON with its quotes backslash-escaped.
    ['HTTP 400 Throttling, quotes escaped', 400, stsError('Throttling', 'Rate exceeded').replaceAll('"', '\\"')],
    ['HTTP 400 Throttling, as a JSON string', 400, JSON.stringify(stsError('Throttling', 'Rate exceeded'))],
  ])('%s is ERR_STS_THROTTLED', async (_name, status, body) => {
    const stub = await startStub(reply(status, body));
    const err = await expectFailure(call(stub), 'ERR_STS_THROTTLED');
    expect(err.message).toMatch(/Retry after a short back-off/);
  });

  it.each([500, 502, 503])('HTTP %i is ERR_STS_UNAVAILABLE', async (status) => {
    const stub = await startStub(reply(status, stsError('InternalFailure', 'internal error')));
    const err = await expectFailure(call(stub), 'ERR_STS_UNAVAILABLE');
    expect(err.message).toContain(`HTTP ${status}, InternalFailure`);
  });

  it('redacts any part of the request that an STS message echoes back', async () => {
    const echo = `bad signature ${SIGNATURE} for token ${SESSION_TOKEN_DECODED} in ${QUERY}`;
    const stub = await startStub(reply(403, stsError('SignatureDoesNotMatch', echo)));
    const err = await expectFailure(call(stub), 'ERR_STS_REJECTED');
    expect(err.message).toContain('[redacted]');
  });

  it('ignores an STS error code that is not a plain identifier', async () => {
    const stub = await startStub(reply(403, stsError('<script>', 'x')));
    const err = await expectFailure(call(stub), 'ERR_STS_REJECTED');
    expect(err.message).toContain('no STS error code');
    expect(err.message).not.toContain('<script>');
  });
});

describe('getCallerIdentity: responses that are not the expected answer', () => {
  it('never follows a redirect', async () => {
    const elsewhere = await startStub(reply(200, IDENTITY_JSON));
    const stub = await startStub(reply(302, '', { Location: `${elsewhere.endpoint}/?${QUERY}` }));
    const err = await expectFailure(call(stub), 'ERR_STS_RESPONSE');
    expect(err.message).toMatch(/redirect \(HTTP 302\), which is never followed/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a 2xx other than 200', async () => {
    const stub = await startStub(reply(204, ''));
    await expectFailure(call(stub), 'ERR_STS_RESPONSE');
  });

  const wrap = (result: unknown, metadata: unknown = { RequestId: 'r' }) =>
    JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: result, ResponseMetadata: metadata } });
  const goodResult = { Arn: IDENTITY.arn, UserId: IDENTITY.userId, Account: IDENTITY.account };

  it.each([
    ['not JSON', 'garbage'],
    ['XML', '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>'],
    ['JSON with trailing data', `${IDENTITY_JSON}{}`],
    ['an empty object', '{}'],
    ['null', 'null'],
    ['an array', `[${IDENTITY_JSON}]`],
    ['another top-level key', JSON.stringify({ ...JSON.parse(IDENTITY_JSON), Extra: 1 })],
    ['another action', JSON.stringify({ AssumeRoleResponse: JSON.parse(IDENTITY_JSON).GetCallerIdentityResponse })],
    ['no ResponseMetadata', JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: goodResult } })],
    ['ResponseMetadata not an object', wrap(goodResult, 'r')],
    ['an extra field in the result', wrap({ ...goodResult, Extra: 'x' })],
    ['a missing field', wrap({ Arn: IDENTITY.arn, UserId: IDENTITY.userId })],
    ['lower-case field names', wrap({ arn: IDENTITY.arn, userId: IDENTITY.userId, account: IDENTITY.account })],
    ['an empty Arn', wrap({ ...goodResult, Arn: '' })],
    ['a numeric Account', wrap({ ...goodResult, Account: 111122223333 })],
    ['a null UserId', wrap({ ...goodResult, UserId: null })],
  ])('refuses a 200 whose body is %s', async (_name, body) => {
    const stub = await startStub(reply(200, body));
    await expectFailure(call(stub), 'ERR_STS_RESPONSE');
  });

  it('refuses invalid UTF-8', async () => {
    const stub = await startStub((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.concat([Buffer.from(IDENTITY_JSON.slice(0, -3)), Buffer.from([0xff, 0xfe]), Buffer.from('}}}')]));
    });
    await expectFailure(call(stub), 'ERR_STS_RESPONSE');
  });

  it('refuses a compressed body it did not ask for', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON, { 'Content-Encoding': 'gzip' }));
    await expectFailure(call(stub), 'ERR_STS_RESPONSE');
  });

  it('refuses something that is not HTTP at all', async () => {
    const server = net.createServer((socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'));
    closeLater(server);
    const endpoint = `http://127.0.0.1:${await listen(server)}`;
    await expectFailure(call({ endpoint }), 'ERR_STS_RESPONSE');
  });
});

describe('getCallerIdentity: size cap', () => {
  it('refuses a body whose declared length is over the cap without reading it', async () => {
    const body = 'x'.repeat(64 * 1024 + 1);
    const stub = await startStub(reply(200, body, { 'Content-Length': String(body.length) }));
    const err = await expectFailure(call(stub), 'ERR_STS_RESPONSE');
    expect(err.message).toContain('65537 bytes, more than the 65536-byte limit');
  });

  it('stops reading a streamed body once it passes the cap', async () => {
    const stub = await startStub((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }); // chunked: no length up front
      const chunk = 'x'.repeat(16 * 1024);
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    const err = await expectFailure(call(stub), 'ERR_STS_RESPONSE');
    expect(err.message).toContain('larger than the 65536-byte limit');
  });

  it('applies maxResponseBytes to error bodies too', async () => {
    const stub = await startStub(reply(403, stsError('AccessDenied', 'y'.repeat(500))));
    await expectFailure(call(stub, { maxResponseBytes: 100 }), 'ERR_STS_RESPONSE');
  });

  it('honours a custom maxResponseBytes for a valid answer', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expectFailure(call(stub, { maxResponseBytes: 100 }), 'ERR_STS_RESPONSE');
    await expect(call(stub, { maxResponseBytes: IDENTITY_JSON.length })).resolves.toEqual(IDENTITY);
  });
});

describe('getCallerIdentity: unreachable or slow STS', () => {
  it('is ERR_STS_UNAVAILABLE when the connection is refused', async () => {
    const err = await expectFailure(call({ endpoint: `http://127.0.0.1:${await freePort()}` }), 'ERR_STS_UNAVAILABLE');
    expect(err.message).toContain(`Could not get an answer from STS at ${STS_HOST} (via http://127.0.0.1:`);
    expect(err.message).toContain('connection refused');
  });

  it('is ERR_STS_UNAVAILABLE when STS never answers', async () => {
    const stub = await startStub(() => undefined);
    const err = await expectFailure(call(stub, { timeoutMs: 150 }), 'ERR_STS_UNAVAILABLE');
    expect(err.message).toMatch(/no answer within/);
  });

  it('is ERR_STS_UNAVAILABLE when the answer stalls half way', async () => {
    const stub = await startStub((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(IDENTITY_JSON.slice(0, 20));
    });
    await expectFailure(call(stub, { timeoutMs: 150 }), 'ERR_STS_UNAVAILABLE');
  });

  it('is ERR_STS_UNAVAILABLE when the connection closes mid-answer', async () => {
    const stub = await startStub((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(IDENTITY_JSON.length) });
      res.write(IDENTITY_JSON.slice(0, 20), () => req.socket.destroy());
    });
    await expectFailure(call(stub), 'ERR_STS_UNAVAILABLE');
  });

  it('is ERR_STS_UNAVAILABLE when the TLS handshake never completes (connect deadline)', async () => {
    const server = net.createServer(() => undefined); // accepts TCP, never speaks TLS
    closeLater(server);
    const endpoint = `https://127.0.0.1:${await listen(server)}`;
    const err = await expectFailure(call({ endpoint }, { connectTimeoutMs: 100, timeoutMs: 5_000 }), 'ERR_STS_UNAVAILABLE');
    expect(err.message).toMatch(/could not connect within/);
  });

  it('is ERR_STS_UNAVAILABLE when the server drops a fresh connection', async () => {
    const server = net.createServer((socket) => socket.destroy());
    closeLater(server);
    const endpoint = `http://127.0.0.1:${await listen(server)}`;
    await expectFailure(call({ endpoint }), 'ERR_STS_UNAVAILABLE');
  });
});

describe('getCallerIdentity: options', () => {
  it.each([
    ['a path', 'http://127.0.0.1:4566/sts'],
    ['a query', 'http://127.0.0.1:4566/?x=1'],
    ['credentials', 'http://user:pw@127.0.0.1:4566'],
    ['another scheme', 'ftp://127.0.0.1:4566'],
    ['no URL at all', 'localhost:4566:x'],
  ])('refuses an stsEndpoint with %s', async (_name, endpoint) => {
    await expectFailure(call({ endpoint }), 'ERR_INVALID_CONFIG');
  });

  it('accepts an stsEndpoint with a trailing slash', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expect(call({ endpoint: `${stub.endpoint}/` })).resolves.toEqual(IDENTITY);
  });

  it('needs a cluster id, without control characters', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expectFailure(call(stub, { clusterId: '' }), 'ERR_NO_CLUSTER');
    await expectFailure(call(stub, { clusterId: 'c1\r\nX-Injected: 1' }), 'ERR_USAGE');
    expect(stub.requests).toHaveLength(0);
  });

  it('refuses an agent that does not match the endpoint protocol', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expectFailure(call(stub, { agent: new https.Agent() }), 'ERR_USAGE');
  });

  it('refuses a URL without a query', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expectFailure(call(stub, {}, new URL(`https://${STS_HOST}/`)), 'ERR_USAGE');
  });

  it('refuses nonsensical limits', async () => {
    const stub = await startStub(reply(200, IDENTITY_JSON));
    await expectFailure(call(stub, { timeoutMs: 0 }), 'ERR_USAGE');
    await expectFailure(call(stub, { maxResponseBytes: Number.NaN }), 'ERR_USAGE');
  });
});
