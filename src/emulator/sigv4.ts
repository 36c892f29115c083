/**
 * SigV4 verification for the emulator: parse the signature a client sent (Authorization header or presigned query),
 * check its scope and age like AWS does, then recompute it with @smithy/signature-v4 from the request exactly as it
 * arrived and compare in constant time. No SigV4 arithmetic is written here; the signer every AWS SDK for JS uses
 * does it, so the emulator agrees with AWS wherever the SDK does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { QueryParam, ReceivedRequest } from './request.js';
import { headerValue } from './request.js';
import { incompleteSignature, signatureDoesNotMatch, StsError } from './sts-wire.js';

const sha256 = Hash.bind(null, 'sha256');
const ALGORITHM = 'AWS4-HMAC-SHA256';
/** STS honours a signature for 15 minutes after X-Amz-Date, presigned or not, whatever X-Amz-Expires says. */
const MAX_AGE_MS = 15 * 60_000;
/** How far ahead of our clock a client's X-Amz-Date may be. */
const MAX_SKEW_AHEAD_MS = 5 * 60_000;
/** SigV4's own limit for X-Amz-Expires (one week). */
const MAX_EXPIRES_SECONDS = 604_800;

/** The query parameters a presigner adds; they are rebuilt by presign() and therefore left out of its input. */
const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature',
  'X-Amz-Security-Token',
]);
/** Headers sign() adds from its own inputs; listed as unsignable when the client did not sign them. */
const SIGNER_ADDED_HEADERS = ['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

export interface CredentialScope {
  date: string;
  region: string;
  service: string;
  terminator: string;
}

/** What a request claims about its signature, before anything is verified. */
export interface ClaimedSignature {
  mode: 'presigned' | 'header';
  accessKeyId: string;
  scope: CredentialScope;
  /** X-Amz-Date as sent (`yyyyMMddTHHmmssZ`). */
  amzDate: string;
  signedAt: Date;
  /** Lower-case header names, in the order the client listed them. */
  signedHeaders: string[];
  signature: string;
  sessionToken?: string;
  /** X-Amz-Expires of a presigned request. */
  expiresIn?: number;
}

/** The secret (and session token, for temporary credentials) the access key id resolves to. */
export interface SigningSecret {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Reads the signature claim of a request.
 *
 * @throws StsError MissingAuthenticationToken (unsigned) or IncompleteSignature (malformed or partial)
 */
export function readSignature(request: ReceivedRequest): ClaimedSignature {
  const authorization = headerValue(request, 'authorization');
  const presigned = request.query.some(({ key }) => ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders'].includes(key));
  if (authorization !== undefined && presigned) {
    throw incompleteSignature('Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
  }
  if (presigned) return readQuerySignature(request.query);
  if (authorization !== undefined) return readHeaderSignature(authorization, request);
  throw new StsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
}

function readQuerySignature(query: QueryParam[]): ClaimedSignature {
  const get = (key: string): string | undefined => query.find((param) => param.key === key)?.value;
  const required = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Expires'];
  const missing = required.filter((key) => get(key) === undefined);
  if (missing.length > 0) {
    throw incompleteSignature(missing.map((key) => `AWS query-string parameters must include '${key}'.`).join(' ') + ' Re-examine the query-string parameters.');
  }
  requireAlgorithm(get('X-Amz-Algorithm')!);
  const claim = buildClaim('presigned', get('X-Amz-Credential')!, get('X-Amz-SignedHeaders')!, get('X-Amz-Signature')!, get('X-Amz-Date')!);
  claim.expiresIn = parseExpires(get('X-Amz-Expires')!);
  const token = get('X-Amz-Security-Token');
  if (token !== undefined) claim.sessionToken = token;
  return claim;
}

function readHeaderSignature(authorization: string, request: ReceivedRequest): ClaimedSignature {
  const space = authorization.indexOf(' ');
  requireAlgorithm(space < 0 ? authorization : authorization.slice(0, space));
  const fields = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const amzDate = headerValue(request, 'x-amz-date');
  const problems = ['Credential', 'Signature', 'SignedHeaders']
    .filter((name) => !fields.get(name))
    .map((name) => `Authorization header requires '${name}' parameter.`);
  if (amzDate === undefined) problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (problems.length > 0) throw incompleteSignature(problems.join(' '));
  const claim = buildClaim('header', fields.get('Credential')!, fields.get('SignedHeaders')!, fields.get('Signature')!, amzDate!);
  const token = headerValue(request, 'x-amz-security-token');
  if (token !== undefined) claim.sessionToken = token;
  return claim;
}

function requireAlgorithm(algorithm: string): void {
  if (algorithm !== ALGORITHM) throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm.slice(0, 40)}'; only ${ALGORITHM} is supported.`);
}

function buildClaim(mode: ClaimedSignature['mode'], credential: string, signedHeaders: string, signature: string, amzDate: string): ClaimedSignature {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw incompleteSignature(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential.slice(0, 200)}'`);
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  const headers = signedHeaders.split(';');
  if (!headers.includes('host')) {
    throw incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return {
    mode, accessKeyId, scope: { date, region, service, terminator }, amzDate, signedAt: parseAmzDate(amzDate),
    signedHeaders: headers, signature,
  };
}

function parseAmzDate(amzDate: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  const date = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
  if (date === undefined || Number.isNaN(date.getTime()) || compactDate(date) !== amzDate) {
    throw incompleteSignature(`X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'; got '${amzDate.slice(0, 40)}'.`);
  }
  return date;
}

function parseExpires(value: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) > MAX_EXPIRES_SECONDS) {
    throw incompleteSignature(`X-Amz-Expires must be a whole number of seconds from 0 to ${MAX_EXPIRES_SECONDS}; got '${value.slice(0, 20)}'.`);
  }
  return Number(value);
}

/** `yyyyMMddTHHmmssZ`, X-Amz-Date's format. */
export function compactDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Checks the credential scope the way AWS does: the date matches X-Amz-Date, the service and terminator are right,
 * and the region is the one the Host names when the Host is an STS endpoint. For any other Host (the emulator's own
 * loopback address) the scope's region is taken as given, since the client chose it.
 *
 * @throws StsError SignatureDoesNotMatch with AWS's wording for the first problem found
 */
export function checkScope(claim: ClaimedSignature, host: string | undefined, service: string): void {
  const { scope, amzDate } = claim;
  if (scope.date !== amzDate.slice(0, 8)) {
    throw signatureDoesNotMatch(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  if (scope.terminator !== 'aws4_request') {
    throw signatureDoesNotMatch(`Credential should be scoped with a valid terminator: 'aws4_request', not '${scope.terminator}'. `);
  }
  if (scope.service !== service) throw signatureDoesNotMatch(`Credential should be scoped to correct service: '${service}'. `);
  const endpoint = host === undefined ? undefined : stsEndpointOf(host);
  if (!/^[a-z0-9-]{1,50}$/.test(scope.region) || (endpoint !== undefined && endpoint.region !== scope.region)) {
    throw signatureDoesNotMatch(endpoint?.global
      ? `Credential should be scoped to a valid region, not '${scope.region}'. `
      : 'Credential should be scoped to a valid region. ');
  }
}

/**
 * The region an STS host name serves: `sts.amazonaws.com` is the global endpoint (us-east-1); regional, FIPS and
 * dual-stack names carry the region. Undefined for hosts that are not STS endpoints.
 */
export function stsEndpointOf(host: string): { region: string; global: boolean } | undefined {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  if (name === 'sts.amazonaws.com') return { region: 'us-east-1', global: true };
  const m = /^sts(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws|api\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/.exec(name);
  return m ? { region: m[1]!, global: false } : undefined;
}

/**
 * Refuses a signature made more than 15 minutes before `now` or more than 5 minutes after it, with STS's wording.
 *
 * @throws StsError SignatureDoesNotMatch
 */
export function checkAge(claim: ClaimedSignature, now: Date): void {
  const signed = claim.signedAt.getTime();
  if (signed < now.getTime() - MAX_AGE_MS) {
    throw signatureDoesNotMatch(`Signature expired: ${claim.amzDate} is now earlier than ${compactDate(new Date(now.getTime() - MAX_AGE_MS))} (${compactDate(now)} - 15 min.)`);
  }
  if (signed > now.getTime() + MAX_SKEW_AHEAD_MS) {
    throw signatureDoesNotMatch(`Signature not yet current: ${claim.amzDate} is still later than ${compactDate(new Date(now.getTime() + MAX_SKEW_AHEAD_MS))} (${compactDate(now)} + 5 min.)`);
  }
}

/**
 * Recomputes the signature from the request as received and compares it with the claimed one in constant time.
 *
 * @throws StsError SignatureDoesNotMatch
 */
export async function checkSignature(request: ReceivedRequest, claim: ClaimedSignature, secret: SigningSecret): Promise<void> {
  const expected = claim.mode === 'presigned'
    ? await presignedSignature(request, claim, secret)
    : await headerSignature(request, claim, secret);
  const sameHeaders = expected.signedHeaders === claim.signedHeaders.join(';');
  if (!sameHeaders || !constantTimeEqual(expected.signature, claim.signature)) throw signatureDoesNotMatch();
}

interface Computed {
  signature: string;
  signedHeaders: string;
}

function signerFor(claim: ClaimedSignature, secret: SigningSecret, applyChecksum: boolean): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: secret.accessKeyId, secretAccessKey: secret.secretAccessKey, sessionToken: secret.sessionToken },
    region: claim.scope.region,
    service: claim.scope.service,
    sha256,
    applyChecksum,
  });
}

/** The request as the client signed it: only the headers it named, with their received values (Host included). */
function unsignedCopy(request: ReceivedRequest, claim: ClaimedSignature, query: QueryParam[], body: Buffer | undefined): HttpRequest {
  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = headerValue(request, name);
    if (value !== undefined) headers[name] = value;
  }
  const host = headerValue(request, 'host') ?? '';
  return new HttpRequest({
    method: request.method,
    protocol: 'https:',
    hostname: host.replace(/:\d+$/, ''),
    path: request.rawPath,
    query: queryRecord(query),
    headers,
    body,
  });
}

