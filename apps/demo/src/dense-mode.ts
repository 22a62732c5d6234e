// The demo's Detect and Segment modes (issue 26): SSDLite320's boxes or LRASPP / DeepLabV3's classes drawn over the
// photo the page shows (or the webcam's frames), on onnxruntime-web. The model is built in the page (seeded weights:
// the labels then mean nothing) or is the user's .onnx (`mobilenet export --arch ssdlite320-v3-large --weights
// ssdlite.pth`). Decoding and the postprocessing (NMS, the mask's resize) run on workers, off this thread.
import { type DenseArch, type DetectResult, type SegmentResult, buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { type WebImage, type WebSession, createSession, detectAll, segmentAll } from '@mobilenet/runtime-web';
import wasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import wasmWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export type DenseTask = 'detect' | 'segment';

export interface DenseChoice {
  readonly task: DenseTask;
  /** A built model (seeded), or the user's .onnx. */
  readonly arch?: DenseArch;
  readonly resolution?: number;
  readonly seed?: number;
  readonly file?: File;
  readonly scoreThreshold?: number;
  readonly maxDetections?: number;
}

/** Per task, what the page builds when no file is given. */
const BUILT: Record<DenseTask, { arch: DenseArch; resolution: number }> = {
  detect: { arch: 'ssdlite320-v3-large', resolution: 320 },
  segment: { arch: 'lraspp-v3-large', resolution: 256 },
};

let current: { key: string; session: WebSession } | undefined;

async function sessionFor(c: DenseChoice): Promise<WebSession> {
  const built = BUILT[c.task];
  const key = c.file
    ? `${c.file.name}:${c.file.size}:${c.file.lastModified}`
    : `${c.arch ?? built.arch}/${c.resolution ?? built.resolution}/${c.seed ?? 0}`;
  if (current?.key === key) return current.session;
  await current?.session.release();
  current = undefined;
  const source = c.file
    ? new Uint8Array(await c.file.arrayBuffer())
    : toOnnx(
        buildModel({
          arch: c.arch ?? built.arch,
          resolution: c.resolution ?? built.resolution,
          weights: fanInFill(c.seed ?? 0),
          batch: 'dynamic',
        }).graph,
      );
  const session = await createSession(source, {
    backend: 'wasm',
    wasmPaths: { wasm: { mjs: wasmMjs, wasm: wasmWasm } },
    ...(c.file && { name: c.file.name }),
  });
  current = { key, session };
  return session;
}

/** One image through the chosen task, with the time the model and its postprocessing took. */
export async function runDense(
  c: DenseChoice,
  image: WebImage,
): Promise<{ result: DetectResult | SegmentResult; ms: number }> {
  const session = await sessionFor(c);
  const t0 = performance.now();
  const o = {
    decode: 'exact' as const,
    ...(c.scoreThreshold !== undefined && { scoreThreshold: c.scoreThreshold }),
    ...(c.maxDetections !== undefined && { maxDetections: c.maxDetections }),
  };
  const results = c.task === 'detect' ? detectAll(session, [image], o) : segmentAll(session, [image], o);
  let result: DetectResult | SegmentResult | undefined;
  for await (const r of results) result = r;
  return { result: result!, ms: performance.now() - t0 };
}

/** The VOC devkit's colour map (class 0 black, 15 person pink), as the CLI's masks use it. */
export function vocColour(index: number): [number, number, number] {
  let c = index & 255;
  const rgb: [number, number, number] = [0, 0, 0];
  for (let bit = 7; bit >= 0; bit--) {
    for (let k = 0; k < 3; k++) rgb[k]! |= ((c >> k) & 1) << bit;
    c >>= 3;
  }
  return rgb;
}

/** Draws `source` on the canvas at its size, then the boxes or the mask over it. */
export function drawResult(
  canvas: HTMLCanvasElement,
  source: CanvasImageSource,
  width: number,
  height: number,
  r: DetectResult | SegmentResult,
): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(source, 0, 0, width, height);
  if (!r.ok) return;
  if ('detections' in r) {
    const line = Math.max(2, Math.round(Math.min(width, height) / 200));
    const font = Math.max(12, Math.round(Math.min(width, height) / 30));
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.lineWidth = line;
    for (const d of r.detections) {
      const [x1, y1, x2, y2] = d.box;
      const [cr, cg, cb] = vocColour(d.labelIndex || 1);
      ctx.strokeStyle = ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const text = `${d.label} ${(d.score * 100).toFixed(0)}%`;
      const ty = y1 - font * 1.3 >= 0 ? y1 - font * 1.3 : y1;
      ctx.fillRect(x1, ty, ctx.measureText(text).width + 8, font * 1.3);
      ctx.fillStyle = 'white';
      ctx.fillText(text, x1 + 4, ty + font);
    }
    return;
  }
  const pixels = ctx.getImageData(0, 0, width, height);
  const colours = r.mask.labels.map((_, i) => vocColour(i));
  for (let i = 0; i < r.mask.classes.length; i++) {
    const c = r.mask.classes[i]!;
    if (c === 0) continue;
    for (let k = 0; k < 3; k++) pixels.data[i * 4 + k] = (pixels.data[i * 4 + k]! + colours[c]![k]!) >> 1;
  }
  ctx.putImageData(pixels, 0, 0);
}

/** A one-line summary: the boxes, or each class's share of the pixels. */
export function summary(r: DetectResult | SegmentResult): string {
  if (!r.ok) return r.error;
  if ('detections' in r)
    return r.detections.length
      ? r.detections
          .slice(0, 10)
          .map((d) => `${d.label} ${(d.score * 100).toFixed(1)}%`)
          .join(', ')
      : 'no box above the threshold';
  const counts = new Map<number, number>();
  for (const c of r.mask.classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${r.mask.labels[c]} ${((100 * n) / r.mask.classes.length).toFixed(1)}%`)
    .join(', ');
}
