import { SessionConfigError } from '../errors.js';
import { integerOption, optionGroup } from '../validate.js';
import type { MessageBus } from './types.js';

export interface MessageOptions {
  /** What carries messages: `memoryBus()` (this process) or `redisBus({ client })` (every instance). One bus per manager. @default memoryBus() */
  bus?: MessageBus;
  /** Messages a slow `stream()` consumer may fall behind before the oldest is dropped. @default 100 */
  buffer?: number;
}

export interface ResolvedMessageOptions {
  readonly bus: MessageBus | undefined;
  readonly buffer: number;
}

const KEYS = new Set(['bus', 'buffer']);

export function resolveMessageOptions(value: unknown): ResolvedMessageOptions {
  const group = optionGroup('messages', value, KEYS) as MessageOptions;
  const { bus } = group;
  const methods = ['publish', 'subscribe'];
  if (bus !== undefined && !(typeof bus === 'object' && bus !== null && methods.every((m) => typeof (bus as unknown as Record<string, unknown>)[m] === 'function'))) {
    throw new SessionConfigError('messages.bus', `must be a MessageBus (${methods.join(', ')}), e.g. memoryBus() or redisBus({ client })`);
  }
  return Object.freeze({ bus, buffer: integerOption('messages.buffer', group.buffer, 100, 1) });
}
