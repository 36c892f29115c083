import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCommand, type CommandResult, type RunOptions } from './tools.js';

/** The bundled CLI that `npm test` builds first; tests run it as users and kubectl do. */
export const EKSAUTH_CLI = fileURLToPath(new URL('../../dist/cli/eksauth.cjs', import.meta.url));

if (!existsSync(EKSAUTH_CLI)) throw new Error(`${EKSAUTH_CLI} is missing: run \`npm run build\` (npm test does it) first`);

/** One build of the CLI, as a command line: the Node build, or the single-file binary (`npm run build:binary`). */
export interface EksauthBuild {
  name: 'node' | 'binary';
  /** The file kubectl's exec block names: the script (it starts with `#!/usr/bin/env node`) or the executable. */
  command: string;
}

export const NODE_BUILD: EksauthBuild = { name: 'node', command: EKSAUTH_CLI };

const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
/** The binary `npm test` builds for this machine when Bun is installed (scripts/build-binary.mjs). */
export const EKSAUTH_BINARY = fileURLToPath(new URL(`../../dist/bin/eksauth-${platform}`, import.meta.url));

/**
 * The builds a test runs against: the Node build, and the binary when it was built. A missing binary is said once
 * per test file, so that a run without Bun shows what it did not test.
 */
export function eksauthBuilds(testFile: string): EksauthBuild[] {
  if (existsSync(EKSAUTH_BINARY)) return [NODE_BUILD, { name: 'binary', command: EKSAUTH_BINARY }];
  console.warn(`${testFile}: ${EKSAUTH_BINARY} is not built (Bun not installed?); the binary's cases are skipped.`);
  return [NODE_BUILD];
}

/** Runs `eksauth ARGS` (the Node build with the Node running the tests, or `build`), in the clean environment of tools.ts. */
export function runEksauth(args: string[], options: RunOptions = {}, build: EksauthBuild = NODE_BUILD): Promise<CommandResult> {
  return build.name === 'node' ? runCommand(process.execPath, [EKSAUTH_CLI, ...args], options) : runCommand(build.command, args, options);
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
