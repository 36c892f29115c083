/**
 * The EKSAccessEntries backend: the cluster's EKS access entries, read through the EKS API (ListAccessEntries and
 * DescribeAccessEntry, with the server's own AWS credentials, region and `AWS_ENDPOINT_URL_EKS`) when the server
 * starts and every `intervalMs` after, so the webhook maps as EKS does under `authenticationMode: API`. A failed read
 * keeps the last good version in service.
 */
import { parseAccessEntries } from '../authn/mapping/access-entries/access-entries.js';
import { readAccessEntries } from '../access/apply.js';
import type { EksClientOptions } from '../aws/eks.js';
import { isEksAuthError } from '../errors.js';
import { SourceHolder, watchedSource, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface AccessEntriesSourceOptions {
  clusterName: string;
  eks: EksClientOptions;
  /** Time between reads; EKS's entries change rarely and each read costs one call per entry. */
  intervalMs: number;
}

/**
 * Starts reading the entries; the source is loaded once the first read succeeded.
 *
 * @example
 * ```ts
 * const source = await watchAccessEntries({ clusterName: 'prod', eks: { region: 'eu-west-1', credentials }, intervalMs: 30_000 }, reporter);
 * ```
 */
export async function watchAccessEntries(options: AccessEntriesSourceOptions, reporter: SourceReporter): Promise<WatchedSource> {
  const holder = new SourceHolder(`access-entries:${options.clusterName}`, reporter);
  let stopped = false;
  const read = async (): Promise<void> => {
    try {
      const records = (await readAccessEntries(options.clusterName, options.eks)).map(({ entry }) => ({
        principalArn: entry.principalArn, type: entry.type, username: entry.username, kubernetesGroups: entry.kubernetesGroups,
      }));
      if (!stopped) holder.offer(JSON.stringify(records), 'access entries read', () => parseAccessEntries(records, holder.name));
    } catch (err) {
      if (!stopped) holder.transientFailure(isEksAuthError(err) ? `${err.message} (${err.code})` : String(err));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    await read();
    // Until the first read succeeds the server is not ready: retry sooner than the interval.
    if (!stopped) timer = setTimeout(() => void loop(), holder.state().loaded ? options.intervalMs : Math.min(options.intervalMs, 2_000));
  };
  void loop();
  return watchedSource(holder, async () => {
    stopped = true;
    clearTimeout(timer);
  });
}
