import { outputFor } from '../tasks/registry.js';
import type { AnyTask, Task, TaskModel, TaskResult } from '../tasks/task.js';
import { pipelineRows } from './rows.js';
import type { PipelineDecoder, PipelineModel, PipelinePlan, PipelineRow, PipelineSources } from './types.js';

/**
 * A model the pipeline can ask a task of: the facts a task reads, and which output each task takes.
 * @internal
 */
export interface TaskPipelineModel extends PipelineModel {
  readonly info: PipelineModel['info'] & TaskModel & { readonly taskOutputs: Readonly<Record<string, string>> };
}

/**
 * One task's answers for a stream of images, in input order: the task's output found in the model (an error when
 * it has none, before any image is decoded), each row through the task's postprocessing.
 * @internal
 */
export async function* pipelineResults<Source, Options, Fields>(
  model: TaskPipelineModel,
  sources: PipelineSources<Source>,
  task: Task<Options, Fields>,
  options: Options,
  run: { decoder: () => PipelineDecoder<Source>; plan: PipelinePlan; onRow?: (row: PipelineRow) => void },
): AsyncGenerator<TaskResult<Fields>> {
  const output = outputFor(task as AnyTask, model.info.taskOutputs);
  task.check?.(options);
  for await (const r of pipelineRows(model, sources, run.decoder(), output, run.plan)) {
    run.onRow?.(r);
    yield 'row' in r
      ? { image: r.name, ok: true, ...task.postprocess(r.row, model.info, options) }
      : { image: r.name, ok: false, error: r.error };
  }
}
