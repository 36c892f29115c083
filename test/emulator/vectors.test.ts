/**
 * The signature vectors of reference/exec-protocol-and-clients.md §1.10 (computed with botocore) are accepted by the
 * emulator's verifier: each presigned request is rebuilt with @smithy/signature-v4, its signature checked against
 * the vector, then replayed at the emulator with the emulator's clock pinned to the vectors' time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { jsonIdentity, presignGetCallerIdentity, replay } from './helpers.js';
import { SIGNATURE_VECTORS, VECTOR_CLUSTER, VECTOR_SESSION_TOKEN, VECTOR_SIGNED_AT } from '../support/signature-vectors.js';

const SIGNED_AT = VECTOR_SIGNED_AT;
const CLUSTER = VECTOR_CLUSTER;
const SESSION_TOKEN = VECTOR_SESSION_TOKEN;
const VECTOR_ARN = 'arn:aws:iam::123456789012:user/vector';
const VECTORS = SIGNATURE_VECTORS;

describe('signature vectors of §1.10', () => {
  let longTerm: Emulator;
  let withToken: Emulator;
  // A few minutes after the vectors were signed: inside STS's 15-minute window.
  const now = (): Date => new Date(SIGNED_AT.getTime() + 3 * 60_000);

  beforeAll(async () => {
    longTerm = await startEmulator({ identities: [{ accessKeyId: 'AKID', secretAccessKey: 'SECRET', arn: VECTOR_ARN, userId: 'AIDAVECTORUSER000001' }] }, { now });
    withToken = await startEmulator({
      identities: [{ accessKeyId: 'AKID', secretAccessKey: 'SECRET', sessionToken: SESSION_TOKEN, arn: 'arn:aws:sts::123456789012:assumed-role/vector/session', userId: 'AROAVECTORROLE000001:session' }],
    }, { now });
  });
  afterAll(async () => {
    await longTerm?.close();
    await withToken?.close();
  });

  for (const vector of VECTORS) {
    const label = `${vector.region}${vector.sessionToken ? ' with a session token' : ''}`;
    it(`accepts the ${label} vector and refuses it for another cluster`, async () => {
      const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET', ...(vector.sessionToken ? { sessionToken: vector.sessionToken } : {}) };
      const presigned = await presignGetCallerIdentity({ credentials, region: vector.region, host: vector.host, clusterId: CLUSTER, date: SIGNED_AT });
      expect(presigned.signature).toBe(vector.signature);
      expect(presigned.query['X-Amz-SignedHeaders']).toBe('host;x-k8s-aws-id');
      expect(presigned.path).not.toContain(CLUSTER);

      const emulator = vector.sessionToken ? withToken : longTerm;
      const identity = jsonIdentity(await replay(emulator.url, presigned, vector.host, CLUSTER));
      expect(identity.Arn).toBe(vector.sessionToken ? 'arn:aws:sts::123456789012:assumed-role/vector/session' : VECTOR_ARN);
      expect(identity.Account).toBe('123456789012');

      const replayed = await replay(emulator.url, presigned, vector.host, 'another-cluster');
      expect(replayed.status).toBe(403);
      expect(JSON.parse(replayed.body).Error.Code).toBe('SignatureDoesNotMatch');
    });
  }

  it('refuses the session-token vector without its token, and a long-term key sent with a token', async () => {
    const plain = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' };
    const noToken = await presignGetCallerIdentity({ credentials: plain, region: 'us-west-2', host: 'sts.us-west-2.amazonaws.com', clusterId: CLUSTER, date: SIGNED_AT });
    const refused = await replay(withToken.url, noToken, 'sts.us-west-2.amazonaws.com', CLUSTER);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).Error.Code).toBe('InvalidClientTokenId');

    const token = await presignGetCallerIdentity({ credentials: { ...plain, sessionToken: SESSION_TOKEN }, region: 'us-west-2', host: 'sts.us-west-2.amazonaws.com', clusterId: CLUSTER, date: SIGNED_AT });
    const alsoRefused = await replay(longTerm.url, token, 'sts.us-west-2.amazonaws.com', CLUSTER);
    expect(JSON.parse(alsoRefused.body).Error).toMatchObject({ Code: 'InvalidClientTokenId', Message: 'The security token included in the request is invalid.' });
  });
});
