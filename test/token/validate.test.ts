import { beforeAll, describe, expect, it } from 'vitest';
import { resolveStsEndpoint, type StsEndpoint } from '../../src/aws/sts-endpoint.js';
import { ERROR_CODES, EksAuthError, type ErrorCode } from '../../src/errors.js';
import { encodeToken, TOKEN_PREFIX } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { validateToken, type TokenValidationOptions } from '../../src/token/validate.js';
import { hasCommand, runCommand } from '../support/tools.js';

// Note what these tests cannot show: a token made for cluster A and presented to cluster B passes validateToken,
// because the cluster id is a signed header whose value is not in the URL. Only the STS call, made with the
// verifier's own x-k8s-aws-id, can tell them apart; that belongs to the verifier's tests.

const SIGNED_AT = new Date('2020-09-30T09:37:26Z');
const NOW = new Date('2020-09-30T09:39:26Z');
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
// Distinctive, with characters that need percent-encoding, so messages can be checked for leaks.
const SESSION_TOKEN = 'FwoGZXIvYXdzEMP//////////wEaDLuLD7I1gA6LW1mZcSKxAZWj+SESSIONSECRET=';
const ALL_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'];

function endpoint(hostname: string, signingRegion: string, partition = 'aws'): StsEndpoint {
  return { hostname, signingRegion, partition };
}

function presign(target: StsEndpoint, options: { sessionToken?: string; signingDate?: Date } = {}): Promise<string> {
  return presignGetCallerIdentity({
    credentials: { ...credentials, ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }) },
    clusterId: 'c1',
    endpoint: target,
    signingDate: options.signingDate ?? SIGNED_AT,
  });
}

// --- raw edits of a presigned URL string (never through URLSearchParams, which would normalise what we test) ---

function splitQuery(url: string): { origin: string; segments: string[] } {
  const q = url.indexOf('?');
  return { origin: url.slice(0, q), segments: url.slice(q + 1).split('&') };
}
function joinQuery(origin: string, segments: string[]): string {
  return `${origin}?${segments.join('&')}`;
}
function setRaw(url: string, name: string, raw: string): string {
  const { origin, segments } = splitQuery(url);
  const index = segments.findIndex((s) => s.startsWith(`${name}=`));
  if (index === -1) throw new Error(`no ${name} in the test URL`);
  segments[index] = `${name}=${raw}`;
  return joinQuery(origin, segments);
}
function setParam(url: string, name: string, value: string): string {
  return setRaw(url, name, encodeURIComponent(value));
}
function removeParam(url: string, name: string): string {
  const { origin, segments } = splitQuery(url);
  return joinQuery(origin, segments.filter((s) => !s.startsWith(`${name}=`)));
}
function addSegment(url: string, segment: string): string {
  return `${url}&${segment}`;
}
function rawParam(url: string, name: string): string {
  const segment = splitQuery(url).segments.find((s) => s.startsWith(`${name}=`));
  if (segment === undefined) throw new Error(`no ${name} in the test URL`);
  return segment.slice(name.length + 1);
}
function replaceOrigin(url: string, origin: string): string {
  return origin + url.slice(url.indexOf('/?'));
}

function codeOf(run: () => unknown): ErrorCode | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (err) {
    if (err instanceof EksAuthError) return err.code;
    throw err;
  }
}

let base: string; // https://sts.us-west-2.amazonaws.com/?…&X-Amz-Security-Token=…
let baseNoSession: string;
let global: string; // https://sts.amazonaws.com/?… signed for us-east-1
let china: string; // https://sts.cn-north-1.amazonaws.com.cn/?…
let longSession: string;

beforeAll(async () => {
  base = await presign(resolveStsEndpoint({ region: 'us-west-2' }), { sessionToken: SESSION_TOKEN });
  baseNoSession = await presign(resolveStsEndpoint({ region: 'us-west-2' }));
  global = await presign(endpoint('sts.amazonaws.com', 'us-east-1'), { sessionToken: SESSION_TOKEN });
  china = await presign(resolveStsEndpoint({ region: 'cn-north-1' }), { sessionToken: SESSION_TOKEN });
  longSession = await presign(resolveStsEndpoint({ region: 'us-west-2' }), { sessionToken: 'A'.repeat(2900) });
});

