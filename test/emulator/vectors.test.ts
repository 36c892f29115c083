/**
 * The signature vectors of reference/exec-protocol-and-clients.md §1.10 (computed with botocore) are accepted by the
 * emulator's verifier: each presigned request is rebuilt with @smithy/signature-v4, its signature checked against
 * the vector, then replayed at the emulator with the emulator's clock pinned to the vectors' time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { jsonIdentity, presignGetCallerIdentity, replay } from './helpers.js';

const SIGNED_AT = new Date('2020-09-30T09:37:26Z');
const CLUSTER = 'eks-cluster';
const SESSION_TOKEN = 'FwoGZXIvYXdzEMP//////////wEaDLuLD7I1gA6LW1mZcSKxAZWj_trunc';
const VECTOR_ARN = 'arn:aws:iam::123456789012:user/vector';

const VECTORS = [
  { region: 'us-west-2', host: 'sts.us-west-2.amazonaws.com', signature: 'ff1c89c16f25275f8a4c7311678f447722646d643588854a114d168b062c4bf0' },
  { region: 'us-east-1', host: 'sts.us-east-1.amazonaws.com', signature: '69729246f5a4be8d8bbfee5ba5b60e36b3af028cdff84dc502c1d6bc4a38e46d' },
  { region: 'eu-west-1', host: 'sts.eu-west-1.amazonaws.com', signature: '129e20180adfbd6d316b2ec96be63177c10078a4e98cb7e2a328f0e38c4b35bb' },
  { region: 'cn-north-1', host: 'sts.cn-north-1.amazonaws.com.cn', signature: '8f697d5e6a84a44ef7ff1174f02611d98fd53146e15435d002b0342f6f842fdc' },
  { region: 'us-gov-west-1', host: 'sts.us-gov-west-1.amazonaws.com', signature: 'a78e6e939486fb59d76c17aba8e9016b38b848337d670a06f4c668664f9179c9' },
  { region: 'us-west-2', host: 'sts.us-west-2.amazonaws.com', sessionToken: SESSION_TOKEN, signature: '9d3d59fee699450224b7099bb6dce5bca0a7677870232a3c17301613f0012615' },
];

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
