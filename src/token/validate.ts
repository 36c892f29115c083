/**
 * Strict, offline validation of a `k8s-aws-v1.` bearer token: everything a verifier checks before it lets a token
 * anywhere near STS (DESIGN.md "Verifier rules"; reference/user-demand-and-peers.md §5).
 *
 * The token is parsed once, from its raw bytes, by this module's own parser; nothing is trusted because a generic
 * URL parser accepted it (parser differentials and a case-folding map are how CVE-2022-2385 and the Vault
 * GetCallerIdentity bugs happened). The result carries a URL REBUILT from the validated parts, which is the only thing a
 * verifier may send to STS.
 *
 * Two things are out of reach here and belong to the STS call: the signature itself (only its shape is checked), and
 * the cluster binding. A token made for cluster A and presented to cluster B passes this validation, because the
 * cluster id is a signed header whose value is not in the URL; STS rejects it when the verifier sends its own
 * `x-k8s-aws-id`.
 *
 * Error messages may name the STS host, a query parameter's name or a date, never the token, the URL, the
 * credential, the signature or the session token.
 */
import { isRegionName, sdkListedRegion, stsHostsForOperatorRegion, stsHostsForRegion } from '../aws/sts-endpoint.js';
import { EksAuthError, type ErrorCode } from '../errors.js';
import { CLUSTER_ID_HEADER, compareQueryNames, PRESIGNED_URL_LIFETIME_MS, STS_API_VERSION, TOKEN_PREFIX } from './format.js';

/** Longest token accepted, in characters; aws-iam-authenticator's limit (4 KiB). */
export const MAX_TOKEN_LENGTH = 4096;
/** Default tolerance for an X-Amz-Date in the future (client clock ahead of the server's). */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 300;
/** Largest X-Amz-Expires accepted; STS ignores the value and honours the URL for 15 minutes after X-Amz-Date. */
export const MAX_EXPIRES_SECONDS = 900;

export interface TokenValidationOptions {
  /** The time to validate against; default `new Date()`. */
  now?: Date;
  /** How far X-Amz-Date may be in the future, in seconds; default 300. */
  maxClockSkewSeconds?: number;
  /** Partitions whose STS hosts are accepted, e.g. `['aws', 'aws-us-gov']`; default `['aws']`. */
  partitions?: string[];
  /**
   * Region names to accept beyond the SDK's own region list, e.g. the server's region when it is newer than the SDK
   * data. Each must belong to one of `partitions`.
   */
  regions?: string[];
}

export interface ValidatedToken {
  /**
   * `https://<host>/?<validated query, in botocore's parameter order>`, rebuilt from the validated parts and re-encoded
   * the SigV4 way. This is the only thing a verifier may send to STS; never forward the decoded token.
   */
  url: URL;
  host: string;
  /** SDK partition of `host`: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, … */
  partition: string;
  /** Signing region from the credential scope (equal to the host's region; `us-east-1` for `sts.amazonaws.com`). */
  region: string;
  /** From the token, so claimed, not proven: identity must come from the STS response. */
  accessKeyId: string;
  /** X-Amz-Date. */
  signedAt: Date;
  /** X-Amz-Expires (0–900); informational, STS ignores it. */
  expiresInSeconds: number;
  /** X-Amz-SignedHeaders, in token order; always contains `host` and `x-k8s-aws-id`. */
  signedHeaders: string[];
  hasSessionToken: boolean;
  /** signedAt + 15 minutes: when STS stops honouring the URL. */
  validUntil: Date;
}

const GLOBAL_STS_HOST = 'sts.amazonaws.com';
const GLOBAL_SIGNING_REGION = 'us-east-1';
const GLOBAL_PARTITION = 'aws';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const ACTION = 'GetCallerIdentity';
const SCOPE_SERVICE = 'sts';
const SCOPE_TERMINATOR = 'aws4_request';
const MAX_HOST_LENGTH = 253;
const REMEDY = 'make tokens with `eksauth token`, `aws eks get-token` or `aws-iam-authenticator token`';

