import { reportFailure } from './report.js';
import { flagEntry, TOKEN_FLAGS } from './token-flags.js';
import { runToken, type TokenFlags, type TokenForm } from './token.js';

// kubectl runs `eksauth token` before every request, so that path is parsed here and runs without loading commander
// or any other command; everything else (help, errors in flags, other commands) goes to commands. token.ts is
// imported statically: a cache hit needs all of it, and nothing more (signing is token-refresh.ts, a file of its own).
async function main(argv: string[]): Promise<void> {
  const command = tokenCommand(argv);
  if (command === undefined) {
    await import('./commands.js');
    return;
  }
  try {
    await runToken(command.flags, process.env, command.form);
  } catch (err) {
    process.exitCode = reportFailure(err);
  }
  // Everything is written (synchronously) and nothing is left to wait for. Leaving now skips the garbage collection
  // V8 has queued by the end of a signing run, about 1 ms of every cache miss.
  process.exit();
}

/** The flags of `token …` or `[--region R] [--profile P] eks get-token …`, or undefined when this is not that form. */
function tokenCommand(argv: string[]): { flags: TokenFlags; form: TokenForm } | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return undefined;
  if (argv[0] === 'token') {
    const flags = parseTokenFlags(argv.slice(1));
    return flags && { flags, form: 'token' };
  }
  const at = argv.indexOf('eks');
  if (at < 0 || argv[at + 1] !== 'get-token') return undefined;
  const globals = parseTokenFlags(argv.slice(0, at));
  const flags = parseTokenFlags(argv.slice(at + 2));
  if (globals === undefined || flags === undefined) return undefined;
  if (Object.keys(globals).some((key) => key !== 'region' && key !== 'profile')) return undefined;
  return { flags: { ...globals, ...flags }, form: 'eks get-token' };
}

const LONG = new Map(TOKEN_FLAGS.map((flag) => [`--${flag.long}`, flag]));
const SHORT = new Map(TOKEN_FLAGS.filter((flag) => flag.short !== undefined).map((flag) => [`-${flag.short}`, flag]));

/**
 * The common flag forms (`--flag value`, `--flag=value`, `-f value`, booleans), read from the same table commander
 * uses. Anything else (unknown flags, grouped short flags, a value that looks like a flag, positionals) returns
 * undefined, and commander then parses it or reports the mistake with usage help. node:util's parseArgs did the
 * same job for 0.3 ms of every kubectl call.
 */
function parseTokenFlags(args: string[]): TokenFlags | undefined {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? LONG.get(arg.slice(0, eq)) : (LONG.get(arg) ?? SHORT.get(arg));
    if (flag === undefined) return undefined;
    if (flag.value === undefined && eq > 0) return undefined;
    const value = flag.value === undefined ? true : eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || (typeof value === 'string' && eq < 0 && value.startsWith('-') && value !== '-')) return undefined;
    const [key, parsed] = flagEntry(flag.long, value);
    flags[key] = parsed;
  }
  // `--cache --no-cache` in either order: not caching is the safe reading.
  if (args.includes('--no-cache')) flags.cache = false;
  if (args.includes('--no-cli-pager')) flags.cliPager = false;
  return flags as TokenFlags;
}

void main(process.argv.slice(2));
