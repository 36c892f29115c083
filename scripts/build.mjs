// Builds the CLI and the typed library.
//
// The CLI is these esbuild outputs (settings in scripts/esbuild-options.mjs):
// - dist/cli/eksauth.cjs, the entry kubectl runs on every request (src/cli/bin.ts): CommonJS (Node starts CommonJS
//   faster than ES modules), only enough to load main.cjs through a V8 code cache (src/cli/code-cache.ts);
// - dist/cli/main.cjs: the flag reader and the token cache's read side, enough to answer a cache hit;
// - dist/cli/token-refresh.cjs, loaded on a cache miss through a code cache of its own: signing, credentials, the
//   cache's write side and its lock; beside it aws-sdk.cjs (the SDK's credential providers) and
//   get-caller-identity.cjs, which it requires only when static credentials are not enough;
// - ES module chunks, split and lazy: commander and the other commands.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { cjs, common, LAZY_ENTRY_POINTS, lazyNodeOs, MAIN_ENTRY_POINT, SIGNING_ENTRY_POINT, SIGNING_MODULES, signingFileLoader, tokenPathModules, vmCjs } from './esbuild-options.mjs';

const root = new URL('..', import.meta.url);

rmSync(new URL('dist', root), { recursive: true, force: true });

const lazy = await build({
  ...common,
  entryPoints: LAZY_ENTRY_POINTS,
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  // CommonJS dependencies call require() for Node built-ins; give the ES module chunks a real one.
  banner: { js: "import { createRequire as __eksauthRequire } from 'node:module';const require = __eksauthRequire(import.meta.url);" },
});

const signing = await build({
  ...vmCjs,
  entryPoints: SIGNING_ENTRY_POINT,
  plugins: [tokenPathModules, lazyNodeOs],
  // The SDK's UUID helper (never called while signing) probes the global crypto, whose first read loads WebCrypto.
  define: { ...vmCjs.define, crypto: 'undefined' },
});
const sdk = await build({ ...vmCjs, entryPoints: SIGNING_MODULES });
// The hash of a built file names its code cache, so that a cache made for another build is never offered to V8.
const buildHash = (file) => createHash('sha256').update(readFileSync(new URL(`dist/cli/${file}`, root))).digest('hex').slice(0, 16);
// node:vm gives main.cjs and the signing file no loader for import(); the build must have turned every one into require().
const noImport = (file) => {
  if (/\bimport\(/.test(readFileSync(new URL(`dist/cli/${file}`, root), 'utf8'))) throw new Error(`dist/cli/${file} must not contain import(): it runs through node:vm`);
};
noImport('token-refresh.cjs');

const main = await build({
  ...vmCjs,
  entryPoints: MAIN_ENTRY_POINT,
  plugins: [tokenPathModules, signingFileLoader(buildHash('token-refresh.cjs')), lazyNodeOs],
});
noImport('main.cjs');
const entry = await build({
  ...cjs,
  entryPoints: { eksauth: 'src/cli/bin.ts' },
  banner: { js: '#!/usr/bin/env node' },
  define: { ...cjs.define, EKSAUTH_MAIN_BUILD: JSON.stringify(buildHash('main.cjs')) },
  plugins: [tokenPathModules, lazyNodeOs],
});
chmodSync(new URL('dist/cli/eksauth.cjs', root), 0o755);

// A cache hit must stay free of the signer, the SDK and node:crypto; fail the build, not the benchmark.
for (const [result, file] of [[entry, 'eksauth.cjs'], [main, 'main.cjs']]) {
  const inputs = Object.keys(result.metafile.inputs).concat(result.metafile.outputs[`dist/cli/${file}`].imports.map((i) => i.path));
  for (const forbidden of ['node:crypto', '@smithy/', '@aws-sdk/']) {
    if (inputs.some((name) => name.includes(forbidden))) throw new Error(`dist/cli/${file} (the cache-hit path) must not contain ${forbidden}`);
  }
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const bytesOf = (result, suffix) => Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(suffix)).reduce((n, [, o]) => n + o.bytes, 0);
const bytesOfFile = (result, file) => result.metafile.outputs[`dist/cli/${file}`].bytes;
process.stderr.write(
  `built dist/cli/eksauth.cjs (${kib(bytesOfFile(entry, 'eksauth.cjs'))}) + main.cjs (${kib(bytesOfFile(main, 'main.cjs'))}, a cache hit) + ` +
    `token-refresh.cjs (${kib(bytesOfFile(signing, 'token-refresh.cjs'))}, signing) + ${kib(bytesOf(sdk, '.cjs'))} of SDK files it may load + ` +
    `${kib(bytesOf(lazy, '.mjs'))} of lazy chunks\n`,
);

execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.json'], {
  cwd: new URL('.', root),
  stdio: 'inherit',
});