// The only query parameters a presigned GetCallerIdentity URL has, by lower-case name (compared case-insensitively,
// as aws-iam-authenticator does), with the spelling used in messages.
const PARAMETER_NAMES = new Map<string, string>([
  ['action', 'Action'],
  ['version', 'Version'],
  ['x-amz-algorithm', 'X-Amz-Algorithm'],
  ['x-amz-credential', 'X-Amz-Credential'],
  ['x-amz-date', 'X-Amz-Date'],
  ['x-amz-expires', 'X-Amz-Expires'],
  ['x-amz-security-token', 'X-Amz-Security-Token'],
  ['x-amz-signature', 'X-Amz-Signature'],
  ['x-amz-signedheaders', 'X-Amz-SignedHeaders'],
]);
const REQUIRED_PARAMETERS = [...PARAMETER_NAMES.keys()].filter((key) => key !== 'x-amz-security-token');
const ALLOWED_LIST = [...PARAMETER_NAMES.values()].join(', ');

// All of these run on short, bounded strings and have no nested quantifiers, so no input can make them slow.
const BASE64URL_BODY = /^[A-Za-z0-9_-]+$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SCOPE_DATE = /^\d{8}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9_]{1,128}$/;
const EXPIRES = /^(?:0|[1-9]\d{0,2})$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const HEADER_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const PARTITION_NAME = /^aws(?:-[a-z0-9]+)*$/;
const PLAIN_PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,31}$/;

/**
 * Checks that `token` is exactly a presigned STS GetCallerIdentity URL in `k8s-aws-v1.` form, addressed to an STS host
 * of an accepted partition, signed with `x-k8s-aws-id`, and inside its 15-minute window. Pure and offline: it proves
 * the token is safe to send to STS, not that STS will accept it. Throws {@link EksAuthError} with one `ERR_TOKEN_*`
 * code per broken rule (`ERR_INVALID_CONFIG` for bad options).
 *
 * @example
 * ```ts
 * import { getToken } from 'eksauth';
 * import { validateToken } from 'eksauth/verify';
 * const { token } = await getToken({ clusterName: 'prod', region: 'eu-west-1' });
 * const checked = validateToken(token, { partitions: ['aws'] }); // offline; throws EksAuthError ERR_TOKEN_…
 * console.log(checked.host, checked.signedHeaders.join(';')); // → sts.eu-west-1.amazonaws.com host;x-k8s-aws-id
 * console.log(checked.url.searchParams.get('Action')); // → GetCallerIdentity
 * ```
 */
export function validateToken(token: string, options: TokenValidationOptions = {}): ValidatedToken {
  return readToken(token, options, readClock(options));
}

/**
 * What {@link validateToken} checks, except the time window: for a person inspecting a token (`eksauth decode`), an
 * expired token is still worth reading. Never use it to accept a token.
 *
 * @example
 * ```ts
 * import { getToken } from 'eksauth';
 * import { inspectToken } from 'eksauth/verify';
 * const anHourAgo = () => new Date(Date.now() - 3_600_000);
 * const { token } = await getToken({ clusterName: 'prod', region: 'eu-west-1', now: anHourAgo });
 * console.log(inspectToken(token).validUntil < new Date()); // → true
 * // validateToken(token) throws EksAuthError ERR_TOKEN_EXPIRED: never accept a token on inspectToken's word
 * ```
 */
export function inspectToken(token: string, options: Omit<TokenValidationOptions, 'now' | 'maxClockSkewSeconds'> = {}): ValidatedToken {
  return readToken(token, options, undefined);
}

