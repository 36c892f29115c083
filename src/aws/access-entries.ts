/**
 * The EKS access-entry API through `@aws-sdk/client-eks` (loaded on first use): access entries, the access policies
 * associated with them, and the cluster's `authenticationMode`. What `eksauth access` and `doctor` build on.
 *
 * Failures are EksAuthError (ERR_EKS_REQUEST for what EKS refused, ERR_EKS_ACCESS_DENIED, ERR_EKS_REJECTED,
 * ERR_EKS_UNAVAILABLE) whose message carries EKS's error type and message, and whose `cause` is the SDK's error
 * (`cause.name` is EKS's type, e.g. `ResourceInUseException`).
 */
import type { AccessScope, AuthenticationMode } from '../authn/mapping/access-entries/access-policies.js';
import type { AccessEntryType } from '../authn/mapping/types.js';
import type { EksClientOptions } from './eks.js';
import { eksClient, explainEksFailure } from './eks.js';

/** An access entry as DescribeAccessEntry reports it. */
export interface AccessEntry {
  clusterName: string;
  principalArn: string;
  type: AccessEntryType;
  /** The username template, e.g. `arn:aws:sts::111122223333:assumed-role/Admin/{{SessionName}}`. */
  username: string;
  kubernetesGroups: string[];
  accessEntryArn: string;
  createdAt?: Date;
  modifiedAt?: Date;
  tags: Record<string, string>;
}

export interface CreateAccessEntryInput {
  principalArn: string;
  /** Default STANDARD. */
  type?: AccessEntryType;
  /** Default: what EKS picks for the principal (see defaultStandardUsername). */
  username?: string;
  kubernetesGroups?: string[];
  tags?: Record<string, string>;
}

/** An access policy associated with an access entry. */
export interface AssociatedAccessPolicy {
  policyArn: string;
  accessScope: AccessScope;
  associatedAt?: Date;
  modifiedAt?: Date;
}

type Sdk = typeof import('@aws-sdk/client-eks');
type Client = InstanceType<Sdk['EKSClient']>;

/** Runs one or more EKS calls with one client, turning failures into EksAuthError naming the call (and cluster). */
async function withEks<T>(options: EksClientOptions, call: string, clusterName: string | undefined, run: (client: Client, sdk: Sdk) => Promise<T>): Promise<T> {
  const { client, sdk } = await eksClient(options);
  try {
    return await run(client, sdk);
  } catch (err) {
    throw explainEksFailure(err, clusterName === undefined ? call : `${call} for cluster ${clusterName}`, options.region);
  } finally {
    client.destroy();
  }
}

/** Collects every page of a List call. */
async function allPages<T>(fetch: (nextToken: string | undefined) => Promise<{ items: T[] | undefined; nextToken: string | undefined }>): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const result = await fetch(nextToken);
    items.push(...(result.items ?? []));
    nextToken = result.nextToken || undefined;
  } while (nextToken);
  return items;
}

/**
 * The principal ARNs of a cluster's access entries, optionally only those with `associatedPolicyArn`.
 *
 * @example
 * ```ts
 * import { listAccessEntries } from 'eksauth/eks';
 * console.log(await listAccessEntries('prod', { region: 'eu-west-1' })); // → [ 'arn:aws:iam::111122223333:role/eks-admin' ]
 * ```
 */
export async function listAccessEntries(clusterName: string, options: EksClientOptions, filter: { associatedPolicyArn?: string } = {}): Promise<string[]> {
  return withEks(options, 'ListAccessEntries', clusterName, (client, sdk) =>
    allPages(async (nextToken) => {
      const page = await client.send(new sdk.ListAccessEntriesCommand({ clusterName, maxResults: 100, nextToken, ...filter }));
      return { items: page.accessEntries, nextToken: page.nextToken };
    }));
}

/**
 * DescribeAccessEntry.
 *
 * @example
 * ```ts
 * import { describeAccessEntry } from 'eksauth/eks';
 * const entry = await describeAccessEntry('prod', 'arn:aws:iam::111122223333:role/eks-admin', { region: 'eu-west-1' });
 * console.log(entry.username, entry.kubernetesGroups); // → arn:aws:sts::111122223333:assumed-role/eks-admin/{{SessionName}} [ 'admins' ]
 * ```
 */
export async function describeAccessEntry(clusterName: string, principalArn: string, options: EksClientOptions): Promise<AccessEntry> {
  return withEks(options, 'DescribeAccessEntry', clusterName, async (client, sdk) =>
    toAccessEntry((await client.send(new sdk.DescribeAccessEntryCommand({ clusterName, principalArn }))).accessEntry));
}

