// Micro-batching: concurrent requests wait up to `maxWaitMs` (or until `maxBatch` are queued)
// and run as one call, so the engine does one run for many requests. One batch runs at a time
// (one engine session; a second concurrent run would only compete for the same cores). The
// queue is bounded: a full queue rejects at once so callers can answer 503.

/** Raised when the queue is full (the caller answers 503 with Retry-After). */
export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`the request queue is full (${limit} waiting)`);
    this.name = "QueueFullError";
  }
}

/** Raised when a request waited longer than its timeout. */
export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no result within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

export interface BatcherOptions<I, O> {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Runs one batch; returns one output per input, in order. */
  run: (inputs: I[]) => Promise<O[]>;
}

interface Pending<I, O> {
  input: I;
  resolve: (value: { output: O; batchSize: number }) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  timer?: NodeJS.Timeout;
}

/** A bounded queue drained in batches by one worker. */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  /** Sizes of the most recent batches (at most 1,000 kept: a server runs for months). */
  readonly sizes: number[] = [];
  /** Batches run and inputs they held, since the start. */
  batches = 0;
  inputs = 0;

  constructor(private readonly options: BatcherOptions<I, O>) {}

  /** Requests waiting (not yet in a running batch). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Whether a batch is running now. */
  get busy(): boolean {
    return this.running;
  }

  /** Queues one input; resolves with its output and the size of the batch it ran in. */
  submit(input: I, timeoutMs?: number): Promise<{ output: O; batchSize: number }> {
    if (this.queue.length >= this.options.maxQueue)
      return Promise.reject(new QueueFullError(this.options.maxQueue));
    return new Promise((resolve, reject) => {
      const p: Pending<I, O> = { input, resolve, reject, settled: false };
      if (timeoutMs !== undefined && timeoutMs > 0)
        p.timer = setTimeout(() => {
          // A request still waiting leaves the queue; one already running just loses its answer.
          const i = this.queue.indexOf(p);
          if (i >= 0) this.queue.splice(i, 1);
          this.settle(p, () => reject(new TimeoutError(timeoutMs)));
        }, timeoutMs);
      this.queue.push(p);
      this.schedule();
    });
  }

  private settle(p: Pending<I, O>, f: () => void): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    f();
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch || this.options.maxWaitMs <= 0) {
      this.dispatch();
      return;
    }
    this.timer ??= setTimeout(() => this.dispatch(), this.options.maxWaitMs);
  }

  private dispatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.running = true;
    this.sizes.push(batch.length);
    if (this.sizes.length > 1000) this.sizes.splice(0, this.sizes.length - 1000);
    this.batches++;
    this.inputs += batch.length;
    const size = batch.length;
    // Through a resolved promise so a run that throws synchronously still rejects its batch.
    Promise.resolve()
      .then(() => this.options.run(batch.map((p) => p.input)))
      .then(
        (outputs) => {
          batch.forEach((p, i) => {
            this.settle(p, () => p.resolve({ output: outputs[i], batchSize: size }));
          });
        },
        (error) => {
          for (const p of batch) this.settle(p, () => p.reject(error));
        },
      )
      .finally(() => {
        this.running = false;
        // Whatever queued meanwhile has already waited at least one batch: run it now.
        if (this.queue.length) this.dispatch();
      });
  }
}
