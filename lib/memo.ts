/**
 * A bounded memo for pure functions of a string (a verified cookie, a parsed token, a digest).
 * At `max` entries the oldest goes (a Map keeps insertion order). Only what the function gave is
 * remembered, so a hit is exactly what recomputing would give; junk can evict entries, never
 * change an answer.
 */
export class Memo<V> {
  readonly #max: number;
  readonly #entries = new Map<string, V>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): V {
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, value);
    return value;
  }
}
