// Builds the CLI and the typed library.
//
// The CLI is two esbuild outputs. dist/cli/eksauth.cjs is the entry kubectl runs on every request: CommonJS (Node
// starts CommonJS faster than ES modules) holding only the token path. Everything else, commander and the other
// commands and the AWS SDK credential providers, is an ES module build split into lazy chunks that the entry
// imports only when a command needs them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

rmSync(new URL('dist', root), { recursive: true, force: true });

const common = {
  absWorkingDir: new URL('.', root).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // ESM builds of the SDK tree-shake; their CommonJS builds would drag whole packages onto the token path.
  mainFields: ['module', 'main'],
  minify: process.env.EKSAUTH_BUILD_DEBUG !== "1",
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.EKSAUTH_VERSION': JSON.stringify(pkg.version) },
};

const lazy = await build({
  ...common,
  entryPoints: { commands: 'src/cli/commands.ts', 'aws-sdk': 'src/cli/aws-sdk.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  // CommonJS dependencies call require() for Node built-ins; give the ES module chunks a real one.
  banner: { js: "import { createRequire as __eksauthRequire } from 'node:module';const require = __eksauthRequire(import.meta.url);" },
});

// The token path needs only partition() from @aws-sdk/core/client; that module's index also keeps the SDK's endpoint
// resolver alive (it is listed as a side effect), which measured 3 ms of start-up. Point the entry at the one file.
const PARTITION_MODULE = new URL('node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partition.js', root).pathname;
if (!existsSync(PARTITION_MODULE)) throw new Error(`${PARTITION_MODULE} moved in this @aws-sdk/core release: update scripts/build.mjs`);

// Modules the entry leaves to the lazy ES module build, loaded with import() at run time.
const LAZY_MODULES = { '@aws-sdk/credential-providers': './aws-sdk.mjs', './commands.js': './commands.mjs' };
const entry = await build({
  ...common,
  entryPoints: { eksauth: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [
    {
      name: 'token-path-modules',
      setup(b) {
        b.onResolve({ filter: /^(@aws-sdk\/credential-providers|\.\/commands\.js)$/ }, (args) => ({ path: LAZY_MODULES[args.path], external: true }));
        b.onResolve({ filter: /^@aws-sdk\/core\/client$/ }, () => ({ path: PARTITION_MODULE }));
      },
    },
  ],
});
chmodSync(new URL('dist/cli/eksauth.cjs', root), 0o755);

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const entryBytes = entry.metafile.outputs['dist/cli/eksauth.cjs'].bytes;
const lazyBytes = Object.entries(lazy.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(`built dist/cli/eksauth.cjs (${kib(entryBytes)}, the token path) + ${kib(lazyBytes)} of lazy chunks\n`);

execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.json'], {
  cwd: new URL('.', root),
  stdio: 'inherit',
});
