/**
 * The EKS actions the emulator serves, on EKS's REST-JSON paths: ListClusters (`GET /clusters`) and DescribeCluster
 * (`GET /clusters/{name}`). Requests are SigV4-checked like STS ones (service `eks`), with the same keys, including
 * the temporary credentials the emulator's AssumeRole issued, so cross-account discovery can be tested. A caller
 * sees the clusters of its own account in the region its signature is scoped to, as in AWS.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { EmulatorCluster, EmulatorConfig } from './config.js';
import type { Caller, KeyStore } from './credentials.js';
import { parsePrincipalArn } from './principals.js';
import type { ReceivedRequest } from './request.js';
import { headerValue, parseParams } from './request.js';
import { checkAge, checkScope, checkSignature, readSignature } from './sigv4.js';
import type { Reply } from './sts-wire.js';
import { StsError } from './sts-wire.js';

/**
 * Whether a request path belongs to EKS; the server sends those requests here.
 *
 * @example
 * ```ts
 * isEksPath('/clusters/prod'); // true
 * isEksPath('/'); // false: STS
 * ```
 */
export function isEksPath(rawPath: string): boolean {
  return rawPath === '/clusters' || rawPath.startsWith('/clusters/');
}

export interface EksOutcome {
  /** ListClusters, DescribeCluster or '(unknown)', for statistics. */
  operation: string;
  reply: Reply;
}

/** A configured cluster with its owning account filled in. */
type OwnedCluster = EmulatorCluster & { account: string };

const MAX_RESULTS = 100;
/** A fixed creation time keeps DescribeCluster answers stable across runs. */
const CREATED_AT_SECONDS = Date.UTC(2025, 0, 1) / 1000;
const KUBERNETES_VERSION = '1.32';

/** An EKS error as the REST-JSON protocol carries it: the type in a header, `message` in the body. */
class EksError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

// Signature failures come from the shared SigV4 code with STS's codes; REST-JSON services name them differently.
const AUTH_ERRORS: Record<string, [number, string]> = {
  MissingAuthenticationToken: [403, 'MissingAuthenticationTokenException'],
  IncompleteSignature: [403, 'IncompleteSignatureException'],
  SignatureDoesNotMatch: [403, 'InvalidSignatureException'],
  InvalidClientTokenId: [403, 'UnrecognizedClientException'],
  ExpiredToken: [403, 'ExpiredTokenException'],
};

/**
 * Answers ListClusters and DescribeCluster for the configured clusters.
 *
 * @example
 * ```ts
 * const eks = new EksService(DEMO_EMULATOR_CONFIG, new KeyStore(DEMO_EMULATOR_CONFIG), () => new Date());
 * const { reply } = await eks.handle({ method: 'GET', rawPath: '/clusters', rawQuery: '', headers: {}, body: Buffer.alloc(0) });
 * reply.status; // 403: unsigned
 * ```
 */
export class EksService {
  private readonly clusters: OwnedCluster[];

  constructor(config: EmulatorConfig, private readonly keys: KeyStore, private readonly now: () => Date) {
    const owner = parsePrincipalArn(config.identities[0]?.arn ?? '')?.account ?? '000000000000';
    this.clusters = (config.clusters ?? []).map((cluster) => ({ ...cluster, account: cluster.account ?? owner }));
  }

  /** Answers one EKS request; failures become EKS error replies, anything else is a bug and propagates. */
  async handle(received: Omit<ReceivedRequest, 'query'> & { rawQuery: string }): Promise<EksOutcome> {
    let operation = '(unknown)';
    try {
      const request: ReceivedRequest = { ...received, query: parseParams(received.rawQuery, false) };
      const route = routeOf(request);
      operation = route.operation;
      const { caller, region } = await this.authenticate(request);
      const body = route.name === undefined ? this.listClusters(caller, region, request) : this.describeCluster(caller, region, route.name);
      return { operation, reply: jsonReply(200, body) };
    } catch (err) {
      if (err instanceof EksError) return { operation, reply: errorReply(err) };
      if (err instanceof StsError) return { operation, reply: errorReply(fromAuthError(err)) };
      throw err;
    }
  }

