import { describe, expect, it } from 'vitest';
import { resolveStsEndpoint } from '../../src/aws/sts-endpoint.js';
import { decodeToken, encodeToken, TOKEN_PREFIX } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';

// reference/exec-protocol-and-clients.md §1.10: botocore's signatures for these inputs.
const signingDate = new Date('2020-09-30T09:37:26Z');
const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' };
const SESSION_TOKEN = 'FwoGZXIvYXdzEMP//////////wEaDLuLD7I1gA6LW1mZcSKxAZWj_trunc';

const vectors = [
  { region: 'us-west-2', host: 'sts.us-west-2.amazonaws.com', signature: 'ff1c89c16f25275f8a4c7311678f447722646d643588854a114d168b062c4bf0' },
  { region: 'us-east-1', host: 'sts.us-east-1.amazonaws.com', signature: '69729246f5a4be8d8bbfee5ba5b60e36b3af028cdff84dc502c1d6bc4a38e46d' },
  { region: 'eu-west-1', host: 'sts.eu-west-1.amazonaws.com', signature: '129e20180adfbd6d316b2ec96be63177c10078a4e98cb7e2a328f0e38c4b35bb' },
  { region: 'cn-north-1', host: 'sts.cn-north-1.amazonaws.com.cn', signature: '8f697d5e6a84a44ef7ff1174f02611d98fd53146e15435d002b0342f6f842fdc' },
  { region: 'us-gov-west-1', host: 'sts.us-gov-west-1.amazonaws.com', signature: 'a78e6e939486fb59d76c17aba8e9016b38b848337d670a06f4c668664f9179c9' },
];

async function presign(region: string, sessionToken?: string): Promise<URL> {
  const url = await presignGetCallerIdentity({
    credentials: { ...credentials, ...(sessionToken ? { sessionToken } : {}) },
    clusterId: 'eks-cluster',
    endpoint: resolveStsEndpoint({ region }),
    signingDate,
  });
  return new URL(url);
}

describe('presignGetCallerIdentity reproduces the reference signature vectors', () => {
  it.each(vectors)('$region', async ({ region, host, signature }) => {
    const url = await presign(region);
    expect(url.host).toBe(host);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(signature);
    expect(url.searchParams.get('X-Amz-Credential')).toBe(`AKID/20200930/${region}/sts/aws4_request`);
  });

  it('us-west-2 with a session token', async () => {
    const url = await presign('us-west-2', SESSION_TOKEN);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(SESSION_TOKEN);
    expect(url.searchParams.get('X-Amz-Signature')).toBe('9d3d59fee699450224b7099bb6dce5bca0a7677870232a3c17301613f0012615');
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
