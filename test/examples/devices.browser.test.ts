/**
 * examples/shop's "Your devices" page in a real browser: Debian's Chromium under playwright-core
 * against the shop on an ephemeral port. Browser contexts are separate devices (separate cookie
 * jars) of the same user.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShop } from '../../examples/shop/shop.js';
import { launchChromium } from '../helpers/browser.js';
import { listen } from '../helpers/http.js';
import type { SessionManager } from '../../lib/index.js';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

let browser: Browser;
let server: Awaited<ReturnType<typeof listen>>;
let manager: SessionManager;
let baseURL: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  const shop = createShop({ secret: 'devices-test-secret-devices-test' });
  manager = shop.manager;
  server = await listen(shop.app);
  baseURL = `http://127.0.0.1:${server.port}`;
  browser = await launchChromium();
});

// Each test starts with nobody signed in: its devices are the contexts it opened.
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await Promise.all(['ann', 'bob'].map((user) => manager.deleteSessionsByUser(user)));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await manager?.close();
});

// Each browser context starts renderer processes: seconds apiece when the 2 shared cores are busy.
describe('examples/shop: Your devices, in Chromium', { timeout: 60_000 }, () => {
  it('lists the devices, marks this one, signs out one device, then everywhere else', async () => {
    const a = await logIn('ann', 'tea');
    const b = await logIn('ann', 'tea', { userAgent: FIREFOX });

    await a.goto('/account/devices');
    await expect(deviceNames(a)).resolves.toEqual([expect.stringMatching(/^Firefox 133 on Windows 10/), expect.stringMatching(/^Chrom.* on Linux/)]);
    const current = a.locator('li.device.current');
    await expect(current.count()).resolves.toBe(1);
    await expect(current.locator('code').textContent()).resolves.toBe(await inPage(a, 'navigator.userAgent'));
    await expect(current.locator('.badge').textContent()).resolves.toBe('this device');
    await expect(current.locator('.meta').textContent()).resolves.toMatch(/^127\.0\.0\.1 · last seen just now \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/);

    await press(a.locator('li.device', { hasText: 'Firefox' }).getByRole('button', { name: 'Sign out' }));
    expect(new URL(a.url()).pathname).toBe('/account/devices');
    await expect(deviceNames(a)).resolves.toEqual([expect.stringMatching(/^Chrom/)]);
    await expectLoggedOut(b);

    const c = await logIn('ann', 'tea', { userAgent: IPHONE });
    await a.reload();
    await expect(deviceNames(a)).resolves.toEqual([expect.stringMatching(/^Mobile Safari 18 on iOS 18\.1/), expect.stringMatching(/^Chrom/)]);

    await press(a.getByRole('button', { name: 'Sign out everywhere else' }));
    expect(new URL(a.url()).pathname).toBe('/account/devices');
    await expect(deviceNames(a)).resolves.toHaveLength(1);
    await expect(a.locator('li.device.current').count()).resolves.toBe(1);
    await expect(a.getByRole('button', { name: 'Sign out everywhere else' }).count()).resolves.toBe(0);
    await expectLoggedOut(b);
    await expectLoggedOut(c);
    expect(await manager.listSessionsByUser('ann')).toHaveLength(1);
  });

  it('keeps the token where page scripts cannot read it: HttpOnly, SameSite=Lax', async () => {
    const page = await logIn('ann', 'tea');
    const cookies = await page.context().cookies();
    const session = cookies.find((cookie) => cookie.name === 'session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', domain: '127.0.0.1' });
    const [id] = await manager.listSessionsByUser('ann').then((devices) => devices.map((device) => device.id));
    expect(session.value.startsWith(`${id}.`)).toBe(true);
    const visible = await inPage(page, 'document.cookie');
    expect(visible).not.toContain('session=');
    expect(visible).not.toContain(id);
  });

  it('refuses a missing or forged CSRF token with 403 and signs nobody out', async () => {
    const a = await logIn('ann', 'tea');
    await logIn('ann', 'tea', { userAgent: FIREFOX });
    await a.goto('/account/devices');
    const before = (await manager.listSessionsByUser('ann')).map((device) => device.id);
    const mine = await a.locator('li.device.current').getAttribute('data-session-id');
    const other = before.find((id) => id !== mine)!;
    const valid = await a.locator('input[name=_csrf]').first().inputValue();
    const tampered = valid.replace(/.$/, (last) => (last === '0' ? '1' : '0'));

    for (const path of ['/account/devices/sign-out-others', `/account/devices/${other}/sign-out`, '/account/logout']) {
      for (const form of [{}, { _csrf: 'forged' }, { _csrf: tampered }] as Record<string, string>[]) {
        const res = await a.request.post(path, { form, maxRedirects: 0 });
        expect(res.status(), `${path} with ${JSON.stringify(form)}`).toBe(403);
        expect(await res.text()).toContain('Nothing was changed');
        expect(res.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      }
    }
    expect((await manager.listSessionsByUser('ann')).map((device) => device.id)).toEqual(before);
    // The same request with the page's token goes through: the 403s above were for the token alone.
    expect((await a.request.post('/account/devices/sign-out-others', { form: { _csrf: valid }, maxRedirects: 0 })).status()).toBe(303);
    expect(await manager.listSessionsByUser('ann')).toHaveLength(1);
  });

  it("answers 404 for another user's device, which stays signed in", async () => {
    const ann = await logIn('ann', 'tea');
    await logIn('bob', 'coffee');
    const [bobsDevice] = await manager.listSessionsByUser('bob');
    await ann.goto('/account/devices');
    const _csrf = await ann.locator('input[name=_csrf]').first().inputValue();
    const res = await ann.request.post(`/account/devices/${bobsDevice!.id}/sign-out`, { form: { _csrf }, maxRedirects: 0 });
    expect(res.status()).toBe(404);
    expect(await manager.listSessionsByUser('bob')).toEqual([bobsDevice]);
  });

  it('shows a hostile User-Agent as text: no element, no script run', async () => {
    const hostile = `Mozilla/5.0 (X11; Linux x86_64) <img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
    const page = await logIn('bob', 'coffee', { userAgent: hostile });
    const response = (await page.reload())!;
    // Escaping is what keeps it text; the page also forbids every script (defence in depth).
    expect(response.headers()).toMatchObject({ 'content-security-policy': expect.stringMatching(/^default-src 'none';/), 'cache-control': 'no-store' });
    await expect(page.locator('li.device code').allTextContents()).resolves.toEqual([hostile]);
    await expect(page.locator('main script, main img').count()).resolves.toBe(0);
    await expect(page.title()).resolves.toBe('Your devices · sojourn shop');
  });
});

// ---------------------------------------------------------------------------------------

/** A new device (its own cookie jar) that logs in through the form; left on the devices page. */
async function logIn(username: string, password: string, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ baseURL, ...options });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto('/account/login');
  await page.getByLabel('User').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/account/devices');
  return page;
}

/** Clicks a form's button and waits for the page it leads to (the same URL after a redirect, so not `waitForURL`). */
async function press(button: Locator): Promise<void> {
  const loaded = button.page().waitForEvent('load');
  await button.click();
  await loaded;
}

/** Its next navigation lands on the login form. */
async function expectLoggedOut(page: Page): Promise<void> {
  await page.goto('/account/devices');
  expect(new URL(page.url()).pathname).toBe('/account/login');
  await expect(page.locator('h1').textContent()).resolves.toBe('Log in');
}

/** A string expression evaluated by the page's own JavaScript (the tests compile without DOM types). */
async function inPage(page: Page, expression: string): Promise<string> {
  return String(await page.evaluate(expression));
}

function deviceNames(page: Page): Promise<string[]> {
  return page.locator('li.device .name').allTextContents();
}
