/**
 * A payload must survive JSON unchanged: it waits in Redis or PostgreSQL and reaches the handler
 * on another instance, maybe after a restart. `JSON.stringify` alone would let a Date become a
 * string, a Map become `{}` and a function vanish without a word, so anything it would change
 * fails here, at schedule time, naming where it is.
 */
export function payloadJson(name: string, payload: unknown): string {
  const problem = findProblem(payload, 'payload', new Set());
  if (problem) throw new TypeError(`sojourn: future call '${name}': the payload is not JSON-serialisable: ${problem}`);
  return payload === undefined ? 'null' : JSON.stringify(payload);
}

// ---------------------------------------------------------------------------------------

function findProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${String(value)}`;
    case 'undefined':
      // A missing payload is sent as null; an undefined key is dropped, which reads the same.
      return path === 'payload' ? undefined : `${path} is undefined (it would become null)`;
    case 'object':
      break;
    default:
      return `${path} is a ${typeof value}`;
  }
  if (value === null) return undefined;
  if (seen.has(value)) return `${path} is a circular reference`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    const kind = (value as object).constructor?.name ?? 'object';
    const hint = value instanceof Date ? ' (pass date.toISOString() or getTime())' : '';
    return `${path} is a ${kind}${hint}`;
  }
  seen.add(value);
  const entries = Array.isArray(value) ? value.map((item, i) => [`${path}[${i}]`, item] as const)
    : Object.entries(value).filter(([, item]) => item !== undefined).map(([key, item]) => [`${path}.${key}`, item] as const);
  for (const [childPath, item] of entries) {
    const problem = findProblem(item, childPath, seen);
    if (problem) return problem;
  }
  seen.delete(value);
  return undefined;
}
