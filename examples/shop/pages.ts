import type { SessionSummary } from 'sojourn';
import UAParser from 'ua-parser-js';
import { html, layout, type SafeHtml } from './html.js';

export function loginPage({ csrfToken, error }: { csrfToken: string; error?: string }): string {
  return layout('Log in', html`
<h1>Log in</h1>
<p class="lead">Demo users: ann / tea, bob / coffee.</p>
${error && html`<p class="error">${error}</p>`}
<form method="post" action="/account/login">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <label>User <input name="username" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>`);
}

export interface DevicesPageInput {
  userName: string;
  /** Newest first, as `listSessionsByUser` gives them. */
  devices: readonly SessionSummary[];
  /** `req.session.id`: the device looking at the page. */
  currentId: string | undefined;
  csrfToken: string;
  now: number;
}

export function devicesPage({ userName, devices, currentId, csrfToken, now }: DevicesPageInput): string {
  const others = devices.some((device) => device.id !== currentId);
  return layout('Your devices', html`
<h1>Your devices</h1>
<p class="lead">${userName}, you are signed in on ${devices.length} ${devices.length === 1 ? 'device' : 'devices'}.</p>
<ul class="devices">${devices.map((device) => deviceItem(device, device.id === currentId, csrfToken, now))}</ul>
${others && html`<form method="post" action="/account/devices/sign-out-others">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <button class="danger" type="submit">Sign out everywhere else</button>
</form>`}`);
}

export function forbiddenPage(): string {
  return layout('Form expired', html`
<h1>This form has expired</h1>
<p class="lead">Nothing was changed. <a href="/account/devices">Reload the page</a> and try again.</p>`);
}

// ---------------------------------------------------------------------------------------

function deviceItem(device: SessionSummary, isCurrent: boolean, csrfToken: string, now: number): SafeHtml {
  const seen = new Date(device.lastSeenAt ?? device.createdAt).toISOString().replace(/\.\d+Z$/, 'Z');
  const action = isCurrent
    ? html`<form method="post" action="/account/logout"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit">Log out</button></form>`
    : html`<form method="post" action="/account/devices/${encodeURIComponent(device.id)}/sign-out"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit">Sign out</button></form>`;
  return html`
<li class="device${isCurrent ? ' current' : ''}" data-session-id="${device.id}">
  <div class="what">
    <div class="name">${deviceName(device.userAgent)}${isCurrent && html`<span class="badge">this device</span>`}</div>
    <div class="meta">${displayIp(device.ip) ?? 'unknown address'} · last seen <time datetime="${seen}">${ago(Date.parse(seen), now)}</time> (${seen})</div>
    ${device.userAgent && html`<code title="${device.userAgent}">${device.userAgent}</code>`}
  </div>
  ${action}
</li>`;
}

/** "Chrome 131 on Linux", from the User-Agent the session was created or logged in with. */
function deviceName(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  const { browser, os } = UAParser(userAgent);
  const name = browser.name ? [browser.name, browser.major].filter(Boolean).join(' ') : 'Unknown browser';
  return os.name ? `${name} on ${[os.name, os.version].filter(Boolean).join(' ')}` : name;
}

/** An IPv4 client seen through an IPv6 socket reads `::ffff:203.0.113.9`: show the IPv4 address. */
function displayIp(ip: string | undefined): string | undefined {
  return ip?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]];

/** "just now", "5 minutes ago", "yesterday". */
function ago(time: number, now: number): string {
  const elapsed = now - time;
  for (const [unit, ms] of UNITS) if (elapsed >= ms) return RELATIVE.format(-Math.floor(elapsed / ms), unit);
  return 'just now';
}
