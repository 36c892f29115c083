/**
 * The emulator's key store: configured access keys and the temporary credentials AssumeRole has issued, each
 * resolving to the caller GetCallerIdentity reports.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { EmulatorConfig } from './config.js';
import { base32, parsePrincipalArn } from './principals.js';
import type { ReceivedRequest } from './request.js';
import { headerValue } from './request.js';
import type { SigningSecret } from './sigv4.js';
import { checkAge, checkScope, checkSignature, readSignature } from './sigv4.js';
import { expiredToken, invalidClientTokenId } from './sts-wire.js';

/** Who signed a request, as GetCallerIdentity reports it. */
export interface Caller {
  arn: string;
  userId: string;
  account: string;
  /** For a role session: the role's name, which trust policies match on. */
  roleName?: string;
}

interface StoredKey {
  secret: SigningSecret;
  caller: Caller;
  /** Temporary credentials stop working at this time. */
  expiration?: Date;
}

/** Expired sessions are kept this long so that their use is answered with ExpiredToken, not InvalidClientTokenId. */
const EXPIRED_SESSION_MEMORY_MS = 24 * 3600_000;

export class KeyStore {
  private readonly keys = new Map<string, StoredKey>();

  constructor(config: EmulatorConfig) {
    for (const identity of config.identities) {
      const principal = parsePrincipalArn(identity.arn);
      const caller: Caller = { arn: identity.arn, userId: identity.userId, account: principal?.account ?? '' };
      if (principal?.kind === 'assumed-role') caller.roleName = principal.name;
      const secret: SigningSecret = { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey };
      if (identity.sessionToken !== undefined) secret.sessionToken = identity.sessionToken;
      this.keys.set(identity.accessKeyId, { secret, caller });
    }
  }

  /**
   * The secret and caller for an access key id. Temporary credentials only count with their own session token,
   * and a long-term key must come without one, as in AWS.
   *
   * @throws StsError InvalidClientTokenId (unknown key, wrong or missing token) or ExpiredToken
   */
  resolve(accessKeyId: string, sessionToken: string | undefined, now: Date): { secret: SigningSecret; caller: Caller } {
    const stored = this.keys.get(accessKeyId);
    if (stored === undefined || !sameToken(stored.secret.sessionToken, sessionToken)) throw invalidClientTokenId();
    if (stored.expiration !== undefined && now.getTime() >= stored.expiration.getTime()) throw expiredToken();
    return stored;
  }

  /**
   * Verifies a request signed for `service` in AWS's order (shape, scope, time, key, signature) and returns who signed it
   * and the region the signature is scoped to: how the emulator's EKS and EC2 take their callers.
   *
   * @throws StsError for the first problem found, with AWS's wording
   */
  async authenticate(request: ReceivedRequest, service: string, now: Date): Promise<{ caller: Caller; region: string }> {
    const claim = readSignature(request);
    checkScope(claim, headerValue(request, 'host'), service);
    checkAge(claim, now);
    const { secret, caller } = this.resolve(claim.accessKeyId, claim.sessionToken, now);
    await checkSignature(request, claim, secret);
    return { caller, region: claim.scope.region };
  }

  /** Issues temporary credentials (`ASIA…` key id, 40-character secret, session token) for a role session. */
  issue(caller: Caller, expiration: Date, now: Date): SigningSecret & { sessionToken: string } {
    this.forgetOldSessions(now);
    const secret = {
      accessKeyId: `ASIA${base32(randomBytes(10), 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(144).toString('base64'),
    };
    this.keys.set(secret.accessKeyId, { secret, caller, expiration });
    return secret;
  }

  private forgetOldSessions(now: Date): void {
    for (const [id, stored] of this.keys) {
      if (stored.expiration !== undefined && stored.expiration.getTime() + EXPIRED_SESSION_MEMORY_MS < now.getTime()) this.keys.delete(id);
    }
  }
}

function sameToken(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined || given === undefined) return expected === given;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
