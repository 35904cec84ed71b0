/**
 * A min-heap of (expiresAt, id) so the memory store can find expired records without a scan.
 * Entries are never updated in place: a renewal pushes a new entry, and `takeExpired` skips
 * entries that no longer match the record (the caller tells which still do).
 */
export class ExpiryQueue {
  readonly #times: number[] = [];
  readonly #ids: string[] = [];

  get size(): number {
    return this.#ids.length;
  }

  push(expiresAt: number, id: string): void {
    this.#times.push(expiresAt);
    this.#ids.push(id);
    this.#up(this.#ids.length - 1);
  }

  /** Pops entries due at `now` until `limit` of them were `isCurrent`; returns those ids. */
  takeExpired(now: number, limit: number, isCurrent: (id: string, expiresAt: number) => boolean): string[] {
    const taken: string[] = [];
    while (taken.length < limit && this.#ids.length > 0 && this.#times[0]! <= now) {
      const expiresAt = this.#times[0]!;
      const id = this.#ids[0]!;
      this.#pop();
      if (isCurrent(id, expiresAt)) taken.push(id);
    }
    return taken;
  }

  // ---------------------------------------------------------------------------------------

  #pop(): void {
    const lastTime = this.#times.pop()!;
    const lastId = this.#ids.pop()!;
    if (this.#ids.length === 0) return;
    this.#times[0] = lastTime;
    this.#ids[0] = lastId;
    this.#down(0);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#times[parent]! <= this.#times[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#ids.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < n && this.#times[left]! < this.#times[least]!) least = left;
      if (right < n && this.#times[right]! < this.#times[least]!) least = right;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }

  #swap(a: number, b: number): void {
    [this.#times[a], this.#times[b]] = [this.#times[b]!, this.#times[a]!];
    [this.#ids[a], this.#ids[b]] = [this.#ids[b]!, this.#ids[a]!];
  }
}
