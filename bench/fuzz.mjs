// Mutation fuzzing of validateToken, on the built library (dist/lib). Starts from valid tokens made by the real
// presigner, applies 1–4 random mutations per run (character edits, insertions, deletions, re-encodings, key case,
// duplicated/added/removed parameters, host swaps, percent-encoding tricks), and checks every outcome:
//   - a refusal must be an EksAuthError with an ERR_TOKEN_* code whose message carries no secret;
//   - an acceptance must still be exactly a presigned GetCallerIdentity: host in an allow-list written out here,
//     https, path "/", no port/userinfo/fragment, allow-listed parameters each once, required ones present with the
//     right values, the same meaning to a lenient reader as the rebuilt URL, and the rebuilt URL a fixed point.
// Prints runs, accepted, refusals by code; exits 1 on any violation. CPU only; bounded by EKSAUTH_FUZZ_MAX_SECONDS.
//
//   EKSAUTH_FUZZ_RUNS (default 100000)  EKSAUTH_FUZZ_SEED (default random)  EKSAUTH_FUZZ_MAX_SECONDS (default 300)
import { resolveStsEndpoint } from '../dist/lib/aws/sts-endpoint.js';
import { EksAuthError } from '../dist/lib/errors.js';
import { encodeToken, TOKEN_PREFIX } from '../dist/lib/token/format.js';
import { presignGetCallerIdentity } from '../dist/lib/token/presign.js';
import { validateToken } from '../dist/lib/token/validate.js';

const runs = positiveInt(process.env.EKSAUTH_FUZZ_RUNS, 100_000);
const seed = positiveInt(process.env.EKSAUTH_FUZZ_SEED, Math.floor(Math.random() * 2 ** 31));
const maxSeconds = positiveInt(process.env.EKSAUTH_FUZZ_MAX_SECONDS, 300);

function positiveInt(text, fallback) {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`not a whole number: ${text}\n`);
    process.exit(2);
  }
  return value;
}

// --- inputs --------------------------------------------------------------------------------------------------

const SIGNED_AT = new Date('2020-09-30T09:37:26Z');
const OPTIONS = { now: new Date('2020-09-30T09:40:00Z'), partitions: ['aws', 'aws-cn'] };
const ACCESS_KEY_ID = 'EKSAUTHFUZZKEY000001';
const SESSION_TOKEN = 'FwoGZXIvYXdzEMP//////////wEaDLuLD7I1gA6LW1mZcSKxAZWj+FUZZSECRET=';
const ALLOWED = ['action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires',
  'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders'];
const REQUIRED = ALLOWED.filter((name) => name !== 'x-amz-security-token');

// The allow-list the accepted hosts are checked against, written out by hand (not derived from validate.js) for every
// region the mutations can plausibly reach from the base tokens, plus the global endpoint.
const ORACLE_HOSTS = new Map([['sts.amazonaws.com', 'us-east-1']]);
for (const [regions, suffixes] of [
  [['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2'], ['amazonaws.com', 'api.aws']],
  [['cn-north-1', 'cn-northwest-1'], ['amazonaws.com.cn', 'api.amazonwebservices.com.cn']],
]) {
  for (const region of regions) for (const suffix of suffixes) ORACLE_HOSTS.set(`sts.${region}.${suffix}`, region);
}
// FIPS STS hosts exist in four US regions only, and not with dual-stack (botocore's STS endpoint data).
for (const region of ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2']) ORACLE_HOSTS.set(`sts-fips.${region}.amazonaws.com`, region);

async function presign(endpoint, sessionToken) {
  return presignGetCallerIdentity({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'SECRET', ...(sessionToken ? { sessionToken } : {}) },
    clusterId: 'c1',
    endpoint,
    signingDate: SIGNED_AT,
  });
}

