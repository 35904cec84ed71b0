/**
 * Sizes of the reliability suite and how it reports. `npm test` runs the SHORT form (CI);
 * `SOJOURN_RELIABILITY=full vitest run test/reliability` runs the FULL form documented in the
 * README. Every test reports its figures as one JSON line (`{"reliability": name, ...}`): printed in
 * the full form (a green short run prints nothing), and appended to `SOJOURN_RELIABILITY_FIGURES=<file>`.
 */
import { appendFileSync } from 'node:fs';

export const FULL = process.env.SOJOURN_RELIABILITY === 'full';
export const MODE = FULL ? 'full' : 'short';

/** `short` in the CI form, `full` in the full one. */
export function size<T>(short: T, full: T): T {
  return FULL ? full : short;
}

export function report(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ reliability: name, mode: MODE, ...figures });
  if (FULL) console.log(line);
  const file = process.env.SOJOURN_RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${line}\n`);
}

/** `p` percentile of ascending `sorted` values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));
