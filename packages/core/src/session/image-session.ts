import { MobileNetError } from '../ir/errors.js';
import { type RgbImage, preprocess } from '../image/preprocess.js';
import { type ClassifyOptions, type ClassifyResult, classifyTask } from '../tasks/classify.js';
import { type EmbedResult, embedTask } from '../tasks/embed.js';
import { BatchSizer } from '../pipeline/batch-sizer.js';
import { pipelineResults } from '../pipeline/results.js';
import type { PipelineDecoder, PipelinePlan, PreparedImage } from '../pipeline/types.js';
import { type DetectOptions, type DetectResult, detectTask } from '../tasks/detect.js';
import { type SegmentOptions, type SegmentResult, segmentTask } from '../tasks/segment.js';
import type { ExtraFeed, Task, TaskResult } from '../tasks/task.js';
import type { BackendName, EngineSession } from './backend.js';
import type { MobileNetSession, ModelInfo } from './model-info.js';

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

/**
 * The session facade both runtimes share: decode and preprocess each image (a failure stays with its image), run
 * the good ones in batches the model accepts, and hand each row to the task asked (one method per task).
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

  /** Runs a preprocessed [batch, 3, S, S] tensor through the backend and returns each of `outputs`, row-major. */
  runBatch(
    input: Float32Array,
    batch: number,
    outputs: readonly string[],
    feeds?: Readonly<Record<string, ExtraFeed>>,
  ): Promise<Float32Array[]> {
    const s = this.info.inputSize;
    if (input.length !== batch * 3 * s * s) {
      throw new MobileNetError(
        'input',
        `input of '${this.info.inputName}'`,
        `${batch * 3 * s * s} floats for [${batch}, 3, ${s}, ${s}]`,
        `${input.length}`,
      );
    }
    return this.opened.session.run(input, [batch, 3, s, s], this.info.inputName, outputs, feeds);
  }

  async logits(input: Float32Array, batch: number): Promise<Float32Array> {
    return (await this.runBatch(input, batch, [this.info.outputName]))[0]!;
  }

  classify(images: readonly Image[], options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    return this.perform(classifyTask, images, options);
  }

  embed(images: readonly Image[]): Promise<EmbedResult[]> {
    return this.perform(embedTask, images, {});
  }

  /** SSD's boxes per image, in its own pixels, best first (thresholds default to the model's, torchvision's). */
  detect(images: readonly Image[], options: DetectOptions = {}): Promise<DetectResult[]> {
    return this.perform(detectTask, images, options);
  }

  /** A class per pixel per image, at its own size (and the per-class probabilities when asked). */
  segment(images: readonly Image[], options: SegmentOptions = {}): Promise<SegmentResult[]> {
    return this.perform(segmentTask, images, options);
  }

  /** Any registered task on `images`: the output it reads, through its postprocessing (what each task method calls). */
  async perform<Options, Fields>(
    task: Task<Options, Fields>,
    images: readonly Image[],
    options: Options,
  ): Promise<TaskResult<Fields>[]> {
    const results: TaskResult<Fields>[] = [];
    for await (const r of pipelineResults(this, images, task, options, this.allAtOnce())) results.push(r);
    return results;
  }

  /**
   * The shared pipeline set for an array in memory: every image decodes at once (the caller holds them all
   * already), in batches the model accepts.
   */
  private allAtOnce(): { decoder: () => PipelineDecoder<Image>; plan: PipelinePlan } {
    const pre = this.info.preprocessing;
    const n = 3 * pre.size * pre.size;
    const prepare = async (img: Image, i: number): Promise<PreparedImage> => {
      const name = this.images.name(img, i);
      try {
        const rgb = await this.images.decode(img, name);
        return { name, tensor: preprocess(rgb, pre, new Float32Array(n)), width: rgb.width, height: rgb.height };
      } catch (e) {
        return { name, error: (e as Error).message };
      }
    };
    const step = this.fixedBatch ?? Math.max(1, this.opened.maxBatch);
    const plan = { sizer: new BatchSizer(this.fixedBatch, step, step), ahead: () => Number.POSITIVE_INFINITY };
    return { decoder: () => ({ prepare }), plan };
  }

  release(): Promise<void> {
    return this.opened.session.release();
  }
}
