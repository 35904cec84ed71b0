/**
 * `sojourn/koa`: the session middleware for Koa 2 and 3. Importing it types `ctx.session` and
 * `ctx.state.session`. Only Koa's types are imported: the application brings Koa.
 *
 * ```ts
 * import { sessionMiddleware } from 'sojourn/koa';
 * app.use(sessionMiddleware({ secret: process.env.SESSION_SECRET }));
 * ```
 */
export { sessionMiddleware, eventStream, type KoaSessionMiddleware } from './frameworks/koa.js';
export type { EventStream, EventStreamOptions, EventOptions } from './frameworks/sse.js';
