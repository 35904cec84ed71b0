/**
 * Warnings in tests: a green run prints none. The set-up (`test/setup/warnings.ts`) takes over
 * `process.on('warning')` (so nothing reaches stderr) and fails any test that emitted a warning it
 * did not ask for with `captureWarnings()`.
 */
export interface CapturedWarnings {
  /** The warnings emitted since `captureWarnings()` (by the end of the current tick: await `settled()`). */
  readonly all: readonly NodeJS.ErrnoException[];
  /** Their codes, in order. */
  readonly codes: readonly string[];
  /** Those with one of the codes asked for (all when none were). */
  readonly warnings: readonly NodeJS.ErrnoException[];
  /** Nothing to undo (the set-up owns the listener): kept so a test reads the same either way. */
  stop(): void;
}

const state = { all: [] as NodeJS.ErrnoException[], claimed: false, tolerated: new Set<string>() };

/** Claims this test's warnings: they are expected, and the test asserts on them. */
export function captureWarnings(...only: string[]): CapturedWarnings {
  state.claimed = true;
  const start = state.all.length;
  const since = () => state.all.slice(start);
  return {
    get all() {
      return since();
    },
    get codes() {
      return since().map((warning) => String(warning.code));
    },
    get warnings() {
      return since().filter((warning) => only.length === 0 || only.includes(String(warning.code)));
    },
    stop() {},
  };
}

/**
 * For load tests on a shared 2-core machine: these codes may come (a Redis cache slower than
 * `cacheTimeout` under load is a miss, said with SOJOURN_CACHE_DOWN); any other still fails the test.
 */
export function tolerateWarnings(...codes: string[]): void {
  for (const code of codes) state.tolerated.add(code);
}

/** The `SOJOURN_*` warnings `run` emits (claimed: the test asserts on them). */
export async function warningsDuring(run: () => unknown): Promise<NodeJS.ErrnoException[]> {
  const captured = captureWarnings();
  const before = captured.all.length;
  await run();
  await settled();
  return captured.all.slice(before).filter((w) => w.code?.startsWith('SOJOURN_'));
}

/** Warnings are emitted on the next tick: this waits until those already emitted arrived. */
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Used by the set-up only. */
export const warningLog = {
  record(warning: Error): void {
    state.all.push(warning as NodeJS.ErrnoException);
  },
  reset(): void {
    state.all = [];
    state.claimed = false;
    state.tolerated = new Set();
  },
  /** Warnings no test claimed or tolerated. */
  stray(): readonly NodeJS.ErrnoException[] {
    return state.claimed ? [] : state.all.filter((warning) => !state.tolerated.has(String(warning.code)));
  },
};
