/**
 * Commander's parse errors as eksauth failures: one line `eksauth: … (ERR_USAGE)`, exit 2, nothing on stdout, on
 * every command. Commander prints two or three lines of its own and exits 1; here it prints nothing and throws, and
 * the error becomes an EksAuthError that src/cli/report.ts prints like every other failure.
 */
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import { EksAuthError } from '../errors.js';
import { closestChoice } from '../lib/edit-distance.js';

/** Commander's codes for a successful exit: help or the version was asked for and printed. */
const CLEAN_EXITS: ReadonlySet<string> = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Flags that belong to a sibling command, each with the flag meant: commander's own suggestion only finds typos.
 * Keyed by command path.
 */
const MEANT_FLAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'update-kubeconfig': { '--cluster-name': '--name', '--cluster-id': '--name' },
  'eks update-kubeconfig': { '--cluster-name': '--name', '--cluster-id': '--name' },
  token: { '--name': '--cluster-name' },
  'eks get-token': { '--name': '--cluster-name' },
};

/**
 * Makes every command of `program` (configure it after adding them all) throw its parse errors instead of printing
 * them: a usage mistake becomes an EksAuthError ERR_USAGE naming the command and, where there is one, the flag or
 * command meant; help and --version become a CommanderError with exit code 0.
 *
 * @example
 * ```ts
 * configureUsageErrors(program);
 * await program.parseAsync(['node', 'eksauth', 'tokn']); // throws EksAuthError: unknown command 'tokn'; did you mean token?
 * ```
 */
export function configureUsageErrors(program: Command): void {
  for (const command of allCommands(program)) {
    command
      // Help and usage that commander prints on its own for an error (a command run without its subcommand) would
      // be a second, third… line; the error below says what to run instead.
      .configureOutput({ outputError: () => {}, writeErr: () => {} })
      .showHelpAfterError(false)
      .showSuggestionAfterError(true)
      .exitOverride((err) => {
        throw CLEAN_EXITS.has(err.code) ? err : usageError(err, command);
      });
  }
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Commander's English, rewritten as one line that says what to do next. */
function usageError(err: CommanderError, command: Command): EksAuthError {
  const path = commandPath(command);
  const where = path === '' ? '' : `${path}: `;
  const help = `run 'eksauth${path === '' ? '' : ` ${path}`} --help'`;
  if (err.code === 'commander.help') {
    const sub = command.commands.map((c) => c.name()).join(', ');
    return new EksAuthError('ERR_USAGE', `${where}a command is needed (${sub}): ${help} for what each does`);
  }
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(' '))?.[1] ?? meantFlag(path, first.trim());
  const about = err.code === 'commander.unknownCommand' ? 'commands' : 'flags';
  const next = suggestion === undefined ? `${help} for the ${about}` : `did you mean ${suggestion}?`;
  return new EksAuthError('ERR_USAGE', `${where}${first.replace(/\.$/, '')}; ${next}`);
}

/** The flag or value meant, when commander's message names a flag of a sibling command or a near-miss choice. */
function meantFlag(path: string, message: string): string | undefined {
  const flag = /^unknown option '([^'=]+)/.exec(message)?.[1];
  if (flag !== undefined) return MEANT_FLAGS[path]?.[flag];
  const choice = /^option '(?:-\w, )?(--[\w-]+)[^']*' argument '([^']*)' is invalid\. Allowed choices are (.+)\.$/.exec(message);
  if (choice === null) return undefined;
  const [, option = '', value = '', choices = ''] = choice;
  const near = closestChoice(value, choices.split(', '));
  return near === undefined ? undefined : `${option} ${near}`;
}

/**
 * Commander argument parsers for numeric flags: a value that is not a number is a usage mistake (commander reports
 * it as an invalid argument), never a NaN handed on.
 *
 * @example
 * ```ts
 * command.option('--port <port>', 'port', NUMBER_ARGUMENT.wholeNumber);
 * ```
 */
export const NUMBER_ARGUMENT = {
  wholeNumber: (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError('It must be a whole number, 0 or more.');
    return Number(value);
  },
  seconds: (value: string): number => {
    if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('It must be a number of seconds, e.g. 5 or 0.5.');
    return Number(value);
  },
} as const;
