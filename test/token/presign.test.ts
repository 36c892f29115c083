import { describe, expect, it } from 'vitest';
import { resolveStsEndpoint } from '../../src/aws/sts-endpoint.js';
import { decodeToken, encodeToken, TOKEN_PREFIX } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { BOTOCORE_URLS, SIGNATURE_VECTORS, VECTOR_CLUSTER, VECTOR_CREDENTIALS, VECTOR_SESSION_TOKEN, VECTOR_SIGNED_AT } from '../support/signature-vectors.js';

const signingDate = VECTOR_SIGNED_AT;
const credentials = VECTOR_CREDENTIALS;
const SESSION_TOKEN = VECTOR_SESSION_TOKEN;

async function presign(region: string, sessionToken?: string): Promise<URL> {
  const url = await presignGetCallerIdentity({
    credentials: { ...credentials, ...(sessionToken ? { sessionToken } : {}) },
    clusterId: VECTOR_CLUSTER,
    endpoint: resolveStsEndpoint({ region }),
    signingDate,
  });
  return new URL(url);
}

describe('presignGetCallerIdentity reproduces the reference signature vectors', () => {
  it.each(SIGNATURE_VECTORS.filter((v) => !v.sessionToken))('$region', async ({ region, host, signature }) => {
    const url = await presign(region);
    expect(url.host).toBe(host);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(signature);
    expect(url.searchParams.get('X-Amz-Credential')).toBe(`AKID/20200930/${region}/sts/aws4_request`);
  });

  it('us-west-2 with a session token', async () => {
    const url = await presign('us-west-2', SESSION_TOKEN);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(SESSION_TOKEN);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(SIGNATURE_VECTORS.find((v) => v.sessionToken)?.signature);
  });

  it('is byte-identical to botocore’s URL, X-Amz-Signature last', async () => {
    expect((await presign('us-west-2')).href).toBe(BOTOCORE_URLS['us-west-2']);
    expect((await presign('us-west-2', SESSION_TOKEN)).href).toBe(BOTOCORE_URLS['us-west-2 with a session token']);
  });

  it('has the shape aws-cli produces, with the cluster id signed but not in the URL', async () => {
    const url = await presign('us-west-2');
    expect(url.protocol).toBe('https:');
    expect(url.pathname).toBe('/');
    expect([...url.searchParams.keys()].sort()).toEqual([
      'Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Signature', 'X-Amz-SignedHeaders',
    ]);
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20200930T093726Z');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.href).not.toContain('eks-cluster');
  });
});

describe('token encoding', () => {
  it('is the prefix and unpadded base64url, and round-trips', async () => {
    const url = (await presign('us-west-2', SESSION_TOKEN)).href;
    const token = encodeToken(url);
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token).not.toMatch(/[=+/]/);
    expect(decodeToken(token)).toBe(url);
  });

  it('refuses what is not a token', () => {
    expect(decodeToken('Bearer abc')).toBeUndefined();
    expect(decodeToken(`${TOKEN_PREFIX}aGVsbG8=`)).toBeUndefined();
    expect(decodeToken(`${TOKEN_PREFIX}`)).toBeUndefined();
  });
});
