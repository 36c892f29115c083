/**
 * Property-based tests of validateToken: random mutations of valid tokens are either refused with an EksAuthError or,
 * when accepted, are still exactly a presigned GetCallerIdentity by the rules, with the same meaning as the rebuilt
 * URL. The oracle here is deliberately independent of validate.ts: an explicit host list and a lenient reader.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveStsEndpoint, type StsEndpoint } from '../../src/aws/sts-endpoint.js';
import { EksAuthError } from '../../src/errors.js';
import { encodeToken, TOKEN_PREFIX } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { validateToken, type TokenValidationOptions, type ValidatedToken } from '../../src/token/validate.js';

const SIGNED_AT = new Date('2020-09-30T09:37:26Z');
const OPTIONS: TokenValidationOptions = { now: new Date('2020-09-30T09:40:00Z'), partitions: ['aws', 'aws-cn'] };
const SESSION_TOKEN = 'FwoGZXIvYXdzEMP//////////wEaDLuLD7I1gA6LW1mZcSKxAZWj+PROPERTYSECRET=';
const ALLOWED = ['action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires',
  'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders'];
const REQUIRED = ALLOWED.filter((name) => name !== 'x-amz-security-token');

// The oracle's allow-set, written out by hand (reference/user-demand-and-peers.md §4.1) for the regions mutations
// can plausibly reach from the base tokens. A host outside it that validateToken accepts fails the property.
const ORACLE_REGIONS: Record<string, [string, string]> = {
  'us-east-1': ['amazonaws.com', 'api.aws'],
  'us-east-2': ['amazonaws.com', 'api.aws'],
  'us-west-1': ['amazonaws.com', 'api.aws'],
  'us-west-2': ['amazonaws.com', 'api.aws'],
  'eu-west-1': ['amazonaws.com', 'api.aws'],
  'cn-north-1': ['amazonaws.com.cn', 'api.amazonwebservices.com.cn'],
  'cn-northwest-1': ['amazonaws.com.cn', 'api.amazonwebservices.com.cn'],
};
const ORACLE_HOSTS = new Map<string, string>([['sts.amazonaws.com', 'us-east-1']]);
for (const [region, suffixes] of Object.entries(ORACLE_REGIONS)) {
  for (const suffix of suffixes) ORACLE_HOSTS.set(`sts.${region}.${suffix}`, region);
  // FIPS STS hosts exist in four US regions only, and not with dual-stack (botocore's STS endpoint data).
  if (/^us-(east|west)-[12]$/.test(region)) ORACLE_HOSTS.set(`sts-fips.${region}.${suffixes[0]}`, region);
}

let bases: string[] = [];
let signatures: string[] = [];

function presign(target: StsEndpoint, sessionToken?: string): Promise<string> {
  return presignGetCallerIdentity({
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'SECRET', ...(sessionToken ? { sessionToken } : {}) },
    clusterId: 'c1',
    endpoint: target,
    signingDate: SIGNED_AT,
  });
}

beforeAll(async () => {
  bases = [
    await presign(resolveStsEndpoint({ region: 'us-west-2' }), SESSION_TOKEN),
    await presign(resolveStsEndpoint({ region: 'us-west-2' })),
    await presign({ hostname: 'sts.amazonaws.com', signingRegion: 'us-east-1', partition: 'aws' }, SESSION_TOKEN),
    await presign(resolveStsEndpoint({ region: 'cn-north-1', useDualstackEndpoint: true }), SESSION_TOKEN),
    await presign(resolveStsEndpoint({ region: 'us-east-1', useFipsEndpoint: true }), SESSION_TOKEN),
  ];
  signatures = bases.map((url) => new URL(url).searchParams.get('X-Amz-Signature') ?? '');
});

// --- mutations -----------------------------------------------------------------------------------------------

const WEIRD = [...'aAzZ09-_.~%&=?#/:@;,+ \\\t\n[]"<>é', '%2F', '%2f', '%26', '%3D', '%00', '%25', '%', '..', '//', '\u0000', '\uD800'];
const weirdText = fc.string({ unit: fc.constantFrom(...WEIRD), minLength: 1, maxLength: 4 });
const HOSTS = ['sts.us-west-2.amazonaws.com', 'sts-fips.us-west-2.amazonaws.com', 'sts.us-west-2.api.aws', 'sts.amazonaws.com',
  'sts.us-west-1.amazonaws.com', 'sts.cn-north-1.amazonaws.com.cn', 'sts.us-gov-west-1.amazonaws.com', 'sts.us-west-9.amazonaws.com',
  'STS.us-west-2.amazonaws.com', 'sts.us-west-2.amazonaws.com.', 'sts.us-west-2.amazonaws.com:443', 'sts.us-west-2.amazonaws.com.evil.com',
  'evil.com', 'sts.amazonaws.com@evil.com', 'evil.com#@sts.us-west-2.amazonaws.com', 'sts.us-west-2.amazonaws.com\\.evil.com',
  '127.0.0.1', '[::1]', 'sts%2eus-west-2.amazonaws.com', 'xn--sts-us-west-2-amazonaws-com', ''];
const NAMES = [...ALLOWED, 'Action', 'X-Amz-Credential', 'X-AMZ-DATE', 'x-k8s-aws-id', 'RoleArn', 'foo', 'X-Amz-Foo', '', 'X-Amz-%44ate'];
const VALUES = ['', 'GetCallerIdentity', 'AssumeRole', '2011-06-15', '0', '900', '901', '-1', 'eve', 'host%3Bx-k8s-aws-id',
  'AKIAIOSFODNN7EXAMPLE%2F20200930%2Fus-west-2%2Fsts%2Faws4_request', '20200930T093726Z', '20200930T092000Z', '20200930T095000Z',
  '20200929T093726Z', 'a,b', 'a%2Cb', 'A'.repeat(3100)];

type Mutation =
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'keyCase'; param: number; mask: number }
  | { kind: 'duplicate'; param: number; mask: number; value?: string }
  | { kind: 'add'; name: string; value: string; mask: number }
  | { kind: 'remove'; param: number }
  | { kind: 'host'; host: string }
  | { kind: 'value'; param: number; value: string }
  | { kind: 'percent'; at: number; lower: boolean }
  | { kind: 'unescape'; at: number }
  | { kind: 'shuffle'; seed: number }
  | { kind: 'tokenReplace'; at: number; text: string }
  | { kind: 'tokenDelete'; at: number; count: number }
  | { kind: 'reencode'; how: 'std' | 'padded' | 'prefixCase' | 'noPrefix' };

const at = fc.nat({ max: 4000 });
const mask = fc.nat({ max: 0xffff });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at, text: weirdText }),
  fc.record({ kind: fc.constant('insert' as const), at, text: weirdText }),
  fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('keyCase' as const), param: fc.nat(), mask }),
  fc.record({ kind: fc.constant('duplicate' as const), param: fc.nat(), mask, value: fc.option(fc.constantFrom(...VALUES), { nil: undefined }) }),
  fc.record({ kind: fc.constant('add' as const), name: fc.constantFrom(...NAMES), value: fc.constantFrom(...VALUES), mask }),
  fc.record({ kind: fc.constant('remove' as const), param: fc.nat() }),
  fc.record({ kind: fc.constant('host' as const), host: fc.constantFrom(...HOSTS) }),
  fc.record({ kind: fc.constant('value' as const), param: fc.nat(), value: fc.constantFrom(...VALUES) }),
  fc.record({ kind: fc.constant('percent' as const), at, lower: fc.boolean() }),
  fc.record({ kind: fc.constant('unescape' as const), at }),
  fc.record({ kind: fc.constant('shuffle' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('tokenReplace' as const), at, text: fc.string({ unit: fc.constantFrom(...'Aa0-_=+/. \n'), minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('tokenDelete' as const), at, count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('reencode' as const), how: fc.constantFrom('std' as const, 'padded' as const, 'prefixCase' as const, 'noPrefix' as const) }),
);

interface Split { head: string; segments: string[] }
function split(url: string): Split {
  const q = url.indexOf('?');
  return q === -1 ? { head: url, segments: [] } : { head: url.slice(0, q), segments: url.slice(q + 1).split('&') };
}
const join = ({ head, segments }: Split): string => `${head}?${segments.join('&')}`;
const pick = <T>(list: T[], index: number): number => (list.length === 0 ? -1 : index % list.length);

function flipCase(text: string, bits: number): string {
  return [...text].map((c, i) => ((bits >> (i % 16)) & 1 ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
}

function editUrl(url: string, m: Mutation): string {
  const s = split(url);
  switch (m.kind) {
    case 'replace': { const i = m.at % (url.length + 1); return url.slice(0, i) + m.text + url.slice(i + 1); }
    case 'insert': { const i = m.at % (url.length + 1); return url.slice(0, i) + m.text + url.slice(i); }
    case 'delete': { const i = m.at % (url.length + 1); return url.slice(0, i) + url.slice(i + m.count); }
    case 'keyCase': {
      const i = pick(s.segments, m.param);
      if (i < 0) return url;
      const seg = s.segments[i]!;
      const eq = seg.indexOf('=');
      s.segments[i] = eq === -1 ? flipCase(seg, m.mask) : flipCase(seg.slice(0, eq), m.mask) + seg.slice(eq);
      return join(s);
    }
    case 'duplicate': {
      const i = pick(s.segments, m.param);
      if (i < 0) return url;
      const seg = s.segments[i]!;
      const eq = seg.indexOf('=');
      const name = flipCase(eq === -1 ? seg : seg.slice(0, eq), m.mask);
      s.segments.push(m.value === undefined ? name + (eq === -1 ? '' : seg.slice(eq)) : `${name}=${m.value}`);
      return join(s);
    }
    case 'add': s.segments.splice(m.mask % (s.segments.length + 1), 0, `${m.name}=${m.value}`); return join(s);
    case 'remove': { const i = pick(s.segments, m.param); if (i >= 0) s.segments.splice(i, 1); return join(s); }
    case 'host': { const end = url.indexOf('/', 8); return `https://${m.host}${end === -1 ? '/' : url.slice(end)}`; }
    case 'value': {
      const i = pick(s.segments, m.param);
      if (i < 0) return url;
      const seg = s.segments[i]!;
      s.segments[i] = `${seg.split('=')[0]}=${m.value}`;
      return join(s);
    }
    case 'percent': {
      const i = m.at % url.length;
      const hex = url.charCodeAt(i).toString(16).padStart(2, '0');
      return `${url.slice(0, i)}%${m.lower ? hex.toLowerCase() : hex.toUpperCase()}${url.slice(i + 1)}`;
    }
    case 'unescape': {
      const from = url.indexOf('%', m.at % url.length);
      const i = from === -1 ? url.indexOf('%') : from;
      if (i === -1) return url;
      const byte = Number.parseInt(url.slice(i + 1, i + 3), 16);
      return Number.isNaN(byte) ? url : url.slice(0, i) + String.fromCharCode(byte) + url.slice(i + 3);
    }
    case 'shuffle': {
      let seed = m.seed + 1;
      for (let i = s.segments.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (i + 1);
        [s.segments[i], s.segments[j]] = [s.segments[j]!, s.segments[i]!];
      }
      return join(s);
    }
    default: return url;
  }
}

function editToken(token: string, m: Mutation): string {
  const body = token.slice(TOKEN_PREFIX.length);
  switch (m.kind) {
    case 'tokenReplace': { const i = m.at % (token.length + 1); return token.slice(0, i) + m.text + token.slice(i + 1); }
    case 'tokenDelete': { const i = m.at % (token.length + 1); return token.slice(0, i) + token.slice(i + m.count); }
    case 'reencode': {
      const url = Buffer.from(body, 'base64url');
      if (m.how === 'std') return TOKEN_PREFIX + url.toString('base64').replace(/=+$/, '');
      if (m.how === 'padded') return TOKEN_PREFIX + url.toString('base64url') + '='.repeat((4 - (body.length % 4)) % 4);
      if (m.how === 'prefixCase') return TOKEN_PREFIX.toUpperCase() + body;
      return body;
    }
    default: return token;
  }
}

function mutate(url: string, mutations: Mutation[]): string {
  let current = url;
  const tokenLevel: Mutation[] = [];
  for (const m of mutations) {
    if (m.kind === 'tokenReplace' || m.kind === 'tokenDelete' || m.kind === 'reencode') tokenLevel.push(m);
    else current = editUrl(current, m);
  }
  let token = encodeToken(current);
  for (const m of tokenLevel) token = editToken(token, m);
  return token;
}

// --- the invariants ------------------------------------------------------------------------------------------

/** What a lenient, independent reader (the way STS might read it) makes of a token: host and decoded pairs. */
function lenientRead(token: string): { host: string; pairs: string[] } {
  const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  const query = url.search.slice(1);
  const pairs = query === '' ? [] : query.split('&').map((segment) => {
    const eq = segment.indexOf('=');
    return `${decodeURIComponent(segment.slice(0, eq))}=${decodeURIComponent(segment.slice(eq + 1))}`;
  });
  return { host: url.hostname, pairs: pairs.sort() };
}

