/**
 * The token summary `verify` and `decode` print: what validation proves, at a given moment, and nothing secret.
 */
import { describe, expect, it } from 'vitest';
import { resolveStsEndpoint } from '../../src/aws/sts-endpoint.js';
import { encodeToken } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { decodeTokenDetails } from '../../src/token/summary.js';
import { validateToken } from '../../src/token/validate.js';

const SIGNED_AT = new Date('2026-03-04T05:06:07Z');
const credentials = { accessKeyId: 'EKSAUTHSUMMARYKEY001', secretAccessKey: 'secret', sessionToken: 'session-token-value' };

async function tokenFor(region: string): Promise<string> {
  return encodeToken(await presignGetCallerIdentity({ credentials, clusterId: 'prod', endpoint: resolveStsEndpoint({ region }), signingDate: SIGNED_AT }));
}

describe('decodeTokenDetails', () => {
  it('reports a token as valid, expired or signed in the future, relative to the moment given', async () => {
    const token = await tokenFor('eu-west-1');
    const at = (msAfterSigning: number) => decodeTokenDetails(token, { now: new Date(SIGNED_AT.getTime() + msAfterSigning) });
    expect(at(60_000)).toMatchObject({ state: 'valid', remainingSeconds: 14 * 60 });
    expect(at(16 * 60_000)).toMatchObject({ state: 'expired', remainingSeconds: 0 });
    expect(at(-10 * 60_000)).toMatchObject({ state: 'not-yet-valid', remainingSeconds: 25 * 60 });
    expect(() => validateToken(token, { now: new Date(SIGNED_AT.getTime() + 16 * 60_000) })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_EXPIRED' }));
  });

  it('accepts the STS hosts of every partition, and keeps the session token and signature out', async () => {
    const details = decodeTokenDetails(await tokenFor('cn-north-1'), { now: SIGNED_AT });
    expect(details).toEqual({
      host: 'sts.cn-north-1.amazonaws.com.cn', partition: 'aws-cn', region: 'cn-north-1', signedAt: '2026-03-04T05:06:07.000Z',
      validUntil: '2026-03-04T05:21:07.000Z', signedHeaders: ['host', 'x-k8s-aws-id'], accessKeyId: 'EKSAUTHSUMMARYKEY001',
      sessionToken: true, expiresInSeconds: 60, state: 'valid', remainingSeconds: 900,
    });
    expect(JSON.stringify(details)).not.toContain('session-token-value');
  });
});