/** Parses and checks a token; `clock` undefined skips the time window (see {@link inspectToken}). */
function readToken(token: string, options: TokenValidationOptions, clock: Clock | undefined): ValidatedToken {
  const policy = hostPolicyFor(options);
  const decoded = decodeTokenUrl(token);
  const { host, query } = splitUrl(decoded);
  const endpoint = resolveStsHost(host, policy);
  crossCheckUrl(decoded, host);
  const params = parseQuery(query);
  return {
    url: rebuildUrl(host, params),
    host,
    partition: endpoint.partition,
    region: endpoint.signingRegion,
    ...checkParameters(params, host, endpoint.signingRegion, clock),
  };
}

type CheckedParameters = Omit<ValidatedToken, 'url' | 'host' | 'partition' | 'region'>;

function checkParameters(params: Map<string, QueryParameter>, host: string, signingRegion: string, clock: Clock | undefined): CheckedParameters {
  requireParameters(params);
  checkAction(value(params, 'action'));
  checkVersion(value(params, 'version'));
  checkAlgorithm(value(params, 'x-amz-algorithm'));
  const signedHeaders = parseSignedHeaders(value(params, 'x-amz-signedheaders'));
  const amzDate = value(params, 'x-amz-date');
  const signedAt = parseAmzDate(amzDate);
  const validUntil = new Date(signedAt.getTime() + PRESIGNED_URL_LIFETIME_MS);
  if (clock !== undefined) checkTimeWindow(signedAt, validUntil, clock);
  const accessKeyId = checkCredential(value(params, 'x-amz-credential'), amzDate, host, signingRegion);
  const expiresInSeconds = parseExpires(value(params, 'x-amz-expires'));
  checkSignature(value(params, 'x-amz-signature'));
  const sessionToken = params.get('x-amz-security-token');
  if (sessionToken !== undefined) checkSessionToken(sessionToken.value);
  return { accessKeyId, signedAt, expiresInSeconds, signedHeaders, hasSessionToken: sessionToken !== undefined, validUntil };
}

function fail(code: ErrorCode, message: string): never {
  throw new EksAuthError(code, message);
}

// ---------------------------------------------------------------------------------------------------------------
// options

interface Clock {
  now: number;
  skewMs: number;
}

function readClock(options: TokenValidationOptions): Clock {
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    fail('ERR_INVALID_CONFIG', 'token validation: `now` must be a valid Date');
  }
  const skew = options.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0) {
    fail('ERR_INVALID_CONFIG', 'token validation: maxClockSkewSeconds must be a number of seconds, 0 or more');
  }
  return { now: now.getTime(), skewMs: skew * 1000 };
}

/** Where a validated STS host sends the request and which region its signature must be scoped to. */
interface StsHost {
  partition: string;
  signingRegion: string;
}

/** The host allow-set for one (partitions, regions) configuration, filled as hosts are accepted. */
interface HostPolicy {
  partitions: ReadonlySet<string>;
  /** Accepted host → where it belongs: first the hosts of options.regions, then listed-region hosts as seen. Bounded. */
  accepted: Map<string, StsHost>;
  description: string;
}

// Verifiers call validateToken per request with the same few configurations; keep their allow-sets.
const policies = new Map<string, HostPolicy>();
const MAX_POLICIES = 32;

function hostPolicyFor(options: TokenValidationOptions): HostPolicy {
  const partitions = stringList(options.partitions ?? [GLOBAL_PARTITION], 'partitions');
  const regions = stringList(options.regions ?? [], 'regions');
  const key = `${[...partitions].sort().join(',')}|${[...regions].sort().join(',')}`;
  const cached = policies.get(key);
  if (cached) return cached;
  const policy = buildHostPolicy(partitions, regions);
  if (policies.size >= MAX_POLICIES) policies.clear();
  policies.set(key, policy);
  return policy;
}

function stringList(list: unknown, option: string): string[] {
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    fail('ERR_INVALID_CONFIG', `token validation: ${option} must be a list of strings`);
  }
  return list as string[];
}

