/**
 * How to run this eksauth again as a child process: the Node build is a script that Node runs, and the single-file
 * binary (`npm run build:binary`) is the executable itself, whose `process.argv[1]` names its embedded entry
 * (`/$bunfs/root/…`, or `B:/~BUN/root/…` on Windows), a path no other process can open.
 *
 * @example
 * ```ts
 * const { command, args } = selfCommand();
 * await run(command, [...args, 'token', '--cluster-name', 'demo']);
 * ```
 */
export function selfCommand(): { command: string; args: string[] } {
  const script = process.argv[1];
  if (script === undefined || isEmbeddedEntry(script)) return { command: process.execPath, args: [] };
  return { command: process.execPath, args: [script] };
}

function isEmbeddedEntry(path: string): boolean {
  return path.startsWith('/$bunfs/') || path.includes('~BUN');
}
