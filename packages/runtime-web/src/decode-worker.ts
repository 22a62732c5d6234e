// A Web Worker that decodes and preprocesses images for classifyAll({ workers }): Blob in, the model's input
// tensor out (its buffer transferred, not copied), or the error message that names the image.
import { type Preprocessing, preprocess } from '@mobilenet/core';
import { type WebDecodeMode, decodeWebFor } from './decode-fast.js';

/** What the page sends: one image to prepare. */
export interface DecodeRequest {
  readonly id: number;
  readonly image: Blob;
  readonly name: string;
  readonly pre: Preprocessing;
  readonly mode: WebDecodeMode;
}

/** What the worker answers, for the request with the same id. */
export type DecodeReply =
  | { readonly id: number; readonly tensor: Float32Array<ArrayBuffer>; readonly width: number; readonly height: number }
  | { readonly id: number; readonly error: string };

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeReply, transfer?: Transferable[]): void;
};

scope.onmessage = async (e) => {
  const { id, image, name, pre, mode } = e.data;
  try {
    const tensor = new Float32Array(3 * pre.size ** 2);
    const rgb = await decodeWebFor(image, name, pre, mode);
    preprocess(rgb, pre, tensor);
    scope.postMessage({ id, tensor, width: rgb.width, height: rgb.height }, [tensor.buffer]);
  } catch (err) {
    scope.postMessage({ id, error: (err as Error).message });
  }
};
