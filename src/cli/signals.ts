/**
 * Resolves on the first SIGINT (Ctrl+C) or SIGTERM (Kubernetes stopping a pod), for commands that run until told to
 * stop and then shut down cleanly.
 *
 * @example
 * ```ts
 * await untilStopSignal();
 * await server.close();
 * ```
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
