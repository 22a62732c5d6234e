import { escapeControls } from '../ir/quote.js';
import { nonFinite } from '../tasks/postprocess.js';
import { ReadAhead } from './read-ahead.js';
import type {
  PipelineDecoder,
  PipelineModel,
  PipelinePlan,
  PipelineRead,
  PreparedImage,
  PipelineRow,
  PipelineSources,
} from './types.js';

/**
 * Images in, one row of each output of `read` per image out, in input order: the batching pipeline both runtimes share.
 * Decoding runs ahead while the model runs; at most `plan.ahead(size)` images are in flight, so memory stays flat
 * however many images come. A bad image yields its error, named, and the rest go on.
 */
export async function* pipelineRows<Source>(
  model: PipelineModel,
  sources: PipelineSources<Source>,
  decoder: PipelineDecoder<Source>,
  read: PipelineRead,
  plan: PipelinePlan,
): AsyncGenerator<PipelineRow> {
  const input = new BatchInput(3 * model.info.inputSize * model.info.inputSize);
  const ahead = new ReadAhead(sources, decoder);
  try {
    while (true) {
      const size = plan.sizer.next;
      const decoders = plan.decoders?.() ?? 0;
      const t0 = performance.now();
      const { items, good } = await ahead.take(size, plan.ahead(size));
      if (items.length === 0) return;
      await ahead.fill(plan.ahead(size)); // start the next batch's decodes before the run blocks this thread
      const t1 = performance.now();
      const run = await runGood(model, items, good, read, input, decoder);
      const t2 = good > 0 ? performance.now() : t1;
      if (good > 0) plan.sizer.record(good, t2 - t1);
      yield* rowsOf(items, run.out, run.batch, read);
      const { batch, decodeMs, preprocessMs } = run;
      const failed = items.length - good;
      const postMs = performance.now() - t2;
      plan.onBatch?.({
        images: items.length,
        failed,
        batch,
        waitMs: t1 - t0,
        runMs: t2 - t1,
        postMs,
        decodeMs,
        preprocessMs,
        runStart: t1,
        runEnd: t2,
        decoders,
      });
    }
  } finally {
    ahead.clear();
    decoder.close?.();
  }
}

/** The tensor a batch is assembled in, grown to the largest batch run and reused. */
class BatchInput {
  private data = new Float32Array(0);
  constructor(readonly perImage: number) {}

  /** Room for `batch` images; images past `filled` are zeros (padding up to a fixed batch). */
  take(batch: number, filled: number): Float32Array {
    const n = this.perImage;
    if (this.data.length < batch * n) this.data = new Float32Array(batch * n);
    if (batch > filled) this.data.fill(0, filled * n, batch * n);
    return this.data.subarray(0, batch * n);
  }
}

/** Copies the good images of a batch into one tensor and runs it; the tensors go back to the decoder. */
async function runGood<Source>(
  model: PipelineModel,
  items: readonly PreparedImage[],
  good: number,
  read: PipelineRead,
  input: BatchInput,
  decoder: PipelineDecoder<Source>,
): Promise<{ out: Float32Array[] | null; batch: number; decodeMs: number; preprocessMs: number }> {
  const batch = model.fixedBatch ?? good;
  let decodeMs = 0;
  let preprocessMs = 0;
  if (good === 0) return { out: null, batch, decodeMs, preprocessMs };
  const n = input.perImage;
  const data = input.take(batch, good);
  let j = 0;
  for (const p of items) {
    if (!('tensor' in p)) continue;
    data.set(p.tensor, j++ * n);
    decodeMs += p.decodeMs ?? 0;
    preprocessMs += p.preprocessMs ?? 0;
    decoder.recycle?.(p.tensor);
  }
  return { out: await model.runBatch(data, batch, read.outputs, read.feeds), batch, decodeMs, preprocessMs };
}

/**
 * Each item's rows of the batch's outputs (the good ones in order), or its error; a non-finite row is an error
 * unless the task copes with one.
 */
function* rowsOf(
  items: readonly PreparedImage[],
  out: Float32Array[] | null,
  batch: number,
  read: PipelineRead,
): Generator<PipelineRow> {
  const widths = out ? out.map((o) => o.length / batch) : [];
  let j = 0;
  for (const p of items) {
    if (!('tensor' in p)) {
      yield { name: p.name, error: p.error };
      continue;
    }
    const rows = out!.map((o, k) => o.slice(j * widths[k]!, (j + 1) * widths[k]!));
    j++;
    const bad = read.finite ? rows.map((r, k) => nonFinite(r, read.outputs[k]!)).find((b) => b) : undefined;
    yield bad
      ? { name: p.name, error: `${escapeControls(p.name)}: ${bad}` }
      : { name: p.name, rows, width: p.width ?? 0, height: p.height ?? 0 };
  }
}
