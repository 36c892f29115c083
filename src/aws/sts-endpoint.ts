// @aws-sdk/util-endpoints re-exports this from @aws-sdk/core; importing it here lets the bundler drop the rest.
import { partition } from '@aws-sdk/core/client';
import type { EndpointPartition } from '@smithy/types';
import { EksAuthError } from '../errors.js';
import { ALLOW_UNKNOWN_REGION_ENV } from '../lib/env-flag.js';

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
  /** Where `region` came from, named in errors: `--region` (the default), `AWS_REGION`, `profile prod`, … */
  regionSource?: string;
  /**
   * Accept a region the SDK's partition data does not list (one newer than this eksauth): its host is then built
   * from the partition whose name pattern it matches. Without it such a region is refused with ERR_INVALID_REGION
   * and a "did you mean", since a typo would otherwise sign a token for a host that does not exist.
   */
  allowUnknownRegion?: boolean;
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

/**
 * Where STS has FIPS endpoints, from botocore's STS endpoint data (data/endpoints.json, service sts): `sts-fips.<region>`
 * in four US regions, and GovCloud, whose plain hosts are FIPS validated. The SDK's partition data marks whole
 * partitions FIPS-capable and its rules engine names `sts-fips.eu-west-1.amazonaws.com`, which does not resolve: a
 * verifier accepting it answers such a token with a retried 503 (DNS failure) instead of a final 403. botocore names
 * no FIPS dual-stack host. test/aws/sts-hosts.test.ts compares the resulting hosts with botocore's.
 */
const STS_FIPS_HOSTS: Readonly<Record<string, { label: 'sts' | 'sts-fips'; regions?: ReadonlySet<string> }>> = {
  aws: { label: 'sts-fips', regions: new Set(['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2']) },
  'aws-us-gov': { label: 'sts' },
};
const FIPS_REGIONS_TEXT = 'us-east-1, us-east-2, us-west-1, us-west-2 and the aws-us-gov regions';

// Partitions whose STS has dual-stack hosts: those botocore's partition data gives a dual-stack variant (newer SDK
// data adds the ISO partitions, for which botocore and the AWS STS documentation list none).
const STS_DUAL_STACK_PARTITIONS: ReadonlySet<string> = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-eusc']);

const REGION_PATTERN = /^[a-z]{2,6}(-[a-z]{2,10}){1,3}-\d{1,2}$/;

/** True when `region` has the shape of an AWS region name such as `eu-west-1` or `us-gov-east-1`. */
export function isRegionName(region: string): boolean {
  return REGION_PATTERN.test(region);
}

/**
 * Chooses the STS host and signing region for a token, from the SDK's partition data and STS's own endpoint list:
 * regional by default, the partition's own domain (`.amazonaws.com.cn`, `.c2s.ic.gov`, …), FIPS and dual-stack only
 * when asked and only where STS has them, and the global endpoint only for `legacy` settings. The verifier accepts
 * exactly the hosts this can produce ({@link stsHostsForRegion}).
 *
 * @example
 * ```ts
 * import { resolveStsEndpoint } from './sts-endpoint.js';
 * resolveStsEndpoint({ region: 'cn-north-1' }).hostname; // 'sts.cn-north-1.amazonaws.com.cn'
 * resolveStsEndpoint({ region: 'us-west-2', useFipsEndpoint: true }).hostname; // 'sts-fips.us-west-2.amazonaws.com'
 * resolveStsEndpoint({ region: 'eu-west-1', useFipsEndpoint: true }); // throws ERR_INVALID_REGION: no FIPS STS there
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
  const part = knownRegionPartition(region, options);
  if (legacy && part.name === 'aws' && LEGACY_GLOBAL_REGIONS.has(region) && !useFipsEndpoint && !useDualstackEndpoint) {
    return globalEndpoint();
  }
  if (useDualstackEndpoint && !(part.supportsDualStack && STS_DUAL_STACK_PARTITIONS.has(part.name))) {
    throw new EksAuthError('ERR_INVALID_REGION', `STS has no dual-stack endpoints in partition ${part.name} (region ${region}): unset AWS_USE_DUALSTACK_ENDPOINT`);
  }
  const suffix = useDualstackEndpoint ? part.dualStackDnsSuffix : part.dnsSuffix;
  const label = useFipsEndpoint ? fipsLabel(part.name, region, useDualstackEndpoint) : 'sts';
  return { hostname: `${label}.${region}.${suffix}`, signingRegion: region, partition: part.name };
}

/**
 * Every STS host {@link resolveStsEndpoint} produces for `region` with any FIPS and dual-stack settings (the legacy
 * global host aside): what a verifier accepts for that region.
 *
 * @example
 * ```ts
 * import { stsHostsForRegion } from './sts-endpoint.js';
 * stsHostsForRegion('eu-west-1'); // ['sts.eu-west-1.amazonaws.com', 'sts.eu-west-1.api.aws']
 * ```
 */
