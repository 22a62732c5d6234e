import type { DetectionMetadata, SegmentationMetadata } from '../metadata/dense.js';

/** One output of a model, as a runtime reads it from the file or the graph. */
export interface ModelOutput {
  readonly name: string;
  readonly shape: readonly (number | string)[];
}

/** What a task's postprocessing may read of the model (filled by the session from the model's metadata). */
export interface TaskModel {
  /** One name per class of the model (the classifier's, the detector's or the segmenter's). */
  readonly labels: readonly string[];
  /** An SSD detector's anchors and defaults (metadata 'mobilenet.detection'). */
  readonly detection?: DetectionMetadata;
  /** A segmenter's facts (metadata 'mobilenet.segmentation'). */
  readonly segmentation?: SegmentationMetadata;
}

/** The image a row came from, as decoded: detection and segmentation answer in its pixels. */
export interface SourceImage {
  readonly width: number;
  readonly height: number;
}

/** An input beside the image a task sets per run (a threshold a graph reads at run time, say). */
export interface ExtraFeed {
  readonly type: 'float32' | 'int64';
  readonly data: Float32Array | BigInt64Array;
  readonly dims: readonly number[];
}

/** One image's answer: the task's fields, or the error that stopped that image (named, the others go on). */
export type TaskResult<Fields> =
  | ({ readonly image: string; readonly ok: true } & Fields)
  | { readonly image: string; readonly ok: false; readonly error: string };

/**
 * What a model can be asked (classify, embed, detect, segment): which of its outputs the task reads, and how one
 * image's rows of those outputs become the answer. Sessions and pipelines find a task's outputs and
 * postprocessing here, never by an output's name.
 */
export interface Task<Options, Fields> {
  /** Lower-case, as `registerTask` checks: 'classify', 'embed'. */
  readonly name: string;
  /**
   * The model outputs this task reads, in the order `postprocess` gets their rows, or undefined when the model
   * has not got them (then `needs` says what is missing). `metadata` is the model file's.
   */
  outputs(
    outputs: readonly ModelOutput[],
    metadata: Readonly<Record<string, string>>,
  ): readonly ModelOutput[] | undefined;
  /** The outputs a model needs for this task, and how to get them, for the error when it has none. */
  readonly needs: string;
  /** Refuses bad options before any image is decoded. */
  check?(options: Options): void;
  /** Inputs the model takes beside the image for these options (none when absent). */
  feeds?(options: Options, model: TaskModel): Readonly<Record<string, ExtraFeed>>;
  /**
   * 'accept' when the postprocessing copes with NaN and infinities itself (SSD's NMS does, as torchvision's);
   * by default a non-finite value makes that image's answer an error.
   */
  readonly nonFinite?: 'refuse' | 'accept';
  /**
   * One image's rows of the outputs (in `outputs`' order) into the task's fields; `image` is its decoded size.
   * A promise when the work runs elsewhere (a browser's worker).
   */
  postprocess(
    rows: readonly Float32Array[],
    model: TaskModel,
    options: Options,
    image: SourceImage,
  ): Fields | Promise<Fields>;
}

/** A task of any options and fields, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds tasks of every type; callers keep their own types.
export type AnyTask = Task<any, any>;
