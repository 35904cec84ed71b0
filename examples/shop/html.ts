/** Just enough HTML for the account pages: a template tag that escapes what it is given. */

/** Markup that `html` puts in as it is (what `html` itself returns). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * A template tag: every interpolated value is escaped unless it is `SafeHtml` (nested templates),
 * so a User-Agent like `<script>…` can only ever show up as text. Arrays are joined; `undefined`,
 * `null` and `false` render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, text, i) => out + render(values[i - 1]) + text));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

/** The page around `body`. */
export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · sojourn shop</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body><main>${body}</main></body>
</html>`.value;
}

/** Headers for every account page: no caching of who is signed in, no framing (clickjacking), no scripts. */
export const PAGE_HEADERS = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
});

// ---------------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; color: #1d2330; background: #f4f5f7; margin: 0; }
main { max-width: 720px; margin: 32px auto; padding: 0 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
p.lead { color: #5b6372; margin: 0 0 20px; }
ul.devices { list-style: none; padding: 0; margin: 0 0 20px; }
.device { display: flex; align-items: center; gap: 16px; background: #fff; border: 1px solid #dde0e6; border-radius: 8px; padding: 14px 16px; margin-bottom: 10px; }
.device.current { border-color: #3b6fd8; box-shadow: 0 0 0 1px #3b6fd8; }
.device .what { flex: 1; min-width: 0; }
.device .name { font-weight: 600; }
.device .meta { color: #5b6372; font-size: 13px; }
.device code { display: block; color: #8a919e; font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.badge { background: #3b6fd8; color: #fff; border-radius: 10px; padding: 1px 8px; font-size: 12px; font-weight: 600; margin-left: 6px; }
form { margin: 0; }
button { font: inherit; border: 1px solid #c5cad3; background: #fff; border-radius: 6px; padding: 6px 12px; cursor: pointer; }
button.danger { border-color: #c9372c; color: #c9372c; }
label { display: block; margin: 0 0 12px; }
input { font: inherit; display: block; margin-top: 4px; padding: 6px 8px; border: 1px solid #c5cad3; border-radius: 6px; }
.error { color: #c9372c; }
`;
