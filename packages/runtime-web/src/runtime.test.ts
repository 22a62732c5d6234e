// runtime-web in Node (onnxruntime-web's WASM backend) against onnxruntime-node, on the same model and pixels.
import { join } from 'node:path';
import { buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { createSession as createNodeSession, decodeImage } from '@mobilenet/runtime-node';
import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff } from '@mobilenet/test-support';
import { availableBackends, createSession } from './index.js';

const SCENE = join(import.meta.dirname, '../../runtime-node/test/fixtures/scene.png');

describe('runtime-web (WASM in Node) equals runtime-node', () => {
  it.each(['v2', 'v3-small'] as const)('%s at 96: equal logits and the same top-5 for the same image', async (arch) => {
    const model = buildModel({
      arch,
      convention: 'torchvision',
      resolution: 96,
      weights: fanInFill(4),
      batch: 'dynamic',
    });
    const web = await createSession(model);
    const node = await createNodeSession(model);
    expect(web.backend).toBe('wasm');
    const x = new Float32Array(3 * 96 * 96).map((_, i) => Math.cos(i * 0.1));
    const [a, b] = [await web.logits(x, 1), await node.logits(x, 1)];
    expect(maxAbsDiff(a, b) / maxAbs(b)).toBeLessThan(1e-5);
    const pixels = await decodeImage(SCENE, 'scene');
    const [w] = await web.classify([{ ...pixels, name: 'scene' }]);
    const [n] = await node.classify([SCENE]);
    expect(w!.ok && n!.ok).toBe(true);
    if (w!.ok && n!.ok) {
      expect(w!.top.map((p) => p.index)).toEqual(n!.top.map((p) => p.index));
      w!.top.forEach((p, i) => {
        expect(p.probability).toBeCloseTo(n!.top[i]!.probability, 5);
      });
    }
    await Promise.all([web.release(), node.release()]);
  });

  it('reports WebGPU unavailable in Node with the reason, refuses it, or falls back to WASM when asked', async () => {
    const status = await availableBackends();
    expect(status[0]).toEqual({ backend: 'wasm', available: true });
    expect(status[1]).toMatchObject({
      backend: 'webgpu',
      available: false,
      reason: expect.stringContaining('navigator.gpu is missing'),
    });
    const model = toOnnx(buildModel({ arch: 'v3-small', resolution: 64, weights: 1 }).graph);
    await expect(createSession(model, { backend: 'webgpu' })).rejects.toThrow(
      /option backend 'webgpu': expected a backend that works here, received navigator\.gpu is missing/,
    );
    const s = await createSession(model, { backend: 'webgpu', fallback: true });
    expect([s.backend, s.requestedBackend]).toEqual(['wasm', 'webgpu']);
    expect(s.fallbackReason).toContain('navigator.gpu is missing');
    await s.release();
  });

  it('without a browser, encoded images are refused with what to pass instead', async () => {
    const s = await createSession(buildModel({ arch: 'v3-small', resolution: 64, weights: 1 }));
    const [r] = await s.classify([new Blob([new Uint8Array(8)], { type: 'image/png' })]);
    expect(r).toMatchObject({
      ok: false,
      error: expect.stringContaining('decoding needs OffscreenCanvas (a browser)'),
    });
    await s.release();
  });
});