const bases = [
  await presign(resolveStsEndpoint({ region: 'us-west-2' }), SESSION_TOKEN),
  await presign(resolveStsEndpoint({ region: 'us-west-2' })),
  await presign({ hostname: 'sts.amazonaws.com', signingRegion: 'us-east-1', partition: 'aws' }, SESSION_TOKEN),
  await presign(resolveStsEndpoint({ region: 'cn-north-1', useDualstackEndpoint: true }), SESSION_TOKEN),
  await presign(resolveStsEndpoint({ region: 'us-east-1', useFipsEndpoint: true }), SESSION_TOKEN),
];
const SECRETS = [SESSION_TOKEN.slice(0, 16), encodeURIComponent(SESSION_TOKEN).slice(0, 16), 'FUZZSECRET', ACCESS_KEY_ID,
  ...bases.map((url) => new URL(url).searchParams.get('X-Amz-Signature'))];

// --- a small seeded PRNG so a failing run can be replayed with EKSAUTH_FUZZ_SEED -------------------------------

let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const oneOf = (list) => list[int(list.length)];

// --- mutations -----------------------------------------------------------------------------------------------

const WEIRD = [...'aAzZ09-_.~%&=?#/:@;,+ \\\t\n[]"<>é', '%2F', '%2f', '%26', '%3D', '%00', '%25', '%', '..', '//', '\u0000', '\uD800', '\u212A'];
const HOSTS = ['sts.us-west-2.amazonaws.com', 'sts-fips.us-west-2.amazonaws.com', 'sts.us-west-2.api.aws', 'sts.amazonaws.com',
  'sts.us-west-1.amazonaws.com', 'sts.cn-north-1.amazonaws.com.cn', 'sts.cn-north-1.api.amazonwebservices.com.cn',
  'sts.eu-west-1.amazonaws.com', 'sts-fips.eu-west-1.amazonaws.com', 'sts.us-gov-west-1.amazonaws.com', 'sts.us-west-9.amazonaws.com',
  'STS.us-west-2.amazonaws.com', 'sts.us-west-2.amazonaws.com.', 'sts.us-west-2.amazonaws.com:443', 'sts.us-west-2.amazonaws.com.evil.com',
  'evil.com', 'sts.amazonaws.com@evil.com', 'evil.com#@sts.us-west-2.amazonaws.com', 'sts.us-west-2.amazonaws.com\\.evil.com',
  '127.0.0.1', '[::1]', 'sts%2eus-west-2.amazonaws.com', 'sts.us-west-2.amazonaws.com%2f.evil.com', 'ſts.us-west-2.amazonaws.com', ''];
const NAMES = [...ALLOWED, 'Action', 'X-Amz-Credential', 'X-AMZ-DATE', 'x-k8s-aws-id', 'RoleArn', 'foo', 'X-Amz-Foo', '', 'X-Amz-%44ate', 'Action%00'];
const VALUES = ['', 'GetCallerIdentity', 'AssumeRole', '2011-06-15', '0', '900', '901', '-1', '1e2', 'eve', 'host%3Bx-k8s-aws-id',
  `${ACCESS_KEY_ID}%2F20200930%2Fus-west-2%2Fsts%2Faws4_request`, `${ACCESS_KEY_ID}%2F20200930%2Fus-east-1%2Fsts%2Faws4_request`,
  `${ACCESS_KEY_ID}%2F20200929%2Fus-west-2%2Fsts%2Faws4_request`, `${ACCESS_KEY_ID}%2F20200930%2Fus-west-2%2Fiam%2Faws4_request`,
  '20200930T093726Z', '20200930T093726', '20200930T092000Z', '20200930T095000Z', '20200929T093726Z', '20200229T093726Z',
  'a,b', 'a%2Cb', 'a%2cb', '%E2%80%AE', 'A'.repeat(3100)];

