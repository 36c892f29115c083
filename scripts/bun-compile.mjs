// Run by Bun (scripts/build-binary.mjs starts it): compiles src/cli/main.ts into one executable with Bun.build, whose
// resolver plugins (which the `bun build` command line cannot take) give the binary's token path what the Node build
// gets from esbuild's settings in scripts/esbuild-options.mjs:
// - the SDK's ES module builds (esbuild's mainFields ['module', 'main']); Bun resolves its CommonJS builds, which do
//   not tree-shake: a cache miss loaded 290 KB of chunks (the SDK's whole config and endpoint layer), now 68 KB;
// - the token path's partition() as the one file it is (PARTITION_MODULE);
// - src/token/hasher-bun.ts for hasher.ts, and the SDK's other node:crypto imports loaded on first call: under Bun,
//   importing node:crypto cost a miss 17 ms of CPU and 10 MiB (src/token/hasher-bun.ts).
//
//   bun scripts/bun-compile.mjs <outfile> <bun-target> <runtime executable> <version>
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LAZY_BUILTINS, PARTITION_MODULE } from './esbuild-options.mjs';

const root = new URL('..', import.meta.url).pathname;
const [outfile, target, executablePath, version] = process.argv.slice(2);
const BUN_HASHER = join(root, 'src/token/hasher-bun.ts');

/** The package.json of the package `name` as `importer` would find it, or undefined (not found, or its exports hide it). */
function packageOf(name, importer) {
  try {
    const file = Bun.resolveSync(`${name}/package.json`, dirname(importer));
    return { dir: dirname(file), json: JSON.parse(readFileSync(file, 'utf8')) };
  } catch {
    return undefined;
  }
}

/** `import { a, b as c } from "node:crypto"` as functions that load node:crypto when first called, if all are. */
function lazyCrypto(names) {
  const imports = names.split(',').map((name) => name.trim()).filter(Boolean).map((name) => name.split(/\s+as\s+/));
  if (!imports.every(([imported]) => LAZY_BUILTINS['node:crypto'].includes(imported))) return undefined;
  return imports.map(([imported, local = imported]) => `const ${local} = (...args) => require('node:crypto').${imported}(...args);`).join('');
}

const tokenPathResolution = {
  name: 'token-path-resolution',
  setup(build) {
    build.onResolve({ filter: /^\.\/hasher\.js$/ }, (args) => (args.importer.startsWith(join(root, 'src/token/')) ? { path: BUN_HASHER } : undefined));
    build.onResolve({ filter: /^@aws-sdk\/core\/client$/ }, (args) => (args.importer.startsWith(join(root, 'src/')) ? { path: PARTITION_MODULE } : undefined));
    // The SDK's few node:crypto calls (a UUID's random bytes, the SSO cache's file name) load it on first call, as
    // the Node build's lazyBuiltins plugin makes them do. Bun gives plugins no say over built-in modules, so the
    // import itself is rewritten, where every name it takes is a function of LAZY_BUILTINS (others, such as the
    // login provider's key objects, keep the import: they are off the token path).
    build.onLoad({ filter: /\/node_modules\/@(aws-sdk|smithy)\/.*\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      if (!source.includes('"node:crypto"')) return undefined;
      return { contents: source.replace(/import \{([^}]*)\} from "node:crypto";/g, (line, names) => lazyCrypto(names) ?? line), loader: 'js' };
    });
    // A package's own root, without an exports map, resolves to its `module` file when it has one; exports maps
    // are Bun's to read, with the `module` condition first (the SDK lists it before `node`).
    build.onResolve({ filter: /^(@[a-z0-9-._~]+\/)?[a-z0-9-._~]+$/ }, (args) => {
      const pkg = args.importer === '' ? undefined : packageOf(args.path, args.importer);
      if (pkg === undefined || pkg.json.exports !== undefined || typeof pkg.json.module !== 'string') return undefined;
      return { path: join(pkg.dir, pkg.json.module) };
    });
  },
};

const result = await Bun.build({
  entrypoints: [join(root, 'src/cli/main.ts')],
  target: 'bun',
  format: 'esm',
  splitting: true,
  bytecode: true,
  minify: true,
  sourcemap: 'none',
  conditions: ['module'],
  plugins: [tokenPathResolution],
  define: { 'process.env.EKSAUTH_VERSION': JSON.stringify(version) },
  compile: {
    target,
    outfile,
    executablePath,
    // The binary reads its settings as the Node build does: never a .env or bunfig.toml from the working directory
    // (a .env there could hand it AWS keys), nor a tsconfig.json or package.json.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
});
if (!result.success) {
  for (const log of result.logs) process.stderr.write(`${log}\n`);
  process.exit(1);
}