export function stsHostsForRegion(region: string): string[] {
  const hosts = new Set<string>();
  for (const useFipsEndpoint of [false, true]) {
    for (const useDualstackEndpoint of [false, true]) {
      try {
        hosts.add(resolveStsEndpoint({ region, useFipsEndpoint, useDualstackEndpoint }).hostname);
      } catch (err) {
        // A variant STS does not have in this region; anything else (a malformed region) is the caller's to see.
        if (!(err instanceof EksAuthError && err.code === 'ERR_INVALID_REGION' && isRegionName(region))) throw err;
      }
    }
  }
  return [...hosts];
}

/**
 * The STS address configured in the environment, as every AWS SDK reads it: `AWS_ENDPOINT_URL_STS`, then
 * `AWS_ENDPOINT_URL`. What `eksauth emulator` prints, so `verify` and `server` reach the emulator with no flag.
 *
 * @example
 * ```ts
 * import { configuredStsEndpoint } from './sts-endpoint.js';
 * configuredStsEndpoint({ AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' }); // 'http://127.0.0.1:4566'
 * ```
 */
export function configuredStsEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return configuredEndpoint('STS', env);
}

/**
 * A service's address configured in the environment, as every AWS SDK reads it: `AWS_ENDPOINT_URL_<SERVICE>`, then
 * `AWS_ENDPOINT_URL`; an empty variable counts as unset. For callers that hand the SDK an environment of their own
 * (doctor, with the exec plugin's), which the SDK itself would not read.
 *
 * @example
 * ```ts
 * import { configuredEndpoint } from './sts-endpoint.js';
 * configuredEndpoint('EC2', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }); // 'http://127.0.0.1:4566'
 * ```
 */
export function configuredEndpoint(service: 'STS' | 'EKS' | 'EC2', env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

// aws-iam-authenticator's region check (from the Go SDK v1): letters, digits and inner hyphens; one DNS label here.
const OPERATOR_REGION = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The STS hosts a verifier accepts for a region its operator named (`--sts-region`, `regions:`), in one partition:
 * `sts.<region>.<domain>` and, where STS has dual-stack hosts, `sts.<region>.<dual-stack domain>`, whether or not the
 * SDK lists the region and whatever its name looks like, as aws-iam-authenticator accepts its configured region.
 * Empty for a partition the SDK does not know. Throws ERR_INVALID_CONFIG for a region that cannot be a host label.
 *
 * @example
 * ```ts
 * import { stsHostsForOperatorRegion } from './sts-endpoint.js';
 * stsHostsForOperatorRegion('not-a-region4', 'aws-cn');
 * // ['sts.not-a-region4.amazonaws.com.cn', 'sts.not-a-region4.api.amazonwebservices.com.cn']
 * ```
 */
export function stsHostsForOperatorRegion(region: string, partitionName: string): string[] {
  if (!OPERATOR_REGION.test(region)) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `"${region.slice(0, 40)}" in regions is not a region name: use lower-case letters, digits and hyphens, e.g. eu-west-1`);
  }
  // Every partition of the SDK's data lists its own `<partition>-global` region: the one way to read its domains.
  const part = partition(`${partitionName}-global`);
  if (part.name !== partitionName) return [];
  const hosts = [`sts.${region}.${part.dnsSuffix}`];
  if (STS_DUAL_STACK_PARTITIONS.has(partitionName)) hosts.push(`sts.${region}.${part.dualStackDnsSuffix}`);
  return hosts;
}

function fipsLabel(partitionName: string, region: string, dualstack: boolean): string {
  const fips = STS_FIPS_HOSTS[partitionName];
  if (fips !== undefined && !dualstack && (fips.regions === undefined || fips.regions.has(region))) return fips.label;
  const where = dualstack ? `with dual-stack in ${region} (botocore lists none)` : `in ${region}`;
  throw new EksAuthError('ERR_INVALID_REGION', `STS has no FIPS endpoint ${where}; FIPS STS hosts exist for ${FIPS_REGIONS_TEXT}: unset AWS_USE_FIPS_ENDPOINT`);
}