/** Repeated keys become lists, which the signer sorts by value as SigV4 requires. */
function queryRecord(query: QueryParam[]): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const { key, value } of query) {
    const existing = record[key];
    record[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return record;
}

async function presignedSignature(request: ReceivedRequest, claim: ClaimedSignature, secret: SigningSecret): Promise<Computed> {
  const query = request.query.filter(({ key }) => !PRESIGN_PARAMS.has(key));
  const unsigned = unsignedCopy(request, claim, query, request.body.length > 0 ? request.body : undefined);
  const signed = new Set(claim.signedHeaders);
  // Signed headers stay headers (x-k8s-aws-id must never be hoisted into the URL), exactly as the client kept them.
  const presigned = await signerFor(claim, secret, false).presign(unsigned, {
    signingDate: claim.signedAt,
    expiresIn: claim.expiresIn ?? 0,
    unhoistableHeaders: signed,
    signableHeaders: signed,
  });
  return {
    signature: String(presigned.query?.['X-Amz-Signature'] ?? ''),
    signedHeaders: String(presigned.query?.['X-Amz-SignedHeaders'] ?? ''),
  };
}

async function headerSignature(request: ReceivedRequest, claim: ClaimedSignature, secret: SigningSecret): Promise<Computed> {
  const signed = new Set(claim.signedHeaders);
  checkContentHash(request, signed);
  const unsigned = unsignedCopy(request, claim, request.query, request.body);
  const result = await signerFor(claim, secret, signed.has('x-amz-content-sha256')).sign(unsigned, {
    signingDate: claim.signedAt,
    signableHeaders: signed,
    unsignableHeaders: new Set(SIGNER_ADDED_HEADERS.filter((name) => !signed.has(name))),
  });
  const authorization = String(result.headers.authorization ?? '');
  return {
    signature: /Signature=([0-9a-f]+)/.exec(authorization)?.[1] ?? '',
    signedHeaders: /SignedHeaders=([^,\s]+)/.exec(authorization)?.[1] ?? '',
  };
}

/**
 * A signed x-amz-content-sha256 replaces the body in the signature, so it must be the body's real hash;
 * otherwise a signature over one body would vouch for another.
 */
function checkContentHash(request: ReceivedRequest, signed: Set<string>): void {
  const claimed = headerValue(request, 'x-amz-content-sha256');
  if (claimed === undefined || !signed.has('x-amz-content-sha256')) return;
  const actual = createHash('sha256').update(request.body).digest('hex');
  if (claimed !== actual) {
    throw signatureDoesNotMatch("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
