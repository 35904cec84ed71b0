/**
 * vitest setupFiles: warnings never reach stderr, and a test that emits one it did not claim with
 * `captureWarnings()` fails, naming it. A green run therefore prints no warnings.
 */
import { afterEach, beforeEach } from 'vitest';
import { settled, warningLog } from '../helpers/warnings.js';

process.removeAllListeners('warning');
process.on('warning', (warning) => warningLog.record(warning));

beforeEach(() => warningLog.reset());

afterEach(async () => {
  await settled();
  const stray = warningLog.stray();
  if (stray.length > 0) {
    throw new Error(`unexpected warnings (claim them with captureWarnings()):\n${stray.map((w) => `  [${String(w.code)}] ${w.message}`).join('\n')}`);
  }
});
