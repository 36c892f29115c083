/**
 * The signer's SHA-256. In Node, js-sha256 resolves to node:crypto; the CLI's signing file bundles the package's
 * pure-JS build instead (its `import` export: scripts/esbuild-options.mjs). Both must agree with node:crypto and
 * reproduce botocore's signatures. The single-file binary hashes with Bun's own engine (src/token/hasher-bun.ts),
 * run here by the Bun that builds the binary.
 */
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { resolveStsEndpoint } from '../../src/aws/sts-endpoint.js';
import { SIGNATURE_VECTORS, VECTOR_CLUSTER, VECTOR_CREDENTIALS, VECTOR_SIGNED_AT } from '../support/signature-vectors.js';

const packageJson = createRequire(import.meta.url).resolve('js-sha256/package.json');
const PURE_JS = new URL(JSON.parse(readFileSync(packageJson, 'utf8')).exports['.'].import, pathToFileURL(packageJson)).href;

async function load(build: 'node:crypto' | 'pure JS') {
  vi.resetModules();
  if (build === 'pure JS') vi.doMock('js-sha256', () => import(PURE_JS));
  else vi.doUnmock('js-sha256');
  const [{ Sha256 }, { presignGetCallerIdentity }] = await Promise.all([import('../../src/token/sha256.js'), import('../../src/token/presign.js')]);
  return { Sha256, presignGetCallerIdentity };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
// Lengths around SHA-256's 64-byte block and its 55/56-byte padding boundary, and keys longer than a block.
const data = fc.uint8Array({ minLength: 0, maxLength: 300 });
const key = fc.oneof(fc.string({ maxLength: 100 }), fc.uint8Array({ maxLength: 150 }));
const cuts = fc.array(fc.nat(300), { maxLength: 4 });

describe.each(['node:crypto', 'pure JS'] as const)('Sha256 over js-sha256 (%s)', (build) => {
  it('matches node:crypto for hashes and HMACs, fed whole or in pieces, and after reset()', async () => {
    const { Sha256 } = await load(build);
    await fc.assert(
      fc.asyncProperty(data, fc.option(key, { nil: undefined }), cuts, async (bytes, secret, at) => {
        const checksum = new Sha256(secret);
        checksum.update(new Uint8Array([1, 2, 3]));
        checksum.reset();
        let from = 0;
        for (const cut of [...at.map((n) => Math.min(n, bytes.length)).sort((a, b) => a - b), bytes.length]) {
          checksum.update(bytes.subarray(from, cut));
          from = cut;
        }
        const expected = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
        expect(hex(await checksum.digest())).toBe(expected.update(bytes).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('reads any ArrayBufferView or ArrayBuffer secret as its bytes', async () => {
    const { Sha256 } = await load(build);
    const bytes = Uint8Array.from({ length: 80 }, (_, i) => i * 7);
    const expected = createHmac('sha256', bytes).update('m').digest('hex');
    for (const secret of [new DataView(bytes.buffer), new Uint16Array(bytes.buffer), bytes.buffer, Buffer.from(bytes)]) {
      const checksum = new Sha256(secret);
      checksum.update(new TextEncoder().encode('m'));
      expect(hex(await checksum.digest())).toBe(expected);
    }
  });

  it('signs the reference vectors', async () => {
    const { presignGetCallerIdentity } = await load(build);
    for (const { region, sessionToken, signature } of SIGNATURE_VECTORS) {
      const url = await presignGetCallerIdentity({
        credentials: { ...VECTOR_CREDENTIALS, ...(sessionToken ? { sessionToken } : {}) },
        clusterId: VECTOR_CLUSTER,
        endpoint: resolveStsEndpoint({ region }),
        signingDate: VECTOR_SIGNED_AT,
      });
      expect(new URL(url).searchParams.get('X-Amz-Signature')).toBe(signature);
    }
  });
});

const BUN = new URL('../../node_modules/bun/bin/bun.exe', import.meta.url).pathname;
const HAS_BUN = existsSync(BUN) && spawnSync(BUN, ['--version']).status === 0;
if (!HAS_BUN) console.warn('test/token/sha256.test.ts: Bun is not installed (node_modules/bun); the binary\'s hash engine is not checked.');

describe.skipIf(!HAS_BUN)('the binary\'s hash engine (Bun.CryptoHasher, run by Bun)', () => {
  it('matches node:crypto for hashes and HMACs with string and byte keys, fed in pieces', () => {
    const cases = fc.sample(fc.tuple(data, fc.option(key, { nil: undefined }), cuts), { numRuns: 200, seed: 17 });
    const input = cases.map(([bytes, secret, at]) => ({
      data: Buffer.from(bytes).toString('hex'),
      key: secret === undefined ? null : typeof secret === 'string' ? { text: secret } : { hex: Buffer.from(secret).toString('hex') },
      cuts: at.map((n) => Math.min(n, bytes.length)).sort((a, b) => a - b),
    }));
    const script = `
      import { startHasher } from ${JSON.stringify(new URL('../../src/token/hasher-bun.ts', import.meta.url).pathname)};
      const cases = JSON.parse(await Bun.stdin.text());
      const out = cases.map(({ data, key, cuts }) => {
        const bytes = Buffer.from(data, 'hex');
        const hasher = startHasher(key === null ? undefined : 'text' in key ? key.text : new Uint8Array(Buffer.from(key.hex, 'hex')));
        let from = 0;
        for (const cut of [...cuts, bytes.length]) { hasher.update(bytes.subarray(from, cut)); from = cut; }
        return Buffer.from(hasher.digest()).toString('hex');
      });
      console.log(JSON.stringify(out));`;
    const run = spawnSync(BUN, ['-e', script], { input: JSON.stringify(input), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const expected = cases.map(([bytes, secret]) => (secret === undefined ? createHash('sha256') : createHmac('sha256', secret)).update(bytes).digest('hex'));
    expect(JSON.parse(run.stdout)).toEqual(expected);
  });
});
