/**
 * How the CLI loads its token path, dist/cli/main.cjs and (on a token cache miss) dist/cli/token-refresh.cjs:
 * through V8 code caches.
 *
 * A file that Node requires is compiled at every start: its top level, then each function the run calls, compiled on
 * its first call. That measured 0.4 ms of every cache hit and about 2 ms of every miss. A code cache made when a run
 * ends holds all of them, so the next run starts from bytecode. That is why these files are compiled here with
 * node:vm and not require()d: only a Script's cache can be made after it ran. (Node's own compile cache, Node 22.1
 * and later, is made when a file is compiled, before its functions are, and exists only on newer Node.)
 *
 * A code cache is an optimisation and nothing more:
 * - it lives in the token cache's directory when that directory exists, under the same rules: a 0600 file of this
 *   user's in a 0700 directory of theirs, never followed through a symlink, replaced atomically;
 * - its name carries the file's build, the Node version and the architecture, and V8 refuses data made for another
 *   source, V8 version or set of flags; anything refused or unreadable costs one compile and is replaced;
 * - `NODE_DISABLE_COMPILE_CACHE`, Node's switch for its own compile cache, turns it off.
 *
 * Bytecode is code: whoever can write the file can run code as the user. Only the user (or root) can write in their
 * own 0700 directory, and they can already change the exec entry in ~/.kube/config or the files it runs.
 */
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { cacheDirPath, openCacheDir, readTrustedFile, writeFileAtomically } from '../cache/store.js';

const CODE_CACHE = /^code-[0-9a-f]{16}-v[0-9.]+-[a-z0-9]+\.v8$/;

type CommonJsBody = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/**
 * Runs `file` in `dir` as a CommonJS module and returns its exports. `require` resolves what it requires: Node's
 * built-ins and the other .cjs files beside it; the file cannot use import(), which node:vm gives no loader. `build`
 * names the file's content (the build script's hash of it), so that a cache made for another build is never offered
 * to V8. Without `codeCache` (`--no-cache`, EKSAUTH_NO_CACHE, a command other than `token`) it compiles from source
 * and keeps nothing.
 *
 * @example
 * ```ts
 * // In the CLI bundle, where require and __dirname exist:
 * const { refreshToken } = loadThroughCodeCache(require, __dirname, 'token-refresh.cjs', 'c0ffee', true) as typeof import('./token-refresh.js');
 * ```
 */
export function loadThroughCodeCache(require: NodeJS.Require, dir: string, file: string, build: string, codeCache: boolean): unknown {
  const filename = join(dir, file);
  const name = codeCacheName(build);
  // Windows has no token cache (its files' owner and mode cannot be checked the same way), so no code cache either.
  const keep = codeCache && process.platform !== 'win32' && !process.env.NODE_DISABLE_COMPILE_CACHE;
  // Read from the directory's path, unchecked: the file itself is checked (this user's, 0600, not a symlink), which
  // is all that reading needs; writing goes through openCacheDir's checks of the directory.
  const cachedData = keep ? readTrustedFile(cacheDirPath(process.env), name) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(filename, 'utf8')}\n})`, {
    filename,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (keep && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit, when everything the run called has been compiled; by then a token run has made the directory.
    process.once('exit', () => storeCodeCache(script, name));
  }
  const module = { exports: {} };
  (script.runInThisContext() as CommonJsBody).call(module.exports, module.exports, require, module, filename, dir);
  return module.exports;
}

// Each Node version and architecture has its own cache: V8 refuses another's, and sharing one name, two Node
// versions used in turn would keep replacing each other's.
function codeCacheName(build: string): string {
  return `code-${build}-${process.version}-${process.arch}.v8`;
}

function storeCodeCache(script: Script, name: string): void {
  const dir = openCacheDir(process.env, { create: false });
  if (dir === undefined || !writeFileAtomically(dir, name, script.createCachedData())) return;
  removeStaleCodeCaches(dir, name);
}

// A cache stops being written once it is in use, so age says little while it is in use; but one not rewritten for a
// week mostly belongs to an eksauth or Node that was upgraded away. Younger ones stay, so that two installs used in
// turn do not keep deleting each other's caches. A week-old cache still in use (the other file's, when only one of
// them is rewritten) is removed too, and costs the next run one compile.
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
