/**
 * The token cache's write side, loaded only on a miss: one refresh per entry at a time under the entry's lock,
 * tokens and temporary credentials stored for the next run.
 */
import { join } from 'node:path';
import type { AwsCredentialIdentity, CredentialStore } from '../aws/credentials.js';
import { entryName, type CacheKeys } from './key.js';
import { acquireLock, type LockOptions } from './lock.js';
import { openCacheDir, readEntry, writeEntry } from './store.js';
import { servableToken, type CachedToken, type TokenCacheRequest } from './token-cache.js';

/** Cached credentials are reused while at least this much of their life is left; tokens signed with them get it. */
export const CREDENTIAL_MIN_LIFE_MS = 5 * 60_000;

/** Where one entry lives and what it is for. */
interface Slot {
  dir: string | undefined;
  name: string;
  key: string;
  /** False: read nothing and store nothing (a shared file is mid-edit, see key.ts). */
  stable: boolean;
}

interface SlotRules<T> {
  /** The value in a stored entry, when it may be used now. */
  reuse(entry: Record<string, unknown>): T | undefined;
  /** The fields to store for a fresh value, or undefined to store nothing. */
  store(value: T): Record<string, unknown> | undefined;
  force: boolean;
  lock?: LockOptions;
}

/**
 * Runs `load` for `slot` while holding the slot's lock, unless the entry can be used: it is read again while
 * waiting for the lock and once the lock is held, since another process may have refreshed it meanwhile. Without a
 * usable directory it simply runs `load`.
 */
async function refreshSlot<T>(slot: Slot, rules: SlotRules<T>, load: () => Promise<T>): Promise<T> {
  const { dir } = slot;
  if (dir === undefined || !slot.stable) return load();
  const usable = (): T | undefined => {
    const entry = rules.force ? undefined : readEntry(dir, slot.name, slot.key);
    return entry === undefined ? undefined : rules.reuse(entry);
  };
  const lock = await acquireLock(join(dir, `${slot.name}.lock`), { ...rules.lock, shouldStop: () => usable() !== undefined });
  try {
    const kept = usable();
    if (kept !== undefined) return kept;
    const value = await load();
    const fields = rules.store(value);
    if (fields !== undefined) writeEntry(dir, slot.name, slot.key, fields);
    return value;
  } finally {
    lock?.release();
  }
}

export interface RefreshOptions {
  /** Lock timings, for tests. */
  lock?: LockOptions;
}

/**
 * Returns the cached token for `request` or signs one, with at most one process signing per key at a time: the
 * others wait on the entry's lock and then serve what it stored. `sign` gets a credential store under the same
 * directory, so role and MFA credentials are kept too.
 *
 * @example
 * ```ts
 * import { getToken } from '../token/generate.js';
 * import { cacheKeys } from './key.js';
 * import { refreshCachedToken } from './refresh.js';
 * const env = process.env;
 * const keys = cacheKeys({ clusterId: 'prod', region: 'eu-west-1', env });
 * const { token } = await refreshCachedToken({ keys, env, forceRefresh: false }, (credentialStore) =>
 *   getToken({ clusterId: 'prod', region: 'eu-west-1', credentialStore }),
 * );
 * ```
 */
export async function refreshCachedToken(
  request: TokenCacheRequest,
  sign: (credentialStore: CredentialStore) => Promise<CachedToken>,
  options: RefreshOptions = {},
): Promise<CachedToken> {
  const dir = openCacheDir(request.env, { create: true });
  const now = request.now ?? Date.now;
  const credentialStore = diskCredentialStore(dir, request.keys, request.forceRefresh, now, options.lock);
  const slot = { dir, name: entryName('token', request.keys.token), key: request.keys.token, stable: request.keys.stable };
  return refreshSlot(
    slot,
    {
      reuse: (entry) => servableToken(entry, request),
      store: (fresh) => ({ token: fresh.token, signedAt: now(), expiresAt: fresh.expiration.getTime() }),
      force: request.forceRefresh,
      ...(options.lock === undefined ? {} : { lock: options.lock }),
    },
    () => sign(credentialStore),
  );
}

/**
 * A credential store in the cache directory. It keeps only temporary credentials that were costly to get: every
 * role result, and base credentials the SDK obtained by assuming a role (profiles with `role_arn`, MFA) or from SSO.
 * Long-term keys and credential_process output are never copied to disk.
 */
function diskCredentialStore(
  dir: string | undefined,
  keys: CacheKeys,
  force: boolean,
  now: () => number,
  lock: LockOptions | undefined,
): CredentialStore {
  return {
    reuse(kind, load) {
      const key = keys[kind];
      const slot = { dir, name: entryName(kind, key), key, stable: keys.stable };
      return refreshSlot<AwsCredentialIdentity>(
        slot,
        {
          reuse: (entry) => usableCredentials(entry, now()),
          store: (credentials) => (worthKeeping(kind, credentials) ? credentialFields(credentials) : undefined),
          force,
          ...(lock === undefined ? {} : { lock }),
        },
        load,
      );
    },
  };
}

// The SDK marks where credentials came from (`$source`, its user-agent feature ids).
const COSTLY_SOURCES = /ASSUME_ROLE|SSO/;

function worthKeeping(kind: 'base' | 'role', credentials: AwsCredentialIdentity): boolean {
  if (credentials.expiration === undefined || credentials.sessionToken === undefined) return false;
  if (kind === 'role') return true;
  const sources = (credentials as { $source?: Record<string, unknown> }).$source ?? {};
  return Object.keys(sources).some((feature) => COSTLY_SOURCES.test(feature));
}

function credentialFields(credentials: AwsCredentialIdentity): Record<string, unknown> {
  return {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiresAt: credentials.expiration?.getTime(),
  };
}

function usableCredentials(entry: Record<string, unknown>, now: number): AwsCredentialIdentity | undefined {
  const { accessKeyId, secretAccessKey, sessionToken, expiresAt } = entry;
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || typeof sessionToken !== 'string') return undefined;
  if (typeof expiresAt !== 'number' || expiresAt - now < CREDENTIAL_MIN_LIFE_MS) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt) };
}