  private async authenticate(request: ReceivedRequest): Promise<{ caller: Caller; region: string }> {
    const now = this.now();
    const claim = readSignature(request);
    checkScope(claim, headerValue(request, 'host'), 'eks');
    checkAge(claim, now);
    const { secret, caller } = this.keys.resolve(claim.accessKeyId, claim.sessionToken, now);
    await checkSignature(request, claim, secret);
    return { caller, region: claim.scope.region };
  }

  private visible(caller: Caller, region: string): OwnedCluster[] {
    return this.clusters.filter((cluster) => cluster.account === caller.account && cluster.region === region);
  }

  private listClusters(caller: Caller, region: string, request: ReceivedRequest): Record<string, unknown> {
    const params = new Map(request.query.map(({ key, value }) => [key, value]));
    const maxResults = readMaxResults(params.get('maxResults'));
    const start = readNextToken(params.get('nextToken'));
    const names = this.visible(caller, region).map((cluster) => cluster.name).sort();
    const page = names.slice(start, start + maxResults);
    const next = start + maxResults < names.length ? Buffer.from(String(start + maxResults)).toString('base64') : null;
    return { clusters: page, nextToken: next };
  }

  private describeCluster(caller: Caller, region: string, name: string): Record<string, unknown> {
    const cluster = this.visible(caller, region).find((candidate) => candidate.name === name);
    if (cluster === undefined) {
      throw new EksError(404, 'ResourceNotFoundException', `No cluster found for name: ${name.slice(0, 100)}.`, { clusterName: null });
    }
    return { cluster: describe(cluster) };
  }
}

function routeOf(request: ReceivedRequest): { operation: string; name?: string } {
  const segments = request.rawPath.split('/').slice(1);
  if (request.method === 'GET' && segments.length === 1) return { operation: 'ListClusters' };
  if (request.method === 'GET' && segments.length === 2 && segments[1] !== '') {
    return { operation: 'DescribeCluster', name: decodeSegment(segments[1]!) };
  }
  throw new EksError(404, 'UnknownOperationException', `The emulator serves only ListClusters (GET /clusters) and DescribeCluster (GET /clusters/{name}), not ${request.method} ${request.rawPath.slice(0, 100)}.`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new EksError(400, 'InvalidParameterException', 'The cluster name in the path is not valid percent-encoding.');
  }
}

function readMaxResults(value: string | undefined): number {
  if (value === undefined) return MAX_RESULTS;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_RESULTS)) {
    throw new EksError(400, 'InvalidParameterException', `maxResults must be between 1 and ${MAX_RESULTS} (got ${value.slice(0, 20)}).`);
  }
  return n;
}

function readNextToken(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const offset = Number(Buffer.from(value, 'base64').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw new EksError(400, 'InvalidParameterException', 'The nextToken is not one this emulator issued.');
  return offset;
}

/** DescribeCluster's `cluster` object: the fields EKS returns for a cluster, in EKS's order. */
function describe(cluster: OwnedCluster): Record<string, unknown> {
  const arn = `arn:${partitionOf(cluster.region)}:eks:${cluster.region}:${cluster.account}:cluster/${cluster.name}`;
  const local = cluster.outpostConfig !== undefined;
  return {
    name: cluster.name,
    arn,
    createdAt: CREATED_AT_SECONDS,
    version: KUBERNETES_VERSION,
    endpoint: cluster.endpoint,
    roleArn: `arn:${partitionOf(cluster.region)}:iam::${cluster.account}:role/eks-cluster`,
    status: cluster.status ?? 'ACTIVE',
    certificateAuthority: { data: cluster.certificateAuthorityData },
    platformVersion: 'eks.1',
    tags: {},
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    // EKS reports an id only for Outposts local clusters; tokens for those carry the id, not the name.
    ...(local ? { id: cluster.id ?? derivedId(arn), outpostConfig: cluster.outpostConfig } : {}),
  };
}

/** A UUID-shaped id that stays the same for the same ARN. */
function derivedId(arn: string): string {
  const hex = createHash('sha256').update(arn).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function fromAuthError(err: StsError): EksError {
  const [status, type] = AUTH_ERRORS[err.code] ?? [400, 'BadRequestException'];
  return new EksError(status, type, err.message);
}

function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() }, body: JSON.stringify(value) };
}

function errorReply(err: EksError): Reply {
  const reply = jsonReply(err.status, { ...err.extra, message: err.message });
  return { ...reply, headers: { ...reply.headers, 'x-amzn-errortype': err.type } };
}
