/**
 * `eksauth update-kubeconfig`: parsing and printing only; the work is in src/kubeconfig/update.ts.
 */
import { writeSync } from 'node:fs';
import { stringify } from 'yaml';
import { assertRoleArn } from '../aws/assume-role.js';
import { networkOptions, type NetworkFlags } from '../aws/network.js';
import type { DiscoveryProgress } from '../aws/eks.js';
import { EksAuthError } from '../errors.js';
import type { ClusterOutcome, UpdatedFile, UpdateKubeconfigOptions } from '../kubeconfig/update.js';
import { updateKubeconfig, updateKubeconfigForAllClusters } from '../kubeconfig/update.js';

export interface UpdateKubeconfigFlags extends NetworkFlags {
  name?: string;
  all?: boolean;
  regions?: string;
  kubeconfig?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
  roleArn?: string;
  assumeRoleArn?: string;
  proxyUrl?: string;
  alias?: string;
  userAlias?: string;
  execCommand?: string;
  apiVersion?: string;
  interactiveMode?: string;
  /** Undefined unless --set-current-context or --no-set-current-context was given. */
  setCurrentContext?: boolean;
  /** true (plain `--dry-run`), or the format named after it. */
  dryRun?: boolean | string;
  verbose?: boolean;
  concurrency?: string;
  allowUnknownRegion?: boolean;
}

type DryRun = 'yaml' | 'summary' | undefined;

const print = (text: string): void => {
  writeSync(1, text);
};

/**
 * Runs the command; throws EksAuthError for the caller to report.
 *
 * @example
 * ```ts
 * await runUpdateKubeconfig({ name: 'prod', region: 'eu-west-1', dryRun: 'summary' });
 * ```
 */
export async function runUpdateKubeconfig(flags: UpdateKubeconfigFlags): Promise<void> {
  // The SDK's Node-version notice would otherwise appear on every run on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dryRun = dryRunFormat(flags.dryRun);
  const options = commonOptions(flags, dryRun);
  if (flags.all) await runAll(flags, options, dryRun);
  else await runOne(flags, options, dryRun);
}

function commonOptions(flags: UpdateKubeconfigFlags, dryRun: DryRun): Omit<UpdateKubeconfigOptions, 'name'> {
  if (flags.roleArn !== undefined) assertRoleArn(flags.roleArn);
  const defined = Object.entries({
    kubeconfig: flags.kubeconfig, region: flags.region, profile: flags.profile, endpointUrl: flags.endpointUrl,
    assumeRoleArn: flags.assumeRoleArn, roleArn: flags.roleArn, proxyUrl: flags.proxyUrl, alias: flags.alias,
    userAlias: flags.userAlias, execCommand: flags.execCommand, apiVersion: flags.apiVersion,
    interactiveMode: flags.interactiveMode, setCurrentContext: flags.setCurrentContext, allowUnknownRegion: flags.allowUnknownRegion,
  }).filter(([, value]) => value !== undefined);
  return {
    ...Object.fromEntries(defined),
    network: networkOptions(flags),
    dryRun: dryRun !== undefined,
    onWarning: (message: string) => writeSync(2, `eksauth: warning: ${message}\n`),
  };
}

function dryRunFormat(value: boolean | string | undefined): DryRun {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === 'yaml') return 'yaml';
  if (value === 'summary') return 'summary';
  throw new EksAuthError('ERR_USAGE', `--dry-run ${value} is not a format: use --dry-run (the merged YAML, as aws-cli) or --dry-run summary`);
}

async function runOne(flags: UpdateKubeconfigFlags, options: Omit<UpdateKubeconfigOptions, 'name'>, dryRun: DryRun): Promise<void> {
  if (flags.name === undefined || flags.name === '') {
    throw new EksAuthError('ERR_USAGE', 'name the cluster with --name NAME, or pass --all for every cluster');
  }
  if (flags.regions !== undefined) throw new EksAuthError('ERR_USAGE', '--regions goes with --all; for one cluster pass --region');
  const { file, merge, entries } = await updateKubeconfig({ ...options, name: flags.name });
  if (dryRun !== undefined) {
    print(dryRun === 'yaml' ? file.text : formatSummary(file));
    return;
  }
  print(merge.action === 'updated' ? `Updated context ${merge.context} in ${file.path}\n` : `Added new context ${merge.context} to ${file.path}\n`);
  if (flags.verbose) {
    // aws-cli's --verbose: the context, user and cluster entries, each followed by a blank line.
    print('Entries:\n\n');
    for (const entry of [entries.context, entries.user, entries.cluster]) print(`${stringify(entry, { indentSeq: false, lineWidth: 0 })}\n`);
  }
}

