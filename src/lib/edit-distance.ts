/**
 * Levenshtein distance: the fewest single-character edits that turn `a` into `b`. Inputs are short (names, flag
 * values), so the quadratic table is small.
 *
 * @example
 * ```ts
 * editDistance('yml', 'yaml'); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The choice a mistyped value most likely meant, for a "did you mean", or undefined: at most two edits away and
 * more alike than not, the rule commander uses for flag names.
 *
 * @example
 * ```ts
 * closestChoice('yml', ['json', 'text', 'yaml']); // 'yaml'
 * closestChoice('csv', ['json', 'text']); // undefined
 * ```
 */
export function closestChoice(value: string, choices: readonly string[]): string | undefined {
  let best: { choice: string; distance: number } | undefined;
  for (const choice of choices) {
    const distance = editDistance(value.toLowerCase(), choice.toLowerCase());
    const alike = (Math.max(value.length, choice.length) - distance) / Math.max(value.length, choice.length) > 0.4;
    if (distance <= 2 && alike && (best === undefined || distance < best.distance)) best = { choice, distance };
  }
  return best?.choice;
}
