/**
 * `runEmulator` as a separate process: what it prints works as-is with the AWS CLI, the admin endpoints drive it from
 * outside, and SIGTERM/SIGINT stop it cleanly. The process runs src/cli/emulator.ts bundled by esbuild (dependencies
 * left external), so the test needs no prior build.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, hasCommand, runCommand, tempDir } from '../support/tools.js';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { jsonError, presignGetCallerIdentity, replay, send } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('skipping the AWS CLI part of the emulator CLI test: `aws` is not on PATH');

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let bundle: string;

beforeAll(async () => {
  // Inside the repository (in the ignored .tmp/) so that the bundle's external imports resolve from node_modules.
  const dir = join(ROOT, '.tmp');
  mkdirSync(dir, { recursive: true });
  bundle = join(dir, `emulator-cli-${process.pid}.mjs`);
  await build({
    stdin: {
      contents: `import { runEmulator } from ${JSON.stringify(join(ROOT, 'src/cli/emulator.ts'))};\n`
        + 'runEmulator(JSON.parse(process.argv[2] ?? "{}")).catch((err) => { console.error(err.message); process.exit(1); });\n',
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: bundle,
    logLevel: 'silent',
  });
});

afterAll(() => {
  rmSync(bundle, { force: true });
});

function start(options: Record<string, unknown>): Running {
  const child = spawn(process.execPath, [bundle, JSON.stringify(options)], { env: cleanEnv(), stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
  child.stderr.on('data', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, exited };
}

async function ready(running: Running): Promise<Record<string, string>> {
  await expect.poll(running.stdout).toContain('Press Ctrl+C to stop.');
  return Object.fromEntries([...running.stdout().matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'(.*)'$/, '$1')]));
}

describe('eksauth emulator (runEmulator)', () => {
  const running: Running[] = [];
  afterAll(() => {
    for (const r of running) r.child.kill('SIGKILL');
  });

  it('prints ready-to-paste exports for the demo identity and stops on SIGTERM', async () => {
    const emulator = start({});
    running.push(emulator);
    const exports = await ready(emulator);
    expect(exports).toEqual({
      AWS_ACCESS_KEY_ID: 'EKSAUTHDEMOALICE0001',
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_ENDPOINT_URL_STS: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      AWS_ENDPOINT_URL_EKS: exports.AWS_ENDPOINT_URL_STS,
    });
    expect(emulator.stdout()).toContain(`STS emulator listening on ${exports.AWS_ENDPOINT_URL_STS} (built-in demo identities)`);

    if (HAS_AWS) {
      const result = await runCommand('aws', ['sts', 'get-caller-identity', '--region', 'us-east-1', '--output', 'json'], {
        env: { ...exports, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).Arn).toBe('arn:aws:iam::111122223333:user/alice');
    }

    // The admin endpoints drive the other process.
    const url = exports.AWS_ENDPOINT_URL_STS!;
    const stats = JSON.parse((await send(url, { path: '/_emulator/stats' })).body);
    expect(stats).toEqual(HAS_AWS ? { requests: 1, byAction: { GetCallerIdentity: 1 }, rejected: 0 } : { requests: 0, byAction: {}, rejected: 0 });
    expect((await send(url, { method: 'PUT', path: '/_emulator/fault', body: '{"status": 503, "times": 1}' })).status).toBe(200);
    expect((await send(url, { path: '/?Action=GetCallerIdentity' })).status).toBe(503);

    emulator.child.kill('SIGTERM');
    expect(await emulator.exited).toEqual({ code: 0, signal: null });
    expect(emulator.stdout()).toContain('STS emulator stopped.');
  });

  it('serves the identities of a --config file on the given port and stops on SIGINT', async () => {
    const dir = tempDir('eksauth-emulator-cli-');
    const file = join(dir, 'emulator.yaml');
    writeFileSync(file, 'identities:\n  - accessKeyId: EXAMPLEKEYID0001\n    secretAccessKey: "it\'s/secret"\n    arn: arn:aws:iam::123456789012:user/dana\n    userId: AIDAEXAMPLEUSERID0001\n');
    const emulator = start({ config: file });
    running.push(emulator);
    const exports = await ready(emulator);
    expect(emulator.stdout()).toContain(`identities from ${file}`);
    expect(emulator.stdout()).toContain("export AWS_SECRET_ACCESS_KEY='it'\\''s/secret'");
    expect(exports.AWS_ACCESS_KEY_ID).toBe('EXAMPLEKEYID0001');
    emulator.child.kill('SIGINT');
    expect((await emulator.exited).code).toBe(0);
  });

  it('exits non-zero with the reason for an invalid config file', async () => {
    const dir = tempDir('eksauth-emulator-cli-');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'identities: []\n');
    const failed = await startAndFail({ config: file });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`Invalid emulator config ${file}: identities: empty`);
  });

  it('--session-lifetime: AssumeRole credentials expire after that many seconds and are then refused with ExpiredToken', async () => {
    const emulator = start({ sessionLifetime: 1 });
    running.push(emulator);
    const url = (await ready(emulator)).AWS_ENDPOINT_URL_STS!;
    const [alice] = DEMO_EMULATOR_CONFIG.identities;
    const credentials = await fromTemporaryCredentials({
      masterCredentials: { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey },
      params: { RoleArn: 'arn:aws:iam::111122223333:role/eks-admin', RoleSessionName: 'short' },
      clientConfig: { region: 'eu-west-1', endpoint: url, maxAttempts: 1 },
    })();
    const callerNow = async () => {
      const presigned = await presignGetCallerIdentity({ credentials, region: 'eu-west-1', host: 'sts.eu-west-1.amazonaws.com', clusterId: 'c1', date: new Date() });
      return replay(url, presigned, 'sts.eu-west-1.amazonaws.com', 'c1');
    };
    await expect.poll(async () => (await callerNow()).status, { interval: 200 }).toBe(403);
    expect(jsonError(await callerNow()).Code).toBe('ExpiredToken');
    emulator.child.kill('SIGTERM');
    expect((await emulator.exited).code).toBe(0);
  });

  it('exits non-zero for a --session-lifetime out of range', async () => {
    const failed = await startAndFail({ sessionLifetime: 0 });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("The emulator's session lifetime must be a whole number of seconds from 1 to 43200 (got 0)");
  });

  it('exits non-zero naming the address when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const failed = await startAndFail({ port });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(`The address of the emulator, 127.0.0.1:${port}, is already in use; stop what holds it or choose another --port`);
    } finally {
      taken.close();
    }
  });
});

/** Runs the emulator with options it must refuse; resolves with its exit code and stderr. */
async function startAndFail(options: Record<string, unknown>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bundle, JSON.stringify(options)], { env: cleanEnv(), stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}