function buildHostPolicy(partitionNames: string[], regions: string[]): HostPolicy {
  if (partitionNames.length === 0) {
    fail('ERR_INVALID_CONFIG', 'token validation: partitions is empty, so no token could pass; list at least one, e.g. aws');
  }
  for (const name of partitionNames) {
    if (!PARTITION_NAME.test(name)) {
      fail('ERR_INVALID_CONFIG', `token validation: "${name.slice(0, 40)}" is not a partition name such as aws, aws-cn or aws-us-gov`);
    }
  }
  const partitions = new Set(partitionNames);
  return { partitions, accepted: operatorRegionHosts(partitionNames, regions), description: [...partitions].join(', ') };
}

/**
 * The hosts of the regions the operator named, under each accepted partition's domains, as given: a region newer
 * than the SDK's data, or named unlike today's regions, still verifies (aws-iam-authenticator accepts its configured
 * region the same way). The first partition listed owns a domain two partitions share (aws and aws-us-gov).
 */
function operatorRegionHosts(partitionNames: string[], regions: string[]): Map<string, StsHost> {
  const hosts = new Map<string, StsHost>();
  for (const region of regions) {
    const known = partitionNames.flatMap((name) => stsHostsForOperatorRegion(region, name).map((host) => [host, name] as const));
    if (known.length === 0) {
      fail('ERR_INVALID_CONFIG', `token validation: region ${region} has no STS host in partitions ${partitionNames.join(', ')}; list a partition the SDK knows, e.g. aws`);
    }
    for (const [host, name] of known) if (!hosts.has(host)) hosts.set(host, { partition: name, signingRegion: region });
  }
  return hosts;
}

// ---------------------------------------------------------------------------------------------------------------
// token → URL string

function decodeTokenUrl(token: unknown): string {
  if (typeof token !== 'string') fail('ERR_TOKEN_PREFIX', `the token is not a string; ${REMEDY}`);
  if (token.length > MAX_TOKEN_LENGTH) {
    fail(
      'ERR_TOKEN_TOO_LARGE',
      `the token is ${token.length} characters long, over the ${MAX_TOKEN_LENGTH} that EKS accepts; ` +
        'this happens with very long session tokens: use credentials with a shorter session token (fewer session tags or policies)',
    );
  }
  if (!token.startsWith(TOKEN_PREFIX)) fail('ERR_TOKEN_PREFIX', `the token does not start with "${TOKEN_PREFIX}"; ${REMEDY}`);
  const body = token.slice(TOKEN_PREFIX.length);
  if (!BASE64URL_BODY.test(body) || body.length % 4 === 1) fail('ERR_TOKEN_ENCODING', encodingProblem(body));
  const bytes = Buffer.from(body, 'base64url');
  // Only the canonical encoding is accepted (no stray bits in the last character), so one URL has one token.
  if (bytes.toString('base64url') !== body) fail('ERR_TOKEN_ENCODING', encodingProblem(body));
  for (const byte of bytes) {
    if (byte < 0x21 || byte > 0x7e) {
      fail('ERR_TOKEN_URL', `the URL in the token contains spaces, control characters or non-ASCII bytes; ${REMEDY}`);
    }
  }
  return bytes.toString('latin1');
}

function encodingProblem(body: string): string {
  const what = body === ''
    ? 'is empty'
    : body.includes('=')
      ? 'has "=" padding'
      : /[+/]/.test(body)
        ? 'uses "+" or "/" (standard base64)'
        : /\s/.test(body)
          ? 'contains whitespace'
          : 'is not valid base64url';
  return `the token after "${TOKEN_PREFIX}" ${what}; it must be base64url without padding (RFC 4648 §5); ${REMEDY}`;
}

// ---------------------------------------------------------------------------------------------------------------
// URL structure, read from the raw string

