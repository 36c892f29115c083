/**
 * The offline kit as the README tells a user to run it: its `identities.yaml` and `mapping.yaml` copied from the
 * README, its `eksauth emulator … --with-api-server` command, then its kubectl commands with the real kubectl against
 * the kubeconfig the kit wrote. And the local CA: what the emulator's DescribeCluster reports is a real CA
 * certificate, the one that signed the API server's, so `update-kubeconfig` against the emulator writes an entry
 * kubectl verifies the API server with.
 */
import { exitStatusOf } from '../../src/errors.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCluster } from '../../src/aws/eks.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator } from '../../src/emulator/server.js';
import { EKSAUTH_CLI, runEksauth } from '../support/eksauth.js';
import { cleanEnv, hasCommand, runCommand, tempDir } from '../support/tools.js';

const HAS_KUBECTL = hasCommand('kubectl');
if (!HAS_KUBECTL) console.warn('test/e2e/offline-kit.test.ts: kubectl is not on PATH; the offline kit test is skipped.');
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README's first fenced block of `language` whose text starts with `start`. */
function readmeBlock(language: string, start: string): string {
  const block = [...README.matchAll(/```(\w+)\n([\s\S]*?)```/g)].find((m) => m[1] === language && m[2]!.startsWith(start));
  if (block === undefined) throw new Error(`README.md has no ${language} block starting with ${JSON.stringify(start)}`);
  return block[2]!;
}

/** The command lines of a README shell block, comments removed, split on spaces (the README's commands quote nothing). */
function readmeCommands(start: string): string[][] {
  return readmeBlock('sh', start).split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter((line) => line !== '').map((line) => line.split(/\s+/));
}

interface Kit {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  /** Resolves once the kit has printed that it runs; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startKit(args: string[], cwd: string): Kit {
  const child = spawn(process.execPath, [EKSAUTH_CLI, ...args], { cwd, env: cleanEnv(), stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('Press Ctrl+C to stop.')) resolve();
    });
    void exited.then((code) => reject(new Error(`the kit exited ${code}: ${err}`)));
  });
  return { child, stdout: () => out, ready, exited };
}

// kubectl runs eksauth token per call, and update-kubeconfig signs EKS calls: seconds each on a loaded 2-core machine.
describe.skipIf(!HAS_KUBECTL)('the offline kit, from the README', { timeout: 120_000 }, () => {
  let dir: string;
  let kit: Kit;
  let exports: Record<string, string>;

  beforeAll(async () => {
    dir = tempDir('eksauth-kit-');
    writeFileSync(join(dir, 'identities.yaml'), readmeBlock('yaml', 'identities:'));
    writeFileSync(join(dir, 'mapping.yaml'), readmeBlock('yaml', 'mapUsers:'));
    const [command] = readmeCommands('eksauth emulator --config identities.yaml --mapping');
    expect(command).toContain('--with-api-server');
    kit = startKit(command!.slice(1), dir);
    await kit.ready;
    exports = Object.fromEntries([...kit.stdout().matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'(.*)'$/, '$1')]));
  }, 120_000);

  afterAll(async () => {
    kit?.child.kill('SIGKILL');
  });

  it("runs the README's kubectl commands: the namespaces, then the mapped user and role", async () => {
    const outputs: string[] = [];
    for (const [tool, ...args] of readmeCommands('kubectl --kubeconfig ./kubeconfig get namespaces')) {
      expect(tool).toBe('kubectl');
      const run = await runCommand('kubectl', args, { cwd: dir, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      outputs.push(run.stdout);
    }
    expect(outputs[0]).toMatch(/^NAME\s+AGE\ndefault\s/);
    expect(outputs[1]).toMatch(/^Username\s+alice$/m);
    expect(outputs[1]).toMatch(/^Groups\s+\[developers system:authenticated\]$/m);
    expect(outputs[2]).toMatch(/^Username\s+admin:EKSGetTokenAuth$/m);
    expect(outputs[2]).toMatch(/^Groups\s+\[system:masters system:authenticated\]$/m);
  });

  it('serves a cluster whose DescribeCluster entry, written by update-kubeconfig, verifies the API server', async () => {
    const kubeconfig = join(dir, 'from-describe-cluster');
    const written = await runEksauth(['update-kubeconfig', '--name', 'prod', '--region', 'eu-west-1', '--kubeconfig', kubeconfig, '--exec-command', EKSAUTH_CLI], { env: exports });
    expect(written.code, written.stderr).toBe(0);
    const doc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const kitDoc = parse(readFileSync(join(dir, 'kubeconfig'), 'utf8')) as typeof doc;
    expect(doc.clusters[0]!.cluster).toEqual(kitDoc.clusters[0]!.cluster);
    const ca = new X509Certificate(Buffer.from(doc.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
    expect(ca.ca).toBe(true);
    const namespaces = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'get', 'namespaces', '-o', 'name'], { env: exports, timeoutMs: 60_000 });
    expect(namespaces.code, namespaces.stderr).toBe(0);
    expect(namespaces.stdout).toBe('namespace/default\n');
  });

  it('stops on SIGTERM', async () => {
    kit.child.kill('SIGTERM');
    expect(await kit.exited).toBe(0);
    expect(kit.stdout()).toMatch(/STS emulator stopped\.\n$/);
  });
});

describe('the emulator’s clusters', () => {
  it('report a real CA certificate from its local CA when the configuration gives none', async () => {
    const emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    try {
      const [alice] = DEMO_EMULATOR_CONFIG.identities;
      const options = { region: 'eu-west-1', endpoint: emulator.url, credentials: { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey } };
      const prod = await describeCluster('prod', options);
      const staging = await describeCluster('staging', options);
      const ca = new X509Certificate(Buffer.from(prod.certificateAuthorityData, 'base64'));
      expect(ca.ca).toBe(true);
      expect(ca.subject).toBe('CN=eksauth emulator local CA');
      expect(staging.certificateAuthorityData).toBe(prod.certificateAuthorityData);
    } finally {
      await emulator.close();
    }
  });

  it('refuses an unreadable mapping file in one line, before starting anything', async () => {
    const run = await runEksauth(['emulator', '--with-api-server', '--mapping', join(tempDir(), 'missing.yaml')]);
    expect(run.code).toBe(exitStatusOf('ERR_INVALID_MAPPING'));
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^eksauth: Cannot read the mapping file \S+ \(ENOENT\); check the path given to --mapping\. \(ERR_INVALID_MAPPING\)\n$/);
  });

  it('refuses the kit-only flags without --with-api-server (ERR_USAGE, exit 2)', async () => {
    const run = await runEksauth(['emulator', '--mapping', 'mapping.yaml', '--kubeconfig', 'kc']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('eksauth: --kubeconfig and --mapping work with --with-api-server only; add it to start the test API server too. (ERR_USAGE)\n');
  });
});
