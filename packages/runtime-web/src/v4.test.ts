// MobileNetV4 in runtime-web (onnxruntime-web's WASM backend, in Node) against runtime-node, every variant: the
// hybrids' attention (MatMul, Softmax, Reshape, Transpose) and Hybrid-L's GELU (Erf below opset 20) included.
import { buildModel, fanInFill } from '@mobilenet/core';
import { createSession as createNodeSession } from '@mobilenet/runtime-node';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

describe('runtime-web (WASM in Node) runs MobileNetV4 like runtime-node', () => {
  // Conv-S (UIB), Hybrid-M (Mobile MQA), Hybrid-L (GELU): every op v4 adds; Conv-M and Conv-L add none.
  it.each(['v4-conv-small', 'v4-hybrid-medium', 'v4-hybrid-large'] as const)(
    '%s at 64: equal logits for the same input',
    async (arch) => {
      const model = buildModel({ arch, resolution: 64, weights: fanInFill(6), batch: 'dynamic' });
      const web = await createSession(model);
      const node = await createNodeSession(model);
      expect(web.backend).toBe('wasm');
      const x = new Float32Array(2 * 3 * 64 * 64).map((_, i) => Math.sin(i * 0.013) * 1.5);
      const [a, b] = [await web.logits(x, 2), await node.logits(x, 2)];
      expect(a.length).toBe(2 * model.config.classes);
      const scale = Math.max(...b.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / scale).toBeLessThan(1e-5);
      await Promise.all([web.release(), node.release()]);
    },
    120_000,
  );
});
