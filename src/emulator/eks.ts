/**
 * The EKS actions the emulator serves, on EKS's REST-JSON paths: ListClusters (`GET /clusters`), DescribeCluster
 * (`GET /clusters/{name}`), UpdateClusterConfig for `accessConfig` and DescribeUpdate, the access-entry API
 * (`/clusters/{name}/access-entries…`, see access-entries.ts) and ListAccessPolicies (`GET /access-policies`).
 * Requests are SigV4-checked like STS ones (service `eks`), with the same keys, including the temporary credentials
 * the emulator's AssumeRole issued, so cross-account discovery can be tested. A caller sees the clusters of its own
 * account in the region its signature is scoped to, as in AWS.
 */
import { createHash } from 'node:crypto';
import { ClusterAccess, listAccessPolicies } from './access-entries.js';
import type { EmulatorCluster, EmulatorConfig } from './config.js';
import type { Caller, KeyStore } from './credentials.js';
import { decodeSegment, EksError, errorReply, jsonReply, page, readJsonBody } from './eks-wire.js';
import { parsePrincipalArn } from './principals.js';
import type { ReceivedRequest } from './request.js';
import { parseParams } from './request.js';
import type { Reply } from './sts-wire.js';
import { StsError } from './sts-wire.js';

/**
 * Whether a request path belongs to EKS; the server sends those requests here.
 *
 * @example
 * ```ts
 * isEksPath('/clusters/prod'); // true
 * isEksPath('/access-policies'); // true
 * isEksPath('/'); // false: STS
 * ```
 */
export function isEksPath(rawPath: string): boolean {
  return rawPath === '/clusters' || rawPath.startsWith('/clusters/') || rawPath === '/access-policies';
}

export interface EksOutcome {
  /** The EKS operation (ListClusters, CreateAccessEntry, …) or '(unknown)', for statistics. */
  operation: string;
  reply: Reply;
}

/** A configured cluster with its owning account filled in, and its access configuration and entries. */
type OwnedCluster = EmulatorCluster & { account: string; access: ClusterAccess };

/** What a route needs: the caller's view of the clusters, the path's parameters, the query and the body. */
interface Call {
  caller: Caller;
  region: string;
  params: string[];
  query: ReadonlyMap<string, string>;
  body: Buffer;
}

interface Route {
  operation: string;
  method: string;
  /** Path segments after the first; `*` takes one percent-encoded parameter. */
  pattern: string[];
  run: (call: Call) => Record<string, unknown>;
}

/** A fixed creation time keeps DescribeCluster answers stable across runs. */
const CREATED_AT_SECONDS = Date.UTC(2025, 0, 1) / 1000;
const KUBERNETES_VERSION = '1.32';

// Signature failures come from the shared SigV4 code with STS's codes; REST-JSON services name them differently.
const AUTH_ERRORS: Record<string, [number, string]> = {
  MissingAuthenticationToken: [403, 'MissingAuthenticationTokenException'],
  IncompleteSignature: [403, 'IncompleteSignatureException'],
  SignatureDoesNotMatch: [403, 'InvalidSignatureException'],
  InvalidClientTokenId: [403, 'UnrecognizedClientException'],
  ExpiredToken: [403, 'ExpiredTokenException'],
};

