/**
 * The files `eksauth server init` writes, as `aws-iam-authenticator init` does: the serving key and certificate in the
 * state directory (`cert.pem`, `key.pem`) and the webhook kubeconfig that kube-apiserver's
 * `--authentication-token-webhook-config-file` reads. The kubeconfig trusts exactly the generated certificate.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { EksAuthError } from '../errors.js';
import type { ServerConfig } from './config.js';
import { createSelfSignedCertificate, type SelfSignedCertificate } from './tls.js';

/** File names in the state directory, as aws-iam-authenticator names them. */
export const CERT_FILENAME = 'cert.pem';
export const KEY_FILENAME = 'key.pem';
/** The path on the server the webhook answers. */
export const WEBHOOK_PATH = '/authenticate';

const CERT_VALIDITY_DAYS = 3650;

export interface ServingCertificate extends SelfSignedCertificate {
  certPath: string;
  keyPath: string;
  /** True when this call generated the pair. */
  created: boolean;
}

/**
 * Loads `cert.pem` and `key.pem` from the state directory, generating both when either is missing (an existing pair
 * is never replaced: kube-apiserver trusts exactly that certificate).
 *
 * @example
 * ```ts
 * import { loadOrCreateServingCertificate, resolveServerConfig } from 'eksauth/server';
 * const { certPem, keyPem, created } = await loadOrCreateServingCertificate(resolveServerConfig({ clusterId: 'prod' }));
 * ```
 */
export async function loadOrCreateServingCertificate(config: ServerConfig): Promise<ServingCertificate> {
  const certPath = join(config.stateDir, CERT_FILENAME);
  const keyPath = join(config.stateDir, KEY_FILENAME);
  const existing = await readPair(certPath, keyPath);
  if (existing !== undefined) return { ...existing, certPath, keyPath, created: false };
  const { dnsNames, ipAddresses } = subjectAltNames(config);
  const pair = await createSelfSignedCertificate({ commonName: 'eksauth', dnsNames, ipAddresses, days: CERT_VALIDITY_DAYS });
  try {
    await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
    await writeAtomically(keyPath, pair.keyPem, 0o600);
    await writeAtomically(certPath, pair.certPem, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unwritable';
    throw new EksAuthError('ERR_INVALID_CONFIG', `No serving certificate in ${config.stateDir}, and one cannot be written there (${code}); run \`eksauth server init\` with the same --state-dir, or make it writable.`);
  }
  return { ...pair, certPath, keyPath, created: true };
}

/**
 * The URL kube-apiserver posts TokenReviews to.
 *
 * @example
 * ```ts
 * import { resolveServerConfig, webhookUrl } from 'eksauth/server';
 * webhookUrl(resolveServerConfig({ clusterId: 'prod' })); // 'https://127.0.0.1:21362/authenticate'
 * ```
 */
export function webhookUrl(config: ServerConfig, port = config.port): string {
  const host = isIP(config.hostname) === 6 ? `[${config.hostname}]` : config.hostname;
  return `https://${host}:${port}${WEBHOOK_PATH}`;
}

/**
 * The webhook kubeconfig: one cluster (the webhook URL, trusting the serving certificate), one user with no
 * credentials (the webhook listens on the control-plane host only), one context.
 *
 * @example
 * ```ts
 * import { buildWebhookKubeconfig } from 'eksauth/server';
 * const yaml = buildWebhookKubeconfig({ url: 'https://127.0.0.1:21362/authenticate', caPem: certPem });
 * ```
 */
export function buildWebhookKubeconfig(options: { url: string; caPem: string }): string {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{
      name: 'eksauth',
      cluster: { server: options.url, 'certificate-authority-data': Buffer.from(options.caPem, 'utf8').toString('base64') },
    }],
    users: [{ name: 'kube-apiserver', user: {} }],
    contexts: [{ name: 'webhook', context: { cluster: 'eksauth', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  };
  const header = '# Webhook token authentication for kube-apiserver, written by eksauth:\n' +
    '#   --authentication-token-webhook-config-file=<this file> --authentication-token-webhook-version=v1\n';
  return header + stringify(kubeconfig);
}

/**
 * Writes the webhook kubeconfig (atomically, so kube-apiserver never reads half a file).
 *
 * @example
 * ```ts
 * await writeWebhookKubeconfig('/etc/kubernetes/eksauth/kubeconfig.yaml', { url, caPem });
 * ```
 */
export async function writeWebhookKubeconfig(path: string, options: { url: string; caPem: string }): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, buildWebhookKubeconfig(options), 0o644);
}