function assertStillValid(token: string, result: ValidatedToken): void {
  const { url } = result;
  expect(url.protocol).toBe('https:');
  expect(url.port + url.username + url.password + url.hash).toBe('');
  expect(url.pathname).toBe('/');
  expect(ORACLE_HOSTS.get(result.host)).toBe(result.region);
  expect(url.hostname).toBe(result.host);

  const names = url.search.slice(1).split('&').map((segment) => segment.slice(0, segment.indexOf('=')).toLowerCase());
  expect(new Set(names).size).toBe(names.length);
  for (const name of names) expect(ALLOWED).toContain(name);
  for (const name of REQUIRED) expect(names).toContain(name);
  const get = (name: string): string | undefined => [...url.searchParams].find(([key]) => key.toLowerCase() === name)?.[1];
  expect(get('action')).toBe('GetCallerIdentity');
  expect(get('version')).toBe('2011-06-15');
  expect(get('x-amz-algorithm')).toBe('AWS4-HMAC-SHA256');
  expect(get('x-amz-signedheaders')?.split(';')).toEqual(expect.arrayContaining(['host', 'x-k8s-aws-id']));
  expect(get('x-amz-credential')?.split('/').slice(2)).toEqual([result.region, 'sts', 'aws4_request']);
  expect(get('x-amz-signature')).toMatch(/^[0-9a-f]{64}$/);

  // Same meaning: what a lenient reader sees in the accepted token is exactly what the rebuilt URL says.
  const seen = lenientRead(token);
  expect(seen.host).toBe(result.host);
  expect(seen.pairs).toEqual(lenientRead(encodeToken(url.href)).pairs);

  // The rebuilt URL is a fixed point.
  const again = validateToken(encodeToken(url.href), OPTIONS);
  expect(again.url.href).toBe(url.href);
  expect({ ...again, url: again.url.href }).toEqual({ ...result, url: url.href });
}

