/** Production is `NODE_ENV=production` in any case (`Production`, `PRODUCTION`): a typo of case must not turn development defaults on. */
export function isProduction(): boolean {
  return process.env.NODE_ENV?.toLowerCase() === 'production';
}

/** One warning per code and process: soft misuse is said once, as lru-cache does. */
export function warnOnce(code: string, message: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(message, { code });
}

/** A warning every time (outages: each one is news). */
export function warn(code: string, message: string): void {
  process.emitWarning(message, { code });
}

/** An error's message for a warning line; never a stack, never a value that may hold a token. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const warned = new Set<string>();