/** A body whose base64 needs padding: adjust the URL length by a harmless X-Amz-Expires change until it does. */
function paddedToken(url: string): string {
  for (const expires of ['60', '6', '600']) {
    const variant = setRaw(url, 'X-Amz-Expires', expires);
    const body = Buffer.from(variant).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    if (body.endsWith('=')) return TOKEN_PREFIX + body;
  }
  throw new Error('unreachable: one of three consecutive lengths needs padding');
}

/** Same bytes, different last character (stray low bits), for a body whose length is not a multiple of 4. */
function strayBitsToken(url: string): string {
  for (const expires of ['60', '6', '600']) {
    const body = Buffer.from(setRaw(url, 'X-Amz-Expires', expires)).toString('base64url');
    if (body.length % 4 === 0) continue;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(body.charAt(body.length - 1));
    return TOKEN_PREFIX + body.slice(0, -1) + alphabet.charAt(last + 1);
  }
  throw new Error('unreachable');
}

/** `url` moved to the regional host of `region`, with a matching credential scope. */
function signedFor(url: string, region: string): string {
  const moved = setParam(url, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200930/${region}/sts/aws4_request`);
  return replaceOrigin(moved, `https://sts.${region}.amazonaws.com`);
}

/** A body with 4n+1 characters, which no byte string encodes to. */
function impossibleLengthToken(url: string): string {
  let body = Buffer.from(url).toString('base64url');
  while (body.length % 4 !== 1) body += 'A';
  return TOKEN_PREFIX + body;
}

interface Case {
  name: string;
  code: ErrorCode;
  token: () => string;
  options?: TokenValidationOptions;
}

const t = (url: () => string): (() => string) => () => encodeToken(url());

const cases: Case[] = [
  // size, prefix, encoding
  { name: 'longer than 4096 characters (long session token)', code: 'ERR_TOKEN_TOO_LARGE', token: t(() => longSession) },
  { name: 'other version prefix', code: 'ERR_TOKEN_PREFIX', token: () => encodeToken(base).replace('k8s-aws-v1.', 'k8s-aws-v2.') },
  { name: 'upper-case prefix', code: 'ERR_TOKEN_PREFIX', token: () => encodeToken(base).replace('k8s-aws-v1.', 'K8S-AWS-V1.') },
  { name: '"Bearer " left in front', code: 'ERR_TOKEN_PREFIX', token: () => `Bearer ${encodeToken(base)}` },
  { name: 'no prefix, just the URL', code: 'ERR_TOKEN_PREFIX', token: () => base },
  { name: 'padded base64url', code: 'ERR_TOKEN_ENCODING', token: () => paddedToken(base) },
  { name: 'standard base64 alphabet (+ and /)', code: 'ERR_TOKEN_ENCODING', token: () => `${TOKEN_PREFIX}+/${encodeToken(base).slice(TOKEN_PREFIX.length + 2)}` },
  { name: 'whitespace in the body', code: 'ERR_TOKEN_ENCODING', token: () => encodeToken(base).replace(/(.{40})/, '$1\n') },
  { name: 'empty body', code: 'ERR_TOKEN_ENCODING', token: () => TOKEN_PREFIX },
  { name: 'impossible base64 length', code: 'ERR_TOKEN_ENCODING', token: () => impossibleLengthToken(base) },
  { name: 'non-canonical base64 (stray bits)', code: 'ERR_TOKEN_ENCODING', token: () => strayBitsToken(base) },
  // URL structure
  { name: 'not a URL', code: 'ERR_TOKEN_URL', token: t(() => 'GetCallerIdentity') },
  { name: 'space inside the URL', code: 'ERR_TOKEN_URL', token: t(() => base.replace('Action=', 'Action= ')) },
  { name: 'non-ASCII in the URL', code: 'ERR_TOKEN_URL', token: t(() => base.replace('sts.', 'stś.')) },
  { name: 'https: without //', code: 'ERR_TOKEN_URL', token: t(() => base.replace('https://', 'https:')) },
  { name: 'http scheme', code: 'ERR_TOKEN_SCHEME', token: t(() => base.replace('https://', 'http://')) },
  { name: 'upper-case scheme', code: 'ERR_TOKEN_SCHEME', token: t(() => base.replace('https://', 'HTTPS://')) },
  { name: 'ftp scheme', code: 'ERR_TOKEN_SCHEME', token: t(() => base.replace('https://', 'ftp://')) },
  { name: 'userinfo', code: 'ERR_TOKEN_USERINFO', token: t(() => base.replace('https://', 'https://user:pw@')) },
  { name: 'STS host as userinfo of evil.com', code: 'ERR_TOKEN_USERINFO', token: t(() => replaceOrigin(base, 'https://sts.us-west-2.amazonaws.com@evil.com')) },
  { name: 'backslash trick', code: 'ERR_TOKEN_USERINFO', token: t(() => replaceOrigin(base, 'https://evil.com\\@sts.us-west-2.amazonaws.com')) },
  { name: 'explicit :443', code: 'ERR_TOKEN_PORT', token: t(() => base.replace('amazonaws.com/', 'amazonaws.com:443/')) },
  { name: 'other port', code: 'ERR_TOKEN_PORT', token: t(() => base.replace('amazonaws.com/', 'amazonaws.com:8443/')) },
  { name: 'fragment', code: 'ERR_TOKEN_FRAGMENT', token: t(() => `${base}#frag`) },
  { name: 'path other than /', code: 'ERR_TOKEN_PATH', token: t(() => base.replace('.com/?', '.com/sts/?')) },
  { name: 'empty path', code: 'ERR_TOKEN_PATH', token: t(() => base.replace('.com/?', '.com?')) },
  { name: 'dot-segment path', code: 'ERR_TOKEN_PATH', token: t(() => base.replace('.com/?', '.com/x/..?')) },
  { name: 'encoded path', code: 'ERR_TOKEN_PATH', token: t(() => base.replace('.com/?', '.com/%2e?')) },
  // hosts
  { name: 'evil.com', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://evil.com')) },
  { name: 'sts.amazonaws.com.evil.com', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(global, 'https://sts.amazonaws.com.evil.com')) },
  { name: 'sts.us-west-2.amazonaws.com.evil.com', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts.us-west-2.amazonaws.com.evil.com')) },
  // A trailing dot names the same DNS host, but no SDK presigns it and TLS/SNI and the SigV4 host header treat it as
  // a different name: refused rather than normalised.
  { name: 'trailing dot', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts.us-west-2.amazonaws.com.')) },
  // DNS is case-insensitive, but SDKs presign lower-case names and SigV4 signs the host as written: an upper-case host
  // is not what any client produces, and comparing exactly avoids parser case-folding differences. Refused.
  { name: 'upper-case host', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://STS.US-WEST-2.AMAZONAWS.COM')) },
  { name: 'sts.us-east-1.amazonaws.com. (trailing dot)', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(signedFor(base, 'us-east-1'), 'https://sts.us-east-1.amazonaws.com.')) },
  { name: 'STS.US-EAST-1.AMAZONAWS.COM', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(signedFor(base, 'us-east-1'), 'https://STS.US-EAST-1.AMAZONAWS.COM')) },
  { name: 'percent-encoded host', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts%2Eus-west-2.amazonaws.com')) },
  { name: 'IPv4 host', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://127.0.0.1')) },
  { name: 'IPv6 host', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://[::1]')) },
  { name: 'another AWS service', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://ec2.us-west-2.amazonaws.com')) },
  { name: 'region resolvable by pattern but not listed', code: 'ERR_TOKEN_HOST', token: t(() => signedFor(base, 'us-west-9')) },
  { name: 'aws-global pseudo-region', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts.aws-global.amazonaws.com')) },
  { name: 'aws-cn host when only aws is accepted', code: 'ERR_TOKEN_HOST', token: t(() => china) },
  { name: 'aws-us-gov host when only aws is accepted', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts.us-gov-west-1.amazonaws.com')) },
  { name: 'global host when aws is not accepted', code: 'ERR_TOKEN_HOST', token: t(() => global), options: { partitions: ['aws-cn'] } },
  { name: 'a "global" host in aws-cn', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(china, 'https://sts.amazonaws.com.cn')), options: { partitions: ['aws-cn'] } },
  { name: 'aws-cn region under the aws dual-stack domain', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(china, 'https://sts.cn-north-1.api.aws')), options: { partitions: ['aws', 'aws-cn'] } },
  { name: 'aws region under the aws-cn domain', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts.us-west-2.amazonaws.com.cn')), options: { partitions: ['aws', 'aws-cn'] } },
  { name: 'global FIPS name (does not exist)', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(global, 'https://sts-fips.amazonaws.com')) },
  { name: 'iso region under the aws domain', code: 'ERR_TOKEN_HOST', token: t(() => replaceOrigin(base, 'https://sts.us-iso-east-1.amazonaws.com')), options: { partitions: ALL_PARTITIONS } },
  // query syntax
  { name: 'empty parameter (&&)', code: 'ERR_TOKEN_QUERY', token: t(() => base.replace('&Version', '&&Version')) },
  { name: 'trailing &', code: 'ERR_TOKEN_QUERY', token: t(() => `${base}&`) },
  { name: 'parameter without =', code: 'ERR_TOKEN_QUERY', token: t(() => base.replace('Version=2011-06-15', 'Version')) },
  { name: 'raw + (space or plus?)', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'X-Amz-Security-Token', 'abc+def')) },
  { name: 'unencoded / in the credential', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200930/us-west-2/sts/aws4_request`)) },
  { name: 'unencoded ; in SignedHeaders', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'X-Amz-SignedHeaders', 'host;x-k8s-aws-id')) },
  { name: 'malformed %-escape', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'X-Amz-Security-Token', 'abc%zz')) },
  { name: 'truncated %-escape', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'X-Amz-Security-Token', 'abc%2')) },
  { name: '%00 in a value', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'X-Amz-Security-Token', 'abc%00')) },
  { name: 'encoded newline in a value', code: 'ERR_TOKEN_QUERY', token: t(() => setRaw(base, 'Action', 'GetCallerIdentity%0A')) },
  // query keys
  { name: 'extra X-Amz- key', code: 'ERR_TOKEN_PARAMETER', token: t(() => addSegment(base, 'X-Amz-Foo=1')) },
  { name: 'cluster id in the query', code: 'ERR_TOKEN_PARAMETER', token: t(() => addSegment(base, 'x-k8s-aws-id=c1')) },
  { name: 'AssumeRole parameter', code: 'ERR_TOKEN_PARAMETER', token: t(() => addSegment(base, 'RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx')) },
  { name: 'percent-encoded key', code: 'ERR_TOKEN_PARAMETER', token: t(() => addSegment(removeParam(base, 'X-Amz-Date'), 'X-Amz-%44ate=20200930T093726Z')) },
  { name: 'X-Amz-Credential + x-amz-credential (CVE-2022-2385)', code: 'ERR_TOKEN_DUPLICATE_PARAMETER', token: t(() => addSegment(base, 'x-amz-credential=eve')) },
  { name: 'x-amz-signedheaders before X-Amz-SignedHeaders', code: 'ERR_TOKEN_DUPLICATE_PARAMETER', token: t(() => base.replace('?', '?x-amz-signedheaders=host&')) },
  { name: 'action + Action', code: 'ERR_TOKEN_DUPLICATE_PARAMETER', token: t(() => addSegment(base, 'action=AssumeRole')) },
  { name: 'X-AMZ-DATE + X-Amz-Date', code: 'ERR_TOKEN_DUPLICATE_PARAMETER', token: t(() => addSegment(base, 'X-AMZ-DATE=20200930T093726Z')) },
  { name: 'same key twice', code: 'ERR_TOKEN_MULTIVALUE_PARAMETER', token: t(() => addSegment(base, 'X-Amz-Date=20200930T093726Z')) },
  { name: 'Action twice', code: 'ERR_TOKEN_MULTIVALUE_PARAMETER', token: t(() => addSegment(base, 'Action=GetCallerIdentity')) },
  { name: 'comma-separated Action', code: 'ERR_TOKEN_MULTIVALUE_PARAMETER', token: t(() => setRaw(base, 'Action', 'GetCallerIdentity%2CAssumeRole')) },
  { name: 'comma-separated SignedHeaders', code: 'ERR_TOKEN_MULTIVALUE_PARAMETER', token: t(() => setRaw(base, 'X-Amz-SignedHeaders', 'host%2Cx-k8s-aws-id')) },
  { name: 'no X-Amz-Signature', code: 'ERR_TOKEN_MISSING_PARAMETER', token: t(() => removeParam(base, 'X-Amz-Signature')) },
  { name: 'no Version', code: 'ERR_TOKEN_MISSING_PARAMETER', token: t(() => removeParam(base, 'Version')) },
  { name: 'no X-Amz-SignedHeaders', code: 'ERR_TOKEN_MISSING_PARAMETER', token: t(() => removeParam(base, 'X-Amz-SignedHeaders')) },
  { name: 'no query at all', code: 'ERR_TOKEN_MISSING_PARAMETER', token: t(() => 'https://sts.us-west-2.amazonaws.com/') },
  // values
  { name: 'AssumeRole action', code: 'ERR_TOKEN_ACTION', token: t(() => setParam(base, 'Action', 'AssumeRole')) },
  { name: 'lower-case action value', code: 'ERR_TOKEN_ACTION', token: t(() => setParam(base, 'Action', 'getcalleridentity')) },
  { name: 'empty Action', code: 'ERR_TOKEN_ACTION', token: t(() => setParam(base, 'Action', '')) },
  { name: 'other API version', code: 'ERR_TOKEN_VERSION', token: t(() => setParam(base, 'Version', '2012-01-01')) },
  { name: 'other algorithm', code: 'ERR_TOKEN_ALGORITHM', token: t(() => setParam(base, 'X-Amz-Algorithm', 'AWS4-HMAC-SHA1')) },
  { name: 'x-k8s-aws-id not signed', code: 'ERR_TOKEN_SIGNED_HEADERS', token: t(() => setParam(base, 'X-Amz-SignedHeaders', 'host')) },
  { name: 'host not signed', code: 'ERR_TOKEN_SIGNED_HEADERS', token: t(() => setParam(base, 'X-Amz-SignedHeaders', 'x-k8s-aws-id')) },
  { name: 'empty header name in SignedHeaders', code: 'ERR_TOKEN_SIGNED_HEADERS', token: t(() => setParam(base, 'X-Amz-SignedHeaders', 'host;;x-k8s-aws-id')) },
  { name: 'upper-case SignedHeaders', code: 'ERR_TOKEN_SIGNED_HEADERS', token: t(() => setParam(base, 'X-Amz-SignedHeaders', 'Host;X-K8s-Aws-Id')) },
  { name: 'repeated signed header', code: 'ERR_TOKEN_SIGNED_HEADERS', token: t(() => setParam(base, 'X-Amz-SignedHeaders', 'host;host;x-k8s-aws-id')) },
  { name: 'credential with four parts', code: 'ERR_TOKEN_CREDENTIAL', token: t(() => setParam(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200930/us-west-2/sts`)) },
  { name: 'credential with an empty access key id', code: 'ERR_TOKEN_CREDENTIAL', token: t(() => setParam(base, 'X-Amz-Credential', '/20200930/us-west-2/sts/aws4_request')) },
  { name: 'credential with a malformed scope date', code: 'ERR_TOKEN_CREDENTIAL', token: t(() => setParam(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/2020-09-30/us-west-2/sts/aws4_request`)) },
  { name: 'wrong service in the scope', code: 'ERR_TOKEN_CREDENTIAL_SCOPE', token: t(() => setParam(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200930/us-west-2/iam/aws4_request`)) },
  { name: 'wrong scope terminator', code: 'ERR_TOKEN_CREDENTIAL_SCOPE', token: t(() => setParam(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200930/us-west-2/sts/aws4_requests`)) },
  { name: 'scope date is not X-Amz-Date\'s day', code: 'ERR_TOKEN_SCOPE_DATE', token: t(() => setParam(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200929/us-west-2/sts/aws4_request`)) },
  { name: 'scope region differs from the host\'s', code: 'ERR_TOKEN_SCOPE_REGION', token: t(() => setParam(base, 'X-Amz-Credential', `${ACCESS_KEY_ID}/20200930/us-east-1/sts/aws4_request`)) },
  { name: 'regional host, URL signed for another listed region', code: 'ERR_TOKEN_SCOPE_REGION', token: t(() => replaceOrigin(base, 'https://sts.eu-west-1.amazonaws.com')) },
  { name: 'global host not signed for us-east-1', code: 'ERR_TOKEN_SCOPE_REGION', token: t(() => replaceOrigin(base, 'https://sts.amazonaws.com')) },
  { name: 'ISO-8601 extended date', code: 'ERR_TOKEN_DATE', token: t(() => setParam(base, 'X-Amz-Date', '2020-09-30T09:37:26Z')) },
  { name: '30 February', code: 'ERR_TOKEN_DATE', token: t(() => setParam(base, 'X-Amz-Date', '20200230T093726Z')) },
  { name: 'hour 24', code: 'ERR_TOKEN_DATE', token: t(() => setParam(base, 'X-Amz-Date', '20200930T240000Z')) },
  { name: 'local time (no Z)', code: 'ERR_TOKEN_DATE', token: t(() => setParam(base, 'X-Amz-Date', '20200930T093726')) },
  { name: 'expired (15 min + 1 s)', code: 'ERR_TOKEN_EXPIRED', token: t(() => base), options: { now: new Date(SIGNED_AT.getTime() + 15 * 60_000 + 1000) } },
  { name: 'expired long ago', code: 'ERR_TOKEN_EXPIRED', token: t(() => base), options: { now: new Date('2024-01-01T00:00:00Z') } },
  { name: 'signed 301 s in the future', code: 'ERR_TOKEN_NOT_YET_VALID', token: t(() => base), options: { now: new Date(SIGNED_AT.getTime() - 301_000) } },
  { name: 'future beyond a zero skew', code: 'ERR_TOKEN_NOT_YET_VALID', token: t(() => base), options: { now: new Date(SIGNED_AT.getTime() - 1000), maxClockSkewSeconds: 0 } },
  { name: 'X-Amz-Expires 901', code: 'ERR_TOKEN_EXPIRES_RANGE', token: t(() => setParam(base, 'X-Amz-Expires', '901')) },
  { name: 'X-Amz-Expires -1', code: 'ERR_TOKEN_EXPIRES_RANGE', token: t(() => setParam(base, 'X-Amz-Expires', '-1')) },
  { name: 'X-Amz-Expires abc', code: 'ERR_TOKEN_EXPIRES_RANGE', token: t(() => setParam(base, 'X-Amz-Expires', 'abc')) },
  { name: 'X-Amz-Expires with a leading zero', code: 'ERR_TOKEN_EXPIRES_RANGE', token: t(() => setParam(base, 'X-Amz-Expires', '060')) },
  { name: 'X-Amz-Expires empty', code: 'ERR_TOKEN_EXPIRES_RANGE', token: t(() => setParam(base, 'X-Amz-Expires', '')) },
  { name: 'upper-case signature', code: 'ERR_TOKEN_SIGNATURE', token: t(() => setParam(base, 'X-Amz-Signature', rawParam(base, 'X-Amz-Signature').toUpperCase())) },
  { name: 'short signature', code: 'ERR_TOKEN_SIGNATURE', token: t(() => setParam(base, 'X-Amz-Signature', rawParam(base, 'X-Amz-Signature').slice(1))) },
  { name: 'empty session token', code: 'ERR_TOKEN_SECURITY_TOKEN', token: t(() => setRaw(base, 'X-Amz-Security-Token', '')) },
];

describe('validateToken refuses each malformed token with its own code', () => {
  it('has enough cases, and every code it expects is a registered one', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const { code } of cases) expect(ERROR_CODES).toContain(code);
  });

  it.each(cases)('$name → $code', ({ token, code, options }) => {
    const text = token();
    let caught: unknown;
    try {
      validateToken(text, { now: NOW, ...options });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EksAuthError);
    const err = caught as EksAuthError;
    expect(err.code).toBe(code);
    // Messages say what is wrong and never carry the token or anything secret inside it.
    for (const secret of [text.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 24), SESSION_TOKEN, SESSION_TOKEN.slice(0, 20),
      encodeURIComponent(SESSION_TOKEN).slice(0, 20), rawParam(base, 'X-Amz-Signature'), ACCESS_KEY_ID, '?Action=']) {
      if (secret.length >= 8) expect(err.message).not.toContain(secret);
    }
  });

  it('reports the x-k8s-aws-id problem in aws-iam-authenticator\'s words', () => {
    const token = encodeToken(setParam(base, 'X-Amz-SignedHeaders', 'host'));
    expect(() => validateToken(token, { now: NOW })).toThrow('client did not sign the x-k8s-aws-id header in the pre-signed URL');
  });

  it('refuses bad options with ERR_INVALID_CONFIG', () => {
    const token = encodeToken(base);
    expect(codeOf(() => validateToken(token, { now: NOW, partitions: [] }))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => validateToken(token, { now: NOW, partitions: ['AWS'] }))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => validateToken(token, { now: NOW, regions: ['not a region'] }))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => validateToken(token, { now: NOW, regions: ['Eu_West'] }))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => validateToken(token, { now: NOW, regions: ['-west-1'] }))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => validateToken(token, { now: new Date(Number.NaN) }))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => validateToken(token, { now: NOW, maxClockSkewSeconds: -1 }))).toBe('ERR_INVALID_CONFIG');
  });

  it('throws EksAuthError for a non-string, as JavaScript callers may pass one', () => {
    expect(codeOf(() => validateToken(undefined as unknown as string))).toBe('ERR_TOKEN_PREFIX');
    expect(codeOf(() => validateToken(42 as unknown as string))).toBe('ERR_TOKEN_PREFIX');
  });
});

