// Builds the single-file CLI (esbuild, with lazy chunks per command) and the typed library (tsc).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

rmSync(new URL('dist', root), { recursive: true, force: true });

const result = await build({
  absWorkingDir: new URL('.', root).pathname,
  entryPoints: { eksauth: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ESM builds of the SDK tree-shake; their CommonJS builds would drag whole packages onto the token path.
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.EKSAUTH_VERSION': JSON.stringify(pkg.version) },
  // CommonJS dependencies call require() for Node built-ins; give the ESM bundle a real one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __eksauthRequire } from 'node:module';const require = __eksauthRequire(import.meta.url);",
  },
});
chmodSync(new URL('dist/cli/eksauth.mjs', root), 0o755);

const entryBytes = result.metafile.outputs['dist/cli/eksauth.mjs'].bytes;
process.stderr.write(`built dist/cli/eksauth.mjs (${(entryBytes / 1024).toFixed(0)} KiB entry)\n`);

execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.json'], {
  cwd: new URL('.', root),
  stdio: 'inherit',
});