function splitUrl(url: string): { host: string; query: string } {
  const colon = url.indexOf(':');
  if (colon <= 0) fail('ERR_TOKEN_URL', `the token does not contain a URL; ${REMEDY}`);
  if (url.slice(0, colon) !== 'https') fail('ERR_TOKEN_SCHEME', 'the pre-signed URL must use https (lower case), and this one does not');
  if (!url.startsWith('//', colon + 1)) fail('ERR_TOKEN_URL', `the pre-signed URL has no "//" and host after "https:"; ${REMEDY}`);
  const rest = url.slice(colon + 3);
  const authorityEnd = firstIndexOf(rest, '/?#');
  const authority = rest.slice(0, authorityEnd);
  if (authority.includes('@')) fail('ERR_TOKEN_USERINFO', 'the pre-signed URL has a user name or password before the host; STS URLs never do');
  if (authority.includes('[')) fail('ERR_TOKEN_HOST', 'the pre-signed URL addresses an IP address; it must name an STS host');
  if (authority.includes(':')) fail('ERR_TOKEN_PORT', 'the pre-signed URL names a port (even :443 is refused); STS URLs never do');
  const after = rest.slice(authorityEnd);
  if (after.includes('#')) fail('ERR_TOKEN_FRAGMENT', 'the pre-signed URL has a #fragment; STS URLs never do');
  const questionMark = after.indexOf('?');
  const path = questionMark === -1 ? after : after.slice(0, questionMark);
  if (path !== '/') fail('ERR_TOKEN_PATH', `the pre-signed URL's path is not "/"; GetCallerIdentity is only ever signed for "/"; ${REMEDY}`);
  return { host: authority, query: questionMark === -1 ? '' : after.slice(questionMark + 1) };
}

function firstIndexOf(text: string, characters: string): number {
  for (let i = 0; i < text.length; i++) if (characters.includes(text.charAt(i))) return i;
  return text.length;
}

// Belt and braces: a standard URL parser must see the same host and path, or the two readings of this URL differ
// and something downstream could act on the other one.
function crossCheckUrl(url: string, host: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail('ERR_TOKEN_URL', `the pre-signed URL does not parse as a URL; ${REMEDY}`);
  }
  const agrees = parsed.protocol === 'https:' && parsed.hostname === host && parsed.port === '' && parsed.username === '' &&
    parsed.password === '' && parsed.pathname === '/' && parsed.hash === '';
  if (!agrees) fail('ERR_TOKEN_URL', `the pre-signed URL reads differently to different URL parsers, so it is refused; ${REMEDY}`);
}

// ---------------------------------------------------------------------------------------------------------------
// host allow-set

function resolveStsHost(host: string, policy: HostPolicy): StsHost {
  const known = policy.accepted.get(host);
  if (known) return known;
  const found = matchStsHost(host, policy);
  policy.accepted.set(host, found);
  return found;
}

