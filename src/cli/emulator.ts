/**
 * `eksauth emulator`: runs the local STS emulator in the foreground, prints how to point the AWS CLI and SDKs at it,
 * and stops cleanly on Ctrl+C (SIGINT) or SIGTERM.
 */
import { isIP } from 'node:net';
import { DEMO_EMULATOR_CONFIG, loadEmulatorConfig } from '../emulator/config.js';
import type { EmulatorConfig } from '../emulator/config.js';
import { isLoopback, startEmulator } from '../emulator/server.js';
import { unbracketHost } from '../lib/http.js';
import { untilStopSignal } from './signals.js';

export interface RunEmulatorOptions {
  /** YAML or JSON file with identities and roles; default: the built-in demo identities. */
  config?: string;
  /** Port to listen on; default: a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
}

export async function runEmulator(options: RunEmulatorOptions): Promise<void> {
  // Listening before the banner: a supervisor (or a test) may signal as soon as it reads it.
  const stopped = untilStopSignal();
  const config = options.config === undefined ? DEMO_EMULATOR_CONFIG : await loadEmulatorConfig(options.config);
  const host = options.host ?? '127.0.0.1';
  const emulator = await startEmulator(config, { host, port: options.port ?? 0 });
  const address = unbracketHost(host);
  if (isIP(address) !== 0 && !isLoopback(address)) {
    process.stderr.write(`warning: listening on ${host}, not loopback: anyone who can reach it can use the configured keys.\n`);
  }
  process.stdout.write(banner(emulator.url, config, options.config));
  await stopped;
  await emulator.close();
  process.stdout.write('STS emulator stopped.\n');
}

function banner(url: string, config: EmulatorConfig, source: string | undefined): string {
  const lines = [`STS emulator listening on ${url} (${source === undefined ? 'built-in demo identities' : `identities from ${source}`})`];
  for (const identity of config.identities) lines.push(`  identity ${identity.arn} (access key ${identity.accessKeyId})`);
  for (const role of config.roles ?? []) lines.push(`  role     ${role.arn}${role.externalId === undefined ? '' : ' (needs an external id)'}`);
  for (const cluster of config.clusters ?? []) {
    const notes = [cluster.status ?? 'ACTIVE', ...(cluster.outpostConfig === undefined ? [] : ['Outposts local cluster']), ...(cluster.authenticationMode === undefined ? [] : [cluster.authenticationMode])];
    lines.push(`  cluster  ${cluster.name} in ${cluster.region} (${notes.join(', ')})`);
  }
  const first = config.identities[0];
  if (first !== undefined) {
    lines.push('', `# To act as ${first.arn}:`);
    lines.push(`export AWS_ACCESS_KEY_ID=${shellQuote(first.accessKeyId)}`);
    lines.push(`export AWS_SECRET_ACCESS_KEY=${shellQuote(first.secretAccessKey)}`);
    if (first.sessionToken !== undefined) lines.push(`export AWS_SESSION_TOKEN=${shellQuote(first.sessionToken)}`);
    lines.push(`export AWS_ENDPOINT_URL_STS=${shellQuote(url)}`);
    if ((config.clusters ?? []).length > 0) lines.push(`export AWS_ENDPOINT_URL_EKS=${shellQuote(url)}`);
  }
  lines.push('', 'Press Ctrl+C to stop.', '');
  return lines.join('\n');
}

/** Single-quotes a value for sh when it holds anything beyond the characters that never need quoting. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
