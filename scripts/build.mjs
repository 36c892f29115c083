// Builds the CLI and the typed library.
//
// The CLI is these esbuild outputs (settings in scripts/esbuild-options.mjs):
// - dist/cli/eksauth.cjs, the entry kubectl runs on every request: CommonJS (Node starts CommonJS faster than ES
//   modules) holding the flag reader and the token cache's read side, enough to answer a cache hit;
// - dist/cli/token-refresh.cjs, loaded on a cache miss through a V8 code cache (src/cli/signing-file.ts): signing,
//   credentials, the cache's write side and its lock; beside it aws-sdk.cjs (the SDK's credential providers) and
//   get-caller-identity.cjs, which it requires only when static credentials are not enough;
// - ES module chunks, split and lazy: commander and the other commands.
// The CLI bundles every package it uses, so installing it needs none of them (the dependency list is the library's).
//
// The library is tsc's output for its entries (src/index.ts, src/api/*.ts: package.json `exports`) and what they
// import (tsconfig.build.json): dist/lib holds no CLI or test bed, and no source maps (they would point at src/, which
// is not published). The test API server, which the benchmarks start, is bundled to dist/testbed, outside the
// published files.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { cjs, common, LAZY_ENTRY_POINTS, lazyBuiltins, pureJsSha256, SIGNING_ENTRY_POINT, SIGNING_MODULES, signingCjs, signingFileLoader, tokenPathModules } from './esbuild-options.mjs';

const root = new URL('..', import.meta.url);

// CommonJS dependencies call require() for Node built-ins; give ES module bundles a real one.
const ESM_REQUIRE = { js: "import { createRequire as __eksauthRequire } from 'node:module';const require = __eksauthRequire(import.meta.url);" };

rmSync(new URL('dist', root), { recursive: true, force: true });

const lazy = await build({
  ...common,
  entryPoints: LAZY_ENTRY_POINTS,
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  banner: ESM_REQUIRE,
});

const signing = await build({
  ...signingCjs,
  entryPoints: SIGNING_ENTRY_POINT,
  plugins: [tokenPathModules, lazyBuiltins, pureJsSha256],
  // The SDK's UUID helper (never called while signing) probes the global crypto, whose first read loads WebCrypto.
  define: { ...signingCjs.define, crypto: 'undefined' },
});
const sdk = await build({ ...signingCjs, entryPoints: SIGNING_MODULES });
const signingFile = readFileSync(new URL('dist/cli/token-refresh.cjs', root));
// node:vm gives the signing file no loader for import(); the build must have turned every one into require().
if (/\bimport\(/.test(signingFile.toString('utf8'))) throw new Error('dist/cli/token-refresh.cjs must not contain import(): it runs through node:vm');
const signingBuild = createHash('sha256').update(signingFile).digest('hex').slice(0, 16);

const entry = await build({
  ...cjs,
  entryPoints: { eksauth: 'src/cli/main.ts' },
  banner: { js: '#!/usr/bin/env node' },
  plugins: [tokenPathModules, signingFileLoader(signingBuild), lazyBuiltins],
});
chmodSync(new URL('dist/cli/eksauth.cjs', root), 0o755);

// A cache hit must stay free of the signer, the SDK and node:crypto; fail the build, not the benchmark.
const entryInputs = Object.keys(entry.metafile.inputs).concat(entry.metafile.outputs['dist/cli/eksauth.cjs'].imports.map((i) => i.path));
for (const forbidden of ['node:crypto', '@smithy/', '@aws-sdk/']) {
  if (entryInputs.some((name) => name.includes(forbidden))) throw new Error(`dist/cli/eksauth.cjs (the cache-hit path) must not contain ${forbidden}`);
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const bytesOf = (result, suffix) => Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(suffix)).reduce((n, [, o]) => n + o.bytes, 0);
const entryBytes = entry.metafile.outputs['dist/cli/eksauth.cjs'].bytes;
const refreshBytes = signing.metafile.outputs['dist/cli/token-refresh.cjs'].bytes;
process.stderr.write(
  `built dist/cli/eksauth.cjs (${kib(entryBytes)}, a cache hit) + token-refresh.cjs (${kib(refreshBytes)}, signing) + ` +
    `${kib(bytesOf(sdk, '.cjs'))} of SDK files it may load + ${kib(bytesOf(lazy, '.mjs'))} of lazy chunks\n`,
);

await build({
  ...common,
  entryPoints: { apiserver: 'src/testbed/apiserver.ts' },
  outdir: 'dist/testbed',
  format: 'esm',
  banner: ESM_REQUIRE,
});

execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.build.json'], {
  cwd: new URL('.', root),
  stdio: 'inherit',
});
