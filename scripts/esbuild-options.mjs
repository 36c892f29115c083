// esbuild settings shared by scripts/build.mjs and bench/startup.mjs, so that the startup experiments bundle exactly
// what the CLI ships.
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

export const common = {
  absWorkingDir: new URL('.', root).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // ESM builds of the SDK tree-shake; their CommonJS builds would drag whole packages onto the token path.
  mainFields: ['module', 'main'],
  minify: process.env.EKSAUTH_BUILD_DEBUG !== '1',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.EKSAUTH_VERSION': JSON.stringify(pkg.version) },
};

// The token path needs only partition() from @aws-sdk/core/client; that module's index also keeps the SDK's endpoint
// resolver alive (it is listed as a side effect), which measured 3 ms of start-up. Point the entry at the one file.
const PARTITION_MODULE = new URL('node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partition.js', root).pathname;
if (!existsSync(PARTITION_MODULE)) throw new Error(`${PARTITION_MODULE} moved in this @aws-sdk/core release: update scripts/esbuild-options.mjs`);

// Modules the token path leaves to the lazy ES module build, loaded with import() at run time: the SDK's credential
// providers, the other commands, and the STS call that only --forward-session-name makes.
const LAZY_MODULES = {
  '@aws-sdk/credential-providers': './aws-sdk.mjs',
  './commands.js': './commands.mjs',
  '../authn/get-caller-identity.js': './get-caller-identity.mjs',
};
export const LAZY_ENTRY_POINTS = {
  commands: 'src/cli/commands.ts',
  'aws-sdk': 'src/cli/aws-sdk.ts',
  'get-caller-identity': 'src/authn/get-caller-identity.ts',
};

export const tokenPathModules = {
  name: 'token-path-modules',
  setup(b) {
    b.onResolve({ filter: /^(@aws-sdk\/credential-providers|\.\/commands\.js|\.\.\/authn\/get-caller-identity\.js)$/ }, (args) => ({
      path: LAZY_MODULES[args.path],
      external: true,
    }));
    b.onResolve({ filter: /^@aws-sdk\/core\/client$/ }, () => ({ path: PARTITION_MODULE }));
  },
};

// The token path is two CommonJS files. dist/cli/eksauth.cjs serves a cache hit and holds nothing else: no signer,
// no SDK, no node:crypto (a 50 KiB file measured 1 ms of start-up even unexecuted). On a miss it require()s
// dist/cli/token-refresh.cjs, the signing path. A CommonJS require, not import(): import() would start the ES module
// loader, which costs more than the whole signing path. This plugin turns the source's import() into that require.
const REFRESH_SHIM = 'module.exports = require("./token-refresh.cjs");';
export const refreshAsRequire = {
  name: 'token-refresh-as-require',
  setup(b) {
    b.onResolve({ filter: /^\.\/token-refresh\.js$/ }, () => ({ path: 'token-refresh', namespace: 'refresh-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'refresh-shim' }, () => ({ contents: REFRESH_SHIM, loader: 'js' }));
    b.onResolve({ filter: /^\.\/token-refresh\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/** The CommonJS outputs of the token path. */
export const cjs = { ...common, outdir: 'dist/cli', outExtension: { '.js': '.cjs' }, format: 'cjs' };
