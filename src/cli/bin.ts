/**
 * The eksauth command, dist/cli/eksauth.cjs: only what it takes to load the rest. The command line itself is
 * main.cjs, which runs through a V8 code cache (code-cache.ts; 0.4 ms of every cache hit), and the other commands are
 * imported here because node:vm gives main.cjs no import().
 */
import { loadThroughCodeCache } from './code-cache.js';
import type { main as Main } from './main.js';
import { noCacheInEnv } from './no-cache.js';

/** The build script's hash of dist/cli/main.cjs, which names its code cache. */
declare const EKSAUTH_MAIN_BUILD: string;

const argv = process.argv.slice(2);
const { main } = loadThroughCodeCache(require, __dirname, 'main.cjs', EKSAUTH_MAIN_BUILD, keepsCodeCache(argv, process.env)) as { main: typeof Main };
void main(argv, () => import('./commands.js'));

// Only token runs keep main.cjs's code cache: one made by another command would hold none of the token path, and
// would be kept, since V8 accepts it. --no-cache and EKSAUTH_NO_CACHE keep none, as for tokens.
function keepsCodeCache(args: string[], env: NodeJS.ProcessEnv): boolean {
  const tokenRun = args[0] === 'token' || args.includes('get-token');
  return tokenRun && !args.includes('--no-cache') && !noCacheInEnv(env);
}
