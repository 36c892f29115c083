/**
 * @kubernetes/client-node 1.x fetches through node-fetch 2, which calls `url.parse()` on every request; Node 24
 * prints DEP0169 for that once per process, on the stderr of every command that reads the Kubernetes API (`doctor`,
 * `access`, `server`). The URLs are the kubeconfig's own, and a user can do nothing about the warning, so this one
 * code is dropped; every other warning still prints.
 *
 * @example
 * ```ts
 * import { quietUrlParseDeprecation } from './quiet-url-parse.js';
 * quietUrlParseDeprecation(); // before the first Kubernetes API call
 * ```
 */
export function quietUrlParseDeprecation(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]): void => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === 'DEP0169') return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}
