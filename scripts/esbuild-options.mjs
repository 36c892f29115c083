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
  // @kubernetes/client-node's URL code (tr46, whatwg-url) requires Node's `punycode`, deprecated since Node 21 with
  // a warning on stderr; the npm package of the same code, as Node's deprecation notice advises, prints none.
  alias: { punycode: 'punycode/' },
};

// The token path needs only partition() from @aws-sdk/core/client; that module's index also keeps the SDK's endpoint
// resolver alive (it is listed as a side effect), which measured 3 ms of start-up. Point the entry at the one file.
export const PARTITION_MODULE = new URL('node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partition.js', root).pathname;
if (!existsSync(PARTITION_MODULE)) throw new Error(`${PARTITION_MODULE} moved in this @aws-sdk/core release: update scripts/esbuild-options.mjs`);

// Modules the token path loads only when it needs them: the other commands (the lazy ES module build), and, beside
// the signing file as CommonJS files of their own, the SDK's credential providers, the STS call that only
// --forward-session-name makes, and the proxy-aware agents (node:https, hpagent) that only a request to AWS needs.
const LAZY_MODULES = {
  '@aws-sdk/credential-providers': './aws-sdk.cjs',
  './commands.js': './commands.mjs',
  '../authn/get-caller-identity.js': './get-caller-identity.cjs',
  './network-agent.js': './network-agent.cjs',
  './aws-output.js': './aws-output.cjs',
};
export const LAZY_ENTRY_POINTS = { commands: 'src/cli/commands.ts' };
export const SIGNING_ENTRY_POINT = { 'token-refresh': 'src/cli/token-refresh.ts' };
// aws-output.cjs: the aws CLI's --query and --output layouts (JMESPath, YAML, tables), for `eksauth token` only when
// those flags ask for more than JSON.
export const SIGNING_MODULES = {
  'aws-sdk': 'src/cli/aws-sdk.ts',
  'get-caller-identity': 'src/authn/get-caller-identity.ts',
  'network-agent': 'src/aws/network-agent.ts',
  'aws-output': 'src/cli/aws-output.ts',
};

export const tokenPathModules = {
  name: 'token-path-modules',
  setup(b) {
    b.onResolve({ filter: /^(@aws-sdk\/credential-providers|\.\/commands\.js|\.\.\/authn\/get-caller-identity\.js|\.\/network-agent\.js|\.\/aws-output\.js)$/ }, (args) => ({
      path: LAZY_MODULES[args.path],
      external: true,
    }));
    b.onResolve({ filter: /^@aws-sdk\/core\/client$/ }, () => ({ path: PARTITION_MODULE }));
  },
};

// The token path is CommonJS files. dist/cli/eksauth.cjs serves a cache hit and holds nothing else: no signer, no
// SDK, no node:crypto (a 50 KiB file measured 1 ms of start-up even unexecuted). On a miss it loads
// dist/cli/token-refresh.cjs, the signing path, through src/cli/signing-file.ts (a V8 code cache, kept only when the
// request caches): this plugin stands in for the source's import() of token-refresh.js with a module whose
// refreshToken does that, passing the hash that names the signing file's build. Not import(): that would start the
// ES module loader, which costs more than the whole signing path.
export const signingFileLoader = (build) => ({
  name: 'signing-file-loader',
  setup(b) {
    b.onResolve({ filter: /^\.\/token-refresh\.js$/ }, () => ({ path: 'token-refresh', namespace: 'signing-file' }));
    b.onLoad({ filter: /.*/, namespace: 'signing-file' }, () => ({
      contents: `const { loadSigningFile } = require('./signing-file.ts');
        exports.refreshToken = (request) =>
          loadSigningFile(require, __dirname, ${JSON.stringify(build)}, request.cache !== undefined).refreshToken(request);`,
      resolveDir: new URL('src/cli', root).pathname,
      loader: 'js',
    }));
  },
});

// Node built-ins the token path imports for work it seldom does, each costly to load: node:os (0.2 ms; the home
// directory when HOME is unset, the host name where /proc does not give it), node:crypto (2 ms, with the streams it
// loads; an SSO token's file name, UUIDs) and node:fs/promises (2 ms, with readline; the SDK's file reader, whose
// reads src/aws/settings.ts intercepts). In the token path's files each imported name is a function that loads its
// module on the first call; importing any other name fails the build here.
export const LAZY_BUILTINS = {
  'node:os': ['homedir', 'hostname'],
  'node:crypto': ['createHash', 'createHmac', 'getRandomValues'],
  'node:fs/promises': ['readFile'],
};
export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(LAZY_BUILTINS).join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: LAZY_BUILTINS[args.path].map((name) => `export const ${name} = (...args) => require('${args.path}').${name}(...args);`).join('\n'),
      loader: 'js',
    }));
  },
};

// The signing file computes SHA-256 in JavaScript, so that a cache miss never loads node:crypto: js-sha256 resolves
// here to its pure-JS build, the package's `import` export (what runtimes without node:crypto get; src/token/sha256.ts
// says why this one).
const SHA256_PACKAGE = new URL('node_modules/js-sha256/', root);
const PURE_JS_SHA256 = new URL(JSON.parse(readFileSync(new URL('package.json', SHA256_PACKAGE), 'utf8')).exports['.'].import, SHA256_PACKAGE).pathname;
export const pureJsSha256 = {
  name: 'pure-js-sha256',
  setup(b) {
    b.onResolve({ filter: /^js-sha256$/ }, () => ({ path: PURE_JS_SHA256 }));
  },
};

/** The CommonJS outputs of the token path. */
export const cjs = { ...common, outdir: 'dist/cli', outExtension: { '.js': '.cjs' }, format: 'cjs' };
/**
 * The signing file and the modules it loads. The signing file runs through node:vm, where import() has no loader,
 * so their dynamic imports become require() calls (which also keeps the ES module loader off the token path).
 */
export const signingCjs = { ...cjs, supported: { 'dynamic-import': false } };
