// Builds eksauth as one executable file per platform with Bun's compiler (scripts/bun-compile.mjs, run by Bun), from the same sources as the
// Node build (src/cli/main.ts): dist/bin/eksauth-<os>-<arch>[.exe]. No Node is needed to run it.
//
//   node scripts/build-binary.mjs              this machine's platform (what npm test and npm run bench use)
//   node scripts/build-binary.mjs --all        and the cross-builds: linux-x64, linux-arm64, darwin-arm64,
//                                              darwin-x64, windows-x64
//   node scripts/build-binary.mjs --if-bun     as the first, but only say why when Bun is not installed (npm test)
//
// Why not `bun build --compile dist/cli/eksauth.cjs`: that bundle is laid out for Node (a 16 KiB cache-hit file that
// loads its signing file through node:vm from beside it, CommonJS SDK files, ES module chunks), and Bun's bundler
// folds all of it, 6.9 MB, into the one module the binary starts with, so even `--version` parsed it all (0.31 s
// and 74 MiB here, against 0.11–0.18 s and 40 MiB for `node -e 0`; details in docs/speed.md). Here Bun bundles the TypeScript itself as ES modules with code splitting, so every
// `await import()` of the sources (the signing path, the SDK's credential providers, commander and the other
// commands) stays a chunk inside the executable, loaded only when a run needs it, and `--bytecode` stores the chunks
// compiled (JavaScriptCore bytecode), which the Node build gets from its V8 code cache instead.
//
// A cross-build needs Bun's runtime for the target. It comes from the npm registry like the host's: `npm pack` of the
// platform package (@oven/bun-linux-aarch64, …) into node_modules/.cache/eksauth-bun, and the compiler's
// `executablePath` points at it, so Bun never downloads anything itself.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bunVersion = existsSync(join(root, 'node_modules/bun/package.json')) ? JSON.parse(readFileSync(join(root, 'node_modules/bun/package.json'), 'utf8')).version : 'none';

/** eksauth's platform name → Bun's compile target and the npm package that carries that runtime. */
const TARGETS = {
  'linux-x64': { target: 'bun-linux-x64', npm: '@oven/bun-linux-x64', exe: 'bin/bun' },
  'linux-arm64': { target: 'bun-linux-arm64', npm: '@oven/bun-linux-aarch64', exe: 'bin/bun' },
  'darwin-arm64': { target: 'bun-darwin-arm64', npm: '@oven/bun-darwin-aarch64', exe: 'bin/bun' },
  'darwin-x64': { target: 'bun-darwin-x64', npm: '@oven/bun-darwin-x64', exe: 'bin/bun' },
  'windows-x64': { target: 'bun-windows-x64', npm: '@oven/bun-windows-x64', exe: 'bin/bun.exe' },
};
const HOST = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

/** The Bun that compiles: the one npm installed for this machine. */
function hostBun() {
  // The `bun` package's postinstall links its platform package's binary to bin/bun.exe; npm installs that do not run
  // scripts leave the binary in the platform package.
  const candidates = [join(root, 'node_modules/bun/bin/bun.exe'), join(root, `node_modules/${TARGETS[HOST]?.npm}/${TARGETS[HOST]?.exe}`)];
  const bun = candidates.find((path) => existsSync(path) && statSync(path).size > 1_000_000);
  if (bun === undefined) throw new Error(`Bun is not installed for ${HOST}: run npm install (devDependency bun@${bunVersion})`);
  return bun;
}

function bunInstalled() {
  try {
    hostBun();
    return true;
  } catch {
    return false;
  }
}

/** The Bun runtime for `platform`, from its npm package (packed once into node_modules/.cache). */
function targetRuntime(platform) {
  if (platform === HOST) return hostBun();
  const { npm, exe } = TARGETS[platform];
  const dir = join(root, 'node_modules/.cache/eksauth-bun', `${platform}-${bunVersion}`);
  const runtime = join(dir, 'package', exe);
  if (existsSync(runtime)) return runtime;
  mkdirSync(dir, { recursive: true });
  const tarball = execFileSync('npm', ['pack', '--silent', `${npm}@${bunVersion}`], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', tarball], { cwd: dir });
  rmSync(join(dir, tarball));
  return runtime;
}

/** Compiles dist/bin/eksauth-<platform>; returns its path. */
function buildBinary(platform = HOST) {
  const { target } = TARGETS[platform];
  const outfile = join(root, 'dist/bin', `eksauth-${platform}${platform.startsWith('windows') ? '.exe' : ''}`);
  execFileSync(hostBun(), ['scripts/bun-compile.mjs', outfile, target, targetRuntime(platform), pkg.version], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--if-bun') && !bunInstalled()) {
    process.stderr.write(`not building dist/bin/eksauth-${HOST}: Bun is not installed for ${HOST} (the binary's tests will skip)\n`);
    process.exit(0);
  }
  const platforms = process.argv.includes('--all') ? Object.keys(TARGETS) : [HOST];
  rmSync(join(root, 'dist/bin'), { recursive: true, force: true });
  for (const platform of platforms) {
    const file = buildBinary(platform);
    process.stderr.write(`built ${file.slice(root.length)} (${(statSync(file).size / 1048576).toFixed(1)} MiB)\n`);
  }
}
