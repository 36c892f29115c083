/**
 * Running a `@kubernetes/client-node` list + watch informer for a mapping source (the aws-auth ConfigMap, the
 * IAMIdentityMapping resources): restarted with a back-off when its list or watch fails outright (it stops itself
 * then), and stoppable at any moment.
 *
 * The client's `ListWatch.stop()` cannot end a watch whose response has not arrived yet (it only learns of the
 * request once the headers are in), and such a watch would keep the process alive until the API server ends it. So
 * the watches go through {@link stoppableWatch}, which ends them all on stop, including those still connecting.
 */
import type * as K8s from '@kubernetes/client-node';
import type { SourceHolder } from './watched-source.js';

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** A `Watch` whose requests all end on {@link StoppableWatch.stop}, those still connecting included. */
export interface StoppableWatch {
  watch: K8s.Watch;
  stop(): void;
}

/**
 * Wraps the client's `Watch` so that every request it starts can be ended.
 *
 * @example
 * ```ts
 * const watch = stoppableWatch(k8s, kubeConfig);
 * const informer = new k8s.ListWatch(path, watch.watch, list, false);
 * watch.stop(); // with informer.stop()
 * ```
 */
export function stoppableWatch(k8s: typeof K8s, kubeConfig: K8s.KubeConfig): StoppableWatch {
  const inner = new k8s.Watch(kubeConfig);
  const open = new Set<AbortController>();
  let stopped = false;
  const watch = {
    config: kubeConfig,
    async watch(...args: Parameters<K8s.Watch['watch']>): Promise<AbortController> {
      const controller = await inner.watch(...args);
      if (stopped) controller.abort();
      else open.add(controller);
      return controller;
    },
  };
  return {
    watch: watch as K8s.Watch,
    stop: () => {
      stopped = true;
      for (const controller of open) controller.abort();
      open.clear();
    },
  };
}

/** Restarts an informer with a growing back-off when its list or watch fails outright. */
export class Supervisor<T extends K8s.KubernetesObject> {
  stopped = false;
  private retryMs = FIRST_RETRY_MS;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly holder: SourceHolder, private readonly watch: StoppableWatch) {}

  run(informer: K8s.ListWatch<T>): void {
    const start = (): void => {
      informer.start().catch(restartLater);
    };
    const restartLater = (err: unknown): void => {
      if (this.stopped) return;
      this.holder.transientFailure(`${describeError(err)}; retrying in ${Math.round(this.retryMs / 1000)} s`);
      clearTimeout(this.retry);
      this.retry = setTimeout(start, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
    informer.on('error', restartLater);
    start();
  }

  /** A list succeeded: the next failure is retried after the shortest wait again. */
  succeeded(): void {
    this.retryMs = FIRST_RETRY_MS;
  }

  async stop(informer: K8s.ListWatch<T>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await informer.stop();
    this.watch.stop();
  }
}

/** A short, secret-free description: the client's errors can carry whole responses. */
function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
    const status = typeof statusCode === 'number' ? statusCode : typeof code === 'number' ? code : undefined;
    if (status !== undefined) return `the API server answered HTTP ${status}`;
    if (err instanceof Error) return err.message.split('\n')[0]?.slice(0, 200) ?? err.name;
  }
  return String(err).slice(0, 200);
}
