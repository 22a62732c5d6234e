// The page's side of postprocess-worker.ts: detect and segment tasks whose postprocessing runs on a worker, so a
// page stays responsive while SSD's NMS or a large mask's resize runs. Without Web Workers (Node, tests) the tasks
// run here, as they are.
import {
  type DetectFields,
  type DetectOptions,
  detectTask,
  MobileNetError,
  type SegmentFields,
  type SegmentOptions,
  segmentTask,
  type SourceImage,
  type Task,
  type TaskModel,
} from '@mobilenet/core';
import type { PostprocessReply, PostprocessRequest } from './postprocess-worker.js';

/** Whether this is a page that can start a module worker. */
export const canPostprocessOffThread = (): boolean => typeof Worker !== 'undefined' && typeof document !== 'undefined';

/** One worker answering requests by id; a worker that fails fails the images it holds, by name. */
export class PostprocessWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { done: (r: PostprocessReply) => void }>();
  private nextId = 0;

  constructor() {
    this.worker = new Worker(new URL('./postprocess-worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<PostprocessReply>) => this.answer(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      for (const id of this.pending.keys())
        this.answer({ id, error: `the postprocessing worker failed: ${e.message || 'its script did not load'}` });
    };
  }

  private answer(reply: PostprocessReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    p.done(reply);
  }

  async run<F>(request: Omit<PostprocessRequest, 'id'>): Promise<F> {
    const id = this.nextId++;
    const reply = await new Promise<PostprocessReply>((done) => {
      this.pending.set(id, { done });
      // The rows are this image's own copies (sliced from the batch): moved, not copied.
      this.worker.postMessage(
        { ...request, id },
        request.rows.map((r) => r.buffer as ArrayBuffer),
      );
    });
    if ('fields' in reply) return reply.fields as F;
    const e = reply.error;
    if (typeof e === 'string') throw new Error(e);
    throw new MobileNetError(e.code, e.where, e.expected, e.received);
  }

  terminate(): void {
    this.worker.terminate();
    for (const id of this.pending.keys()) this.answer({ id, error: 'stopped before its postprocessing finished' });
  }
}

/** The model facts a task reads, as plain data a worker can receive. */
const facts = (m: TaskModel): TaskModel => ({
  labels: [...m.labels],
  ...(m.detection && { detection: m.detection }),
  ...(m.segmentation && { segmentation: m.segmentation }),
});

/** The detect task with its postprocessing on `worker`. */
export const detectOn = (worker: PostprocessWorker): Task<DetectOptions, DetectFields> => ({
  ...detectTask,
  postprocess: (rows, model, options, image: SourceImage) =>
    worker.run<DetectFields>({ task: 'detect', rows, model: facts(model), options: { ...options }, image }),
});

/** The segment task with its postprocessing on `worker`. */
export const segmentOn = (worker: PostprocessWorker): Task<SegmentOptions, SegmentFields> => ({
  ...segmentTask,
  postprocess: (rows, model, options, image: SourceImage) =>
    worker.run<SegmentFields>({ task: 'segment', rows, model: facts(model), options: { ...options }, image }),
});
