/**
 * The built library's entry points, imported by name from a fresh Node process the way a user imports them
 * (`import('eksauth/client-node')`, resolved through package.json `exports`): which modules each one loads, what it
 * exports, and that importing prints nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand, tempDir } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A module hook that writes each resolved URL to the file the env names: the modules an import loads. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.EKSAUTH_LOADED, result.url + '\\n');
  return result;
}`;

interface Loaded {
  exports: string[];
  modules: string[];
  stdout: string;
  stderr: string;
}

let dir: string;
beforeAll(() => {
  dir = tempDir('eksauth-entries-');
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${join(dir, 'hooks.mjs')}`).href)});\n`);
});

/** Imports `specifier` from inside the package (Node resolves a package's own name through its exports). */
async function load(specifier: string): Promise<Loaded> {
  const list = join(dir, `${specifier.replace(/\W/g, '_')}.txt`);
  writeFileSync(list, '');
  const code = `const m = await import(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify(Object.keys(m)));`;
  const run = await runCommand(process.execPath, ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { EKSAUTH_LOADED: list },
  });
  expect(run.code, run.stderr).toBe(0);
  return { exports: JSON.parse(run.stdout) as string[], modules: readFileSync(list, 'utf8').trim().split('\n'), stdout: run.stdout, stderr: run.stderr };
}

const loads = (modules: string[], part: string) => modules.some((url) => url.includes(part));

describe('the library entries (build first: dist/lib)', { timeout: 60_000 }, () => {
  it('eksauth: the token API only, loading neither the EKS client, client-node, the server nor the emulator', async () => {
    const root = await load('eksauth');
    expect(root.exports.sort()).toEqual(['ERROR_CODES', 'EXIT_STATUS', 'EksAuthError', 'createTokenProvider', 'exitStatusOf', 'getToken', 'isEksAuthError']);
    expect(root.stderr).toBe('');
    for (const part of ['@aws-sdk/client-eks', '@kubernetes/client-node', '@aws-sdk/credential-providers', '/dist/lib/server/', '/dist/lib/emulator/', '/dist/lib/testbed/', 'yaml']) {
      expect(loads(root.modules, part), part).toBe(false);
    }
    expect(loads(root.modules, '/dist/lib/token/generate.js')).toBe(true);
  });

  it('eksauth/verify: the verifier and the mapping engine, without the server', async () => {
    const verify = await load('eksauth/verify');
    expect(verify.exports).toEqual(expect.arrayContaining(['verifyToken', 'mapIdentity', 'parseAwsAuthConfigMap', 'parseAccessEntries', 'canonicalizeArn']));
    expect(loads(verify.modules, '/dist/lib/server/')).toBe(false);
    expect(loads(verify.modules, '@kubernetes/client-node')).toBe(false);
  });

  it('eksauth/client-node: loads client-node, not the EKS client until DescribeCluster is needed', async () => {
    const clientNode = await load('eksauth/client-node');
    expect(clientNode.exports).toEqual(expect.arrayContaining(['eksKubeConfig', 'createEksAuthenticator', 'useEksAuthenticator', 'parseTokenExec']));
    expect(loads(clientNode.modules, '@kubernetes/client-node')).toBe(true);
    expect(loads(clientNode.modules, '@aws-sdk/client-eks')).toBe(false);
  });

  it.each([
    ['eksauth/kubeconfig', 'updateKubeconfig'],
    ['eksauth/eks', 'describeCluster'],
    ['eksauth/server', 'startServer'],
  ])('%s exports %s, and no entry exports the emulator or the test bed', async (specifier, name) => {
    const entry = await load(specifier);
    expect(entry.exports).toContain(name);
    expect(entry.exports.filter((n) => /emulator|testbed|TestApiServer/i.test(n))).toEqual([]);
    expect(entry.stderr).toBe('');
  });
});
