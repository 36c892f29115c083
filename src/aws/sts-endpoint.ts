// @aws-sdk/util-endpoints re-exports this from @aws-sdk/core; importing it here lets the bundler drop the rest.
import { partition } from '@aws-sdk/core/client';
import { EksAuthError } from '../errors.js';

/** Where a GetCallerIdentity URL is addressed and which region its signature is scoped to. */
export interface StsEndpoint {
  hostname: string;
  signingRegion: string;
  /** Partition name from the SDK's partition data: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, … */
  partition: string;
}

export interface StsEndpointOptions {
  /** The cluster's region. Without one only the legacy global endpoint can be used. */
  region?: string;
  useFipsEndpoint?: boolean;
  useDualstackEndpoint?: boolean;
  /** `legacy` keeps the global `sts.amazonaws.com` for the regions botocore lists as legacy-global. */
  stsRegionalEndpoints?: 'legacy' | 'regional';
}

const GLOBAL_STS_HOST = 'sts.amazonaws.com';
const GLOBAL_SIGNING_REGION = 'us-east-1';

// botocore's list of regions that `sts_regional_endpoints = legacy` sends to the global endpoint.
const LEGACY_GLOBAL_REGIONS = new Set([
  'ap-northeast-1', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'aws-global', 'ca-central-1',
  'eu-central-1', 'eu-north-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'sa-east-1', 'us-east-1',
  'us-east-2', 'us-west-1', 'us-west-2',
]);

const REGION_PATTERN = /^[a-z]{2,6}(-[a-z]{2,10}){1,3}-\d{1,2}$/;

/** True when `region` has the shape of an AWS region name such as `eu-west-1` or `us-gov-east-1`. */
export function isRegionName(region: string): boolean {
  return REGION_PATTERN.test(region);
}

/**
 * Chooses the STS host and signing region for a token, from the SDK's partition data: regional by default,
 * the partition's own domain (`.amazonaws.com.cn`, `.c2s.ic.gov`, …), FIPS and dual-stack only when asked,
 * and the global endpoint only for `legacy` settings.
 *
 * @example
 * ```ts
 * import { resolveStsEndpoint } from 'eksauth';
 * resolveStsEndpoint({ region: 'cn-north-1' }).hostname; // 'sts.cn-north-1.amazonaws.com.cn'
 * resolveStsEndpoint({ region: 'us-west-2', useFipsEndpoint: true }).hostname; // 'sts-fips.us-west-2.amazonaws.com'
 * ```
 */
export function resolveStsEndpoint(options: StsEndpointOptions): StsEndpoint {
  const { region, useFipsEndpoint = false, useDualstackEndpoint = false } = options;
  const legacy = options.stsRegionalEndpoints === 'legacy';
  if (region === undefined || region === '') {
    if (legacy && !useFipsEndpoint && !useDualstackEndpoint) return globalEndpoint();
    throw new EksAuthError(
      'ERR_NO_REGION',
      'no AWS region: pass --region, set AWS_REGION, or set `region` in your AWS profile ' +
        '(or set AWS_STS_REGIONAL_ENDPOINTS=legacy to use the global endpoint sts.amazonaws.com)',
    );
  }
  if (region === 'aws-global') return globalEndpoint();
  assertRegionName(region);
  const part = partition(region);
  if (legacy && part.name === 'aws' && LEGACY_GLOBAL_REGIONS.has(region) && !useFipsEndpoint && !useDualstackEndpoint) {
    return globalEndpoint();
  }
  if (useFipsEndpoint && !part.supportsFIPS) {
    throw new EksAuthError('ERR_INVALID_REGION', `partition ${part.name} (region ${region}) has no FIPS endpoints: unset AWS_USE_FIPS_ENDPOINT`);
  }
  if (useDualstackEndpoint && !part.supportsDualStack) {
    throw new EksAuthError('ERR_INVALID_REGION', `partition ${part.name} (region ${region}) has no dual-stack endpoints: unset AWS_USE_DUALSTACK_ENDPOINT`);
  }
  const suffix = useDualstackEndpoint ? part.dualStackDnsSuffix : part.dnsSuffix;
  return { hostname: `${stsLabel(part.name, useFipsEndpoint, useDualstackEndpoint)}.${region}.${suffix}`, signingRegion: region, partition: part.name };
}

// GovCloud's plain STS endpoints are already FIPS validated, so the STS rules only add `-fips` there with dual-stack.
function stsLabel(partitionName: string, fips: boolean, dualstack: boolean): string {
  if (!fips) return 'sts';
  return partitionName === 'aws-us-gov' && !dualstack ? 'sts' : 'sts-fips';
}

function globalEndpoint(): StsEndpoint {
  return { hostname: GLOBAL_STS_HOST, signingRegion: GLOBAL_SIGNING_REGION, partition: 'aws' };
}

/** Throws ERR_INVALID_REGION unless `region` looks like an AWS region. */
export function assertRegionName(region: string): void {
  if (isRegionName(region)) return;
  const hint = /fips/i.test(region) ? ' (for FIPS endpoints set AWS_USE_FIPS_ENDPOINT=true and give the plain region)' : '';
  throw new EksAuthError('ERR_INVALID_REGION', `"${region}" is not an AWS region name such as us-east-1 or eu-west-2${hint}`);
}
