import { outputsFor } from '../tasks/registry.js';
import type { AnyTask, Task, TaskModel, TaskResult } from '../tasks/task.js';
import { MobileNetError } from '../ir/errors.js';
import { escapeControls } from '../ir/quote.js';
import { pipelineRows } from './rows.js';
import type { PipelineDecoder, PipelineModel, PipelinePlan, PipelineRow, PipelineSources } from './types.js';

/**
 * A model the pipeline can ask a task of: the facts a task reads, and which output each task takes.
 * @internal
 */
export interface TaskPipelineModel extends PipelineModel {
  readonly info: PipelineModel['info'] &
    TaskModel & { readonly taskOutputs: Readonly<Record<string, readonly string[]>> };
}

/**
 * One task's answers for a stream of images, in input order: the task's outputs found in the model (an error when
 * it has none, before any image is decoded), each image's rows through the task's postprocessing.
 * @internal
 */
export async function* pipelineResults<Source, Options, Fields>(
  model: TaskPipelineModel,
  sources: PipelineSources<Source>,
  task: Task<Options, Fields>,
  options: Options,
  run: { decoder: () => PipelineDecoder<Source>; plan: PipelinePlan; onRow?: (row: PipelineRow) => void },
): AsyncGenerator<TaskResult<Fields>> {
  const outputs = outputsFor(task as AnyTask, model.info.taskOutputs);
  task.check?.(options);
  const read = { outputs, feeds: task.feeds?.(options, model.info) ?? {}, finite: task.nonFinite !== 'accept' };
  for await (const r of pipelineRows(model, sources, run.decoder(), read, run.plan)) {
    run.onRow?.(r);
    if (!('rows' in r)) {
      yield { image: r.name, ok: false, error: r.error };
      continue;
    }
    try {
      const size = { width: r.width, height: r.height };
      yield { image: r.name, ok: true, ...(await task.postprocess(r.rows, model.info, options, size)) };
    } catch (e) {
      // A row the task cannot read (a hostile model's shape, an option too big for this image) fails its image only.
      if (!(e instanceof MobileNetError)) throw e;
      yield { image: r.name, ok: false, error: `${escapeControls(r.name)}: ${e.message}` };
    }
  }
}
