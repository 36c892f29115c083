/**
 * The package as a user gets it: packed from a clean checkout (prepack builds it), installed from the tarball into an
 * empty folder without the network, then `npx eksauth token` against the STS emulator, the library through import()
 * and require(), and its declarations in a TypeScript consumer with esModuleInterop off.
 *
 * Skipped, saying why, when npm cannot install the tarball's dependencies from its cache.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { verifyToken } from '../../src/authn/verify.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorAuthenticator, startTestApiServer, type BearerAuthenticator } from '../../src/testbed/apiserver.js';
import { runCommand, tempDir, type CommandResult } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const [alice] = DEMO_EMULATOR_CONFIG.identities;
const ADMIN_ROLE = DEMO_EMULATOR_CONFIG.roles![0]!.arn;
/** The packages only the library's optional parts load; a CLI install must not pull them. */
const OPTIONAL_PEERS = ['@kubernetes/client-node', '@aws-sdk/client-ec2', '@aws-sdk/client-eks', '@aws-sdk/credential-providers', 'pino', 'prom-client'];
// The npm cache of the user running the tests: the children's HOME is a temp dir.
const NPM_CACHE = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();

let emulator: Emulator;
let app: string;
let tarball: string;
let skipReason: string | undefined;

/** npm with the user's cache, in `cwd`. */
function npm(args: string[], cwd: string, timeoutMs = 120_000): Promise<CommandResult> {
  return runCommand('npm', args, { cwd, env: { npm_config_cache: NPM_CACHE, npm_config_update_notifier: 'false' }, timeoutMs });
}

/** The tracked and new files of this checkout, as a clone would have them: no dist/, no node_modules/. */
function cleanCheckout(): string {
  const dir = tempDir('eksauth-clone-');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  for (const file of files.filter((name) => name !== '')) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  // The build tools, as `npm ci` would install them (the tests must not download them again).
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Installs the tarball offline, else from the cache with the registry for what is missing. */
async function installTarball(tarball: string, dir: string): Promise<CommandResult> {
  const offline = await npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--offline', tarball], dir);
  if (offline.code === 0) return offline;
  console.log(`npm could not install offline (${offline.stderr.trim().split('\n')[0]}); trying with --prefer-offline`);
  return npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], dir);
}

/** Type-checks a consumer of the installed package, with its own tsconfig, without emitting. */
async function compileConsumer(name: string, resolution: { module: string; moduleResolution: string }): Promise<CommandResult> {
  const consumer = join(app, `consumer-${name}`);
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(consumer, 'index.ts'), [
    "import { getToken, createTokenProvider, type EksToken } from 'eksauth';",
    "import { verifyToken, mapIdentity } from 'eksauth/verify';",
    "import { updateKubeconfig } from 'eksauth/kubeconfig';",
    "import { startServer, type KubernetesAccess, type Logger } from 'eksauth/server';",
    'export const parts = [getToken, createTokenProvider, verifyToken, mapIdentity, updateKubeconfig, startServer] as const;',
    'export const expiry = (token: EksToken): Date => token.expiresAt;',
    "export const access: KubernetesAccess = { kubeconfigPath: 'kubeconfig' };",
    'export type Log = Logger;',
    '',
  ].join('\n'));
  const compilerOptions = {
    ...resolution, target: 'es2022', strict: true, noEmit: true, esModuleInterop: false, skipLibCheck: false,
    // Node's types from this checkout: the consumer installs only eksauth.
    types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
  };
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
  return runCommand(process.execPath, [TSC, '-p', consumer], { cwd: consumer, timeoutMs: 150_000 });
}

function skipUnlessInstalled(context: TestContext): void {
  if (skipReason === undefined) return;
  console.log(`skipping: ${skipReason}`);
  context.skip();
}

beforeAll(async () => {
  emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  let checkout: string;
  try {
    checkout = cleanCheckout();
  } catch (err) {
    skipReason = `this is not a git checkout, so there is no clean copy to pack (${(err as Error).message.split('\n')[0]})`;
    return;
  }
  const pack = await npm(['pack', '--json', '--pack-destination', checkout], checkout, 180_000);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string }[];
  app = tempDir('eksauth-install-');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'eksauth-user', private: true }));
  tarball = join(checkout, packed!.filename);
  const install = await installTarball(tarball, app);
  if (install.code !== 0) skipReason = `npm could not install the tarball from its cache (${install.stderr.trim().split('\n')[0]})`;
}, 300_000);

afterAll(async () => {
  await emulator?.close();
});

