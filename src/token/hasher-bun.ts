/**
 * The hash engine under sha256.ts in the single-file binary: Bun's native `Bun.CryptoHasher`, put in place of
 * hasher.ts by scripts/bun-compile.mjs. Under Bun, node:crypto (which js-sha256 loads there) costs what no signing
 * needs: importing it measured +17 ms of CPU and +10 MiB of peak memory in a compiled program (Bun 1.4.5), more than
 * the rest of a cache miss; the built-in hasher measured nothing.
 */
import type { Hasher } from './hasher.js';

/** The part of Bun's CryptoHasher used here (the binary is built by Bun; the package carries no Bun types). */
interface BunCryptoHasher {
  update(data: Uint8Array | string): unknown;
  digest(): Uint8Array;
}
declare const Bun: { CryptoHasher: new (algorithm: 'sha256', hmacKey?: Uint8Array | string) => BunCryptoHasher };

/** A SHA-256 hasher, or an HMAC-SHA-256 one keyed with `secret`. */
export function startHasher(secret?: Uint8Array | string): Hasher {
  const hasher = new Bun.CryptoHasher('sha256', secret);
  return {
    update: (data) => void hasher.update(data),
    digest: () => new Uint8Array(hasher.digest()),
  };
}
