/**
 * `{{EC2PrivateDNSName}}`: the private DNS name of the EC2 instance a node's session belongs to, looked up with EC2
 * DescribeInstances (as aws-iam-authenticator does) and cached, because every kubelet authenticates again and again.
 *
 * `@aws-sdk/client-ec2` is loaded on first use only, so servers that never render the template never load it.
 */
import type { DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { EksAuthError } from '../../errors.js';
import { isEc2InstanceId } from './templates.js';
import { createExpiringCache } from '../../lib/expiring-cache.js';

export interface Ec2PrivateDnsResolverOptions {
  /** The region the cluster's instances run in. */
  region: string;
  /** EC2 endpoint URL (a VPC endpoint, or a local emulator in tests); default from the SDK's endpoint rules. */
  endpoint?: string;
  /** Default: the SDK's default credential chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Most instances kept; the least recently used is dropped first. Default 1000. */
  maxEntries?: number;
  /** How long an answer is kept. Default 15 minutes. */
  ttlMs?: number;
  /** Deadline for one DescribeInstances request. Default 5000 ms. */
  timeoutMs?: number;
  /** Clock for cache expiry; default `Date.now`. */
  now?: () => number;
}

export interface CachedLookupOptions {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_TTL_MS = 15 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Wraps an async lookup with a bounded LRU cache whose entries expire after `ttlMs`, and makes concurrent lookups of
 * the same key share one call. Failures are not cached.
 *
 * @example
 * ```ts
 * import { createCachedLookup } from 'eksauth';
 * const lookup = createCachedLookup(async (id) => `ip-${id}.internal`, { maxEntries: 100, ttlMs: 60_000 });
 * await Promise.all([lookup('a'), lookup('a')]); // one call underneath
 * ```
 */
export function createCachedLookup<V>(
  lookup: (key: string) => Promise<V>,
  options: CachedLookupOptions,
): (key: string) => Promise<V> {
  const { maxEntries, ttlMs, now = Date.now } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  if (!(ttlMs >= 0)) throw new RangeError('ttlMs must be zero or more');
  const cache = createExpiringCache<V>({ maxEntries, now });
  return async (key) => (await cache.get(key, async () => ({ value: await lookup(key), expiresAt: now() + ttlMs }))).value;
}

/**
 * Creates the `{{EC2PrivateDNSName}}` resolver for {@link MapOptions}: instance id → private DNS name, via EC2
 * DescribeInstances, cached (see {@link createCachedLookup}). Rejects with `ERR_EC2_PRIVATE_DNS` for a malformed
 * instance id, an unknown instance, one without a private DNS name, or a failed call.
 *
 * @example
 * ```ts
 * import { createEc2PrivateDnsResolver, mapIdentity, parseAccessEntries, toStsIdentity } from 'eksauth';
 * const ec2PrivateDnsName = createEc2PrivateDnsResolver({ region: 'eu-west-1' });
 * const node = toStsIdentity(
 *   { arn: 'arn:aws:sts::111122223333:assumed-role/NodeRole/i-0123456789abcdef0', account: '111122223333', userId: 'AROAEXAMPLE:i-0123456789abcdef0' },
 *   'ASIAEXAMPLE',
 * );
 * const nodes = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/NodeRole', type: 'EC2_LINUX' }]);
 * const result = await mapIdentity(node, [nodes], { ec2PrivateDnsName });
 * // { mapped: true, user: { username: 'system:node:ip-10-0-0-1.eu-west-1.compute.internal', … } }
 * ```
 */
export function createEc2PrivateDnsResolver(options: Ec2PrivateDnsResolverOptions): (instanceId: string) => Promise<string> {
  if (typeof options.region !== 'string' || options.region === '') {
    throw new EksAuthError('ERR_NO_REGION', 'createEc2PrivateDnsResolver needs the region the cluster\'s instances run in');
  }
  const cached = createCachedLookup(describeInstancesFor(options), {
    maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    ttlMs: options.ttlMs ?? DEFAULT_TTL_MS,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return async (instanceId: string): Promise<string> => {
    if (!isEc2InstanceId(instanceId)) {
      throw new EksAuthError('ERR_EC2_PRIVATE_DNS', 'not an EC2 instance id (expected i- and 8 to 17 hex digits)');
    }
    return cached(instanceId);
  };
}

type DescribeInstances = (instanceId: string) => Promise<DescribeInstancesCommandOutput>;

function describeInstancesFor(options: Ec2PrivateDnsResolverOptions): (instanceId: string) => Promise<string> {
  const { region } = options;
  let describe: Promise<DescribeInstances> | undefined;
  return async (instanceId) => {
    describe ??= loadDescribeInstances(options);
    let answer: DescribeInstancesCommandOutput;
    try {
      answer = await (await describe)(instanceId);
    } catch (err) {
      throw describeFailure(err, instanceId, region);
    }
    return privateDnsNameOf(answer, instanceId, region);
  };
}

async function loadDescribeInstances(options: Ec2PrivateDnsResolverOptions): Promise<DescribeInstances> {
  const { EC2Client, DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new EC2Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  });
  return (instanceId) => client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
}

function privateDnsNameOf(answer: DescribeInstancesCommandOutput, instanceId: string, region: string): string {
  const instances = (answer.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
  const instance = instances.find((candidate) => candidate.InstanceId === instanceId);
  if (instance === undefined) {
    throw new EksAuthError('ERR_EC2_PRIVATE_DNS', `instance ${instanceId} was not found in ${region}`);
  }
  if (instance.PrivateDnsName === undefined || instance.PrivateDnsName === '') {
    throw new EksAuthError('ERR_EC2_PRIVATE_DNS', `instance ${instanceId} has no private DNS name (is it terminated?)`);
  }
  return instance.PrivateDnsName;
}

function describeFailure(err: unknown, instanceId: string, region: string): EksAuthError {
  const name = err instanceof Error ? err.name : 'Error';
  if (name.startsWith('InvalidInstanceID')) {
    return new EksAuthError('ERR_EC2_PRIVATE_DNS', `instance ${instanceId} was not found in ${region}`, { cause: err });
  }
  const detail = err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
  return new EksAuthError(
    'ERR_EC2_PRIVATE_DNS',
    `EC2 DescribeInstances for ${instanceId} in ${region} failed (${name}: ${detail}); check the server's ec2:DescribeInstances permission and EC2 endpoint`,
    { cause: err },
  );
}
