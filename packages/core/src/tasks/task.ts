import { MobileNetError } from '../ir/errors.js';

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

const NAME = /^[a-z][a-z0-9-]*$/;
const tasks = new Map<string, AnyTask>();

/** Adds a task: sessions opened afterwards find its output in each model (`ModelInfo.taskOutputs`). */
export function registerTask(task: AnyTask): void {
  if (typeof task?.name !== 'string' || !NAME.test(task.name))
    throw new MobileNetError('task', 'registerTask: name', 'lower-case letters, digits and dashes', String(task?.name));
  if (tasks.has(task.name))
    throw new MobileNetError('task', `registerTask('${task.name}')`, 'a name not registered yet', 'registered already');
  tasks.set(task.name, task);
}

/** The registered tasks, in registration order. */
export const registeredTasks = (): AnyTask[] => [...tasks.values()];

/** Which output of a model each registered task reads: task name -> output name (tasks the model cannot do are absent). */
export function taskOutputs(outputs: readonly ModelOutput[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const task of tasks.values()) {
    const output = task.output(outputs);
    if (output) found[task.name] = output.name;
  }
  return found;
}

/** The output `task` reads in a model whose task outputs are `found`, or the error saying what the model lacks. */
export function outputFor(task: AnyTask, found: Readonly<Record<string, string>>): string {
  if (!tasks.has(task.name))
    throw new MobileNetError('task', `task '${task.name}'`, 'a registered task (registerTask)', 'not registered');
  const output = found[task.name];
  if (output !== undefined) return output;
  throw new MobileNetError('model-output', 'model', task.needs, 'none');
}
