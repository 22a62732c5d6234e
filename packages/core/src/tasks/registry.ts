import { MobileNetError } from '../ir/errors.js';
import { BUILTIN_TASKS } from './builtin.js';
import type { AnyTask, ModelOutput } from './task.js';

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

/**
 * Which outputs of a model each registered task reads: task name -> output names (tasks the model cannot do are
 * absent). `metadata` is the model file's (a detector's anchors are there).
 */
export function taskOutputs(
  outputs: readonly ModelOutput[],
  metadata: Readonly<Record<string, string>> = {},
): Record<string, readonly string[]> {
  const found: Record<string, readonly string[]> = {};
  for (const task of tasks.values()) {
    const read = task.outputs(outputs, metadata);
    if (read) found[task.name] = read.map((o) => o.name);
  }
  return found;
}

/** The outputs `task` reads in a model whose task outputs are `found`, or the error saying what the model lacks. */
export function outputsFor(task: AnyTask, found: Readonly<Record<string, readonly string[]>>): readonly string[] {
  if (!tasks.has(task.name))
    throw new MobileNetError('task', `task '${task.name}'`, 'a registered task (registerTask)', 'not registered');
  const output = found[task.name];
  if (output !== undefined) return output;
  throw new MobileNetError('model-output', 'model', task.needs, 'none');
}

// Seeded here, not by a side-effect import: bundlers drop those from a package marked free of side effects.
for (const task of BUILTIN_TASKS) registerTask(task);
