import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';
import { CHROMIUM_ARGS } from '../services/index.mjs';

/**
 * Headless Chromium (Debian's, from test/setup/services.ts) under playwright-core. Its stderr goes
 * to playwright's debug log, not the test output; close it in `afterAll` (the browser also exits
 * when this process does: playwright talks to it over a pipe).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: inject('chromiumPath'), args: [...CHROMIUM_ARGS] });
}
