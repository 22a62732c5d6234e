/** One output of a model, as a runtime reads it from the file or the graph. */
export interface ModelOutput {
  readonly name: string;
  readonly shape: readonly (number | string)[];
}

/** What a task's postprocessing may read of the model (filled by the session from the model's metadata). */
export interface TaskModel {
  /** One name per class of the classifier output. */
  readonly labels: readonly string[];
}

/** One image's answer: the task's fields, or the error that stopped that image (named, the others go on). */
export type TaskResult<Fields> =
  | ({ readonly image: string; readonly ok: true } & Fields)
  | { readonly image: string; readonly ok: false; readonly error: string };

/**
 * What a model can be asked (classify, embed; detect and segment to come): which of its outputs the task reads,
 * and how one image's row of that output becomes the answer. Sessions and pipelines find a task's output and
 * postprocessing here, never by an output's name.
 */
export interface Task<Options, Fields> {
  /** Lower-case, as `registerTask` checks: 'classify', 'embed'. */
  readonly name: string;
  /** The model output this task reads, or undefined when the model has none (then `needs` says what is missing). */
  output(outputs: readonly ModelOutput[]): ModelOutput | undefined;
  /** The output a model needs for this task, and how to get one, for the error when it has none. */
  readonly needs: string;
  /** Refuses bad options before any image is decoded. */
  check?(options: Options): void;
  /** One image's row of the output (finite values) into the task's fields. */
  postprocess(row: Float32Array, model: TaskModel, options: Options): Fields;
}

/** A task of any options and fields, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds tasks of every type; callers keep their own types.
export type AnyTask = Task<any, any>;
