import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCommand, type CommandResult, type RunOptions } from './tools.js';

/** The bundled CLI that `npm test` builds first; tests run it as users and kubectl do. */
export const EKSAUTH_CLI = fileURLToPath(new URL('../../dist/cli/eksauth.cjs', import.meta.url));

if (!existsSync(EKSAUTH_CLI)) throw new Error(`${EKSAUTH_CLI} is missing: run \`npm run build\` (npm test does it) first`);

/** Runs `eksauth ARGS` with the Node running the tests, in the clean environment of tools.ts. */
export function runEksauth(args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [EKSAUTH_CLI, ...args], options);
}

export interface ParsedExecCredential {
  kind: string;
  apiVersion: string;
  spec: Record<string, unknown>;
  status: { expirationTimestamp: string; token: string };
}

/** Parses the ExecCredential on stdout, failing the test with stderr when there is none. */
export function parseExecCredential(result: CommandResult): ParsedExecCredential {
  if (result.code !== 0) throw new Error(`eksauth exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ParsedExecCredential;
}

/** The presigned URL inside a `k8s-aws-v1.` token. */
export function tokenUrl(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}
