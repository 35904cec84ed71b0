// Debian's `chromium` for the real-browser tests and the README screenshot, driven by
// playwright-core (which can download no browser of its own here): installed with apt as root
// when missing. Playwright starts and stops the browser itself, over a pipe that closes with us.
import { existsSync } from 'node:fs';
import { findOrInstall } from './system.mjs';

const DEBIAN_PATH = '/usr/bin/chromium';
const INSTALL_HINT =
  'Install Chromium (Debian/Ubuntu: `sudo apt-get install -y chromium`) or name a Chromium or Chrome ' +
  'binary with SOJOURN_TEST_CHROMIUM.';

/** Headless and quiet: no sandbox (root), no GPU, no first-run, update or sync traffic. */
export const CHROMIUM_ARGS = Object.freeze(['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']);

/** The browser's path: SOJOURN_TEST_CHROMIUM, else Debian's, installed first when missing. */
export async function findChromium() {
  const given = process.env.SOJOURN_TEST_CHROMIUM;
  if (given) return given;
  if (existsSync(DEBIAN_PATH)) return DEBIAN_PATH;
  return findOrInstall('chromium', 'chromium', INSTALL_HINT);
}
