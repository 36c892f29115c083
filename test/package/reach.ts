/**
 * Which published files the package's entry points reach: the test of `npm pack`'s contents follows every file name
 * the built files mention (imports, requires, chunk names, the signing file the CLI loads by name, the licence files
 * esbuild links) from `bin` and `exports`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * A relative module an import, export or require names (`from "./x.js"`, `require('../y.cjs')`), a CommonJS file
 * named bare to be loaded beside the file (`"token-refresh.cjs"`), or the licence file esbuild links.
 */
const FILE_REFERENCE =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s*)["'](\.{1,2}\/[^"'\s]+)["']|["']([\w-]+\.cjs)["']|license information please see ([\w.-]+\.LEGAL\.txt)/g;

export interface Reach {
  /** Package-relative paths reached from the seeds, seeds included. */
  reached: Set<string>;
  /** References to files that do not exist: `from` names the file that mentions `missing`. */
  missing: { from: string; missing: string }[];
}

/**
 * Follows file references from `seeds` (package-relative paths) through the files under `root`.
 *
 * @example
 * ```ts
 * const { reached, missing } = reachableFiles(repoRoot, ['dist/cli/eksauth.cjs', 'dist/lib/index.js']);
 * ```
 */
export function reachableFiles(root: string, seeds: string[]): Reach {
  const reached = new Set<string>();
  const missing: Reach['missing'] = [];
  const queue = [...seeds];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (reached.has(file)) continue;
    reached.add(file);
    for (const target of [...referencedFiles(root, file), ...twin(root, file)]) {
      if (existsSync(join(root, target))) queue.push(target);
      else missing.push({ from: file, missing: target });
    }
  }
  return { reached, missing };
}

/** A library module's declarations go with its code, and the other way round (a types-only module's empty .js). */
function twin(root: string, file: string): string[] {
  const other = file.endsWith('.d.ts') ? file.replace(/\.d\.ts$/, '.js') : file.replace(/^(dist\/lib\/.*)\.js$/, '$1.d.ts');
  return other !== file && existsSync(join(root, other)) ? [other] : [];
}

function referencedFiles(root: string, file: string): string[] {
  if (!/\.(m?js|cjs|d\.ts)$/.test(file)) return [];
  const text = readFileSync(join(root, file), 'utf8');
  const declarations = file.endsWith('.d.ts');
  return [...text.matchAll(FILE_REFERENCE)].map((match) => {
    const name = match[1] ?? match[2] ?? match[3] ?? '';
    // A declaration file imports `./x.js`; what it reaches is `./x.d.ts`.
    const target = declarations ? name.replace(/\.js$/, '.d.ts') : name;
    return normalize(join(dirname(file), target));
  });
}