/**
 * Every access entry of a cluster, described: ListAccessEntries, then DescribeAccessEntry for each (a few at a time,
 * so a cluster with hundreds of entries is not a burst that EKS throttles).
 *
 * @example
 * ```ts
 * import { describeAccessEntries } from 'eksauth/eks';
 * const entries = await describeAccessEntries('prod', { region: 'eu-west-1' });
 * for (const entry of entries) console.log(entry.principalArn, entry.type, entry.kubernetesGroups);
 * // → arn:aws:iam::111122223333:role/eks-admin STANDARD [ 'admins' ]
 * ```
 */
export async function describeAccessEntries(clusterName: string, options: EksClientOptions): Promise<AccessEntry[]> {
  const arns = await listAccessEntries(clusterName, options);
  const entries: AccessEntry[] = [];
  for (let i = 0; i < arns.length; i += DESCRIBE_BATCH) {
    entries.push(...await Promise.all(arns.slice(i, i + DESCRIBE_BATCH).map((arn) => describeAccessEntry(clusterName, arn, options))));
  }
  return entries;
}

const DESCRIBE_BATCH = 8;

/**
 * CreateAccessEntry; EKS fills in the username (and, for node types, the identity) it gives the principal.
 *
 * @example
 * ```ts
 * import { createAccessEntry } from 'eksauth/eks';
 * const entry = await createAccessEntry('prod', { principalArn: 'arn:aws:iam::111122223333:role/NodeRole', type: 'EC2_LINUX' }, { region: 'eu-west-1' });
 * console.log(entry.type, entry.username); // → EC2_LINUX system:node:{{EC2PrivateDNSName}}
 * ```
 */
export async function createAccessEntry(clusterName: string, input: CreateAccessEntryInput, options: EksClientOptions): Promise<AccessEntry> {
  return withEks(options, 'CreateAccessEntry', clusterName, async (client, sdk) =>
    toAccessEntry((await client.send(new sdk.CreateAccessEntryCommand({ clusterName, ...input }))).accessEntry));
}

/**
 * UpdateAccessEntry: replaces the username and/or the Kubernetes groups of a STANDARD entry.
 *
 * @example
 * ```ts
 * import { updateAccessEntry } from 'eksauth/eks';
 * const entry = await updateAccessEntry('prod', 'arn:aws:iam::111122223333:role/eks-admin', { kubernetesGroups: ['admins', 'auditors'] }, { region: 'eu-west-1' });
 * console.log(entry.kubernetesGroups); // → [ 'admins', 'auditors' ]
 * ```
 */
export async function updateAccessEntry(
  clusterName: string,
  principalArn: string,
  change: { username?: string; kubernetesGroups?: string[] },
  options: EksClientOptions,
): Promise<AccessEntry> {
  return withEks(options, 'UpdateAccessEntry', clusterName, async (client, sdk) =>
    toAccessEntry((await client.send(new sdk.UpdateAccessEntryCommand({ clusterName, principalArn, ...change }))).accessEntry));
}

/**
 * DeleteAccessEntry (its policy associations go with it).
 *
 * @example
 * ```ts
 * import { deleteAccessEntry, listAccessEntries } from 'eksauth/eks';
 * const options = { region: 'eu-west-1' };
 * await deleteAccessEntry('prod', 'arn:aws:iam::111122223333:role/eks-admin', options); // its access policies go with it
 * console.log(await listAccessEntries('prod', options)); // → []
 * ```
 */
export async function deleteAccessEntry(clusterName: string, principalArn: string, options: EksClientOptions): Promise<void> {
  await withEks(options, 'DeleteAccessEntry', clusterName, (client, sdk) => client.send(new sdk.DeleteAccessEntryCommand({ clusterName, principalArn })));
}

/**
 * AssociateAccessPolicy; associating a policy that is already associated replaces its scope.
 *
 * @example
 * ```ts
 * import { associateAccessPolicy } from 'eksauth/eks';
 * const policy = await associateAccessPolicy(
 *   'prod',
 *   'arn:aws:iam::111122223333:role/eks-admin',
 *   'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
 *   { type: 'namespace', namespaces: ['dev-*'] },
 *   { region: 'eu-west-1' },
 * );
 * console.log(policy.accessScope); // → { type: 'namespace', namespaces: [ 'dev-*' ] }
 * ```
 */
export async function associateAccessPolicy(
  clusterName: string,
  principalArn: string,
  policyArn: string,
  accessScope: AccessScope,
  options: EksClientOptions,
): Promise<AssociatedAccessPolicy> {
  return withEks(options, 'AssociateAccessPolicy', clusterName, async (client, sdk) => {
    const answer = await client.send(new sdk.AssociateAccessPolicyCommand({ clusterName, principalArn, policyArn, accessScope }));
    return toAssociatedPolicy(answer.associatedAccessPolicy);
  });
}

/**
 * DisassociateAccessPolicy.
 *
 * @example
 * ```ts
 * import { disassociateAccessPolicy, listAssociatedAccessPolicies } from 'eksauth/eks';
 * const [admin, options] = ['arn:aws:iam::111122223333:role/eks-admin', { region: 'eu-west-1' }];
 * await disassociateAccessPolicy('prod', admin, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', options);
 * console.log(await listAssociatedAccessPolicies('prod', admin, options)); // → []
 * ```
 */
