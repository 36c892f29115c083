/**
 * Cache keys: what a cached token or credential set stands for, written out in full.
 *
 * A key is a canonical string of every input that can change which identity signs a token or where the token is
 * valid. An entry is served only when the key stored inside it equals the key computed now, character for character,
 * so the file name (a 64-bit digest of the key) is only an address: two keys that collide share a slot and
 * evict each other, but never serve each other's token. That is also why no cryptographic hash is needed, and why
 * a cache hit loads no node:crypto (about 2 ms of every kubectl call).
 *
 * The inputs, from the outside in:
 * - base (the caller's own credentials): cache format and eksauth version (STS host rules and partition data ship
 *   with the release); the `--profile` flag; the shared config and credentials files, each as its path plus the
 *   stat data of its current version (device, inode, size, mtime and ctime to a fraction of a microsecond), so any
 *   edit of a region, `role_arn`, `source_profile`, `mfa_serial`, `sso_*`, `credential_process`,
 *   `web_identity_token_file` or key in them gives a new key; and every `AWS_*` environment variable, sorted:
 *   `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`,
 *   `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`,
 *   `AWS_STS_REGIONAL_ENDPOINTS`, `AWS_ENDPOINT_URL(_STS)`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`,
 *   `AWS_WEB_IDENTITY_TOKEN_FILE`, the container credential URIs, IMDS settings, `AWS_CREDENTIAL_EXPIRATION`, and any
 *   the SDK adds later. Secret values (secret access key, session token, container authorization token: any name
 *   with SECRET, TOKEN, PASSWORD or BEARER that is not a `_FILE` path) enter only as "set": each belongs to exactly
 *   one access key id, which is in the key, and a key must never hold a secret.
 * - role: the base key, the region (it picks the AssumeRole endpoint), role ARN, session name, external id,
 *   `--forward-session-name` and `--allow-unknown-region` (or EKSAUTH_ALLOW_UNKNOWN_REGION).
 * - token: the role key and the cluster id (`x-k8s-aws-id`). The STS host follows from region, environment and
 *   files, all already in the key.
 */
import { statSync } from 'node:fs';
import { sharedFilePaths } from '../aws/shared-files.js';

/** Bump to orphan every existing entry when the key or entry format changes. */
export const CACHE_FORMAT = 1;

/** A shared file changed this recently may change again within its timestamp granularity without a visible trace. */
const RECENT_EDIT_MS = 2_000;

// Set by eksauth itself before the SDK loads; it says nothing about identity.
const IGNORED_ENV = new Set(['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);
const SECRET_ENV = /SECRET|TOKEN|PASSWORD|PASSPHRASE|BEARER/;

export interface CacheKeyInputs {
  clusterId: string;
  /** The region given by flag or cluster info; the environment and profile's region are covered by env and files. */
  region?: string;
  /** The `--profile` flag; AWS_PROFILE is part of the environment. */
  profile?: string;
  roleArn?: string;
  sessionName?: string;
  externalId?: string;
  forwardSessionName?: boolean;
  /** `--allow-unknown-region` or its variable: a token signed under it is not served without it. */
  allowUnknownRegion?: boolean;
  env: NodeJS.ProcessEnv;
  /** Clock in ms since the epoch, for tests. */
  nowMs?: number;
}

export interface CacheKeys {
  /** The caller's own credentials. */
  base: string;
  /** The credentials after role assumption (equal in meaning to base plus "no role" when no role is given). */
  role: string;
  /** One token. */
  token: string;
  /**
   * False when a shared AWS file changed within the last two seconds: its stat data could still miss a second edit,
   * so nothing is stored under these keys.
   */
  stable: boolean;
}

/**
 * Computes the base, role and token keys for one `eksauth token` call, reading nothing but file metadata.
 *
 * @example
 * ```ts
 * import { cacheKeys } from './key.js';
 * const keys = cacheKeys({ clusterId: 'prod', region: 'eu-west-1', env: process.env });
 * keys.token; // '["token","[\"role\",…]","prod"]'
 * ```
 */
export function cacheKeys(inputs: CacheKeyInputs): CacheKeys {
  const { configFile, credentialsFile } = sharedFilePaths(inputs.env);
  const now = inputs.nowMs ?? Date.now();
  const config = fileStamp(configFile, now);
  const credentials = fileStamp(credentialsFile, now);
  const version = process.env.EKSAUTH_VERSION ?? '0.0.0-dev';
  const base = [CACHE_FORMAT, version, inputs.profile ?? null, config.stamp, credentials.stamp, environmentPairs(inputs.env)];
  const role = [
    inputs.region ?? null, inputs.roleArn ?? null, inputs.sessionName ?? null, inputs.externalId ?? null,
    inputs.forwardSessionName === true,
    // Only when set, so that every other key stays as it was.
    ...(inputs.allowUnknownRegion === true ? ['allow-unknown-region'] : []),
  ];
  return {
    base: JSON.stringify(['base', base]),
    role: JSON.stringify(['role', base, role]),
    token: JSON.stringify(['token', base, role, inputs.clusterId]),
    stable: config.stable && credentials.stable,
  };
}

/**
 * The file name (without extension) an entry of `kind` is stored under: a 64-bit digest of its key (two FNV-1a
 * lanes of 32 bits with different primes). It is an address, not a check: the entry's full key is compared on every
 * read, so a collision costs an eviction, never another identity's token.
 *
 * @example
 * ```ts
 * import { entryName } from './key.js';
 * entryName('token', '["token",…,"prod"]'); // 'token-' and 16 hex digits
 * ```
 */
export function entryName(kind: 'base' | 'role' | 'token' | 'code', key: string): string {
  // Math.imul keeps each step one 32-bit multiply: this runs on every kubectl call, mostly in V8's interpreter.
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x2c8fc4c3);
  }
  return `${kind}-${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

function fileStamp(path: string, now: number): { stamp: string; stable: boolean } {
  try {
    // Times in fractional milliseconds (sub-microsecond resolution): BigInt nanoseconds measured slower to read.
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return { stamp: `${path}|absent`, stable: true };
    const stable = now - stat.ctimeMs > RECENT_EDIT_MS && now - stat.mtimeMs > RECENT_EDIT_MS;
    return { stamp: `${path}|${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`, stable };
  } catch (err) {
    // Unreadable metadata: the signing path reports it; nothing is stored meanwhile.
    return { stamp: `${path}|${(err as NodeJS.ErrnoException).code ?? 'error'}`, stable: false };
  }
}

function environmentPairs(env: NodeJS.ProcessEnv): [string, string][] {
  return Object.keys(env)
    .filter((name) => name.startsWith('AWS_') && !IGNORED_ENV.has(name))
    .sort()
    .map((name) => {
      const value = env[name] ?? '';
      return [name, SECRET_ENV.test(name) && !name.endsWith('_FILE') && value !== '' ? 'set' : value];
    });
}
