/**
 * The hash engine under sha256.ts: js-sha256. In Node the package resolves to node:crypto; the CLI's token path
 * bundles its pure-JS build instead (scripts/esbuild-options.mjs), and the single-file binary puts hasher-bun.ts in
 * this module's place (scripts/bun-compile.mjs). sha256.ts says why.
 */
import { sha256 } from 'js-sha256';

/** One running SHA-256 or HMAC-SHA-256. */
export interface Hasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** A SHA-256 hasher, or an HMAC-SHA-256 one keyed with `secret`. */
export function startHasher(secret?: Uint8Array | string): Hasher {
  const hasher = secret === undefined ? sha256.create() : sha256.hmac.create(secret);
  return {
    update: (data) => void hasher.update(data),
    digest: () => new Uint8Array(hasher.arrayBuffer()),
  };
}
