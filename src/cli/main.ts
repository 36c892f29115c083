import { parseArgs, type ParseArgsConfig } from 'node:util';
import { reportFailure } from './report.js';
import { flagKey, TOKEN_FLAGS } from './token-flags.js';
import type { TokenFlags } from './token.js';

// kubectl runs `eksauth token` before every request, so that path is parsed here with node:util and runs without
// loading commander or any other command; everything else (help, errors in flags, other commands) goes to commands.
async function main(argv: string[]): Promise<void> {
  const tokenArgs = tokenCommandArgs(argv);
  if (tokenArgs === undefined) {
    await import('./commands.js');
    return;
  }
  const { runToken } = await import('./token.js');
  try {
    await runToken(tokenArgs);
  } catch (err) {
    process.exitCode = reportFailure(err);
  }
}

/** The flags of `token …` or `[--region R] [--profile P] eks get-token …`, or undefined when this is not that form. */
function tokenCommandArgs(argv: string[]): TokenFlags | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return undefined;
  if (argv[0] === 'token') return parseTokenFlags(argv.slice(1));
  const at = argv.indexOf('eks');
  if (at < 0 || argv[at + 1] !== 'get-token') return undefined;
  const globals = parseTokenFlags(argv.slice(0, at));
  const flags = parseTokenFlags(argv.slice(at + 2));
  if (globals === undefined || flags === undefined) return undefined;
  if (Object.keys(globals).some((key) => key !== 'region' && key !== 'profile')) return undefined;
  return { ...globals, ...flags };
}

const options: ParseArgsConfig['options'] = Object.fromEntries(
  TOKEN_FLAGS.map((flag) => [flag.long, { type: flag.value ? 'string' : 'boolean', ...(flag.short ? { short: flag.short } : {}) }]),
);

function parseTokenFlags(args: string[]): TokenFlags | undefined {
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return Object.fromEntries(Object.entries(values).map(([name, value]) => [flagKey(name), value])) as TokenFlags;
  } catch {
    return undefined; // commander reports the mistake with usage help
  }
}

void main(process.argv.slice(2));
