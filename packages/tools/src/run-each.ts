import * as ort from 'onnxruntime-node';

export type Feeds = Record<string, ort.Tensor>;

/**
 * Runs a model (ONNX bytes) on onnxruntime-node CPU for each feed, handing every float32 output to `visit` (its data
 * stays valid after the call). `level`: onnxruntime's graph optimisation ('disabled' runs QDQ in float).
 */
export async function eachOutput(
  bytes: Uint8Array,
  feeds: readonly Feeds[],
  visit: (probe: number, name: string, data: Float32Array) => void,
  level: 'all' | 'disabled' = 'all',
): Promise<void> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level,
  });
  try {
    for (const [k, f] of feeds.entries()) {
      const out = await session.run(f);
      for (const [name, t] of Object.entries(out)) {
        if (t.type === 'float32') visit(k, name, t.data as Float32Array);
        t.dispose();
      }
    }
  } finally {
    await session.release();
  }
}
