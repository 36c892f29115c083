/**
 * Cache keys: every identity-affecting input changes the token key, no secret ever appears in a key, an edited AWS
 * file gives a new key, and the file name digest is FNV-1a 64 (checked against a BigInt reference).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKeys, entryName, type CacheKeyInputs } from '../../src/cache/key.js';
import { tempDir } from '../support/tools.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN//////////';

function files(): { env: NodeJS.ProcessEnv; config: string; credentials: string } {
  const dir = tempDir('eksauth-key-');
  const config = join(dir, 'config');
  const credentials = join(dir, 'credentials');
  writeFileSync(config, '[profile dev]\nregion = eu-west-1\n');
  writeFileSync(credentials, '[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n');
  return { env: { HOME: dir, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials }, config, credentials };
}

/** FNV-1a over UTF-16 code units in BigInt arithmetic, modulo 2^32: the reference for each lane of entryName. */
function fnv1a32Reference(text: string, offset: bigint, prime: bigint): string {
  let hash = offset;
  for (let i = 0; i < text.length; i++) hash = BigInt.asUintN(32, (hash ^ BigInt(text.charCodeAt(i))) * prime);
  return hash.toString(16).padStart(8, '0');
}

describe('cacheKeys', () => {
  const { env } = files();
  const base: CacheKeyInputs = {
    clusterId: 'prod',
    region: 'eu-west-1',
    env: { ...env, AWS_ACCESS_KEY_ID: 'AKIDALICE', AWS_SECRET_ACCESS_KEY: SECRET },
  };
  const tokenKey = (change: Partial<CacheKeyInputs>, envChange: NodeJS.ProcessEnv = {}) =>
    cacheKeys({ ...base, ...change, env: { ...base.env, ...envChange } }).token;

  it.each<[string, Partial<CacheKeyInputs>, NodeJS.ProcessEnv]>([
    ['cluster', { clusterId: 'staging' }, {}],
    ['region flag', { region: 'us-east-1' }, {}],
    ['--profile', { profile: 'dev' }, {}],
    ['role ARN', { roleArn: 'arn:aws:iam::111122223333:role/admin' }, {}],
    ['session name', { sessionName: 'audit' }, {}],
    ['external id', { externalId: 'partner-42' }, {}],
    ['--forward-session-name', { forwardSessionName: true }, {}],
    ['AWS_ACCESS_KEY_ID', {}, { AWS_ACCESS_KEY_ID: 'AKIDBOB' }],
    ['AWS_PROFILE', {}, { AWS_PROFILE: 'dev' }],
    ['AWS_REGION', {}, { AWS_REGION: 'us-west-2' }],
    ['AWS_USE_FIPS_ENDPOINT', {}, { AWS_USE_FIPS_ENDPOINT: 'true' }],
    ['AWS_USE_DUALSTACK_ENDPOINT', {}, { AWS_USE_DUALSTACK_ENDPOINT: 'true' }],
    ['AWS_STS_REGIONAL_ENDPOINTS', {}, { AWS_STS_REGIONAL_ENDPOINTS: 'legacy' }],
    ['AWS_ENDPOINT_URL_STS', {}, { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' }],
    ['AWS_ROLE_ARN (web identity)', {}, { AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/irsa' }],
    ['AWS_CONTAINER_CREDENTIALS_FULL_URI', {}, { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials' }],
    ['AWS_CREDENTIAL_EXPIRATION', {}, { AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z' }],
    ['a session token appearing', {}, { AWS_SESSION_TOKEN: SESSION }],
    ['a new SDK variable', {}, { AWS_SOMETHING_NEW: '1' }],
  ])('changes with the %s', (_name, change, envChange) => {
    expect(tokenKey(change, envChange)).not.toBe(tokenKey({}));
  });

  it('keeps the same key for the same inputs, and ignores what eksauth sets itself', () => {
    expect(tokenKey({})).toBe(tokenKey({}));
    expect(tokenKey({}, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' })).toBe(tokenKey({}));
  });

  it('never contains a secret value, only that one is set', () => {
    const keys = cacheKeys({
      ...base,
      env: { ...base.env, AWS_SESSION_TOKEN: SESSION, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-secret', AWS_BEARER_TOKEN_BEDROCK: 'bedrock-secret' },
    });
    for (const key of [keys.base, keys.role, keys.token]) {
      for (const secret of [SECRET, SESSION, 'container-secret', 'bedrock-secret']) expect(key).not.toContain(secret);
      expect(key).toContain('AKIDALICE');
    }
  });

  it('nests: base ⊂ role ⊂ token, so role credentials are shared across clusters and base across roles', () => {
    const prod = cacheKeys(base);
    const staging = cacheKeys({ ...base, clusterId: 'staging' });
    const withRole = cacheKeys({ ...base, roleArn: 'arn:aws:iam::111122223333:role/admin' });
    expect(staging.role).toBe(prod.role);
    expect(withRole.base).toBe(prod.base);
    expect(withRole.role).not.toBe(prod.role);
  });

  it('changes when a shared AWS file is edited, and is unstable for two seconds after an edit', () => {
    const { env: fileEnv, credentials } = files();
    const later = Date.now() + 5_000;
    expect(cacheKeys({ ...base, env: fileEnv }).stable).toBe(false);
    const before = cacheKeys({ ...base, env: fileEnv, nowMs: later });
    expect(before.stable).toBe(true);
    writeFileSync(credentials, '[dev]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s\n');
    const after = cacheKeys({ ...base, env: fileEnv, nowMs: later });
    expect(after.base).not.toBe(before.base);
  });
});

describe('entryName', () => {
  it('is two 32-bit FNV-1a lanes of the key, as 16 hex digits after the kind', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (key) => {
        const expected = fnv1a32Reference(key, 0x811c9dc5n, 0x01000193n) + fnv1a32Reference(key, 0x050c5d1fn, 0x2c8fc4c3n);
        expect(entryName('token', key)).toBe(`token-${expected}`);
      }),
    );
    expect(entryName('base', 'a').slice(0, 13)).toBe('base-e40c292c'); // the published FNV-1a 32 of "a"
  });
});
