// A Web Worker that runs a dense task's postprocessing (SSD's decode and NMS, a mask's resize and argmax) off the
// page's main thread: one image's output rows in (transferred), the task's fields out (the mask transferred).
import {
  type DetectOptions,
  detectTask,
  MobileNetError,
  type SegmentOptions,
  segmentTask,
  type SourceImage,
  type TaskModel,
} from '@mobilenet/core';

/** What the page sends: one image's rows for one task. */
export type PostprocessRequest = {
  readonly id: number;
  readonly rows: readonly Float32Array[];
  readonly model: TaskModel;
  readonly image: SourceImage;
} & (
  | { readonly task: 'detect'; readonly options: DetectOptions }
  | { readonly task: 'segment'; readonly options: SegmentOptions }
);

/** What the worker answers: the fields, or the error's parts (the page rebuilds a MobileNetError from them). */
export type PostprocessReply =
  | { readonly id: number; readonly fields: object }
  | {
      readonly id: number;
      readonly error: { code: string; where: string; expected: string; received: string } | string;
    };

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<PostprocessRequest>) => void) | null;
  postMessage(message: PostprocessReply, transfer?: Transferable[]): void;
};

scope.onmessage = async (e) => {
  const r = e.data;
  try {
    if (r.task === 'detect') {
      scope.postMessage({ id: r.id, fields: await detectTask.postprocess(r.rows, r.model, r.options, r.image) });
    } else {
      const fields = await segmentTask.postprocess(r.rows, r.model, r.options, r.image);
      const transfer: Transferable[] = [fields.mask.classes.buffer as ArrayBuffer];
      if (fields.probabilities) transfer.push(fields.probabilities.buffer as ArrayBuffer);
      scope.postMessage({ id: r.id, fields }, transfer);
    }
  } catch (err) {
    const m = err as MobileNetError;
    scope.postMessage({
      id: r.id,
      error:
        err instanceof MobileNetError
          ? { code: m.code, where: m.where, expected: m.expected, received: m.received }
          : String((err as Error)?.message ?? err),
    });
  }
};
