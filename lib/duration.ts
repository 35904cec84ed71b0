/** Durations are milliseconds or strings like `'30d'`, `'5m'`, `'1.5h'`, `'500ms'`. */
export type Duration = number | `${number}${DurationUnit}`;
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'y';

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_557_600_000, // 365.25 days, as `ms` counts a year
};
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)$/;

/** Milliseconds, or `undefined` when the value is not a finite, non-negative duration. */
export function toMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = PATTERN.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as DurationUnit] : undefined;
}
