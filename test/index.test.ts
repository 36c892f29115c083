import { describe, expect, it } from 'vitest';
import * as eksauth from '../src/index.js';
import { decodeToken } from '../src/token/format.js';

describe('the library entry', () => {
  it('makes a token with given credentials and no environment', async () => {
    const { token, expiresAt, stsHost } = await eksauth.getToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'EKSAUTHLIBKEY0000001', secretAccessKey: 'secret' },
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
    expect(stsHost).toBe('sts.eu-west-1.amazonaws.com');
    expect(expiresAt.toISOString()).toBe('2026-01-02T03:18:05.000Z');
    const url = new URL(decodeToken(token) ?? '');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260102T030405Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('EKSAUTHLIBKEY0000001/20260102/eu-west-1/sts/aws4_request');
  });

  it('caps the expiry at the credentials’ own', async () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const credentialExpiry = new Date('2026-01-02T03:10:00Z');
    const { expiresAt } = await eksauth.getToken({
      clusterId: 'prod',
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T', expiration: credentialExpiry }),
      now: () => now,
    });
    expect(expiresAt).toEqual(credentialExpiry);
  });

  it('rejects bad options with EksAuthError codes before touching credentials', async () => {
    const credentials = () => Promise.reject(new Error('must not be called'));
    await expect(eksauth.getToken({ clusterName: '', region: 'eu-west-1', credentials })).rejects.toMatchObject({ code: 'ERR_NO_CLUSTER' });
    await expect(eksauth.getToken({ clusterId: 'c', region: 'eu-west-1', roleArn: 'arn:aws:iam::1:user/x', credentials })).rejects.toMatchObject({
      code: 'ERR_INVALID_ROLE_ARN',
    });
    await expect(eksauth.getToken({ clusterId: 'c', region: 'eu-west-1', sessionName: 'a b', credentials })).rejects.toBeInstanceOf(eksauth.EksAuthError);
  });
});