function matchStsHost(host: string, policy: HostPolicy): StsHost {
  const shown = JSON.stringify(host.slice(0, MAX_HOST_LENGTH));
  if (host === '') fail('ERR_TOKEN_HOST', `the pre-signed URL has no host; ${REMEDY}`);
  if (host !== host.toLowerCase()) {
    fail('ERR_TOKEN_HOST', `the STS host ${shown} is not lower case; SDKs presign lower-case host names and this verifier compares them exactly`);
  }
  if (host.endsWith('.')) {
    fail('ERR_TOKEN_HOST', `the STS host ${shown} ends with a dot; no SDK presigns for that form, so the token is refused`);
  }
  if (host === GLOBAL_STS_HOST) {
    if (policy.partitions.has(GLOBAL_PARTITION)) return { partition: GLOBAL_PARTITION, signingRegion: GLOBAL_SIGNING_REGION };
    fail('ERR_TOKEN_HOST', `the global STS host ${GLOBAL_STS_HOST} is in partition aws, ` +
      `which this verifier does not accept (accepted: ${policy.description})`);
  }
  const firstDot = host.indexOf('.');
  const secondDot = host.indexOf('.', firstDot + 1);
  const label = host.slice(0, firstDot);
  const region = host.slice(firstDot + 1, secondDot);
  const suffix = host.slice(secondDot + 1);
  const notSts = `${shown} is not an STS host of the accepted partitions (${policy.description}); ` +
    'tokens must be presigned for sts.<region>.<partition domain> (or its FIPS or dual-stack form)';
  if (firstDot === -1 || secondDot === -1 || (label !== 'sts' && label !== 'sts-fips') || !isRegionName(region)) {
    fail('ERR_TOKEN_HOST', notSts);
  }
  const owner = sdkListedRegion(region);
  if (owner === undefined) {
    fail('ERR_TOKEN_HOST', `the STS host ${shown} names region ${region}, which is not in the SDK's region list; ` +
      'if it is a new region, add it to the verifier\'s accepted regions');
  }
  if (!policy.partitions.has(owner.name)) {
    fail('ERR_TOKEN_HOST', `the STS host ${shown} is in partition ${owner.name}, ` +
      `which this verifier does not accept (accepted: ${policy.description})`);
  }
  // Exactly the hosts the signer can produce for this region: no FIPS name where STS has no FIPS endpoint.
  if (!stsHostsForRegion(region).includes(host)) {
    if (label === 'sts-fips' && (suffix === owner.dnsSuffix || suffix === owner.dualStackDnsSuffix)) {
      fail('ERR_TOKEN_HOST', `the STS host ${shown} does not exist: STS has no FIPS endpoint ${suffix === owner.dnsSuffix ? '' : 'with dual-stack '}` +
        `in ${region}, so STS could never answer for it; make the token without AWS_USE_FIPS_ENDPOINT`);
    }
    fail('ERR_TOKEN_HOST', notSts);
  }
  return { partition: owner.name, signingRegion: region };
}

// ---------------------------------------------------------------------------------------------------------------
// query

interface QueryParameter {
  /** The name as spelled in the token (kept: SigV4 signs names as written). */
  name: string;
  /** Percent-decoded value: printable ASCII only. */
  value: string;
}

// Reads the raw query itself: split on "&", then on the first "=". A key repeated in any spelling is refused here,
// before anything can merge the copies (CVE-2022-2385: the old authenticator lower-cased keys into a map, so its
// checks saw one X-Amz-Credential and STS used the other).
function parseQuery(query: string): Map<string, QueryParameter> {
  const params = new Map<string, QueryParameter>();
  if (query === '') return params;
  for (const segment of query.split('&')) {
    if (segment === '') fail('ERR_TOKEN_QUERY', `the pre-signed URL's query has an empty parameter ("&&", or "&" at an end); ${REMEDY}`);
    const equals = segment.indexOf('=');
    const name = equals === -1 ? segment : segment.slice(0, equals);
    const key = name.toLowerCase();
    if (!PARAMETER_NAMES.has(key)) {
      fail('ERR_TOKEN_PARAMETER', `query parameter ${describeName(name)} is not allowed in a pre-signed GetCallerIdentity URL ` +
        `(allowed: ${ALLOWED_LIST}); ${REMEDY}`);
    }
    const earlier = params.get(key);
    if (earlier !== undefined) refuseRepeat(name, earlier.name);
    if (equals === -1) fail('ERR_TOKEN_QUERY', `query parameter ${name} has no "=" and value; ${REMEDY}`);
    const decoded = percentDecode(segment.slice(equals + 1), name);
    if (decoded.includes(',')) {
      fail('ERR_TOKEN_MULTIVALUE_PARAMETER', `query parameter ${name} holds a comma-separated list; it takes exactly one value`);
    }
    params.set(key, { name, value: decoded });
  }
  return params;
}

function refuseRepeat(name: string, earlierName: string): never {
  if (name === earlierName) {
    fail('ERR_TOKEN_MULTIVALUE_PARAMETER', `query parameter ${name} is given more than once; each parameter takes exactly one value`);
  }
  fail('ERR_TOKEN_DUPLICATE_PARAMETER', `query parameters ${earlierName} and ${name} are the same parameter (names differ only in case); ` +
    'such tokens were used to bypass verifiers (CVE-2022-2385) and are refused');
}