async function runAll(flags: UpdateKubeconfigFlags, options: Omit<UpdateKubeconfigOptions, 'name'>, dryRun: DryRun): Promise<void> {
  if (flags.name !== undefined) throw new EksAuthError('ERR_USAGE', '--name and --all cannot be used together: pass one cluster with --name, or --all');
  const progress = progressLine();
  let result;
  try {
    result = await updateKubeconfigForAllClusters({
      ...options,
      ...(flags.regions === undefined ? {} : { regions: regionList(flags.regions) }),
      ...(flags.concurrency === undefined ? {} : { concurrency: concurrency(flags.concurrency) }),
      onProgress: progress.update,
    });
  } finally {
    progress.clear();
  }
  if (dryRun !== undefined) for (const file of result.files) print(dryRun === 'yaml' ? file.text : formatSummary(file));
  const table = formatTable(result.outcomes, dryRun !== undefined);
  // `--dry-run` keeps stdout pure YAML, to be redirected into a file as with aws-cli.
  if (dryRun === 'yaml') writeSync(2, table);
  else print(table);
  const failed = result.outcomes.filter((o) => o.result === 'failed');
  if (failed.length > 0) {
    throw new EksAuthError('ERR_UPDATE_INCOMPLETE', `${failed.length} of the regions and clusters above failed (${failed[0]?.error?.code ?? 'error'}: see the table); the others were ${dryRun ? 'shown' : 'written'}`);
  }
}

function regionList(value: string): string[] {
  const regions = value.split(',').map((region) => region.trim()).filter((region) => region !== '');
  if (regions.length === 0) throw new EksAuthError('ERR_USAGE', '--regions needs a comma-separated list, e.g. --regions eu-west-1,us-east-1');
  return [...new Set(regions)];
}

function concurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new EksAuthError('ERR_USAGE', `--concurrency must be a whole number from 1 to 64 (got ${value})`);
  return n;
}

/** A one-line progress display on stderr, only when stderr is a terminal (never in logs or pipes). */
function progressLine(): { update: (p: DiscoveryProgress) => void; clear: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, clear: () => {} };
  let shown = false;
  return {
    update: (p) => {
      shown = true;
      writeSync(2, `\r\x1b[Keksauth: listed ${p.regionsDone}/${p.regionsTotal} regions, described ${p.clustersDone}/${p.clustersTotal} clusters`);
    },
    clear: () => {
      if (shown) writeSync(2, '\r\x1b[K');
    },
  };
}

function formatTable(outcomes: ClusterOutcome[], dryRun: boolean): string {
  if (outcomes.length === 0) return 'No EKS clusters found.\n';
  const rows = outcomes.map((o) => [o.region, o.name ?? '-', o.status ?? '-', o.context ?? '-', resultText(o, dryRun)]);
  const table = [['REGION', 'CLUSTER', 'STATUS', 'CONTEXT', 'RESULT'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = table.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
  const count = (result: ClusterOutcome['result']): number => outcomes.filter((o) => o.result === result).length;
  const files = [...new Set(outcomes.map((o) => o.path).filter((path) => path !== undefined))];
  const summary = `${count('added')} added, ${count('updated')} updated, ${count('skipped')} skipped, ${count('failed')} failed` +
    (files.length > 0 ? `; ${dryRun ? 'dry run, not written to' : 'kubeconfig'} ${files.join(', ')}` : '');
  return `${lines.join('\n')}\n${summary}\n`;
}

function resultText(outcome: ClusterOutcome, dryRun: boolean): string {
  if (outcome.result === 'added' || outcome.result === 'updated') return dryRun ? `would be ${outcome.result}` : outcome.result;
  return `${outcome.result}: ${outcome.error?.message ?? ''}`;
}

const SIGNS = { added: '+', replaced: '~', unchanged: '=' } as const;

/**
 * The `--dry-run summary`: what would change, entry by entry, diff-style (`+` added, `~` replaced, `=` unchanged).
 *
 * @example
 * ```ts
 * const [file] = await applyKubeconfigEntries([entries], { dryRun: true });
 * process.stdout.write(formatSummary(file!)); // "kubeconfig /home/me/.kube/config\n+ cluster arn:…"
 * ```
 */
export function formatSummary(file: UpdatedFile): string {
  const lines = [`kubeconfig ${file.path}${file.existed ? '' : ' (new file)'}`];
  for (const merge of file.merges) {
    for (const change of merge.changes) {
      const kind = change.list.slice(0, -1);
      lines.push(`${SIGNS[change.change]} ${kind} ${change.name}${change.change === 'unchanged' ? ' (unchanged)' : ''}`);
      for (const field of change.fields ?? []) {
        const hidden = !('before' in field) && !('after' in field);
        lines.push(`    ${field.path}: ${hidden ? 'changed (value hidden)' : `${shortValue(field.before)} → ${shortValue(field.after)}`}`);
      }
    }
    const { before, after } = merge.currentContext;
    if (before !== after) lines.push(`~ current-context: ${shortValue(before)} → ${shortValue(after)}`);
  }
  return `${lines.join('\n')}\n`;
}

function shortValue(value: unknown): string {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 40)}…${text.slice(-12)} (${text.length} chars)` : text;
}
