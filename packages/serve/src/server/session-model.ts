// A served model on an onnxruntime-node session (@mobilenet/runtime-node): its input is the model's own tensor
// (FP32, or FP16 as binary data, widened here) or a BYTES tensor named `image` of encoded images (JPEG, PNG, WebP,
// ...), decoded with runtime-node's decoders under the same pixel cap as `mobilenet classify` and preprocessed
// with the model's own metadata (resize, crop, mean/std) exactly as `session.classify` does.
import { fromHalfBits, preprocess } from '@mobilenet/core';
import { type NodeSession, DEFAULT_MAX_PIXELS, decodeImage } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { checkRequestAgainstModel } from '../protocol/model.js';
import { type InferRequest, type ModelMetadata, ProtocolError, type RequestInput } from '../protocol/types.js';
import type { PreparedRows, ServedModel } from './model.js';

/** The name of the BYTES input that carries encoded images instead of the model's tensor. */
export const IMAGE_INPUT = 'image';

export interface SessionModelOptions {
  name: string;
  version?: string;
  batching?: { maxBatch?: number; maxQueueDelayUs?: number };
  /** Largest image decoded, in pixels (default: classify's, 100 megapixels). */
  maxPixels?: number;
}

/** Learns each output's width from one run of a zero row (which also warms the session up). */
async function outputWidths(session: NodeSession, rowSize: number): Promise<Record<string, number>> {
  const s = session.info.inputSize;
  const feeds = { [session.info.inputName]: new ort.Tensor('float32', new Float32Array(rowSize), [1, 3, s, s]) };
  const out = await session.ortSession.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data.length]));
}

/** The metadata a client reads: the input tensor with a variable batch, every output [-1, width]. */
function metadataOf(
  name: string,
  version: string,
  session: NodeSession,
  widths: Record<string, number>,
): ModelMetadata {
  const s = session.info.inputSize;
  return {
    name,
    versions: [version],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: session.info.inputName, datatype: 'FP32', shape: [-1, 3, s, s] }],
    outputs: Object.entries(widths).map(([n, w]) => ({ name: n, datatype: 'FP32', shape: [-1, w] })),
  };
}

/** FP16 bits widened to FP32. */
function widen(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]!);
  return out;
}

/** The encoded images of an `image` input, decoded and preprocessed into rows. */
async function imageRows(
  input: RequestInput,
  session: NodeSession,
  rowSize: number,
  maxPixels: number,
  signal: AbortSignal,
): Promise<PreparedRows> {
  const shapeOk = input.shape.length === 1 || (input.shape.length === 2 && input.shape[1] === 1);
  if (!shapeOk) {
    throw new ProtocolError(
      `inputs[0].shape: '${IMAGE_INPUT}' takes [N] or [N, 1] encoded images, received [${input.shape.join(', ')}]`,
    );
  }
  const images = input.data as Uint8Array[];
  const rows = new Float32Array(images.length * rowSize);
  const pre = session.info.preprocessing;
  await Promise.all(
    images.map(async (bytes, i) => {
      const name = `inputs[0] '${IMAGE_INPUT}' element ${i}`;
      let image: Awaited<ReturnType<typeof decodeImage>>;
      try {
        image = await decodeImage({ name, bytes }, name, { maxPixels });
      } catch (e) {
        throw new ProtocolError((e as Error).message);
      }
      if (signal.aborted) return;
      preprocess(image, pre, rows.subarray(i * rowSize, (i + 1) * rowSize));
    }),
  );
  return { rows, count: images.length };
}

/** A served model on an open session. The session stays the caller's until `release`. */
export async function sessionModel(session: NodeSession, options: SessionModelOptions): Promise<ServedModel> {
  const version = options.version ?? '1';
  const s = session.info.inputSize;
  const rowSize = 3 * s * s;
  const widths = await outputWidths(session, rowSize);
  const metadata = metadataOf(options.name, version, session, widths);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const inputName = session.info.inputName;
  return {
    name: options.name,
    version,
    metadata,
    labels: { [session.info.outputName]: session.info.labels },
    ...(options.batching ? { batching: options.batching } : {}),
    rowSize,
    outputWidths: widths,
    async prepare(request: InferRequest, signal: AbortSignal): Promise<PreparedRows> {
      const first = request.inputs[0];
      if (request.inputs.length === 1 && first?.name === IMAGE_INPUT && first.datatype === 'BYTES') {
        checkRequestAgainstModel({ ...request, inputs: [] }, { ...metadata, inputs: [] }); // the outputs asked
        return imageRows(first, session, rowSize, maxPixels, signal);
      }
      const asFp16 = first?.datatype === 'FP16';
      const accepted = asFp16
        ? { ...metadata, inputs: metadata.inputs.map((t) => ({ ...t, datatype: 'FP16' as const })) }
        : metadata;
      checkRequestAgainstModel(request, accepted);
      const data = asFp16 ? widen(first!.data as Uint16Array) : (first!.data as Float32Array);
      return { rows: data, count: first!.shape[0]! };
    },
    async run(rows, batch, outputs) {
      const feeds = { [inputName]: new ort.Tensor('float32', rows, [batch, 3, s, s]) };
      const out = await session.ortSession.run(feeds, [...outputs]);
      return Object.fromEntries(outputs.map((n) => [n, out[n]!.data as Float32Array]));
    },
    release: () => session.release(),
  };
}