function describeName(name: string): string {
  return PLAIN_PARAMETER_NAME.test(name) ? `"${name}"` : '(a name that is not a plain word)';
}

// SigV4 sends every byte except A-Z a-z 0-9 - _ . ~ percent-encoded; anything else raw ("+", "/", ";", …) is refused
// rather than guessed at, since parsers disagree on what it means.
function percentDecode(raw: string, name: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code !== 0x25) {
      if (!isUnreserved(code)) {
        fail('ERR_TOKEN_QUERY', `query parameter ${name} has a character that must be percent-encoded ` +
          `(SigV4 leaves only A-Z a-z 0-9 - _ . ~ as is); ${REMEDY}`);
      }
      out += raw.charAt(i);
      continue;
    }
    const byte = hexValue(raw.charCodeAt(i + 1)) * 16 + hexValue(raw.charCodeAt(i + 2));
    if (Number.isNaN(byte)) fail('ERR_TOKEN_QUERY', `query parameter ${name} has a malformed %-escape; ${REMEDY}`);
    if (byte < 0x21 || byte > 0x7e) {
      fail('ERR_TOKEN_QUERY', `query parameter ${name} decodes to spaces, control characters or non-ASCII bytes; ${REMEDY}`);
    }
    out += String.fromCharCode(byte);
    i += 2;
  }
  return out;
}

function isUnreserved(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) ||
    code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return Number.NaN;
}

function requireParameters(params: Map<string, QueryParameter>): void {
  const missing = REQUIRED_PARAMETERS.filter((key) => !params.has(key)).map((key) => PARAMETER_NAMES.get(key));
  if (missing.length > 0) {
    fail('ERR_TOKEN_MISSING_PARAMETER', `the pre-signed URL lacks ${missing.join(', ')}; ${REMEDY}`);
  }
}

function value(params: Map<string, QueryParameter>, key: string): string {
  return params.get(key)?.value ?? '';
}

// ---------------------------------------------------------------------------------------------------------------
// parameter values

function checkAction(action: string): void {
  if (action !== ACTION) fail('ERR_TOKEN_ACTION', `the pre-signed URL is for another STS action than ${ACTION}; only ${ACTION} tokens are accepted`);
}

function checkVersion(version: string): void {
  if (version !== STS_API_VERSION) {
    fail('ERR_TOKEN_VERSION', `the pre-signed URL's Version is not ${STS_API_VERSION}, the STS API version every EKS token uses; ${REMEDY}`);
  }
}

function checkAlgorithm(algorithm: string): void {
  if (algorithm !== ALGORITHM) fail('ERR_TOKEN_ALGORITHM', `the pre-signed URL's X-Amz-Algorithm is not ${ALGORITHM}; ${REMEDY}`);
}

function parseSignedHeaders(list: string): string[] {
  const headers = list.split(';');
  const wellFormed = headers.every((header) => HEADER_NAME.test(header)) && new Set(headers).size === headers.length;
  if (!wellFormed) {
    fail('ERR_TOKEN_SIGNED_HEADERS', 'X-Amz-SignedHeaders is not a ";"-separated list of distinct lower-case header names');
  }
  if (!headers.includes(CLUSTER_ID_HEADER)) {
    // aws-iam-authenticator's wording, so operators searching for it find both.
    fail('ERR_TOKEN_SIGNED_HEADERS', `client did not sign the ${CLUSTER_ID_HEADER} header in the pre-signed URL; ` +
      `such a token is not bound to a cluster; ${REMEDY}`);
  }
  if (!headers.includes('host')) fail('ERR_TOKEN_SIGNED_HEADERS', `client did not sign the host header in the pre-signed URL; ${REMEDY}`);
  return headers;
}

