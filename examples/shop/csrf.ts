import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';

/**
 * csrf-sync's synchronizer token, kept in the sojourn session's data bag (`csrfToken`) and sent
 * back in each form's hidden `_csrf` field. A POST without the session's token fails with 403.
 */

// csrf-sync stores a new token synchronously while sojourn's writes are awaited: the write it
// starts is remembered here, and `csrfToken()` waits for it before the form is rendered.
const writes = new WeakMap<Request, Promise<boolean>>();

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromState: (req) => req.session.get<string>('csrfToken'),
  storeTokenInState: (req, token) => {
    writes.set(req, typeof token === 'string' ? req.session.set('csrfToken', token) : req.session.unset('csrfToken'));
  },
  getTokenFromRequest: (req) => {
    const field = (req.body as { _csrf?: unknown } | undefined)?._csrf;
    return typeof field === 'string' ? field : undefined;
  },
  size: 32,
});

/** Refuses POST, PUT, PATCH and DELETE without the session's token (`EBADCSRFTOKEN`, status 403). */
export const csrfProtection = csrfSynchronisedProtection;

/** The session's token for a form, created (and stored) on first use. */
export async function csrfToken(req: Request): Promise<string> {
  const token = generateToken(req);
  await writes.get(req);
  return token;
}

export function isCsrfError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EBADCSRFTOKEN';
}
