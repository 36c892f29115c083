/**
 * `{{EC2PrivateDNSName}}`: the private DNS name of the EC2 instance a node's session belongs to, looked up with EC2
 * DescribeInstances (as aws-iam-authenticator does) and cached, because every kubelet authenticates again and again.
 *
 * `@aws-sdk/client-ec2` is loaded on first use only, so servers that never render the template never load it.
 */
import type { DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import { HttpRequest } from '@smithy/protocol-http';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, BuildMiddleware, Pluggable } from '@smithy/types';
import { EksAuthError } from '../../errors.js';
import { explainNetworkFailure, lazyRequestHandler, type NetworkOptions } from '../../aws/network.js';
import { createBatchedDescribe, createRateLimiter, type BatchOptions } from './ec2-batch.js';
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
  /**
   * Role to assume for the lookups (aws-iam-authenticator's `ec2DescribeInstancesRoleARN`), e.g. when the instances
   * live in another account. Default: call EC2 with `credentials` directly.
   */
  roleArn?: string;
  /**
   * Sent with that AssumeRole as the reference sends it: headers `x-amz-source-arn` and `x-amz-source-account` (the
   * ARN's account), for trust policies that check `aws:SourceArn` / `aws:SourceAccount` (the confused deputy).
   */
  sourceArn?: string;
  /** STS endpoint URL for that AssumeRole (a VPC endpoint, or an emulator in tests). */
  stsEndpoint?: string;
  /** Most DescribeInstances calls a second (0: no limit) and the burst above it. Default 15 and 5, as the reference. */
  qps?: number;
  burst?: number;
  /** How lookups are batched; see {@link createBatchedDescribe}. */
  batch?: BatchOptions;
  /** Called for each DescribeInstances request sent (the server counts them as the reference does). */
  onDescribeInstances?: () => void;
  /** Proxy and CA bundle of the EC2 and STS calls; default: the proxy variables and AWS_CA_BUNDLE of the environment. */
  network?: NetworkOptions;
}

