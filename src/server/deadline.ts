/**
 * Settles `work`, or at `timeoutMs` with what `late` returns (or throws), whichever comes first; the timer never
 * outlives the race. What `work` was doing is not cancelled: callers give it its own, shorter deadline.
 *
 * @example
 * ```ts
 * const answer = await withDeadline(fetchAnswer(), 5_000, () => ({ status: 503, reason: 'too slow' }));
 * ```
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (err) {
        reject(err);
      }
    }, timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
