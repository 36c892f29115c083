/**
 * The emulator's signature checks, one rule at a time, with requests signed by @smithy/signature-v4 and a pinned
 * clock: credential scope and Host, age, keys and tokens, EKS token shape, header-signed bodies, wire formats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorConfig } from '../../src/emulator/config.js';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Credentials } from './helpers.js';
import { jsonError, jsonIdentity, presignGetCallerIdentity, replay, send, signedPost } from './helpers.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const USER: Credentials = { accessKeyId: 'EXAMPLEKEYID0001', secretAccessKey: 'example/secret+key/0123456789abcdefghijk' };
const CONFIG: EmulatorConfig = {
  identities: [{ ...USER, arn: 'arn:aws:iam::123456789012:user/dev/carol', userId: 'AIDAEXAMPLEUSERID0001' }],
  roles: [{ arn: 'arn:aws:iam::123456789012:role/open', trustedPrincipals: ['*'] }],
};
const minutes = (n: number): Date => new Date(NOW.getTime() + n * 60_000);

describe('SigV4 verification', () => {
  let emulator: Emulator;
  let local: string;

  beforeAll(async () => {
    emulator = await startEmulator(CONFIG, { now: () => NOW });
    local = new URL(emulator.url).host;
  });
  afterAll(async () => {
    await emulator?.close();
  });

  async function token(options: { host?: string; region?: string; date?: Date; clusterId?: string | null; credentials?: Credentials; action?: string } = {}) {
    const host = options.host ?? 'sts.us-west-2.amazonaws.com';
    const presigned = await presignGetCallerIdentity({
      credentials: options.credentials ?? USER,
      region: options.region ?? 'us-west-2',
      host,
      ...(options.clusterId === null ? {} : { clusterId: options.clusterId ?? 'c1' }),
      date: options.date ?? NOW,
      ...(options.action === undefined ? {} : { action: options.action }),
    });
    return { presigned, host };
  }

  it('accepts regional, global, FIPS, dual-stack and loopback hosts with the matching region', async () => {
    const cases = [
      { host: 'sts.us-west-2.amazonaws.com', region: 'us-west-2' },
      { host: 'sts.amazonaws.com', region: 'us-east-1' },
      { host: 'sts-fips.us-east-2.amazonaws.com', region: 'us-east-2' },
      { host: 'sts.eu-central-1.api.aws', region: 'eu-central-1' },
      { host: 'sts.cn-northwest-1.amazonaws.com.cn', region: 'cn-northwest-1' },
      { host: local, region: 'ap-south-1' },
    ];
    for (const { host, region } of cases) {
      const { presigned } = await token({ host, region });
      expect(jsonIdentity(await replay(emulator.url, presigned, host, 'c1')).Arn).toBe('arn:aws:iam::123456789012:user/dev/carol');
    }
  });

  it('refuses a region the STS host does not serve, with STS wording', async () => {
    const regional = await token({ host: 'sts.us-west-2.amazonaws.com', region: 'us-east-1' });
    expect(jsonError(await replay(emulator.url, regional.presigned, regional.host, 'c1')))
      .toMatchObject({ Code: 'SignatureDoesNotMatch', Message: 'Credential should be scoped to a valid region. ' });
    const global = await token({ host: 'sts.amazonaws.com', region: 'eu-west-1' });
    expect(jsonError(await replay(emulator.url, global.presigned, global.host, 'c1')))
      .toMatchObject({ Code: 'SignatureDoesNotMatch', Message: "Credential should be scoped to a valid region, not 'eu-west-1'. " });
  });

  it('accepts a signature up to 15 minutes old and up to 5 minutes ahead, and no further', async () => {
    for (const date of [minutes(-15), minutes(-14), minutes(4), minutes(5)]) {
      const { presigned, host } = await token({ date });
      expect((await replay(emulator.url, presigned, host, 'c1')).status).toBe(200);
    }
    const old = await token({ date: minutes(-16) });
    expect(jsonError(await replay(emulator.url, old.presigned, old.host, 'c1')).Message)
      .toBe('Signature expired: 20260301T114400Z is now earlier than 20260301T114500Z (20260301T120000Z - 15 min.)');
    const ahead = await token({ date: minutes(6) });
    expect(jsonError(await replay(emulator.url, ahead.presigned, ahead.host, 'c1')).Message)
      .toBe('Signature not yet current: 20260301T120600Z is still later than 20260301T120500Z (20260301T120000Z + 5 min.)');
  });

  it('refuses an unknown key and a wrong secret', async () => {
    const unknown = await token({ credentials: { accessKeyId: 'EXAMPLEKEYID9999', secretAccessKey: 'x' } });
    expect(jsonError(await replay(emulator.url, unknown.presigned, unknown.host, 'c1')))
      .toEqual({ Type: 'Sender', Code: 'InvalidClientTokenId', Message: 'The security token included in the request is invalid.' });
    const wrong = await token({ credentials: { ...USER, secretAccessKey: 'y' } });
    const result = await replay(emulator.url, wrong.presigned, wrong.host, 'c1');
    expect(result.status).toBe(403);
    expect(jsonError(result)).toEqual({
      Type: 'Sender',
      Code: 'SignatureDoesNotMatch',
      Message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    });
  });

  it('refuses a presigned request that does not sign x-k8s-aws-id, or lacks the header it signed', async () => {
    const unbound = await token({ clusterId: null });
    const result = await replay(emulator.url, unbound.presigned, unbound.host, 'c1');
    expect(result.status).toBe(403);
    expect(jsonError(result)).toMatchObject({ Code: 'AccessDenied', Message: expect.stringContaining("only when they sign the x-k8s-aws-id header") });
    const bound = await token();
    expect(jsonError(await replay(emulator.url, bound.presigned, bound.host, undefined)).Code).toBe('SignatureDoesNotMatch');
  });

  it('accepts presigned requests only for GetCallerIdentity', async () => {
    const { presigned, host } = await token({ action: 'AssumeRole' });
    expect(jsonError(await replay(emulator.url, presigned, host, 'c1'))).toMatchObject({ Code: 'AccessDenied', Message: expect.stringContaining('only for GetCallerIdentity') });
  });

  it('refuses a parameter repeated in another letter case', async () => {
    const { presigned, host } = await token();
    const doubled = { path: `${presigned.path}&x-amz-credential=EXAMPLEKEYID9999%2F20260301%2Fus-west-2%2Fsts%2Faws4_request` };
    const result = await replay(emulator.url, doubled, host, 'c1');
    expect(result.status).toBe(404);
    expect(jsonError(result)).toMatchObject({ Code: 'MalformedQueryString', Message: expect.stringContaining("'x-amz-credential' appears more than once") });
  });

  it('answers unsigned and doubly signed requests like STS', async () => {
    const unsigned = await send(emulator.url, { path: '/?Action=GetCallerIdentity&Version=2011-06-15', headers: { accept: 'application/json' } });
    expect(unsigned.status).toBe(403);
    expect(jsonError(unsigned)).toMatchObject({ Code: 'MissingAuthenticationToken', Message: 'Request is missing Authentication Token' });
    const { presigned, host } = await token();
    const both = await send(emulator.url, { path: presigned.path, headers: { host, 'x-k8s-aws-id': 'c1', authorization: 'AWS4-HMAC-SHA256 Credential=x', accept: 'application/json' } });
    expect(jsonError(both).Code).toBe('IncompleteSignature');
  });

  it('renders errors as STS XML by default', async () => {
    const { presigned, host } = await token();
    const result = await replay(emulator.url, presigned, host, 'c2', false);
    expect(result.status).toBe(403);
    expect(result.headers['content-type']).toBe('text/xml');
    expect(result.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.body).toMatch(/^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>SignatureDoesNotMatch<\/Code>\s*<Message>The request signature we calculated[^<]*<\/Message>\s*<\/Error>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ErrorResponse>\s*$/);
  });

  it('answers the exact JSON shape EKS verifiers expect', async () => {
    const { presigned, host } = await token();
    const body = JSON.parse((await replay(emulator.url, presigned, host, 'c1')).body) as Record<string, unknown>;
    expect(body).toEqual({
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: { Arn: 'arn:aws:iam::123456789012:user/dev/carol', UserId: 'AIDAEXAMPLEUSERID0001', Account: '123456789012' },
        ResponseMetadata: { RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      },
    });
  });

  describe('header-signed POST', () => {
    async function post(form: Record<string, string>, tamper?: (request: { headers: Record<string, string>; body: string }) => void) {
      const signed = await signedPost(emulator.url, USER, 'us-east-1', form, NOW);
      tamper?.(signed);
      return send(emulator.url, { method: 'POST', headers: { ...signed.headers, accept: 'application/json' }, body: signed.body });
    }

    it('accepts a signature over the body (x-amz-content-sha256 signed) and refuses a changed body', async () => {
      expect(jsonIdentity(await post({ Action: 'GetCallerIdentity', Version: '2011-06-15' })).Account).toBe('123456789012');
      const changed = await post({ Action: 'GetCallerIdentity', Version: '2011-06-15' }, (r) => { r.body = r.body.replace('2011', '2012'); });
      expect(jsonError(changed)).toMatchObject({ Code: 'SignatureDoesNotMatch', Message: "The provided 'x-amz-content-sha256' header does not match what was computed." });
      const rehashed = await post({ Action: 'GetCallerIdentity', Version: '2011-06-15' }, (r) => {
        r.body = r.body.replace('2011', '2012');
        delete r.headers['x-amz-content-sha256'];
      });
      expect(jsonError(rehashed).Code).toBe('SignatureDoesNotMatch');
    });

    it('hashes the body itself when x-amz-content-sha256 is not signed', async () => {
      const form = { Action: 'GetCallerIdentity', Version: '2011-06-15' };
      const signed = await signedPost(emulator.url, USER, 'us-east-1', form, NOW, false);
      expect(signed.headers['x-amz-content-sha256']).toBeUndefined();
      const ok = await send(emulator.url, { method: 'POST', headers: { ...signed.headers, accept: 'application/json' }, body: signed.body });
      expect(jsonIdentity(ok).Account).toBe('123456789012');
      const changed = await send(emulator.url, { method: 'POST', headers: { ...signed.headers, accept: 'application/json' }, body: signed.body.replace('2011', '2012') });
      expect(jsonError(changed).Code).toBe('SignatureDoesNotMatch');
    });

    it('checks the credential date against X-Amz-Date', async () => {
      const result = await post({ Action: 'GetCallerIdentity', Version: '2011-06-15' }, (r) => { r.headers['x-amz-date'] = '20260302T120000Z'; });
      expect(jsonError(result).Message).toBe("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260301' != '20260302', from '20260302T120000Z'.");
    });

    it('answers unknown actions and versions with InvalidAction', async () => {
      expect(jsonError(await post({ Action: 'GetSessionToken', Version: '2011-06-15' }))).toMatchObject({ Code: 'InvalidAction', Message: 'Could not find operation GetSessionToken for version 2011-06-15' });
      expect(jsonError(await post({ Action: 'GetCallerIdentity', Version: '2099-01-01' })).Code).toBe('InvalidAction');
    });

    it('issues AssumeRole credentials in STS XML', async () => {
      const signed = await signedPost(emulator.url, USER, 'us-east-1', { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::123456789012:role/open', RoleSessionName: 'x@y.z', DurationSeconds: '900' }, NOW);
      const result = await send(emulator.url, { method: 'POST', headers: signed.headers, body: signed.body });
      expect(result.status).toBe(200);
      expect(result.body).toContain('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
      expect(result.body).toContain('<Arn>arn:aws:sts::123456789012:assumed-role/open/x@y.z</Arn>');
      expect(result.body).toContain('<Expiration>2026-03-01T12:15:00Z</Expiration>');
      expect(result.body).toMatch(/<AccessKeyId>ASIA[A-Z2-7]{16}<\/AccessKeyId>/);
    });

    it('reports every AssumeRole validation problem at once', async () => {
      const result = await post({ Action: 'AssumeRole', Version: '2011-06-15', DurationSeconds: 'soon' });
      expect(result.status).toBe(400);
      expect(jsonError(result)).toEqual({
        Type: 'Sender',
        Code: 'ValidationError',
        Message: "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; "
          + "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null; "
          + "Value 'soon' at 'durationSeconds' failed to satisfy constraint: Member must be an integer",
      });
    });
  });
});
