import { describe, expect, it } from 'vitest';
import { resolveStsEndpoint } from '../../src/aws/sts-endpoint.js';
import { EksAuthError } from '../../src/errors.js';

describe('resolveStsEndpoint', () => {
  it.each([
    [{ region: 'us-west-2' }, 'sts.us-west-2.amazonaws.com', 'us-west-2', 'aws'],
    [{ region: 'cn-north-1' }, 'sts.cn-north-1.amazonaws.com.cn', 'cn-north-1', 'aws-cn'],
    [{ region: 'us-gov-west-1' }, 'sts.us-gov-west-1.amazonaws.com', 'us-gov-west-1', 'aws-us-gov'],
    [{ region: 'us-iso-east-1' }, 'sts.us-iso-east-1.c2s.ic.gov', 'us-iso-east-1', 'aws-iso'],
    [{ region: 'us-isob-east-1' }, 'sts.us-isob-east-1.sc2s.sgov.gov', 'us-isob-east-1', 'aws-iso-b'],
    [{ region: 'eu-isoe-west-1' }, 'sts.eu-isoe-west-1.cloud.adc-e.uk', 'eu-isoe-west-1', 'aws-iso-e'],
    [{ region: 'eusc-de-east-1' }, 'sts.eusc-de-east-1.amazonaws.eu', 'eusc-de-east-1', 'aws-eusc'],
    [{ region: 'us-west-2', useFipsEndpoint: true }, 'sts-fips.us-west-2.amazonaws.com', 'us-west-2', 'aws'],
    [{ region: 'us-west-2', useDualstackEndpoint: true }, 'sts.us-west-2.api.aws', 'us-west-2', 'aws'],
    [{ region: 'cn-north-1', useDualstackEndpoint: true }, 'sts.cn-north-1.api.amazonwebservices.com.cn', 'cn-north-1', 'aws-cn'],
    // GovCloud's regular endpoints are FIPS already.
    [{ region: 'us-gov-east-1', useFipsEndpoint: true }, 'sts.us-gov-east-1.amazonaws.com', 'us-gov-east-1', 'aws-us-gov'],
    [{ region: 'us-gov-east-1', useDualstackEndpoint: true }, 'sts.us-gov-east-1.api.aws', 'us-gov-east-1', 'aws-us-gov'],
    [{ region: 'us-west-2', stsRegionalEndpoints: 'legacy' }, 'sts.amazonaws.com', 'us-east-1', 'aws'],
    // Not on botocore's legacy-global list: stays regional even with legacy.
    [{ region: 'ap-east-1', stsRegionalEndpoints: 'legacy' }, 'sts.ap-east-1.amazonaws.com', 'ap-east-1', 'aws'],
    [{ region: 'cn-north-1', stsRegionalEndpoints: 'legacy' }, 'sts.cn-north-1.amazonaws.com.cn', 'cn-north-1', 'aws-cn'],
    [{ stsRegionalEndpoints: 'legacy' }, 'sts.amazonaws.com', 'us-east-1', 'aws'],
  ] as const)('%j → %s', (options, hostname, signingRegion, partition) => {
    expect(resolveStsEndpoint(options)).toEqual({ hostname, signingRegion, partition });
  });

  // botocore lists FIPS STS hosts for four US regions and GovCloud only, and none with dual-stack; nor dual-stack
  // STS hosts in the ISO partitions, though newer SDK partition data has dual-stack suffixes for them.
  it.each([
    [{ region: 'eu-west-1', useFipsEndpoint: true }, /STS has no FIPS endpoint in eu-west-1;/],
    [{ region: 'cn-north-1', useFipsEndpoint: true }, /STS has no FIPS endpoint in cn-north-1;/],
    [{ region: 'us-west-2', useFipsEndpoint: true, useDualstackEndpoint: true }, /no FIPS endpoint with dual-stack in us-west-2/],
    [{ region: 'us-gov-east-1', useFipsEndpoint: true, useDualstackEndpoint: true }, /no FIPS endpoint with dual-stack in us-gov-east-1/],
    [{ region: 'us-iso-east-1', useDualstackEndpoint: true }, /no dual-stack endpoints in partition aws-iso/],
  ] as const)('refuses %j, which STS does not have', (options, message) => {
    expect(() => resolveStsEndpoint(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_REGION', message: expect.stringMatching(message) }));
  });

  it('asks for a region when there is none', () => {
    expect(() => resolveStsEndpoint({})).toThrow(expect.objectContaining({ code: 'ERR_NO_REGION', message: expect.stringContaining('--region') }));
  });

  it.each(['us-east', 'US-EAST-1', 'us_east_1', 'us-east-1-fips', 'https://sts.amazonaws.com', 'us-east-1 ', ''.padEnd(80, 'a')])(
    'refuses the malformed region %j',
    (region) => {
      let error: unknown;
      try {
        resolveStsEndpoint({ region });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(EksAuthError);
      expect((error as EksAuthError).code).toBe('ERR_INVALID_REGION');
    },
  );
});