/**
 * Answers the EKS calls above for the configured clusters; access entries live in memory, per cluster (so per
 * account and region), for as long as the emulator runs.
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
  private readonly routes: Route[];

  constructor(config: EmulatorConfig, private readonly keys: KeyStore, private readonly now: () => Date) {
    const owner = parsePrincipalArn(config.identities[0]?.arn ?? '')?.account ?? '000000000000';
    this.clusters = (config.clusters ?? []).map((cluster) => {
      const account = cluster.account ?? owner;
      const ref = { name: cluster.name, region: cluster.region, account, partition: partitionOf(cluster.region), status: cluster.status ?? 'ACTIVE' };
      return { ...cluster, account, access: new ClusterAccess(ref, cluster.authenticationMode ?? 'API_AND_CONFIG_MAP', now) };
    });
    this.routes = this.buildRoutes();
  }

  /** Answers one EKS request; failures become EKS error replies, anything else is a bug and propagates. */
  async handle(received: Omit<ReceivedRequest, 'query'> & { rawQuery: string }): Promise<EksOutcome> {
    let operation = '(unknown)';
    try {
      const request: ReceivedRequest = { ...received, query: parseParams(received.rawQuery, false) };
      const { route, params } = this.routeOf(request);
      operation = route.operation;
      const { caller, region } = await this.keys.authenticate(request, 'eks', this.now());
      const query = new Map(request.query.map(({ key, value }) => [key, value]));
      return { operation, reply: jsonReply(200, route.run({ caller, region, params, query, body: request.body })) };
    } catch (err) {
      if (err instanceof EksError) return { operation, reply: errorReply(err) };
      if (err instanceof StsError) return { operation, reply: errorReply(fromAuthError(err)) };
      throw err;
    }
  }

  private buildRoutes(): Route[] {
    const entry = (call: Call) => ({ access: this.cluster(call).access, principalArn: call.params[1]! });
    return [
      { operation: 'ListClusters', method: 'GET', pattern: ['clusters'], run: (call) => this.listClusters(call) },
      { operation: 'DescribeCluster', method: 'GET', pattern: ['clusters', '*'], run: (call) => ({ cluster: describe(this.cluster(call)) }) },
      { operation: 'UpdateClusterConfig', method: 'POST', pattern: ['clusters', '*', 'update-config'], run: (call) => this.cluster(call).access.updateConfig(readJsonBody(call.body)) },
      { operation: 'DescribeUpdate', method: 'GET', pattern: ['clusters', '*', 'updates', '*'], run: (call) => this.cluster(call).access.describeUpdate(call.params[1]!) },
      { operation: 'ListAccessEntries', method: 'GET', pattern: ['clusters', '*', 'access-entries'], run: (call) => this.cluster(call).access.listEntries(call.query) },
      { operation: 'CreateAccessEntry', method: 'POST', pattern: ['clusters', '*', 'access-entries'], run: (call) => this.cluster(call).access.createEntry(readJsonBody(call.body)) },
      { operation: 'DescribeAccessEntry', method: 'GET', pattern: ['clusters', '*', 'access-entries', '*'], run: (call) => { const e = entry(call); return e.access.describeEntry(e.principalArn); } },
      { operation: 'UpdateAccessEntry', method: 'POST', pattern: ['clusters', '*', 'access-entries', '*'], run: (call) => { const e = entry(call); return e.access.updateEntry(e.principalArn, readJsonBody(call.body)); } },
      { operation: 'DeleteAccessEntry', method: 'DELETE', pattern: ['clusters', '*', 'access-entries', '*'], run: (call) => { const e = entry(call); return e.access.deleteEntry(e.principalArn); } },
      { operation: 'ListAssociatedAccessPolicies', method: 'GET', pattern: ['clusters', '*', 'access-entries', '*', 'access-policies'], run: (call) => { const e = entry(call); return e.access.listAssociatedPolicies(e.principalArn, call.query); } },
      { operation: 'AssociateAccessPolicy', method: 'POST', pattern: ['clusters', '*', 'access-entries', '*', 'access-policies'], run: (call) => { const e = entry(call); return e.access.associatePolicy(e.principalArn, readJsonBody(call.body)); } },
      { operation: 'DisassociateAccessPolicy', method: 'DELETE', pattern: ['clusters', '*', 'access-entries', '*', 'access-policies', '*'], run: (call) => { const e = entry(call); return e.access.disassociatePolicy(e.principalArn, call.params[2]!); } },
      { operation: 'ListAccessPolicies', method: 'GET', pattern: ['access-policies'], run: (call) => listAccessPolicies(partitionOf(call.region), call.query) },
    ];
  }

  private routeOf(request: ReceivedRequest): { route: Route; params: string[] } {
    const segments = request.rawPath.split('/').slice(1);
    for (const route of this.routes) {
      if (route.method !== request.method || route.pattern.length !== segments.length) continue;
      const matches = route.pattern.every((part, i) => (part === '*' ? segments[i] !== '' : part === segments[i]));
      if (matches) return { route, params: route.pattern.flatMap((part, i) => (part === '*' ? [decodeSegment(segments[i]!)] : [])) };
    }
    throw new EksError(404, 'UnknownOperationException', `The emulator serves no EKS operation at ${request.method} ${request.rawPath.slice(0, 100)}; see the README for the operations it serves.`);
  }

  private visible(caller: Caller, region: string): OwnedCluster[] {
    return this.clusters.filter((cluster) => cluster.account === caller.account && cluster.region === region);
  }

  private listClusters(call: Call): Record<string, unknown> {
    const names = this.visible(call.caller, call.region).map((cluster) => cluster.name).sort();
    const { items, nextToken } = page(names, call.query);
    return { clusters: items, nextToken };
  }

  /** The cluster named by the path's first parameter, as the caller sees it. */
  private cluster(call: Call): OwnedCluster {
    const name = call.params[0]!;
    const cluster = this.visible(call.caller, call.region).find((candidate) => candidate.name === name);
    if (cluster === undefined) {
      throw new EksError(404, 'ResourceNotFoundException', `No cluster found for name: ${name.slice(0, 100)}.`, { clusterName: null });
    }
    return cluster;
  }
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
    accessConfig: { authenticationMode: cluster.access.mode },
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
