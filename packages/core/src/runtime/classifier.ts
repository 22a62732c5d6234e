import { MobileNetError } from '../ir/errors.js';
import { escapeControls } from '../ir/quote.js';
import { nonFinite, softmax, topK } from './postprocess.js';
import { type RgbImage, preprocess } from './preprocess.js';
import type { BackendName, EngineSession } from './backend.js';
import type { ClassifyResult, EmbedResult, MobileNetSession, ModelInfo } from './session.js';

/** How a runtime names and decodes its image types (its `Engine` makes one per session, from the options). */
export interface ImageDecoder<Image> {
  name(image: Image, index: number): string;
  decode(image: Image, name: string): Promise<RgbImage>;
}

/** A model started on a backend, and the facts the shared logic needs to feed it (what `openSession` found). */
export interface OpenedModel {
  readonly info: ModelInfo;
  readonly backend: BackendName;
  readonly requestedBackend: BackendName;
  readonly fallbackReason?: string;
  /** The model's fixed batch size, or null when it is dynamic. */
  readonly fixedBatch: number | null;
  /** Largest batch run at once when the batch is dynamic. */
  readonly maxBatch: number;
  readonly session: EngineSession;
}

type Row = { name: string; row: Float32Array } | { name: string; error: string };

/**
 * The session logic both runtimes share: decode and preprocess each image (a failure stays with its image),
 * run the good ones in batches the model accepts, and turn rows into top-k classes or embeddings.
 */
export class ImageModelSession<Image> implements MobileNetSession<Image> {
  readonly info: ModelInfo;
  readonly backend: BackendName;
  readonly requestedBackend: BackendName;
  readonly fallbackReason?: string;
  readonly fixedBatch: number | null;

  constructor(
    private readonly opened: OpenedModel,
    private readonly images: ImageDecoder<Image>,
  ) {
    this.info = opened.info;
    this.backend = opened.backend;
    this.requestedBackend = opened.requestedBackend;
    if (opened.fallbackReason) this.fallbackReason = opened.fallbackReason;
    this.fixedBatch = opened.fixedBatch;
  }

  /** Runs [batch, 3, S, S] and returns the named output, [batch, width] row-major. */
  private run(input: Float32Array, batch: number, output: string): Promise<Float32Array> {
    const s = this.info.inputSize;
    return this.opened.session.run(input, [batch, 3, s, s], this.info.inputName, output);
  }

  logits(input: Float32Array, batch: number): Promise<Float32Array> {
    const s = this.info.inputSize;
    if (input.length !== batch * 3 * s * s) {
      throw new MobileNetError(
        'input',
        `input of '${this.info.inputName}'`,
        `${batch * 3 * s * s} floats for [${batch}, 3, ${s}, ${s}]`,
        `${input.length}`,
      );
    }
    return this.run(input, batch, this.info.outputName);
  }

  private async forward(images: readonly Image[], output: string): Promise<Row[]> {
    const pre = this.info.preprocessing;
    const n = 3 * pre.size * pre.size;
    const prepared = await Promise.all(
      images.map(async (img, i) => {
        const name = this.images.name(img, i);
        try {
          return { name, tensor: preprocess(await this.images.decode(img, name), pre, new Float32Array(n)) };
        } catch (e) {
          return { name, error: (e as Error).message };
        }
      }),
    );
    const good = prepared.filter((p) => p.tensor);
    const rows: Float32Array[] = [];
    const step = this.fixedBatch ?? Math.max(1, this.opened.maxBatch);
    for (let i = 0; i < good.length; i += step) {
      const chunk = good.slice(i, i + step);
      const batch = this.fixedBatch ?? chunk.length;
      const input = new Float32Array(batch * n);
      chunk.forEach((p, j) => {
        input.set(p.tensor!, j * n);
      });
      const out = await this.run(input, batch, output);
      const width = out.length / batch;
      chunk.forEach((_, j) => {
        rows.push(out.slice(j * width, (j + 1) * width));
      });
    }
    let k = 0;
    return prepared.map((p) => {
      if (!p.tensor) return { name: p.name, error: p.error! };
      const row = rows[k++]!;
      const bad = nonFinite(row, output);
      return bad ? { name: p.name, error: `${escapeControls(p.name)}: ${bad}` } : { name: p.name, row };
    });
  }

  async classify(images: readonly Image[], options: { topK?: number } = {}): Promise<ClassifyResult[]> {
    const k = options.topK ?? 5;
    if (!Number.isInteger(k) || k < 1)
      throw new MobileNetError('option', 'option topK', 'a positive integer', String(k));
    return (await this.forward(images, this.info.outputName)).map((r) =>
      'row' in r
        ? { image: r.name, ok: true, top: topK(softmax(r.row), k, this.info.labels) }
        : { image: r.name, ok: false, error: r.error },
    );
  }

  async embed(images: readonly Image[]): Promise<EmbedResult[]> {
    const name = embeddingOutput(this.info);
    return (await this.forward(images, name)).map((r) =>
      'row' in r ? { image: r.name, ok: true, embedding: r.row } : { image: r.name, ok: false, error: r.error },
    );
  }

  release(): Promise<void> {
    return this.opened.session.release();
  }
}

/** The model's 'embedding' output, or an error saying how to export one. */
export function embeddingOutput(info: ModelInfo): string {
  if (info.embeddingName) return info.embeddingName;
  throw new MobileNetError(
    'model-output',
    'model',
    "an 'embedding' output (export with embedding: true / --embedding)",
    'none',
  );
}
