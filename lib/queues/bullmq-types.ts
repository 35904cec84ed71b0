/**
 * The part of BullMQ's API the adapter uses, typed structurally: BullMQ 5 and 6 both fit, and
 * sojourn's declarations never depend on which one is installed.
 */

/** What a future call's job carries. */
export interface CallData {
  readonly payload: unknown;
  readonly sessionId?: string | undefined;
  readonly identifier?: string | undefined;
}

export interface BullJob {
  readonly id?: string | undefined;
  readonly name: string;
  readonly data: CallData;
  readonly opts: { readonly attempts?: number };
  readonly attemptsMade: number;
  readonly failedReason?: string;
  readonly finishedOn?: number;
  getState(): Promise<string>;
  remove(): Promise<void>;
  moveToCompleted(value: unknown, token: string, fetchNext?: boolean): Promise<unknown>;
  moveToFailed(error: Error, token: string, fetchNext?: boolean): Promise<unknown>;
}

export interface BullQueue {
  add(name: string, data: CallData, options: Record<string, unknown>): Promise<BullJob>;
  getJob(id: string): Promise<BullJob | undefined>;
  getDeduplicationJobId(id: string): Promise<string | null>;
  removeDeduplicationKey(id: string): Promise<number>;
  upsertJobScheduler(id: string, repeat: Record<string, unknown>, template: { name: string; data: CallData; opts: Record<string, unknown> }): Promise<unknown>;
  removeJobScheduler(id: string): Promise<boolean>;
  getFailed(start: number, end: number): Promise<(BullJob | undefined)[]>;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface BullWorker {
  on(event: 'error', listener: (error: Error) => void): unknown;
  waitUntilReady(): Promise<unknown>;
  getNextJob(token: string, options: { block: boolean }): Promise<BullJob | undefined>;
  close(): Promise<void>;
}

/** The `bullmq` module (its `Queue` and `Worker` classes). */
export interface BullModule {
  Queue: new (name: string, options: Record<string, unknown>) => BullQueue;
  Worker: new (name: string, processor: ((job: BullJob) => Promise<unknown>) | null, options: Record<string, unknown>) => BullWorker;
}
