/**
 * `eksauth emulator`: runs the local STS emulator in the foreground (with `--with-api-server`, the whole offline kit
 * of src/cli/kit.ts), prints how to point the AWS CLI and SDKs at it, and stops cleanly on Ctrl+C (SIGINT) or
 * SIGTERM.
 */
import { isIP } from 'node:net';
import { DEMO_EMULATOR_CONFIG, loadEmulatorConfig } from '../emulator/config.js';
import type { EmulatorConfig } from '../emulator/config.js';
import { isLoopback, startEmulator, type EmulatorOptions } from '../emulator/server.js';
import { EksAuthError } from '../errors.js';
import { unbracketHost } from '../lib/http.js';
import { startKit, type RunningKit } from './kit.js';
import { untilStopSignal } from './signals.js';

export interface RunEmulatorOptions {
  /** YAML or JSON file with identities and roles; default: the built-in demo identities. */
  config?: string;
  /** Port to listen on; default: a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** AssumeRole's credentials live at most this many seconds (EmulatorOptions.sessionLifetimeSeconds). */
  sessionLifetime?: number;
  /** Also start the test API server and `eksauth server` for the first cluster (src/cli/kit.ts). */
  withApiServer?: boolean;
  /** With withApiServer: the kubeconfig to write; default ./kubeconfig. */
  kubeconfig?: string;
  /** With withApiServer: the aws-auth rows (mapping-file form); default the demo mapping. */
  mapping?: string;
}

export async function runEmulator(options: RunEmulatorOptions): Promise<void> {
  const kitOnly = [options.kubeconfig && '--kubeconfig', options.mapping && '--mapping'].filter(Boolean);
  if (!options.withApiServer && kitOnly.length > 0) {
    throw new EksAuthError('ERR_USAGE', `${kitOnly.join(' and ')} work with --with-api-server only; add it to start the test API server too.`);
  }
  // Listening before the banner: a supervisor (or a test) may signal as soon as it reads it.
  const stopped = untilStopSignal();
  const config = options.config === undefined ? DEMO_EMULATOR_CONFIG : await loadEmulatorConfig(options.config);
  const listenOn = { host: options.host ?? '127.0.0.1', port: options.port ?? 0, sessionLifetimeSeconds: options.sessionLifetime };
  const running = options.withApiServer
    ? await startKit({ config, ...listenOn, kubeconfig: options.kubeconfig ?? 'kubeconfig', ...(options.mapping ? { mappingFile: options.mapping } : {}) })
    : await startEmulatorOnly(config, listenOn);
  const address = unbracketHost(listenOn.host);
  if (isIP(address) !== 0 && !isLoopback(address)) {
    process.stderr.write(`warning: listening on ${listenOn.host}, not loopback: anyone who can reach it can use the configured keys.\n`);
  }
  process.stdout.write(`${banner(running.emulator.url, running.emulator.config, options.config)}${running.summary}Press Ctrl+C to stop.\n`);
  await stopped;
  await running.close();
  process.stdout.write('STS emulator stopped.\n');
}

async function startEmulatorOnly(config: EmulatorConfig, options: EmulatorOptions): Promise<RunningKit> {
  const emulator = await startEmulator(config, options);
  return { emulator: { url: emulator.url, config }, summary: '', close: () => emulator.close() };
}

function banner(url: string, config: EmulatorConfig, source: string | undefined): string {
  const lines = [`STS emulator listening on ${url} (${source === undefined ? 'built-in demo identities' : `identities from ${source}`})`];
  for (const identity of config.identities) lines.push(`  identity ${identity.arn} (access key ${identity.accessKeyId})`);
  for (const role of config.roles ?? []) lines.push(`  role     ${role.arn}${role.externalId === undefined ? '' : ' (needs an external id)'}`);
  for (const cluster of config.clusters ?? []) {
    const notes = [cluster.status ?? 'ACTIVE', ...(cluster.outpostConfig === undefined ? [] : ['Outposts local cluster']), ...(cluster.authenticationMode === undefined ? [] : [cluster.authenticationMode])];
    lines.push(`  cluster  ${cluster.name} in ${cluster.region} (${notes.join(', ')})`);
  }
  for (const instance of config.instances ?? []) lines.push(`  instance ${instance.instanceId} in ${instance.region} (${instance.privateDnsName || 'no private DNS name'})`);
  const first = config.identities[0];
  if (first !== undefined) {
    lines.push('', `# To act as ${first.arn}:`);
    lines.push(`export AWS_ACCESS_KEY_ID=${shellQuote(first.accessKeyId)}`);
    lines.push(`export AWS_SECRET_ACCESS_KEY=${shellQuote(first.secretAccessKey)}`);
    if (first.sessionToken !== undefined) lines.push(`export AWS_SESSION_TOKEN=${shellQuote(first.sessionToken)}`);
    lines.push(`export AWS_ENDPOINT_URL_STS=${shellQuote(url)}`);
    if ((config.clusters ?? []).length > 0) lines.push(`export AWS_ENDPOINT_URL_EKS=${shellQuote(url)}`);
    if ((config.instances ?? []).length > 0) lines.push(`export AWS_ENDPOINT_URL_EC2=${shellQuote(url)}`);
  }
  lines.push('', '');
  return lines.join('\n');
}

/** Single-quotes a value for sh when it holds anything beyond the characters that never need quoting. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
