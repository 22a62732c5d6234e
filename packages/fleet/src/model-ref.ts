import { toOnnx } from '@mobilenet/core';
import { type NodeSession, createSession, loadPretrained, readRegularSync } from '@mobilenet/runtime-node';
import { sha256 } from './keys.js';

/**
 * The model a job names: where each worker finds it (a path on shared storage, or a pretrained name: torchvision:,
 * hf-hub:, an https:// checkpoint URL) and the hash of the ONNX bytes the producer ran, which the worker's bytes
 * must match, so a chunk never runs on a different model than the one its results are keyed by.
 */
export type ModelRef =
  | { readonly kind: 'file'; readonly path: string; readonly sha256: string; readonly task: Task }
  | { readonly kind: 'named'; readonly name: string; readonly sha256: string; readonly task: Task };

export type Task = 'classify' | 'embed';

/** A model whose bytes are not the ones the job names: retrying elsewhere will not help. */
export class ModelMismatchError extends Error {}

/** The ONNX bytes a ref names, as a worker reads or builds them. */
export async function modelBytes(ref: ModelRef): Promise<Uint8Array> {
  if (ref.kind === 'file') return readRegularSync(ref.path, { what: 'the model file a job names', maxBytes: 1 << 30 });
  const model = await loadPretrained(ref.name, { batch: 'dynamic', ...(ref.task === 'embed' && { embedding: true }) });
  return toOnnx(model.graph);
}

/** Sessions by model hash, one per model a worker has met (a worker rarely sees more than one). */
export class ModelCache {
  private readonly sessions = new Map<string, Promise<NodeSession>>();
  constructor(private readonly open: (bytes: Uint8Array) => Promise<NodeSession>) {}

  get(ref: ModelRef): Promise<NodeSession> {
    let s = this.sessions.get(ref.sha256);
    if (!s) {
      s = (async () => {
        const bytes = await modelBytes(ref);
        const got = sha256(bytes);
        if (got !== ref.sha256)
          throw new ModelMismatchError(
            `the model ${ref.kind === 'file' ? `file '${ref.path}'` : `'${ref.name}'`} here has sha256 ${got.slice(0, 16)}, the job was made for ${ref.sha256.slice(0, 16)}: every worker must see the same model`,
          );
        return this.open(bytes);
      })();
      this.sessions.set(ref.sha256, s);
      s.catch(() => this.sessions.delete(ref.sha256));
    }
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => undefined))?.release();
    this.sessions.clear();
  }
}

/** Sessions on one backend, as a worker opens them. */
// onnxruntime's threads spin after each run by default; in a worker they spin through every wait for the next
// batch's decodes and for the next chunk, taking CPU from the decoders on the same cores. Measured by bench:fleet
// (1,000 images, 1 worker): 17.8 ms of CPU per image spinning, 10.7 ms not (the local run: 11-14 ms).
export const sessionsOn = (backend: string) => (bytes: Uint8Array) =>
  createSession(bytes, { backend, spinning: false });