function globalEndpoint(): StsEndpoint {
  return { hostname: GLOBAL_STS_HOST, signingRegion: GLOBAL_SIGNING_REGION, partition: 'aws' };
}

/**
 * The partition of `region` when the SDK's partition data lists the region; otherwise ERR_INVALID_REGION naming
 * where the region came from and the listed regions one typo away, unless `allowUnknownRegion` is set (then the
 * partition whose name pattern the region matches). One lookup for a listed region: the token path pays no more.
 *
 * @example
 * ```ts
 * import { knownRegionPartition } from './sts-endpoint.js';
 * knownRegionPartition('eu-west-1', {}).name; // 'aws'
 * knownRegionPartition('eu-wset-1', { regionSource: 'AWS_REGION' }); // throws ERR_INVALID_REGION: … did you mean eu-west-1? …
 * knownRegionPartition('eu-north-9', { allowUnknownRegion: true }).dnsSuffix; // 'amazonaws.com'
 * ```
 */
export function knownRegionPartition(region: string, options: Pick<StsEndpointOptions, 'regionSource' | 'allowUnknownRegion'>): EndpointPartition {
  const listed = sdkListedRegion(region);
  if (listed !== undefined) return listed;
  if (options.allowUnknownRegion) return partition(region);
  const nearby = nearbyRegions(region);
  const hint = nearby.length === 0 ? '' : ` did you mean ${nearby.slice(0, 3).join(' or ')}?`;
  throw new EksAuthError(
    'ERR_INVALID_REGION',
    `region "${region}" (from ${options.regionSource ?? '--region'}) is not in the AWS SDK's region list:${hint} ` +
      `If it is a region newer than this eksauth, pass --allow-unknown-region or set ${ALLOW_UNKNOWN_REGION_ENV}=1`,
  );
}

// partition() merges a region's own entry (its description) into the partition outputs only for regions the SDK
// lists; a region that merely matches a partition's name pattern gets the bare outputs. That is the one public way to
// ask "does the SDK know this region?" (the table itself is not exported), and it is what stops a resolvable but
// nonexistent region such as us-east-9 from being accepted. Only listed regions are cached, so the cache is bounded.
const listedRegions = new Map<string, EndpointPartition>();

/**
 * The partition data of `region` when the SDK lists it, else undefined.
 *
 * @example
 * ```ts
 * import { sdkListedRegion } from './sts-endpoint.js';
 * sdkListedRegion('eu-west-1')?.name; // 'aws'
 * sdkListedRegion('us-east-9'); // undefined
 * ```
 */
export function sdkListedRegion(region: string): EndpointPartition | undefined {
  const cached = listedRegions.get(region);
  if (cached) return cached;
  let found: EndpointPartition;
  try {
    found = partition(region);
  } catch {
    return undefined;
  }
  if (!Object.hasOwn(found, 'description')) return undefined;
  listedRegions.set(region, found);
  return found;
}

const REGION_NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-';

/**
 * The listed regions one typo from `region`: a character dropped, added or changed, or two neighbours swapped. The
 * SDK does not export its region list, so the candidates are asked of it one by one (a few hundred lookups, on the
 * error path only).
 */
function nearbyRegions(region: string): string[] {
  const found = new Set<string>();
  const consider = (candidate: string): void => {
    if (candidate !== region && sdkListedRegion(candidate) !== undefined) found.add(candidate);
  };
  for (let i = 0; i <= region.length; i++) {
    const head = region.slice(0, i);
    const tail = region.slice(i);
    if (tail !== '') consider(head + tail.slice(1));
    if (tail.length > 1) consider(head + tail.charAt(1) + tail.charAt(0) + tail.slice(2));
    for (const c of REGION_NAME_CHARS) {
      consider(head + c + tail);
      if (tail !== '') consider(head + c + tail.slice(1));
    }
  }
  return [...found].sort();
}

/** Throws ERR_INVALID_REGION unless `region` looks like an AWS region. */
export function assertRegionName(region: string): void {
  if (isRegionName(region)) return;
  const hint = /fips/i.test(region) ? ' (for FIPS endpoints set AWS_USE_FIPS_ENDPOINT=true and give the plain region)' : '';
  throw new EksAuthError('ERR_INVALID_REGION', `"${region}" is not an AWS region name such as us-east-1 or eu-west-2${hint}`);
}
