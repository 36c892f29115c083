/**
 * How the CLI loads its signing file, dist/cli/token-refresh.cjs: through a V8 code cache.
 *
 * A token cache miss used to spend about 2 ms in V8's compiler: the signing file's top level, then each function the
 * run calls, compiled on its first call. A code cache made when a signing run ends holds all of them, so the next
 * miss starts from bytecode. That is why the file is compiled here with node:vm and not require()d: only a Script's
 * cache can be made after it ran. (Node's own compile cache, Node 22.1 and later, is made when a file is compiled,
 * before its functions are, and exists only on newer Node.)
 *
 * The code cache is an optimisation and nothing more:
 * - it lives in the token cache's directory when that directory exists, under the same rules: a 0600 file of this
 *   user's in a 0700 directory of theirs, never followed through a symlink, never a FIFO or device, read up to a
 *   bound, replaced atomically;
 * - its name carries the signing file's build, the Node version and the architecture, and V8 refuses data made for
 *   another source, V8 version or set of flags; anything refused or unreadable costs one compile and is replaced;
 * - `NODE_DISABLE_COMPILE_CACHE`, Node's switch for its own compile cache, turns it off.
 *
 * Bytecode is code: whoever can write the file can run code as the user. Only the user (or root) can write in their
 * own 0700 directory, and they can already change the exec entry in ~/.kube/config or the files it runs.
 */
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { entryName } from '../cache/key.js';
import { openCacheDir, readTrustedFile, writeFileAtomically } from '../cache/store.js';

const SIGNING_FILE = 'token-refresh.cjs';
const CODE_CACHE = /^code-[0-9a-f]{16}\.v8$/;
/** The signing file's code cache measures about 110 KiB; a file this much larger is not one V8 made for it. */
const CODE_CACHE_MAX_BYTES = 8 * 1024 * 1024;

type CommonJsBody = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/**
 * Runs the signing file in `dir` as a CommonJS module and returns its exports. `require` resolves what it requires:
 * Node's built-ins and the other .cjs files beside it. `build` names the file's content (the build script's hash of
 * it), so that a cache made for another build is never offered to V8. Without `codeCache` (`--no-cache`,
 * EKSAUTH_NO_CACHE) it compiles from source and keeps nothing.
 *
 * @example
 * ```ts
 * // In the CLI bundle, where require and __dirname exist:
 * const { refreshToken } = loadSigningFile(require, __dirname, 'c0ffee', true) as typeof import('./token-refresh.js');
 * ```
 */
export function loadSigningFile(require: NodeJS.Require, dir: string, build: string, codeCache: boolean): unknown {
  const filename = join(dir, SIGNING_FILE);
  const name = codeCacheName(build);
  const keep = codeCache && !process.env.NODE_DISABLE_COMPILE_CACHE;
  const cacheDir = keep ? openCacheDir(process.env, { create: false }) : undefined;
  const cachedData = cacheDir === undefined ? undefined : readTrustedFile(cacheDir, name, CODE_CACHE_MAX_BYTES);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(filename, 'utf8')}\n})`, {
    filename,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (keep && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit, when everything the run called has been compiled; by then a first run has made the directory.
    process.once('exit', () => storeCodeCache(script, name));
  }
  const module = { exports: {} };
  (script.runInThisContext() as CommonJsBody).call(module.exports, module.exports, require, module, filename, dir);
  return module.exports;
}

function codeCacheName(build: string): string {
  return `${entryName('code', JSON.stringify([build, process.version, process.arch]))}.v8`;
}

function storeCodeCache(script: Script, name: string): void {
  const dir = openCacheDir(process.env, { create: false });
  if (dir === undefined || !writeFileAtomically(dir, name, script.createCachedData())) return;
  removeStaleCodeCaches(dir, name);
}

// A cache stops being written once it is in use, so age says little while it is in use; but one not rewritten for a
// week belongs to an eksauth or Node that was upgraded away, or is used so rarely that rebuilding it costs nothing.
// Younger ones stay, so that two installs used in turn do not keep deleting each other's cache.
const STALE_CODE_CACHE_MS = 7 * 24 * 3_600_000;

function removeStaleCodeCaches(dir: string, keep: string): void {
  try {
    for (const other of readdirSync(dir)) {
      if (other === keep || !CODE_CACHE.test(other)) continue;
      const path = join(dir, other);
      if (Date.now() - statSync(path).mtimeMs > STALE_CODE_CACHE_MS) unlinkSync(path);
    }
  } catch {
    // best effort: another run may be tidying too
  }
}
