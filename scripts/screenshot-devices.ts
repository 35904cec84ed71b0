/**
 * Takes docs/images/devices.png, the README's picture of examples/shop's devices page:
 * `npm run screenshot:devices`. Three devices of one user sign in at made-up times and addresses
 * (the shop behind a trusted proxy), the same headless Chromium as the tests shows the page.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createShop } from '../examples/shop/shop.js';
import { CHROMIUM_ARGS, findChromium } from '../test/services/index.mjs';

const OUTPUT = fileURLToPath(new URL('../docs/images/devices.png', import.meta.url));
const HOUR = 3_600_000;
/** Who signs in, how long ago and from where (documentation addresses); the last one takes the picture. */
const DEVICES = [
  { ago: 50 * HOUR, ip: '198.51.100.23', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0' },
  { ago: 3 * HOUR, ip: '203.0.113.77', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' },
  { ago: 0, ip: '192.0.2.10', userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' },
];

let offset = 0; // the shop's clock runs `offset` ms behind, so the older devices signed in long ago
const { app, manager } = createShop({ secret: 'screenshot-secret-screenshot-secret', clock: () => Date.now() - offset });
app.set('trust proxy', 'loopback');
const server = http.createServer(app).listen(0, '127.0.0.1');
await once(server, 'listening');
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let browser: Browser | undefined;
try {
  browser = await chromium.launch({ executablePath: await findChromium(), args: [...CHROMIUM_ARGS] });
  for (const { ago, ip, userAgent } of DEVICES) {
    offset = ago;
    const context = await browser.newContext({ baseURL, userAgent, extraHTTPHeaders: { 'x-forwarded-for': ip }, viewport: { width: 800, height: 200 } });
    const page = await context.newPage();
    await page.goto('/account/login');
    await page.getByLabel('User').fill('ann');
    await page.getByLabel('Password').fill('tea');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/account/devices');
    if (ago === 0) await page.screenshot({ path: OUTPUT, fullPage: true }); // as tall as the page
  }
  console.log(`wrote ${OUTPUT}`);
} finally {
  await browser?.close();
  server.close();
  await manager.close();
}
