import { CronExpressionParser } from 'cron-parser';
import type { Recurrence } from './types.js';

/**
 * The first occurrence strictly after `now`. Intervals sit on the epoch-aligned grid (multiples of
 * `every`, as BullMQ's job schedulers place them), so re-creating a series at every boot keeps
 * its rhythm; cron patterns follow cron-parser (the parser BullMQ and pg-boss use).
 */
export function nextOccurrence(recurrence: Recurrence, now: number): number {
  if ('every' in recurrence) return Math.floor(now / recurrence.every) * recurrence.every + recurrence.every;
  return parseCron(recurrence.cron, recurrence.timezone, now).next().getTime();
}

/** Why a cron pattern or time zone is refused, or undefined when it parses. */
export function cronProblem(cron: string, timezone: string | undefined): string | undefined {
  try {
    parseCron(cron, timezone, 0).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Whether the pattern has a seconds field (six or seven fields): finer than a minute. */
export function hasSeconds(cron: string): boolean {
  return cron.trim().split(/\s+/).length >= 6;
}

// ---------------------------------------------------------------------------------------

function parseCron(cron: string, timezone: string | undefined, now: number) {
  return CronExpressionParser.parse(cron, { currentDate: new Date(now), ...(timezone === undefined ? {} : { tz: timezone }) });
}