describe('validateToken accepts real presigned GetCallerIdentity tokens', () => {
  it('returns the validated parts and a rebuilt URL equal to the original', () => {
    const result = validateToken(encodeToken(base), { now: NOW });
    expect(result.url.href).toBe(base);
    expect(result).toMatchObject({
      host: 'sts.us-west-2.amazonaws.com',
      partition: 'aws',
      region: 'us-west-2',
      accessKeyId: ACCESS_KEY_ID,
      expiresInSeconds: 60,
      signedHeaders: ['host', 'x-k8s-aws-id'],
      hasSessionToken: true,
    });
    expect(result.signedAt.toISOString()).toBe('2020-09-30T09:37:26.000Z');
    expect(result.validUntil.toISOString()).toBe('2020-09-30T09:52:26.000Z');
    expect(validateToken(encodeToken(baseNoSession), { now: NOW }).hasSessionToken).toBe(false);
  });

  it('accepts the edges of the time window and of X-Amz-Expires', () => {
    const token = encodeToken(base);
    expect(codeOf(() => validateToken(token, { now: new Date(SIGNED_AT.getTime() + 15 * 60_000) }))).toBe('accepted');
    expect(codeOf(() => validateToken(token, { now: new Date(SIGNED_AT.getTime() - 300_000) }))).toBe('accepted');
    for (const expires of ['0', '900']) {
      expect(codeOf(() => validateToken(encodeToken(setParam(base, 'X-Amz-Expires', expires)), { now: NOW }))).toBe('accepted');
    }
  });

  it('accepts the global endpoint in aws, signed for us-east-1', () => {
    const result = validateToken(encodeToken(global), { now: NOW });
    expect(result).toMatchObject({ host: 'sts.amazonaws.com', partition: 'aws', region: 'us-east-1' });
    expect(result.url.href).toBe(global);
  });

  // Every hostname form of every partition the brief names, presigned by our own signer and validated with only that
  // partition accepted; the next test shows the same hosts are refused under the default (aws only).
  const forms = [
    ['aws', 'us-west-2', 'amazonaws.com', 'api.aws'],
    ['aws-cn', 'cn-north-1', 'amazonaws.com.cn', 'api.amazonwebservices.com.cn'],
    ['aws-us-gov', 'us-gov-west-1', 'amazonaws.com', 'api.aws'],
    ['aws-iso', 'us-iso-east-1', 'c2s.ic.gov', 'api.aws.ic.gov'],
    ['aws-iso-b', 'us-isob-east-1', 'sc2s.sgov.gov', 'api.aws.scloud'],
    ['aws-eusc', 'eusc-de-east-1', 'amazonaws.eu', 'api.amazonwebservices.eu'],
  ] as const;
  // Plus the FIPS hosts STS has (botocore's list): four US regions, and GovCloud's plain hosts. ISO partitions have no
  // dual-stack STS hosts.
  const hostCases = [
    ...forms.flatMap(([partition, region, dns, dualStack]) => [
      { partition, region, host: `sts.${region}.${dns}` },
      ...(partition.startsWith('aws-iso') ? [] : [{ partition, region, host: `sts.${region}.${dualStack}` }]),
    ]),
    { partition: 'aws', region: 'us-west-2', host: 'sts-fips.us-west-2.amazonaws.com' },
  ];

  it.each(hostCases)('$partition: $host', async ({ partition, region, host }) => {
    const url = await presign(endpoint(host, region, partition), { sessionToken: SESSION_TOKEN });
    const result = validateToken(encodeToken(url), { now: NOW, partitions: [partition] });
    expect(result).toMatchObject({ host, partition, region });
    expect(result.url.href).toBe(url);
    if (partition !== 'aws') {
      expect(codeOf(() => validateToken(encodeToken(url), { now: NOW }))).toBe('ERR_TOKEN_HOST');
    }
  });

  it('accepts what resolveStsEndpoint produces for FIPS and dual-stack settings', async () => {
    for (const region of ['us-east-1', 'eu-central-1', 'ap-southeast-2', 'cn-northwest-1', 'us-gov-east-1']) {
      for (const useFipsEndpoint of [false, true]) {
        for (const useDualstackEndpoint of [false, true]) {
          if (useFipsEndpoint && (useDualstackEndpoint || !['us-east-1', 'us-gov-east-1'].includes(region))) continue;
          const target = resolveStsEndpoint({ region, useFipsEndpoint, useDualstackEndpoint });
          const url = await presign(target);
          const result = validateToken(encodeToken(url), { now: NOW, partitions: ALL_PARTITIONS });
          expect(result.host).toBe(target.hostname);
          expect(result.partition).toBe(target.partition);
          expect(result.url.href).toBe(url);
        }
      }
    }
  });

  // aws-iam-authenticator's TestVerifyHostnames rows with a configured region: the region is taken as given, under the
  // partition's own domain and its dual-stack domain; unconfigured unknown regions stay refused outside aws.
  it.each([
    ['aws-cn', 'sts.not-a-region4.amazonaws.com.cn', ['not-a-region4'], 'accepted'],
    ['aws-cn', 'sts.not-a-region4.api.amazonwebservices.com.cn', ['not-a-region4'], 'accepted'],
    ['aws-cn', 'sts.not-a-region3.amazonaws.com.cn', [], 'ERR_TOKEN_HOST'],
    ['aws-cn', 'sts.not-a-region5.amazonaws.com.cn', ['us-west-2'], 'ERR_TOKEN_HOST'],
    ['aws', 'sts.not-a-region.amazonaws.com', ['not-a-region'], 'accepted'],
    ['aws', 'sts.cn-north-9.amazonaws.com', ['cn-north-9'], 'accepted'],
    ['aws-cn', 'sts.not-a-region.amazonaws.com', ['not-a-region'], 'ERR_TOKEN_HOST'],
    ['aws-iso', 'sts.newregion1.c2s.ic.gov', ['newregion1'], 'accepted'],
  ])('partition %s: %s with regions %j is %s', async (part, host, regions, expected) => {
    const region = host.split('.')[1]!;
    const url = await presign(endpoint(host, region, part));
    expect(codeOf(() => validateToken(encodeToken(url), { now: NOW, partitions: [part], regions }))).toBe(expected);
  });

  it('reads the region list from the SDK: listed regions pass, pattern-only ones only when configured', async () => {
    const listed = await presign(resolveStsEndpoint({ region: 'ap-southeast-7' }));
    expect(codeOf(() => validateToken(encodeToken(listed), { now: NOW }))).toBe('accepted');
    for (const host of ['sts.us-west-9.amazonaws.com', 'sts.us-west-9.api.aws']) {
      const url = await presign(endpoint(host, 'us-west-9'));
      expect(codeOf(() => validateToken(encodeToken(url), { now: NOW }))).toBe('ERR_TOKEN_HOST');
      expect(validateToken(encodeToken(url), { now: NOW, regions: ['us-west-9'] }).region).toBe('us-west-9');
    }
  });

  it('keeps parameter spelling, puts parameters in botocore’s order and re-encodes values canonically', () => {
    let url = base.replace('Action=', 'action=');
    url = setRaw(url, 'X-Amz-Credential', rawParam(url, 'X-Amz-Credential').replace(/%2F/g, '%2f'));
    url = setRaw(url, 'Version', '%32011-06-15');
    const result = validateToken(encodeToken(url), { now: NOW });
    // base is eksauth's own presigned URL, already in botocore's order.
    const expected = splitQuery(base).segments.map((s) => (s.startsWith('Action=') ? s.replace('Action=', 'action=') : s));
    expect(result.url.href).toBe(joinQuery('https://sts.us-west-2.amazonaws.com/', expected));
    expect(validateToken(encodeToken(result.url.href), { now: NOW }).url.href).toBe(result.url.href);
  });
});

describe('a token from the real aws CLI', () => {
  it('passes, and the rebuilt URL carries exactly its parameters', async (context) => {
    if (!hasCommand('aws')) {
      console.log('skipping: the aws CLI is not on PATH');
      context.skip();
      return;
    }
    const run = await runCommand('aws', ['eks', 'get-token', '--cluster-name', 'c1', '--region', 'us-west-2', '--output', 'json'], {
      env: { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: SESSION_TOKEN },
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const token = (JSON.parse(run.stdout) as { status: { token: string } }).status.token;
    const original = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8');
    const result = validateToken(token);
    expect(result.host).toBe('sts.us-west-2.amazonaws.com');
    expect(result.region).toBe('us-west-2');
    expect(result.hasSessionToken).toBe(true);
    expect(result.signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
    // aws-cli orders SignedHeaders before Signature; the rebuilt URL is in sorted order with the same parameters.
    expect([...result.url.searchParams].sort()).toEqual([...new URL(original).searchParams].sort());
    expect(splitQuery(result.url.href).segments.sort()).toEqual(splitQuery(original).segments.sort());
  });
});
