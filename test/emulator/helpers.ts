/**
 * Test helpers for the STS emulator: raw HTTP to the emulator (so the Host header can name an STS endpoint while the
 * connection goes to 127.0.0.1) and SigV4 signing with @smithy/signature-v4, the signer the AWS SDK for JS uses.
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export const sha256 = Hash.bind(null, 'sha256');

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SendOptions {
  method?: string;
  /** Path and query as sent on the wire. */
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** One request to the emulator at `baseUrl` (always 127.0.0.1); a `host` header in `headers` replaces Node's own. */
export function send(baseUrl: string, options: SendOptions = {}): Promise<HttpResult> {
  const { port, hostname } = new URL(baseUrl);
  if (hostname !== '127.0.0.1') throw new Error(`tests only talk to 127.0.0.1, not ${hostname}`);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port: Number(port),
      method: options.method ?? 'GET',
      path: options.path ?? '/',
      headers: options.headers ?? {},
      agent: false,
      signal: options.signal,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

export function signer(credentials: Credentials, region: string, service = 'sts', applyChecksum = true): SignatureV4 {
  return new SignatureV4({ credentials, region, service, sha256, applyChecksum });
}

export interface PresignOptions {
  credentials: Credentials;
  region: string;
  /** STS host the URL is for, e.g. sts.us-west-2.amazonaws.com. */
  host: string;
  /** Value of the signed x-k8s-aws-id header; omit to leave the header out entirely. */
  clusterId?: string;
  date: Date;
  expiresIn?: number;
  action?: string;
}

export interface Presigned {
  /** `/?Action=…&X-Amz-Signature=…` */
  path: string;
  query: Record<string, string>;
  signature: string;
}

/** Presigns GetCallerIdentity the way EKS token generators do: x-k8s-aws-id signed, kept as a header. */
export async function presignGetCallerIdentity(options: PresignOptions): Promise<Presigned> {
  const headers: Record<string, string> = { host: options.host };
  if (options.clusterId !== undefined) headers['x-k8s-aws-id'] = options.clusterId;
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: options.host,
    path: '/',
    query: { Action: options.action ?? 'GetCallerIdentity', Version: '2011-06-15' },
    headers,
  });
  const presigned = await signer(options.credentials, options.region).presign(request, {
    expiresIn: options.expiresIn ?? 60,
    signingDate: options.date,
    unhoistableHeaders: new Set(['x-k8s-aws-id']),
  });
  const query = Object.fromEntries(Object.entries(presigned.query ?? {}).map(([key, value]) => [key, String(value)]));
  return { path: `/?${toQueryString(query)}`, query, signature: query['X-Amz-Signature'] ?? '' };
}

export function toQueryString(query: Record<string, string>): string {
  return Object.entries(query).map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

/** Replays a presigned request at the emulator as a verifier would: Host of the STS endpoint, our own cluster id. */
export function replay(baseUrl: string, presigned: { path: string }, host: string, clusterId: string | undefined, json = true): Promise<HttpResult> {
  const headers: Record<string, string> = { host };
  if (clusterId !== undefined) headers['x-k8s-aws-id'] = clusterId;
  if (json) headers.accept = 'application/json';
  return send(baseUrl, { path: presigned.path, headers });
}

export interface StsJsonError {
  Error: { Type: string; Code: string; Message: string };
  RequestId: string;
}

export function jsonError(result: HttpResult): StsJsonError['Error'] {
  return (JSON.parse(result.body) as StsJsonError).Error;
}

export interface CallerIdentityJson {
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: { Arn: string; UserId: string; Account: string };
    ResponseMetadata: { RequestId: string };
  };
}

export function jsonIdentity(result: HttpResult): CallerIdentityJson['GetCallerIdentityResponse']['GetCallerIdentityResult'] {
  if (result.status !== 200) throw new Error(`expected 200, got ${result.status}: ${result.body}`);
  return (JSON.parse(result.body) as CallerIdentityJson).GetCallerIdentityResponse.GetCallerIdentityResult;
}

/** Header-signs an STS query-protocol POST (form body), as the AWS CLI and SDKs send GetCallerIdentity and AssumeRole. */
export async function signedPost(
  baseUrl: string, credentials: Credentials, region: string, form: Record<string, string>, date = new Date(), signBodyHashHeader = true,
): Promise<{ headers: Record<string, string>; body: string }> {
  const host = new URL(baseUrl).host;
  const body = toQueryString(form);
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    path: '/',
    headers: { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  // With signBodyHashHeader false the body hash is only inside the signature, as botocore signs query-protocol calls.
  const signed = await signer(credentials, region, 'sts', signBodyHashHeader).sign(request, { signingDate: date });
  return { headers: signed.headers as Record<string, string>, body };
}
