// Builds the CLI and the typed library.
//
// The CLI is three esbuild outputs (settings in scripts/esbuild-options.mjs):
// - dist/cli/eksauth.cjs, the entry kubectl runs on every request: CommonJS (Node starts CommonJS faster than ES
//   modules) holding the flag reader and the token cache's read side, enough to answer a cache hit;
// - dist/cli/token-refresh.cjs, required on a cache miss: signing, credentials, the cache's write side and its lock;
// - ES module chunks, split and lazy: commander and the other commands, the AWS SDK credential providers, and the
//   STS call of --forward-session-name.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { cjs, common, LAZY_ENTRY_POINTS, refreshAsRequire, tokenPathModules } from './esbuild-options.mjs';

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

const entry = await build({
  ...cjs,
  entryPoints: { eksauth: 'src/cli/main.ts' },
  banner: { js: '#!/usr/bin/env node' },
  plugins: [tokenPathModules, refreshAsRequire],
});
chmodSync(new URL('dist/cli/eksauth.cjs', root), 0o755);
const refresh = await build({ ...cjs, entryPoints: { 'token-refresh': 'src/cli/token-refresh.ts' }, plugins: [tokenPathModules] });

// A cache hit must stay free of the signer, the SDK and node:crypto; fail the build, not the benchmark.
const entryInputs = Object.keys(entry.metafile.inputs).concat(entry.metafile.outputs['dist/cli/eksauth.cjs'].imports.map((i) => i.path));
for (const forbidden of ['node:crypto', '@smithy/', '@aws-sdk/']) {
  if (entryInputs.some((name) => name.includes(forbidden))) throw new Error(`dist/cli/eksauth.cjs (the cache-hit path) must not contain ${forbidden}`);
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const entryBytes = entry.metafile.outputs['dist/cli/eksauth.cjs'].bytes;
const refreshBytes = refresh.metafile.outputs['dist/cli/token-refresh.cjs'].bytes;
const lazyBytes = Object.entries(lazy.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(
  `built dist/cli/eksauth.cjs (${kib(entryBytes)}, a cache hit) + token-refresh.cjs (${kib(refreshBytes)}, signing) + ${kib(lazyBytes)} of lazy chunks\n`,
);

execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.json'], {
  cwd: new URL('.', root),
  stdio: 'inherit',
});
