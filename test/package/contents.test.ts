/**
 * What `npm pack` publishes: the built CLI and library and what they reach, nothing else (no CLI or test bed copies
 * in dist/lib, no source maps pointing at unpublished sources), built first by `prepack`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { reachableFiles } from './reach.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  scripts: Record<string, string>;
};

/** The entry points a user reaches: each `bin`, each target of each `exports` condition. */
function entryPoints(): string[] {
  const targets = Object.values(pkg.exports).flatMap((entry) => (typeof entry === 'string' ? [entry] : Object.values(entry)));
  return [...Object.values(pkg.bin), ...targets].map((path) => path.replace(/^\.\//, ''));
}

describe('npm pack', () => {
  let packed: string[];
  beforeAll(async () => {
    // --ignore-scripts: the list of what dist/ holds now; the build prepack runs is checked by the install test.
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, timeout: 60_000 });
    packed = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path).sort();
  }, 90_000);

  it('builds first', () => {
    expect(pkg.scripts.prepack).toBe('node scripts/build.mjs');
  });

  it('holds exactly the files the bin and the exports reach, and each file they name', () => {
    const { reached, missing } = reachableFiles(ROOT, entryPoints());
    expect(missing).toEqual([]);
    expect(packed.filter((path) => path.startsWith('dist/'))).toEqual([...reached].filter((path) => path.startsWith('dist/')).sort());
  });

  it('holds no CLI or test bed copy in the library, no source map, no sources', () => {
    expect(packed).toContain('dist/cli/eksauth.cjs');
    expect(packed).toContain('dist/lib/index.d.ts');
    const unwanted = packed.filter((path) => /^dist\/lib\/(cli|testbed)\/|^dist\/testbed\/|\.map$|^(src|test|bench|scripts)\//.test(path));
    expect(unwanted).toEqual([]);
  });

  it('adds only the README and the deploy manifests beside dist/', () => {
    const others = packed.filter((path) => !path.startsWith('dist/'));
    expect(others.filter((path) => !path.startsWith('deploy/'))).toEqual(['README.md', 'package.json']);
    expect(others).toContain('deploy/eksauth.yaml');
  });
});