export interface CachedLookupOptions {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_TTL_MS = 15 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_QPS = 15;
const DEFAULT_BURST = 5;
const ROLE_SESSION_NAME = 'eksauth-ec2-describe-instances';
// As the reference: the assumed role's credentials last an hour, and are renewed before they run out.
const ROLE_SESSION_SECONDS = 3600;

/**
 * Wraps an async lookup with a bounded LRU cache whose entries expire after `ttlMs`, and makes concurrent lookups of
 * the same key share one call. Failures are not cached.
 *
 * @example
 * ```ts
 * import { createCachedLookup } from 'eksauth/verify';
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
 * DescribeInstances (optionally as `roleArn`), rate-limited, batched as aws-iam-authenticator batches (see
 * {@link createBatchedDescribe}) and cached (see {@link createCachedLookup}). Rejects with `ERR_EC2_PRIVATE_DNS` for
 * a malformed instance id, an unknown instance, one without a private DNS name, or a failed call.
 *
 * @example
 * ```ts
 * import { createEc2PrivateDnsResolver, mapIdentity, parseAccessEntries, toStsIdentity } from 'eksauth/verify';
 * const ec2PrivateDnsName = createEc2PrivateDnsResolver({ region: 'eu-west-1' }); // cached, batched DescribeInstances
 * const node = toStsIdentity(
 *   { arn: 'arn:aws:sts::111122223333:assumed-role/NodeRole/i-0123456789abcdef0', account: '111122223333', userId: 'AROAEXAMPLE:i-0123456789abcdef0' },
 *   'ASIAEXAMPLE',
 * );
 * const nodes = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/NodeRole', type: 'EC2_LINUX' }]);
 * const result = await mapIdentity(node, [nodes], { ec2PrivateDnsName });
 * if (result.mapped) console.log(result.user.username); // → system:node:ip-….eu-west-1.compute.internal
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

type DescribeInstances = (instanceIds: readonly string[]) => Promise<DescribeInstancesCommandOutput>;

function describeInstancesFor(options: Ec2PrivateDnsResolverOptions): (instanceId: string) => Promise<string> {
  const { region } = options;
  let describe: Promise<DescribeInstances> | undefined;
  const limit = createRateLimiter(options.qps ?? DEFAULT_QPS, options.burst ?? DEFAULT_BURST, options.now);
  const batched = createBatchedDescribe(async (instanceIds) => {
    describe ??= loadDescribeInstances(options);
    const call = await describe;
    await limit();
    options.onDescribeInstances?.();
    return privateDnsNamesOf(await call(instanceIds));
  }, options.batch);
  return async (instanceId) => {
    let name: string | undefined;
    try {
      name = await batched(instanceId);
    } catch (err) {
      throw describeFailure(err, instanceId, region);
    }
    if (name === undefined) throw new EksAuthError('ERR_EC2_PRIVATE_DNS', `instance ${instanceId} was not found in ${region}`);
    if (name === '') throw new EksAuthError('ERR_EC2_PRIVATE_DNS', `instance ${instanceId} has no private DNS name (is it terminated?)`);
    return name;
  };
}

async function loadDescribeInstances(options: Ec2PrivateDnsResolverOptions): Promise<DescribeInstances> {
  const { EC2Client, DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const credentials = options.roleArn === undefined ? options.credentials : await assumedRoleCredentials(options, options.roleArn);
  const client = new EC2Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    requestHandler: requestHandlerFor(options),
  });
  return (instanceIds) => client.send(new DescribeInstancesCommand({ InstanceIds: [...instanceIds] }));
}

/** Each DescribeInstances (and AssumeRole) request has `timeoutMs` in all: the review that waits on it has a deadline. */
function requestHandlerFor(options: Ec2PrivateDnsResolverOptions): ReturnType<typeof lazyRequestHandler> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return lazyRequestHandler(options.network ?? {}, { connectTimeoutMs: timeoutMs, readTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
}

/** Credentials of `roleArn`, assumed with the server's own and renewed by the SDK before they expire. */
async function assumedRoleCredentials(options: Ec2PrivateDnsResolverOptions, roleArn: string): Promise<AwsCredentialIdentityProvider> {
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  return fromTemporaryCredentials({
    ...(options.credentials === undefined ? {} : { masterCredentials: options.credentials }),
    params: { RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME, DurationSeconds: ROLE_SESSION_SECONDS },
    clientConfig: {
      region: options.region,
      requestHandler: requestHandlerFor(options),
      ...(options.stsEndpoint === undefined ? {} : { endpoint: options.stsEndpoint }),
    },
    ...(options.sourceArn === undefined ? {} : { clientPlugins: [sourceArnHeaders(options.sourceArn)] }),
  });
}

/**
 * Adds `x-amz-source-arn` and `x-amz-source-account` to the AssumeRole request before it is signed, exactly as the
 * reference's STS middleware does.
 */
function sourceArnHeaders(sourceArn: string): Pluggable<object, object> {
  const account = sourceArn.split(':')[4] ?? '';
  if (!/^\d{12}$/.test(account)) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `sourceARN "${sourceArn.slice(0, 120)}" has no account id; give an ARN such as arn:aws:eks:eu-west-1:111122223333:cluster/prod.`);
  }
  const addHeaders: BuildMiddleware<object, object> = (next) => async (args) => {
    if (HttpRequest.isInstance(args.request)) {
      args.request.headers['x-amz-source-arn'] = sourceArn;
      args.request.headers['x-amz-source-account'] = account;
    }
    return next(args);
  };
  return { applyToStack: (stack) => stack.add(addHeaders, { step: 'build', name: 'eksauthSourceArnHeaders' }) };
}

/** Every instance of the answer: id → private DNS name ('' for an instance without one). */
function privateDnsNamesOf(answer: DescribeInstancesCommandOutput): Map<string, string> {
  const instances = (answer.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
  return new Map(instances.filter((instance) => instance.InstanceId !== undefined).map((instance) => [instance.InstanceId ?? '', instance.PrivateDnsName ?? '']));
}

function describeFailure(err: unknown, instanceId: string, region: string): EksAuthError {
  if (err instanceof EksAuthError) return err;
  const name = err instanceof Error ? err.name : 'Error';
  if (name.startsWith('InvalidInstanceID')) {
    return new EksAuthError('ERR_EC2_PRIVATE_DNS', `instance ${instanceId} was not found in ${region}`, { cause: err });
  }
  const network = explainNetworkFailure(err, `EC2 DescribeInstances for ${instanceId} in ${region}`);
  if (network !== undefined) return new EksAuthError('ERR_EC2_PRIVATE_DNS', network.message, { cause: err });
  const detail = err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
  return new EksAuthError(
    'ERR_EC2_PRIVATE_DNS',
    `EC2 DescribeInstances for ${instanceId} in ${region} failed (${name}: ${detail}); check the server's ec2:DescribeInstances permission ` +
      '(and sts:AssumeRole of ec2DescribeInstancesRoleARN, when set) and the EC2 endpoint',
    { cause: err },
  );
}
