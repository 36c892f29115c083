/**
 * Naming where credentials came from, from the feature ids the AWS SDK records in `$source`.
 */
import { describe, expect, it } from 'vitest';
import { credentialSource } from '../../src/aws/credential-source.js';
import { resolveBaseCredentials } from '../../src/aws/credentials.js';

const keys = { accessKeyId: 'A', secretAccessKey: 'S' };

describe('credentialSource', () => {
  it('names the most specific source and lists every recorded id, most specific first', () => {
    expect(credentialSource({ ...keys, $source: { CREDENTIALS_STS_ASSUME_ROLE: 'i', CREDENTIALS_PROFILE_SOURCE_PROFILE: 'o' } })).toEqual({
      ids: ['CREDENTIALS_PROFILE_SOURCE_PROFILE', 'CREDENTIALS_STS_ASSUME_ROLE'],
      description: 'profile with role_arn (AssumeRole from source_profile or credential_source)',
    });
    expect(credentialSource({ ...keys, $source: { CREDENTIALS_SSO: 's', CREDENTIALS_PROFILE_SSO: 'r' } }).description).toBe('IAM Identity Center (SSO) profile');
    expect(credentialSource({ ...keys, $source: { CREDENTIALS_HTTP: 'z' } }).description).toBe('container credentials endpoint (ECS task role or EKS Pod Identity)');
  });

  it('says so when the SDK recorded nothing, and shows ids it does not know as recorded', () => {
    expect(credentialSource(keys)).toEqual({ ids: [], description: 'not recorded by the AWS SDK' });
    expect(credentialSource({ ...keys, $source: { CREDENTIALS_FUTURE_THING: 'Z9' } })).toEqual({ ids: ['CREDENTIALS_FUTURE_THING'], description: 'recorded as CREDENTIALS_FUTURE_THING' });
  });

  it('is recorded for the environment keys eksauth reads without the SDK, as the SDK records its own', async () => {
    const credentials = await resolveBaseCredentials({ env: { AWS_ACCESS_KEY_ID: 'EKSAUTHENVKEY0000001', AWS_SECRET_ACCESS_KEY: 'secret' } });
    expect(credentialSource(credentials).ids).toEqual(['CREDENTIALS_ENV_VARS']);
  });
});
