/**
 * SHA-256 and HMAC-SHA-256 for the SigV4 signer, on the engine of hasher.ts (js-sha256; Bun's own in the binary).
 *
 * In Node the package resolves to node:crypto. The CLI's token path bundles its pure-JS build instead
 * (scripts/esbuild-options.mjs): loading node:crypto pulls in all of Node's streams and costs about 2 ms of every
 * token cache miss, more than a presign's dozen hashes take in JS. That build was chosen because it is also the one
 * whose hash function V8 does not send to TurboFan during a presign (on Node 20, unless a session token is longer than
 * about 1,700 characters): Node waits for such a compile job to finish before it exits, which cancelled the gain of
 * every other pure-JS SHA-256 measured. README "Speed" has the figures.
 */
import type { Checksum, SourceData } from '@smithy/types';
import { startHasher, type Hasher } from './hasher.js';

/**
 * A `Checksum` for `@smithy/signature-v4`'s `sha256` option: a hash, or an HMAC when given a secret.
 */
export class Sha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hasher: Hasher;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hasher = start(secret);
  }

  update(data: Uint8Array): void {
    this.#hasher.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return this.#hasher.digest();
  }

  reset(): void {
    this.#hasher = start(this.#secret);
  }
}

function start(secret: SourceData | undefined): Hasher {
  return startHasher(secret === undefined || typeof secret === 'string' ? secret : bytes(secret));
}

/** The engines read a view element by element (js-sha256) or take only bytes, so anything else is seen as its bytes. */
function bytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}
