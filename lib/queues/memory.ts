import { randomUUID } from 'node:crypto';
import type { ClaimedCall, FutureCallQueue, QueuedCall } from './types.js';

interface Slot {
  call: QueuedCall;
  claim?: string;
  leaseUntil: number;
  cancelled: boolean;
}

/**
 * The default queue: a Map in this process. **Not durable**: calls are lost when the process
 * exits, and only managers in this process share it. Use `redisQueue` or `postgresQueue` for
 * work that must survive a restart or run on another instance.
 */
export function memoryQueue(): FutureCallQueue {
  const slots = new Map<string, Slot>();
  const held = (call: ClaimedCall) => {
    const slot = slots.get(call.id);
    return slot?.claim === call.claim ? slot : undefined;
  };

  return {
    name: 'memory',
    async schedule(call) {
      if (slots.has(call.id)) return false;
      slots.set(call.id, { call: { ...call }, leaseUntil: 0, cancelled: false });
      return true;
    },
    async claim(now, limit, leaseMs, names) {
      const known = new Set(names);
      for (const [id, slot] of slots) {
        if (slot.cancelled && slot.leaseUntil <= now) slots.delete(id); // cancelled, and its holder died
      }
      const due = [...slots.values()]
        .filter((slot) => slot.call.dueAt <= now && slot.leaseUntil <= now && known.has(slot.call.name))
        .sort((a, b) => a.call.dueAt - b.call.dueAt)
        .slice(0, limit);
      const claim = randomUUID();
      return due.map((slot) => {
        slot.claim = claim;
        slot.leaseUntil = now + leaseMs;
        return { ...slot.call, claim };
      });
    },
    async extend(call, now, leaseMs) {
      const slot = held(call);
      if (!slot) return false;
      slot.leaseUntil = now + leaseMs;
      return true;
    },
    async finish(call, next) {
      const slot = held(call);
      if (!slot) return false;
      if (!next || slot.cancelled) {
        slots.delete(call.id);
        return true;
      }
      slots.set(call.id, { call: { ...slot.call, dueAt: next.dueAt, attempt: next.attempt }, leaseUntil: 0, cancelled: false });
      return true;
    },
    async cancel(identifier, now) {
      let count = 0;
      for (const [id, slot] of slots) {
        if (slot.call.identifier !== identifier || slot.cancelled) continue;
        count++;
        if (slot.claim !== undefined && slot.leaseUntil > now) slot.cancelled = true;
        else slots.delete(id);
      }
      return count;
    },
    async size() {
      return slots.size;
    },
  };
}
