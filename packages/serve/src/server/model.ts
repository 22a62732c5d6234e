// What the HTTP server needs of a model: its metadata, labels, how a checked request becomes rows of floats, and
// how a batch of rows runs. `session-model.ts` makes one from an onnxruntime session; tests may make others.
import type { InferRequest, ModelMetadata } from '../protocol/types.js';
import type { RunBatch } from './batcher.js';

/** A request's rows, ready for the batcher. */
export interface PreparedRows {
  rows: Float32Array;
  count: number;
}

export interface ServedModel {
  readonly name: string;
  /** The one version served (Triton's default version policy: the latest). */
  readonly version: string;
  readonly metadata: ModelMetadata;
  /** Labels per output, for the classification extension (Triton's label_filename). */
  readonly labels: Readonly<Record<string, readonly string[]>>;
  /** This model's own batching (a repository's max_batch_size and max_queue_delay_microseconds); else the server's. */
  readonly batching?: { readonly maxBatch?: number; readonly maxQueueDelayUs?: number };
  /** Floats in one row of the input (3 x S x S). */
  readonly rowSize: number;
  /** Floats in one row of each output. */
  readonly outputWidths: Readonly<Record<string, number>>;
  /** Checks a parsed request against the model and turns its input into rows (decoding images where sent). */
  prepare(request: InferRequest, signal: AbortSignal): Promise<PreparedRows>;
  run: RunBatch;
  release(): Promise<void>;
}