/**
 * Why a pregenerated webhook kubeconfig (`--kubeconfig-pregenerated`) does not lead kube-apiserver to this server,
 * or undefined when it does: the file is missing or unreadable, names no server, or names another port than the one
 * listening at `url`. The host is not compared: the file may name the server by a DNS name it does not know.
 *
 * @example
 * ```ts
 * await pregeneratedKubeconfigProblem('/etc/kubernetes/eksauth/kubeconfig.yaml', 'https://127.0.0.1:21362/authenticate');
 * // 'the webhook kubeconfig … sends kube-apiserver to port 21363, but the webhook listens on port 21362; …'
 * ```
 */
export async function pregeneratedKubeconfigProblem(path: string, url: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return `--kubeconfig-pregenerated: the webhook kubeconfig ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}), so kube-apiserver has none; run \`eksauth server init\` with the same settings`;
  }
  const servers = webhookServers(text);
  const listening = portOf(url);
  if (servers.length === 0) return `--kubeconfig-pregenerated: the webhook kubeconfig ${path} names no cluster server; run \`eksauth server init\` with the same settings`;
  const other = servers.find((server) => portOf(server) !== listening);
  if (other === undefined) return undefined;
  return `--kubeconfig-pregenerated: the webhook kubeconfig ${path} sends kube-apiserver to port ${portOf(other)} (${other}), but the webhook listens on port ${listening}; pass --port ${portOf(other)}, or run \`eksauth server init\` again with --port ${listening}`;
}

function webhookServers(text: string): string[] {
  try {
    const doc = parse(text) as { clusters?: { cluster?: { server?: unknown } }[] } | null;
    return (doc?.clusters ?? []).map((entry) => entry?.cluster?.server).filter((server): server is string => typeof server === 'string');
  } catch {
    return [];
  }
}

function portOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port || (parsed.protocol === 'http:' ? '80' : '443');
  } catch {
    return url;
  }
}

export interface InitResult {
  certPath: string;
  keyPath: string;
  kubeconfigPath: string;
  url: string;
  createdCertificate: boolean;
}

/**
 * `eksauth server init`: the key and certificate (kept when they exist) and the webhook kubeconfig.
 *
 * @example
 * ```ts
 * import { initServerFiles, resolveServerConfig } from 'eksauth/server';
 * const config = resolveServerConfig({ clusterId: 'prod', stateDir: 'state', generateKubeconfig: 'webhook-kubeconfig.yaml' });
 * const { url, kubeconfigPath, createdCertificate } = await initServerFiles(config);
 * console.log(url, kubeconfigPath, createdCertificate); // → https://127.0.0.1:21362/authenticate webhook-kubeconfig.yaml true
 * ```
 */
export async function initServerFiles(config: ServerConfig): Promise<InitResult> {
  if (config.generateKubeconfig === undefined) {
    throw new EksAuthError('ERR_USAGE', 'eksauth server init needs --generate-kubeconfig <path> (or server.generateKubeconfig in the config file).');
  }
  if (config.port === 0) {
    throw new EksAuthError('ERR_USAGE', 'eksauth server init needs a fixed --port: the kubeconfig names it.');
  }
  const certificate = await loadOrCreateServingCertificate(config);
  const url = webhookUrl(config);
  await writeWebhookKubeconfig(config.generateKubeconfig, { url, caPem: certificate.certPem });
  return {
    certPath: certificate.certPath,
    keyPath: certificate.keyPath,
    kubeconfigPath: config.generateKubeconfig,
    url,
    createdCertificate: certificate.created,
  };
}

/**
 * Exactly the names aws-iam-authenticator's `init` puts in its certificate: the listen address (unless it is a
 * wildcard) and the host name clients use, as an IP or DNS name. No loopback names are added: a client that is given
 * another name is refused by TLS instead of trusting a certificate nobody asked to cover it.
 */
function subjectAltNames(config: ServerConfig): { dnsNames: string[]; ipAddresses: string[] } {
  const names = new Set([config.address, config.hostname]);
  names.delete('0.0.0.0');
  names.delete('::');
  const all = [...names];
  return { dnsNames: all.filter((name) => isIP(name) === 0), ipAddresses: all.filter((name) => isIP(name) !== 0) };
}

async function readPair(certPath: string, keyPath: string): Promise<SelfSignedCertificate | undefined> {
  try {
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EksAuthError('ERR_INVALID_CONFIG', `Cannot read the serving certificate or key in ${dirname(certPath)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
  }
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode });
  await rename(temporary, path);
}
