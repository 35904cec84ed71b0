/** The topics sojourn itself publishes on. Any other non-empty string is a free-form topic. */
export const topics = Object.freeze({
  /** One session record's topic: `session:<id>`. A revoke publishes `{ type: 'revoked' }` here. */
  session: (id: string): string => `session:${nonEmpty(String(id), 'session id')}`,
  /** Every session of one user: `user:<userId>`. `deleteSessionsByUser` publishes `{ type: 'revoked', sessionIds }` here. */
  user: (userId: string | number): string => `user:${nonEmpty(String(userId), 'user id')}`,
});

/** A topic as the fleet carries it: the application's topics apart from the manager's own (`~…`). */
export function fleetTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('sojourn: a message topic must be a non-empty string');
  return `m:${topic}`;
}

// ---------------------------------------------------------------------------------------

function nonEmpty(value: string, what: string): string {
  if (value.length === 0) throw new TypeError(`sojourn: topics need a non-empty ${what}`);
  return value;
}