// Each test runs npx, node or tsc (about 20 s for a consumer's declarations with Node's types) on a 2-core machine.
describe('the packed tarball, installed into an empty folder', { timeout: 180_000 }, () => {
  it('runs `npx eksauth token`: an ExecCredential whose token the emulator accepts', async (context) => {
    skipUnlessInstalled(context);
    const run = await runCommand('npx', ['--no', 'eksauth', 'token', '--cluster-name', 'prod', '--region', 'eu-west-1', '--role-arn', ADMIN_ROLE], {
      cwd: app,
      env: { AWS_ACCESS_KEY_ID: alice!.accessKeyId, AWS_SECRET_ACCESS_KEY: alice!.secretAccessKey, AWS_ENDPOINT_URL_STS: emulator.url, npm_config_cache: NPM_CACHE, npm_config_update_notifier: 'false' },
    });
    expect(run.stderr).toBe('');
    const credential = JSON.parse(run.stdout) as { kind: string; status: { token: string } };
    expect(credential.kind).toBe('ExecCredential');
    const { identity } = await verifyToken(credential.status.token, { clusterId: 'prod', stsEndpoint: emulator.url });
    expect(identity.arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/eks-admin\//);
  });

  it.for([
    ['import()', `import('eksauth').then((lib) => lib.getToken(OPTIONS)).then(PRINT)`],
    ['require()', `require('eksauth').getToken(OPTIONS).then(PRINT)`],
  ] as const)('loads the library through %s, without a warning', async ([, script], context) => {
    skipUnlessInstalled(context);
    const options = JSON.stringify({ clusterName: 'prod', region: 'eu-west-1', credentials: { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey } });
    const code = script.replace('OPTIONS', options).replace('PRINT', '(t) => process.stdout.write(t.token)');
    const run = await runCommand(process.execPath, ['-e', code], { cwd: app });
    expect(run.stderr).toBe('');
    const { identity } = await verifyToken(run.stdout, { clusterId: 'prod', stsEndpoint: emulator.url });
    expect(identity.arn).toBe(alice!.arn);
  });

  it('pulls none of the library-only packages', async (context) => {
    skipUnlessInstalled(context);
    const list = await npm(['ls', '--all', '--parseable', '--omit=dev'], app);
    expect(list.code, list.stderr).toBe(0);
    // One installed package per line after the folder itself: <app>/node_modules/<name>, nested ones too.
    const installed = list.stdout.trim().split('\n').slice(1).map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(installed).toContain('eksauth');
    expect(installed.filter((name) => OPTIONAL_PEERS.includes(name))).toEqual([]);
    const size = execFileSync('du', ['-sh', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0];
    console.log(`installed: ${installed.length} packages, ${size} in node_modules`);
  });

  it('has declarations that compile in a consumer with esModuleInterop off (node16 and bundler resolution)', async (context) => {
    skipUnlessInstalled(context);
    // Both at once: each checks all of Node's types (skipLibCheck off), about 20 s of one core.
    const results = await Promise.all([
      compileConsumer('node16', { module: 'node16', moduleResolution: 'node16' }),
      compileConsumer('bundler', { module: 'esnext', moduleResolution: 'bundler' }),
    ]);
    for (const tsc of results) {
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.code).toBe(0);
    }
  });

  /** Installs `peers` into `dir` (from the npm cache first), or skips the test, saying why, when npm cannot get them. */
  async function installPeers(dir: string, peers: string[], context: TestContext): Promise<void> {
    const install = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', ...peers], dir, 180_000);
    if (install.code !== 0) {
      console.log(`skipping: npm could not install ${peers.join(' ')} from its cache (${install.stderr.trim().split('\n')[0]})`);
      context.skip();
    }
  }

  /** Runs examples/list-namespaces.mjs from `dir` with `node` against an emulated EKS cluster and the test API server. */
  async function listNamespacesExample(dir: string, node: string[]): Promise<void> {
    let authenticate: BearerAuthenticator = async () => undefined;
    const api = await startTestApiServer({ authenticate: (token) => authenticate(token) });
    const eks = await startEmulator({
      ...DEMO_EMULATOR_CONFIG,
      clusters: [{ name: 'prod', region: 'eu-west-1', endpoint: api.url, certificateAuthorityData: Buffer.from(api.caPem).toString('base64') }],
    });
    authenticate = emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: eks.url });
    try {
      cpSync(join(ROOT, 'examples/list-namespaces.mjs'), join(dir, 'list-namespaces.mjs'));
      const run = await runCommand(node[0]!, [...node.slice(1), 'list-namespaces.mjs'], {
        cwd: dir,
        env: {
          AWS_ACCESS_KEY_ID: alice!.accessKeyId, AWS_SECRET_ACCESS_KEY: alice!.secretAccessKey, AWS_REGION: 'eu-west-1', CLUSTER_NAME: 'prod',
          AWS_ENDPOINT_URL_EKS: eks.url, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', npm_config_cache: NPM_CACHE, npm_config_update_notifier: 'false',
        },
        timeoutMs: 150_000,
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('default\n');
      expect(api.requests().filter((r) => r.username === alice!.arn && r.status === 200)).toHaveLength(1);
    } finally {
      await api.close();
      await eks.close();
    }
  }

  const peerSpec = (name: string) => `${name}@${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies[name]}`;

  // Last: it installs optional peers into the folder the test above found free of them.
  it('runs examples/list-namespaces.mjs with @kubernetes/client-node 1.x and the EKS client installed beside it', async (context) => {
    skipUnlessInstalled(context);
    await installPeers(app, [peerSpec('@kubernetes/client-node'), peerSpec('@aws-sdk/client-eks')], context);
    await listNamespacesExample(app, [process.execPath]);
  });

  it('runs it with @kubernetes/client-node 2.x on Node 24 (2.x needs Node 22.19 or later)', async (context) => {
    skipUnlessInstalled(context);
    const dir = tempDir('eksauth-install-2x-');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'eksauth-user-2x', private: true }));
    await installPeers(dir, [tarball, '@kubernetes/client-node@2', peerSpec('@aws-sdk/client-eks')], context);
    await listNamespacesExample(dir, ['npx', '--yes', '-p', 'node@24', 'node']);
  });
});
