import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Session } from '../session.js';

/**
 * `req.session` on Express without adding a property to the request.
 *
 * Express re-parents every request (`Object.setPrototypeOf(req, app.request)`), and V8 caches no
 * shape transition from a re-parented object: each property added to `req` builds a new hidden
 * class, about 4 µs of a loaded server's time per request (`--cpu-prof`: a middleware doing only
 * `req.session = x` spends 5 µs, one calling `next()` 0.6 µs). So `session` is an accessor on the
 * base of Express's request prototypes (`express.request`, shared by an app and the sub-apps
 * mounted in it), defined on first use, reading a Map that holds each request's session until its
 * response closes; from then on the closed session is read from `res.locals` (Express's own
 * per-response object, which takes a new key without a new hidden class), so a late use still
 * gets `SessionClosedError`. (A WeakMap would need no release, but its entries cost the garbage
 * collector more than the property did.) Assigning `req.session` yourself makes an ordinary own
 * property.
 */
export function setRequestSession(req: IncomingMessage, session: Session): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto !== null && (reachesAccessor.get(proto) ?? install(proto)) && !Object.hasOwn(req, 'session')) sessions.set(req, session);
  else (req as { session?: Session }).session = session;
}

/** The response closed: the Map lets the request go; `req.session` now reads the closed session from `res.locals`. */
export function releaseRequestSession(req: ExpressRequest, session: Session, res: ServerResponse): void {
  // Not ours to release: an own property (see setRequestSession), or a later middleware's session.
  if (sessions.get(req) !== session) return;
  sessions.delete(req);
  const locals = (res as ExpressResponse).locals; // not `req.res.locals`: every read on `req` costs (see above)
  if (typeof locals === 'object' && locals !== null) (locals as Record<symbol, unknown>)[CLOSED_SESSION] = session;
}

// ---------------------------------------------------------------------------------------

/** What the accessor needs of an Express request: Express links each request to its response. */
type ExpressRequest = IncomingMessage & { res?: ExpressResponse };
type ExpressResponse = { locals?: object };

const sessions = new Map<IncomingMessage, Session>();
const CLOSED_SESSION = Symbol('sojourn.closedSession');
/** Request prototype → whether `req.session` resolves to the accessor from there. */
const reachesAccessor = new WeakMap<object, boolean>();

const accessor = {
  configurable: true,
  enumerable: false,
  get(this: ExpressRequest): Session | undefined {
    return sessions.get(this) ?? ((this.res?.locals as Record<symbol, unknown> | undefined)?.[CLOSED_SESSION] as Session | undefined);
  },
  set(this: IncomingMessage, value: unknown): void {
    Object.defineProperty(this, 'session', { value, writable: true, enumerable: true, configurable: true });
  },
};

/**
 * Defines the accessor on the prototype just above `IncomingMessage.prototype` (never on Node's
 * own prototypes: a plain `http` request pays nothing for an own property) and remembers whether
 * `req.session` reaches it from `proto` (something in between may define its own `session`).
 */
function install(proto: object): boolean {
  let base: object | undefined;
  for (let at: object | null = proto; at !== null && at !== IncomingMessage.prototype; at = Object.getPrototypeOf(at) as object | null) {
    if (Object.getPrototypeOf(at) === IncomingMessage.prototype) base = at;
  }
  if (base && !Object.hasOwn(base, 'session') && Object.isExtensible(base)) Object.defineProperty(base, 'session', accessor);
  const reaches = base !== undefined && ownerOf(proto, 'session')?.get === accessor.get;
  reachesAccessor.set(proto, reaches);
  return reaches;
}

function ownerOf(from: object, key: string): PropertyDescriptor | undefined {
  for (let at: object | null = from; at !== null; at = Object.getPrototypeOf(at) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(at, key);
    if (descriptor) return descriptor;
  }
  return undefined;
}
