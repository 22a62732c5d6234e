// Dynamic batching, one queue per model: requests that arrive within `maxQueueDelayUs` of the oldest waiting one
// run as one batch of at most `maxBatch` rows; at most `maxInFlight` batches run at once (onnxruntime already uses
// every core for one). The queue holds at most `maxQueue` requests: past that a request is refused at once (503
// with Retry-After), so memory never grows with the load.
import { ProtocolError } from '../protocol/types.js';

/** What the server is asked to run: a batch of rows (each `rowSize` floats) for the named outputs. */
export type RunBatch = (
  rows: Float32Array,
  batch: number,
  outputs: readonly string[],
) => Promise<Record<string, Float32Array>>;

export interface BatcherOptions {
  /** Rows in one run; 1 turns batching off (each request runs alone). */
  maxBatch: number;
  /** How long the oldest waiting request may wait for others, in microseconds. */
  maxQueueDelayUs: number;
  /** Requests waiting at most; one more is refused with 503. */
  maxQueue: number;
  /** Batches running at once. */
  maxInFlight: number;
  rowSize: number;
  run: RunBatch;
}

/** A refusal because the server is full: 503, with the seconds a client should wait before trying again. */
export class OverloadedError extends ProtocolError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super(message, 503);
    this.name = 'OverloadedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** One request's answer: its rows of each output, and where its time went. */
export interface BatchResult {
  outputs: Record<string, Float32Array>;
  queueUs: number;
  computeUs: number;
  /** Rows in the batch this request ran in. */
  batchSize: number;
}

interface Job {
  rows: Float32Array;
  count: number;
  outputs: readonly string[];
  enqueued: number;
  resolve(r: BatchResult): void;
  reject(e: unknown): void;
}

/** What a batch run reports, for metrics. */
export interface BatchReport {
  requests: number;
  rows: number;
  computeUs: number;
  failed: boolean;
}

const nowUs = () => performance.now() * 1000;

export class Batcher {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Called after each batch, for metrics. */
  onBatch: (r: BatchReport) => void = () => {};

  constructor(private readonly o: BatcherOptions) {}

  /** Requests waiting now (not running). */
  get pending(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get running(): number {
    return this.inFlight;
  }

  /**
   * Queues `count` rows; resolves with this request's rows of each output. An aborted signal takes a waiting
   * request out of the queue (a running one finishes, and its answer is dropped by the caller).
   */
  submit(rows: Float32Array, count: number, outputs: readonly string[], signal?: AbortSignal): Promise<BatchResult> {
    if (count > this.o.maxBatch) {
      throw new ProtocolError(`the request holds ${count} rows; this model runs at most ${this.o.maxBatch} at once`);
    }
    if (this.queue.length >= this.o.maxQueue) {
      throw new OverloadedError(`the queue of this model is full (${this.o.maxQueue} requests waiting); try again`);
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const job: Job = { rows, count, outputs, enqueued: nowUs(), resolve, reject };
      this.queue.push(job);
      this.queuedRows += count;
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(job);
          if (at < 0) return;
          this.queue.splice(at, 1);
          this.queuedRows -= count;
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  /** Runs a batch now when one is full or the oldest request has waited long enough; else sets a timer. */
  private schedule(): void {
    while (this.inFlight < this.o.maxInFlight && this.queue.length > 0) {
      const waited = nowUs() - this.queue[0]!.enqueued;
      const full = this.queuedRows >= this.o.maxBatch;
      if (!full && waited < this.o.maxQueueDelayUs) {
        if (!this.timer) {
          const ms = Math.max(0, (this.o.maxQueueDelayUs - waited) / 1000);
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.schedule();
          }, ms);
        }
        return;
      }
      this.dispatch(this.take());
    }
  }

  /** The oldest requests whose rows fit in one batch. */
  private take(): Job[] {
    const jobs: Job[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows + this.queue[0]!.count <= this.o.maxBatch) {
      const job = this.queue.shift()!;
      rows += job.count;
      jobs.push(job);
    }
    this.queuedRows -= rows;
    return jobs;
  }

  private async dispatch(jobs: Job[]): Promise<void> {
    this.inFlight++;
    const start = nowUs();
    const batch = jobs.reduce((n, j) => n + j.count, 0);
    const input = jobs.length === 1 ? jobs[0]!.rows : new Float32Array(batch * this.o.rowSize);
    if (jobs.length > 1) {
      let at = 0;
      for (const j of jobs) {
        input.set(j.rows, at);
        at += j.rows.length;
      }
    }
    const names = [...new Set(jobs.flatMap((j) => j.outputs))];
    try {
      const out = await this.o.run(input, batch, names);
      const computeUs = nowUs() - start;
      this.onBatch({ requests: jobs.length, rows: batch, computeUs, failed: false });
      let row = 0;
      for (const j of jobs) {
        const outputs: Record<string, Float32Array> = {};
        for (const name of j.outputs) {
          const all = out[name]!;
          const width = all.length / batch;
          outputs[name] = all.slice(row * width, (row + j.count) * width);
        }
        row += j.count;
        j.resolve({ outputs, queueUs: start - j.enqueued, computeUs, batchSize: batch });
      }
    } catch (e) {
      this.onBatch({ requests: jobs.length, rows: batch, computeUs: nowUs() - start, failed: true });
      for (const j of jobs) j.reject(e);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  /** Stops the timer (the server is closing and nothing is waiting). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
