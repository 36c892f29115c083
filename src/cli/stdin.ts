/**
 * All of stdin as text: how `verify -t -` and `decode -` take a token without putting it on the command line.
 *
 * @example
 * ```ts
 * const token = (await readStdin()).trim();
 * ```
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
