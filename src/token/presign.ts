import { HttpRequest } from '@smithy/protocol-http';
import { buildQueryString } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { StsEndpoint } from '../aws/sts-endpoint.js';
import { formatTimestamp } from '../exec/exec-credential.js';
import { CLUSTER_ID_HEADER, compareQueryNames, PRESIGN_EXPIRES_SECONDS, STS_API_VERSION } from './format.js';
import { Sha256 } from './sha256.js';

// Keeps x-k8s-aws-id a signed header instead of moving it into the query: its value must not be in the URL.
const UNHOISTABLE = new Set([CLUSTER_ID_HEADER]);

/**
 * The signer formats its date with toISOString(), whose first call in a process sets up V8's time zone cache: 0.2 ms of
 * every token cache miss. The getUTC* fields give the same text, to the second, which is all SigV4 uses.
 */
class SigningDate extends Date {
  override toISOString(): string {
    return formatTimestamp(this);
  }
}

/** The presigned query in botocore's order ({@link compareQueryNames}), so the URL is byte-identical to its. */
function orderedQueryString(query: Record<string, string | string[] | null>): string {
  return Object.keys(query).sort(compareQueryNames).map((name) => buildQueryString({ [name]: query[name] ?? null })).join('&');
}

export interface PresignOptions {
  credentials: AwsCredentialIdentity;
  /** The value of the signed `x-k8s-aws-id` header: the cluster name, or the Outposts cluster id. */
  clusterId: string;
  endpoint: StsEndpoint;
  /** Signing time; defaults to now. */
  signingDate?: Date;
}

/**
 * Presigns STS GetCallerIdentity for one cluster, returning the URL that goes inside a `k8s-aws-v1.` token.
 * Needs no network: this is SigV4 in query mode with `x-k8s-aws-id` signed.
 *
 * @example
 * ```ts
 * import { presignGetCallerIdentity } from './presign.js';
 * import { resolveStsEndpoint } from '../aws/sts-endpoint.js';
 * const url = await presignGetCallerIdentity({
 *   credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' },
 *   clusterId: 'eks-cluster',
 *   endpoint: resolveStsEndpoint({ region: 'us-west-2' }),
 * });
 * ```
 */
export async function presignGetCallerIdentity(options: PresignOptions): Promise<string> {
  const { credentials, clusterId, endpoint } = options;
  const signer = new SignatureV4({ credentials, region: endpoint.signingRegion, service: 'sts', sha256: Sha256 });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: endpoint.hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: STS_API_VERSION },
    headers: { host: endpoint.hostname, [CLUSTER_ID_HEADER]: clusterId },
  });
  const signed = await signer.presign(request, {
    expiresIn: PRESIGN_EXPIRES_SECONDS,
    unhoistableHeaders: UNHOISTABLE,
    signingDate: new SigningDate((options.signingDate ?? new Date()).getTime()),
  });
  return `https://${endpoint.hostname}/?${orderedQueryString(signed.query ?? {})}`;
}