function assertRefusedCleanly(err: unknown): void {
  expect(err).toBeInstanceOf(EksAuthError);
  const { code, message } = err as EksAuthError;
  expect(code.startsWith('ERR_TOKEN_')).toBe(true);
  for (const secret of [SESSION_TOKEN.slice(0, 16), encodeURIComponent(SESSION_TOKEN).slice(0, 16), 'PROPERTYSECRET', ...signatures, 'AKIAIOSFODNN7EXAMPLE']) {
    expect(message).not.toContain(secret);
  }
}

function check(token: string): 'accepted' | string {
  let result: ValidatedToken;
  try {
    result = validateToken(token, OPTIONS);
  } catch (err) {
    assertRefusedCleanly(err);
    return (err as EksAuthError).code;
  }
  assertStillValid(token, result);
  return 'accepted';
}

describe('validateToken under random mutation', () => {
  it('accepts the unmutated base tokens', () => {
    for (const url of bases) expect(check(encodeToken(url))).toBe('accepted');
  });

  it('refuses mutated tokens with an EksAuthError, or accepts only what is still exactly valid', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const outcome = check(mutate(bases[which % bases.length]!, mutations));
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { numRuns: 4000 },
    );
    // The mutations reach many rules, and some still-valid variants (reordering, key case, escapes) get through.
    expect(outcomes.size).toBeGreaterThan(15);
    expect(outcomes.get('accepted') ?? 0).toBeGreaterThan(0);
  });

  it('refuses every case-variant repeat of a parameter (CVE-2022-2385)', () => {
    fc.assert(
      // Values that are well-formed on their own, so the repeat is the first thing wrong wherever it is inserted.
      fc.property(fc.nat(), fc.nat(), mask, fc.constantFrom(...VALUES.filter((v) => v.length < 100 && !decodeURIComponent(v).includes(','))), (which, param, bits, value) => {
        const { head, segments } = split(bases[which % bases.length]!);
        const name = segments[param % segments.length]!.split('=')[0]!;
        const variant = flipCase(name, bits);
        const expected = variant === name ? 'ERR_TOKEN_MULTIVALUE_PARAMETER' : 'ERR_TOKEN_DUPLICATE_PARAMETER';
        const position = bits % (segments.length + 1);
        const edited = [...segments.slice(0, position), `${variant}=${value}`, ...segments.slice(position)];
        expect(check(encodeToken(join({ head, segments: edited })))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts any order of the parameters and rebuilds the same URL', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (which, seed) => {
        const url = bases[which % bases.length]!;
        const token = mutate(url, [{ kind: 'shuffle', seed }]);
        expect(check(token)).toBe('accepted');
        expect(validateToken(token, OPTIONS).url.href).toBe(url);
      }),
      { numRuns: 300 },
    );
  });

  it('throws only EksAuthError for arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.base64String({ maxLength: 400 }).map((body) => TOKEN_PREFIX + body),
          fc.webUrl({ withQueryParameters: true, withFragments: true }).map((url) => encodeToken(url)),
          fc.string({ maxLength: 200 }).map((text) => encodeToken(`https://sts.us-west-2.amazonaws.com/?${text}`)),
        ),
        (token) => {
          check(token);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
