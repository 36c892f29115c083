/**
 * The command tree as users see it: every flag that works is in `--help` (read from the help text itself and
 * compared with the token flag table and the flag definitions, so neither can drift), the aws CLI's
 * `eks update-kubeconfig` form writes what `update-kubeconfig` writes, and Outposts clusters get the identification
 * flag the aws CLI writes for them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_FLAGS } from '../../src/cli/token-flags.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { runEksauth } from '../support/eksauth.js';
import { tempDir } from '../support/tools.js';

const CLI_SOURCES = new URL('../../src/cli/', import.meta.url);

/** The names under "Commands:" of a help text. */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

/** The long flags under "Options:" of a help text. */
function helpFlags(help: string): string[] {
  const section = (help.split(/^Options:\n/m)[1] ?? '').split(/^Commands:\n/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
}

/** Every command path and its help text, found by walking the help of the command above it. */
async function allHelp(path: string[] = []): Promise<Map<string, string>> {
  const result = await runEksauth([...path, '--help']);
  expect(result.code, result.stderr).toBe(0);
  const below = await Promise.all(subcommands(result.stdout).map((name) => allHelp([...path, name])));
  return new Map([[path.join(' '), result.stdout], ...below.flatMap((map) => [...map])]);
}

describe('--help shows every flag that works, on every command', () => {
  let help: Map<string, string>;
  beforeAll(async () => {
    help = await allHelp();
  }, 120_000);

  it('walks every command', () => {
    expect([...help.keys()].sort()).toEqual(['', 'access', 'access apply', 'access check', 'access plan', 'cache', 'cache clean', 'decode', 'demo', 'doctor', 'eks', 'eks get-token', 'eks update-kubeconfig', 'emulator', 'server', 'server init', 'token', 'update-kubeconfig', 'verify', 'whoami']);
  });

  it.each(['token', 'eks get-token'])('%s: exactly the token flag table', (path) => {
    expect(helpFlags(help.get(path)!).sort()).toEqual([...TOKEN_FLAGS.map((flag) => `--${flag.long}`), '--help'].sort());
  });

  it('eks update-kubeconfig: the same flags as update-kubeconfig', () => {
    expect(helpFlags(help.get('eks update-kubeconfig')!)).toEqual(helpFlags(help.get('update-kubeconfig')!));
  });

  it('every flag defined in src/cli is in some help, and none is hidden', () => {
    const sources = readdirSync(CLI_SOURCES).filter((file) => file.endsWith('.ts')).map((file) => readFileSync(new URL(file, CLI_SOURCES), 'utf8'));
    const defined = new Set(sources.flatMap((text) => [...text.matchAll(/(?:option|Option)\(\s*'(?:-\w, )?(--[\w-]+)/g)].map((m) => m[1]!)));
    const shown = new Set([...help.values()].flatMap(helpFlags));
    expect(defined.size).toBeGreaterThan(40);
    expect([...defined].filter((flag) => !shown.has(flag))).toEqual([]);
    expect(sources.some((text) => /hideHelp\(|hidden: true/.test(text))).toBe(false);
  });

  it("the README's token flag table lists every token flag", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.split('## eksauth token: the kubectl exec plugin')[1]?.split('\n\n').find((block) => block.startsWith('| flag |')) ?? '';
    const listed = new Set([...table.matchAll(/`(?:-\w, )?(--[\w-]+)/g)].map((m) => m[1]!));
    expect(TOKEN_FLAGS.map((flag) => `--${flag.long}`).filter((flag) => !listed.has(flag))).toEqual([]);
  });
});

const [ALICE] = DEMO_EMULATOR_CONFIG.identities;
const KEYS = { AWS_ACCESS_KEY_ID: ALICE?.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE?.secretAccessKey };
const DEMO_CLUSTERS = DEMO_EMULATOR_CONFIG.clusters ?? [];
const EDGE = DEMO_CLUSTERS.find((cluster) => cluster.name === 'edge')!;
/** The demo clusters and one on Outposts whose outpostConfig has an etcdInstanceType: not a local cluster. */
const CONFIG: EmulatorConfig = {
  ...DEMO_EMULATOR_CONFIG,
  clusters: [...DEMO_CLUSTERS, { ...EDGE, name: 'edge-extended', id: 'c0ffee00-0000-4000-8000-000000000001', outpostConfig: { ...EDGE.outpostConfig!, etcdInstanceType: 'm5.xlarge' } }],
};

describe('eks update-kubeconfig and Outposts clusters, against the emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
  });
  afterAll(async () => emulator?.close());

  type Kubeconfig = { users: { user: { exec: { args: string[] } } }[] };
  const update = async (args: string[]): Promise<{ stdout: string; kubeconfig: string }> => {
    const file = join(tempDir('eksauth-commands-'), 'config');
    const result = await runEksauth([...args, '--endpoint-url', emulator.url, '--kubeconfig', file], { env: KEYS });
    expect(result.code, result.stderr).toBe(0);
    return { stdout: result.stdout.replace(file, 'FILE'), kubeconfig: readFileSync(file, 'utf8') };
  };
  const execArgs = (kubeconfig: string): string[] => (parse(kubeconfig) as Kubeconfig).users[0]!.user.exec.args;

  it('`eks update-kubeconfig`, with the aws CLI’s global --region before `eks`, writes what update-kubeconfig writes', async () => {
    const alias = await update(['--region', 'eu-west-1', 'eks', 'update-kubeconfig', '--name', 'prod']);
    const plain = await update(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1']);
    expect(alias).toEqual(plain);
    expect(execArgs(alias.kubeconfig)).toEqual(['token', '--cluster-name', 'prod', '--region', 'eu-west-1']);
  });

  it.each([
    ['a local cluster (outpostConfig without etcdInstanceType): its id', 'edge', ['--cluster-id', EDGE.id!]],
    ['an outpostConfig with etcdInstanceType: its name', 'edge-extended', ['--cluster-name', 'edge-extended']],
  ])('names %s', async (_, name, flag) => {
    for (const execCommand of ['eksauth', 'aws']) {
      const args = execArgs((await update(['update-kubeconfig', '--name', name, '--region', 'us-west-2', '--exec-command', execCommand])).kubeconfig);
      expect(args.slice(execCommand === 'aws' ? 4 : 1, execCommand === 'aws' ? 6 : 3)).toEqual(flag);
    }
  });
});
