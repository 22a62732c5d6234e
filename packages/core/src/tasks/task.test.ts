// The task seam: a new task is one file (here, `normTask`), one registration line and one method on the session
// facade; the session and the shared pipeline find its output and postprocessing by task, never by output name.
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../image/preprocess.js';
import { BatchSizer } from '../pipeline/batch-sizer.js';
import { pipelineResults } from '../pipeline/results.js';
import type { EngineSession } from '../session/backend.js';
import { ImageModelSession } from '../session/image-session.js';
import { type ModelIO, modelInfo } from '../session/model-info.js';
import { registerTask } from './registry.js';
import type { Task, TaskResult } from './task.js';

// The one file: a task reading the 'embedding' output and answering its L2 norm.
const normTask: Task<{ readonly squared?: boolean }, { readonly norm: number }> = {
  name: 'dummy-norm',
  outputs: (outputs) => {
    const embedding = outputs.find((o) => o.name === 'embedding');
    return embedding && [embedding];
  },
  needs: "an 'embedding' output",
  postprocess: ([row], _model, o) => {
    const sum = row!.reduce((s, v) => s + v * v, 0);
    return { norm: o.squared ? sum : Math.sqrt(sum) };
  },
};
// The one registration line (builtin.ts for a built-in task).
registerTask(normTask);

// The one facade method (on ImageModelSession for a built-in task).
class NormSession<Image> extends ImageModelSession<Image> {
  norm(images: readonly Image[]): Promise<TaskResult<{ readonly norm: number }>[]> {
    return this.perform(normTask, images, {});
  }
}

const io = (outputs: ModelIO['outputs']): ModelIO => ({
  inputs: [{ name: 'input', shape: ['N', 3, 8, 8] }],
  outputs,
  metadata: {},
});
const WITH_EMBEDDING = io([
  { name: 'logits', shape: ['N', 3] },
  { name: 'embedding', shape: ['N', 4] },
]);

/** A backend whose rows are [3, 4, 0, ...] for the embedding and [0, 1, 2] logits for every image. */
const engine: EngineSession = {
  run: async (_input, dims, _name, outputs) =>
    outputs.map((output) => {
      const width = output === 'embedding' ? 4 : 3;
      const out = new Float32Array(dims[0]! * width);
      for (let b = 0; b < dims[0]!; b++) out.set(output === 'embedding' ? [3, 4, 0, 0] : [0, 1, 2], b * width);
      return out;
    }),
  release: async () => {},
};

type Named = RgbImage & { readonly name: string };
const image = (name: string): Named => ({
  name,
  data: new Uint8Array(8 * 8 * 3),
  width: 8,
  height: 8,
  channels: 3,
});
const images = { name: (i: Named) => i.name, decode: async (i: Named): Promise<RgbImage> => i };

function open(summary: ModelIO) {
  const info = modelInfo(summary, 'm.onnx');
  const opened = { info, backend: 'test', requestedBackend: 'test', fixedBatch: null, maxBatch: 2, session: engine };
  return new NormSession<Named>(opened, images);
}

describe('tasks', () => {
  it('a model says which output each registered task reads', () => {
    expect(modelInfo(WITH_EMBEDDING, 'm.onnx').taskOutputs).toEqual({
      classify: ['logits'],
      embed: ['embedding'],
      'dummy-norm': ['embedding'],
    });
    expect(modelInfo(io([{ name: 'scores', shape: ['N', 3] }]), 'm.onnx').taskOutputs).toEqual({
      classify: ['scores'],
    });
  });

  it('a dummy task runs through the session facade and the shared pipeline', async () => {
    const session = open(WITH_EMBEDDING);
    const three = [image('a'), image('b'), image('c')];
    expect(await session.norm(three)).toEqual(['a', 'b', 'c'].map((image) => ({ image, ok: true, norm: 5 })));
    const decoder = () => ({
      prepare: async (i: Named) => ({ name: i.name, tensor: new Float32Array(3 * 8 * 8) }),
    });
    const plan = { sizer: new BatchSizer(null, 2, 2), ahead: (n: number) => 2 * n };
    const streamed = [];
    for await (const r of pipelineResults(session, three, normTask, { squared: true }, { decoder, plan }))
      streamed.push(r);
    expect(streamed).toEqual(['a', 'b', 'c'].map((image) => ({ image, ok: true, norm: 25 })));
    expect((await session.classify([image('a')], { topK: 1 }))[0]).toMatchObject({ ok: true, top: [{ index: 2 }] });
  });

  it('a model without the output the task reads is refused before any image is decoded', async () => {
    const session = open(io([{ name: 'logits', shape: ['N', 3] }]));
    await expect(session.norm([image('a')])).rejects.toThrow("model: expected an 'embedding' output, received none");
    await expect(session.embed([image('a')])).rejects.toThrow("expected an 'embedding' output (export with");
  });

  it('a task name is checked and registered once', () => {
    expect(() => registerTask(normTask)).toThrow("registerTask('dummy-norm'): expected a name not registered yet");
    expect(() => registerTask({ ...normTask, name: 'Bad Name' })).toThrow('registerTask: name');
  });
});