function parseAmzDate(text: string): Date {
  const match = AMZ_DATE.exec(text);
  const [year, month, day, hour, minute, second] = (match ?? []).slice(1).map(Number);
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) {
    fail('ERR_TOKEN_DATE', 'X-Amz-Date is not a UTC time in the form yyyymmddThhmmssZ');
  }
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls over (month 13, 31 February, 24:00); a real timestamp reads back the same.
  const exact = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  if (!exact) fail('ERR_TOKEN_DATE', 'X-Amz-Date is not a real date and time (yyyymmddThhmmssZ)');
  return date;
}

function checkTimeWindow(signedAt: Date, validUntil: Date, { now, skewMs }: Clock): void {
  if (now > validUntil.getTime()) {
    fail('ERR_TOKEN_EXPIRED', `the token was signed at ${iso(signedAt)} and expired at ${iso(validUntil)} ` +
      `(STS honours a pre-signed URL for 15 minutes; it is now ${iso(new Date(now))}); ` +
      'get a new token, and check the client\'s clock if this repeats');
  }
  if (signedAt.getTime() > now + skewMs) {
    fail('ERR_TOKEN_NOT_YET_VALID', `the token is signed for ${iso(signedAt)}, more than ${skewMs / 1000} s after this verifier's time ` +
      `${iso(new Date(now))}; synchronise the clocks of the client and the verifier (NTP)`);
  }
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// <access key id>/<yyyymmdd>/<region>/sts/aws4_request
function checkCredential(credential: string, amzDate: string, host: string, signingRegion: string): string {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || !ACCESS_KEY_ID.test(accessKeyId) || date === undefined || !SCOPE_DATE.test(date)) {
    fail('ERR_TOKEN_CREDENTIAL', 'X-Amz-Credential is not <access key id>/<yyyymmdd>/<region>/sts/aws4_request');
  }
  if (service !== SCOPE_SERVICE || terminator !== SCOPE_TERMINATOR) {
    fail('ERR_TOKEN_CREDENTIAL_SCOPE', `X-Amz-Credential is scoped to another service than ${SCOPE_SERVICE}/${SCOPE_TERMINATOR}; ${REMEDY}`);
  }
  if (date !== amzDate.slice(0, 8)) {
    fail('ERR_TOKEN_SCOPE_DATE', `X-Amz-Credential's date is not the day of X-Amz-Date (${amzDate.slice(0, 8)}); ${REMEDY}`);
  }
  if (region !== signingRegion) {
    fail('ERR_TOKEN_SCOPE_REGION', `the token is signed for another region than its STS host ${host} serves (${signingRegion}); ` +
      'the client must sign for the region of the endpoint it addresses (us-east-1 for sts.amazonaws.com)');
  }
  return accessKeyId;
}

function parseExpires(text: string): number {
  const seconds = EXPIRES.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 0 && seconds <= MAX_EXPIRES_SECONDS)) {
    fail('ERR_TOKEN_EXPIRES_RANGE', `X-Amz-Expires must be a whole number of seconds from 0 to ${MAX_EXPIRES_SECONDS}; ${REMEDY}`);
  }
  return seconds;
}

function checkSignature(signature: string): void {
  if (!SIGNATURE.test(signature)) fail('ERR_TOKEN_SIGNATURE', 'X-Amz-Signature is not 64 lower-case hexadecimal digits');
}

function checkSessionToken(sessionToken: string): void {
  if (sessionToken === '') {
    fail('ERR_TOKEN_SECURITY_TOKEN', `X-Amz-Security-Token is empty; it must be left out when there is no session token; ${REMEDY}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the URL a verifier sends

// Parameters in botocore's order (the order eksauth token writes too), values re-encoded the SigV4 way; the signature
// stays valid because STS canonicalises (sorts and re-encodes) the query before checking it.
function rebuildUrl(host: string, params: Map<string, QueryParameter>): URL {
  const query = [...params.values()]
    .sort((a, b) => compareQueryNames(a.name, b.name))
    .map(({ name, value: text }) => `${name}=${sigV4Encode(text)}`)
    .join('&');
  return new URL(`https://${host}/?${query}`);
}

function sigV4Encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