const weird = () => Array.from({ length: 1 + int(4) }, () => oneOf(WEIRD)).join('');
const flipCase = (text) => [...text].map((c) => (random() < 0.5 ? c : c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

function split(url) {
  const q = url.indexOf('?');
  return q === -1 ? { head: url, segments: [] } : { head: url.slice(0, q), segments: url.slice(q + 1).split('&') };
}
const join = ({ head, segments }) => `${head}?${segments.join('&')}`;

const URL_MUTATIONS = {
  replace: (url) => { const i = int(url.length + 1); return url.slice(0, i) + weird() + url.slice(i + 1); },
  insert: (url) => { const i = int(url.length + 1); return url.slice(0, i) + weird() + url.slice(i); },
  delete: (url) => { const i = int(url.length + 1); return url.slice(0, i) + url.slice(i + 1 + int(6)); },
  keyCase: (url) => editSegment(url, (seg) => { const eq = seg.indexOf('='); return eq === -1 ? flipCase(seg) : flipCase(seg.slice(0, eq)) + seg.slice(eq); }),
  duplicate: (url) => {
    const s = split(url);
    if (s.segments.length === 0) return url;
    const seg = oneOf(s.segments);
    const eq = seg.indexOf('=');
    const name = flipCase(eq === -1 ? seg : seg.slice(0, eq));
    s.segments.splice(int(s.segments.length + 1), 0, random() < 0.5 ? name + (eq === -1 ? '' : seg.slice(eq)) : `${name}=${oneOf(VALUES)}`);
    return join(s);
  },
  add: (url) => { const s = split(url); s.segments.splice(int(s.segments.length + 1), 0, `${oneOf(NAMES)}=${oneOf(VALUES)}`); return join(s); },
  remove: (url) => { const s = split(url); s.segments.splice(int(s.segments.length), 1); return join(s); },
  host: (url) => { const end = url.indexOf('/', 8); return `https://${oneOf(HOSTS)}${end === -1 ? '/' : url.slice(end)}`; },
  value: (url) => editSegment(url, (seg) => `${seg.split('=')[0]}=${oneOf(VALUES)}`),
  percent: (url) => {
    const i = int(url.length);
    const hex = url.charCodeAt(i).toString(16).padStart(2, '0');
    return `${url.slice(0, i)}%${random() < 0.5 ? hex.toLowerCase() : hex.toUpperCase()}${url.slice(i + 1)}`;
  },
  doubleEncode: (url) => { const i = url.indexOf('%', int(url.length)); return i === -1 ? url : `${url.slice(0, i)}%25${url.slice(i + 1)}`; },
  unescape: (url) => {
    const i = url.indexOf('%', int(url.length));
    if (i === -1) return url;
    const byte = Number.parseInt(url.slice(i + 1, i + 3), 16);
    return Number.isNaN(byte) ? url : url.slice(0, i) + String.fromCharCode(byte) + url.slice(i + 3);
  },
  shuffle: (url) => {
    const s = split(url);
    for (let i = s.segments.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [s.segments[i], s.segments[j]] = [s.segments[j], s.segments[i]];
    }
    return join(s);
  },
  scheme: (url) => url.replace(/^https:\/\//, oneOf(['http://', 'HTTPS://', 'https:', 'https:///', 'https:\\\\', ' https://', 'https://a@', 'wss://'])),
  path: (url) => url.replace('/?', oneOf(['?', '//?', '/./?', '/%2F?', '/x/../?', '/?#', '/#?', '/;?'])),
};
const TOKEN_MUTATIONS = {
  tokenReplace: (token) => { const i = int(token.length + 1); return token.slice(0, i) + oneOf([...'Aa0-_=+/. \n']) + token.slice(i + 1); },
  tokenInsert: (token) => { const i = int(token.length + 1); return token.slice(0, i) + oneOf([...'Aa0-_=+/']) + token.slice(i); },
  tokenDelete: (token) => { const i = int(token.length + 1); return token.slice(0, i) + token.slice(i + 1 + int(3)); },
  reencode: (token) => {
    const body = token.slice(TOKEN_PREFIX.length);
    const bytes = Buffer.from(body, 'base64url');
    switch (int(5)) {
      case 0: return TOKEN_PREFIX + bytes.toString('base64').replace(/=+$/, '');
      case 1: return TOKEN_PREFIX + bytes.toString('base64url') + '='.repeat((4 - (body.length % 4)) % 4);
      case 2: return TOKEN_PREFIX.toUpperCase() + body;
      case 3: return body;
      default: return `${token} `;
    }
  },
};

function editSegment(url, edit) {
  const s = split(url);
  if (s.segments.length === 0) return url;
  const i = int(s.segments.length);
  s.segments[i] = edit(s.segments[i]);
  return join(s);
}

function mutate(url) {
  const applied = [];
  let current = url;
  const count = 1 + int(4);
  const tokenLevel = [];
  for (let n = 0; n < count; n++) {
    if (random() < 0.15) {
      tokenLevel.push(oneOf(Object.keys(TOKEN_MUTATIONS)));
    } else {
      const name = oneOf(Object.keys(URL_MUTATIONS));
      applied.push(name);
      current = URL_MUTATIONS[name](current);
    }
  }
  let token = encodeToken(current);
  for (const name of tokenLevel) {
    applied.push(name);
    token = TOKEN_MUTATIONS[name](token);
  }
  return { token, applied };
}

// --- invariants ----------------------------------------------------------------------------------------------

function lenientRead(token) {
  const url = new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  const query = url.search.slice(1);
  const pairs = query === '' ? [] : query.split('&').map((segment) => {
    const eq = segment.indexOf('=');
    return `${decodeURIComponent(segment.slice(0, eq))}=${decodeURIComponent(segment.slice(eq + 1))}`;
  });
  return { host: url.hostname, pairs: pairs.sort().join('&') };
}

function acceptanceProblems(token, result) {
  const problems = [];
  const expect = (ok, what) => { if (!ok) problems.push(what); };
  const { url } = result;
  expect(url.protocol === 'https:' && url.pathname === '/', 'rebuilt URL is not https://host/');
  expect(url.port + url.username + url.password + url.hash === '', 'rebuilt URL has a port, userinfo or fragment');
  expect(ORACLE_HOSTS.get(result.host) === result.region, `host ${result.host} (region ${result.region}) is not in the allow-list`);
  expect(url.hostname === result.host, 'rebuilt URL host differs from result.host');
  const names = url.search.slice(1).split('&').map((segment) => segment.slice(0, segment.indexOf('=')).toLowerCase());
  expect(new Set(names).size === names.length, 'a parameter repeats in the rebuilt URL');
  expect(names.every((name) => ALLOWED.includes(name)), 'a parameter outside the allow-list');
  expect(REQUIRED.every((name) => names.includes(name)), 'a required parameter is missing');
  const get = (name) => [...url.searchParams].find(([key]) => key.toLowerCase() === name)?.[1];
  expect(get('action') === 'GetCallerIdentity', 'Action is not GetCallerIdentity');
  expect(get('version') === '2011-06-15', 'Version is wrong');
  expect(get('x-amz-algorithm') === 'AWS4-HMAC-SHA256', 'algorithm is wrong');
  const signed = (get('x-amz-signedheaders') ?? '').split(';');
  expect(signed.includes('host') && signed.includes('x-k8s-aws-id'), 'host or x-k8s-aws-id not signed');
  const scope = (get('x-amz-credential') ?? '').split('/');
  expect(scope.length === 5 && scope[2] === result.region && scope[3] === 'sts' && scope[4] === 'aws4_request', 'credential scope is wrong');
  expect(/^[0-9a-f]{64}$/.test(get('x-amz-signature') ?? ''), 'signature is not 64 lower-case hex digits');
  const expires = Number(get('x-amz-expires'));
  expect(expires >= 0 && expires <= 900, 'X-Amz-Expires out of range');
  let seen;
  try {
    seen = lenientRead(token);
  } catch {
    problems.push('accepted a token a lenient reader cannot read');
    return problems;
  }
  const rebuilt = lenientRead(encodeToken(url.href));
  expect(seen.host === result.host, 'a lenient reader sees another host');
  expect(seen.pairs === rebuilt.pairs, 'a lenient reader sees other parameters than the rebuilt URL has');
  try {
    const again = validateToken(encodeToken(url.href), OPTIONS);
    expect(again.url.href === url.href && again.host === result.host && again.region === result.region &&
      again.accessKeyId === result.accessKeyId && again.signedAt.getTime() === result.signedAt.getTime(), 'the rebuilt URL is not a fixed point');
  } catch (err) {
    problems.push(`the rebuilt URL is refused (${err?.code ?? err})`);
  }
  return problems;
}

function refusalProblems(err) {
  if (!(err instanceof EksAuthError)) return [`threw ${err?.constructor?.name ?? typeof err}: ${err?.message ?? err}`];
  const problems = [];
  if (!err.code.startsWith('ERR_TOKEN_')) problems.push(`refused with ${err.code}`);
  for (const secret of SECRETS) if (err.message.includes(secret)) problems.push(`message of ${err.code} leaks a secret`);
  return problems;
}

// --- run -----------------------------------------------------------------------------------------------------

const outcomes = new Map();
const failures = [];
let tried = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(maxSeconds) * 1_000_000_000n;

for (; tried < runs; tried++) {
  if ((tried & 1023) === 0 && process.hrtime.bigint() > deadline) break;
  const { token, applied } = mutate(oneOf(bases));
  let outcome;
  let problems;
  try {
    const result = validateToken(token, OPTIONS);
    outcome = 'accepted';
    problems = acceptanceProblems(token, result);
  } catch (err) {
    outcome = err instanceof EksAuthError ? err.code : 'THREW';
    problems = refusalProblems(err);
  }
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (problems.length > 0 && failures.length < 20) {
    // Synthetic credentials only, so the decoded URL is printed to make the failure reproducible.
    failures.push({ run: tried, applied, problems, url: Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('latin1') });
  }
  if (problems.length > 0) outcomes.set('VIOLATIONS', (outcomes.get('VIOLATIONS') ?? 0) + 1);
}

const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const accepted = outcomes.get('accepted') ?? 0;
const violations = outcomes.get('VIOLATIONS') ?? 0;
process.stdout.write(`fuzz validateToken: seed ${seed}, ${tried} mutations in ${seconds.toFixed(1)} s (${Math.round(tried / seconds)}/s)\n`);
process.stdout.write(`  accepted (still valid after mutation): ${accepted}\n  rejected: ${tried - accepted - (outcomes.get('THREW') ?? 0)}\n`);
const codes = [...outcomes].filter(([key]) => key.startsWith('ERR_')).sort((a, b) => b[1] - a[1]);
for (const [code, count] of codes) process.stdout.write(`    ${code.padEnd(34)} ${count}\n`);
if (outcomes.has('THREW')) process.stdout.write(`  threw something other than EksAuthError: ${outcomes.get('THREW')}\n`);
for (const failure of failures) process.stdout.write(`VIOLATION run ${failure.run} [${failure.applied.join(', ')}]: ${failure.problems.join('; ')}\n  ${JSON.stringify(failure.url)}\n`);

if (tried < runs) process.stdout.write(`stopped after ${maxSeconds} s (EKSAUTH_FUZZ_MAX_SECONDS) with ${runs - tried} runs left\n`);
if (violations > 0) {
  process.stdout.write(`FAIL: ${violations} violations (replay with EKSAUTH_FUZZ_SEED=${seed})\n`);
  process.exit(1);
}
process.stdout.write('OK: no violations\n');