export async function disassociateAccessPolicy(clusterName: string, principalArn: string, policyArn: string, options: EksClientOptions): Promise<void> {
  await withEks(options, 'DisassociateAccessPolicy', clusterName, (client, sdk) =>
    client.send(new sdk.DisassociateAccessPolicyCommand({ clusterName, principalArn, policyArn })));
}

/**
 * The access policies associated with an access entry, every page.
 *
 * @example
 * ```ts
 * import { listAssociatedAccessPolicies } from 'eksauth/eks';
 * const policies = await listAssociatedAccessPolicies('prod', 'arn:aws:iam::111122223333:role/eks-admin', { region: 'eu-west-1' });
 * for (const { policyArn, accessScope } of policies) console.log(policyArn, accessScope.type);
 * // → arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy cluster
 * ```
 */
export async function listAssociatedAccessPolicies(clusterName: string, principalArn: string, options: EksClientOptions): Promise<AssociatedAccessPolicy[]> {
  return withEks(options, 'ListAssociatedAccessPolicies', clusterName, async (client, sdk) => {
    const policies = await allPages(async (nextToken) => {
      const page = await client.send(new sdk.ListAssociatedAccessPoliciesCommand({ clusterName, principalArn, maxResults: 100, nextToken }));
      return { items: page.associatedAccessPolicies, nextToken: page.nextToken };
    });
    return policies.map(toAssociatedPolicy);
  });
}

/**
 * The access policies EKS offers, every page.
 *
 * @example
 * ```ts
 * import { listAccessPolicies } from 'eksauth/eks';
 * const policies = await listAccessPolicies({ region: 'eu-west-1' });
 * console.log(policies.some((policy) => policy.name === 'AmazonEKSClusterAdminPolicy')); // → true
 * ```
 */
export async function listAccessPolicies(options: EksClientOptions): Promise<{ name: string; arn: string }[]> {
  return withEks(options, 'ListAccessPolicies', undefined, async (client, sdk) => {
    const policies = await allPages(async (nextToken) => {
      const page = await client.send(new sdk.ListAccessPoliciesCommand({ maxResults: 100, nextToken }));
      return { items: page.accessPolicies, nextToken: page.nextToken };
    });
    return policies.map((policy) => ({ name: policy.name ?? '', arn: policy.arn ?? '' }));
  });
}

/**
 * UpdateClusterConfig with a new `authenticationMode` (EKS allows CONFIG_MAP → API_AND_CONFIG_MAP → API only), and
 * the update EKS started.
 *
 * @example
 * ```ts
 * import { updateAuthenticationMode } from 'eksauth/eks';
 * const { status } = await updateAuthenticationMode('prod', 'API', { region: 'eu-west-1' }); // one way: CONFIG_MAP → API_AND_CONFIG_MAP → API
 * console.log(status); // → Successful
 * ```
 */
export async function updateAuthenticationMode(clusterName: string, mode: AuthenticationMode, options: EksClientOptions): Promise<{ id: string; status: string }> {
  return withEks(options, 'UpdateClusterConfig', clusterName, async (client, sdk) => {
    const { update } = await client.send(new sdk.UpdateClusterConfigCommand({ name: clusterName, accessConfig: { authenticationMode: mode } }));
    return { id: update?.id ?? '', status: update?.status ?? '' };
  });
}

function toAccessEntry(entry: import('@aws-sdk/client-eks').AccessEntry | undefined): AccessEntry {
  return {
    clusterName: entry?.clusterName ?? '',
    principalArn: entry?.principalArn ?? '',
    type: (entry?.type ?? 'STANDARD') as AccessEntryType,
    username: entry?.username ?? '',
    kubernetesGroups: entry?.kubernetesGroups ?? [],
    accessEntryArn: entry?.accessEntryArn ?? '',
    ...(entry?.createdAt === undefined ? {} : { createdAt: entry.createdAt }),
    ...(entry?.modifiedAt === undefined ? {} : { modifiedAt: entry.modifiedAt }),
    tags: entry?.tags ?? {},
  };
}

function toAssociatedPolicy(policy: import('@aws-sdk/client-eks').AssociatedAccessPolicy | undefined): AssociatedAccessPolicy {
  const scope = policy?.accessScope;
  return {
    policyArn: policy?.policyArn ?? '',
    accessScope: { type: scope?.type === 'namespace' ? 'namespace' : 'cluster', namespaces: scope?.namespaces ?? [] },
    ...(policy?.associatedAt === undefined ? {} : { associatedAt: policy.associatedAt }),
    ...(policy?.modifiedAt === undefined ? {} : { modifiedAt: policy.modifiedAt }),
  };
}
