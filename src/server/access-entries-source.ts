/**
 * The EKSAccessEntries backend: the cluster's EKS access entries, read through the EKS API (ListAccessEntries and
 * DescribeAccessEntry, with the server's own AWS credentials, region and `AWS_ENDPOINT_URL_EKS`) when the server
 * starts and every `intervalMs` after (`accessEntriesRefreshInterval`), so the webhook maps as EKS does under
 * `authenticationMode: API`. Only the username and groups are read: the access policies associated with an entry are
 * authorization, which EKS applies after authentication and this webhook does not.
 *
 * A failed read keeps the last good set in service and is reported as the other backends report an unreadable
 * version: `/readyz` names the source and the EKS error type (never a message, which may name principals), the
 * `mapping_source_errors_total{kind="read"}` count goes up, and the source is unhealthy until a read succeeds.
 */
import { parseAccessEntries } from '../authn/mapping/access-entries/access-entries.js';
import { describeAccessEntries } from '../aws/access-entries.js';
import type { EksClientOptions } from '../aws/eks.js';
import { isEksAuthError } from '../errors.js';
import { SourceHolder, watchedSource, type Rejection, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface AccessEntriesSourceOptions {
  clusterName: string;
  eks: EksClientOptions;
  /** Time between reads; EKS's entries change rarely and each read costs one call per entry. */
  intervalMs: number;
}

/** Until the first read succeeds the server is not ready: reads are retried at least this often. */
const FIRST_READ_RETRY_MS = 2_000;

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
      const records = (await describeAccessEntries(options.clusterName, options.eks)).map((entry) => ({
        principalArn: entry.principalArn, type: entry.type, username: entry.username, kubernetesGroups: entry.kubernetesGroups,
      }));
      if (!stopped) holder.offer(JSON.stringify(records), 'access entries read', () => parseAccessEntries(records, holder.name));
    } catch (err) {
      if (!stopped) holder.reject(readFailure(err), 'read');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    await read();
    if (!stopped) timer = setTimeout(() => void loop(), holder.state().loaded ? options.intervalMs : Math.min(options.intervalMs, FIRST_READ_RETRY_MS));
  };
  void loop();
  return watchedSource(holder, async () => {
    stopped = true;
    clearTimeout(timer);
  });
}

/**
 * What a failed read reports: the EKS error type and eksauth's code for `/readyz`, metrics and the error log; the whole
 * message (which names the caller, and may name principals) for the debug log.
 */
function readFailure(err: unknown): Rejection {
  if (!isEksAuthError(err)) return { summary: 'the access entries could not be read (an internal error; see the debug log)', detail: String(err) };
  const type = err.cause instanceof Error && /^\w{1,80}$/.test(err.cause.name) && err.cause.name !== 'Error' ? `${err.cause.name}, ` : '';
  return { summary: `the access entries could not be read from EKS (${type}${err.code})`, detail: err.message };
}
