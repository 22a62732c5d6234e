// runtime-web's detect / segment (onnxruntime-web's WASM backend, in Node: the postprocessing runs on this thread
// here; in a page it runs on a worker, e2e/browser.test.ts) against runtime-node's on onnxruntime-node CPU.
import { join } from 'node:path';
import { tinyDetector, tinySegmenter } from '@mobilenet/core/testing';
import { createSession as createNodeSession, decodeImage } from '@mobilenet/runtime-node';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const SCENE = join(import.meta.dirname, '../../runtime-node/test/fixtures/scene.png');

describe('runtime-web (WASM in Node) detects and segments as runtime-node (CPU)', () => {
  it('the same boxes, labels and scores in the original pixels', async () => {
    const graph = tinyDetector({ seed: 5 });
    const [web, node] = [await createSession({ graph }), await createNodeSession({ graph })];
    const scene = { ...(await decodeImage(SCENE, 'scene')), name: 'scene' };
    const options = { scoreThreshold: 0.1, iouThreshold: 0.45 };
    const [w] = await web.detect([scene], options);
    const [n] = await node.detect([SCENE], options);
    if (!w?.ok || !n?.ok) throw new Error('a detection failed');
    expect(w.detections.length).toBeGreaterThan(0);
    expect(w.detections.map((d) => d.labelIndex)).toEqual(n.detections.map((d) => d.labelIndex));
    w.detections.forEach((d, i) => {
      const m = n.detections[i]!;
      for (const [k, v] of d.box.entries())
        expect(Math.abs(v - m.box[k]!)).toBeLessThan(1e-3 * Math.max(scene.width, scene.height));
      expect(d.score).toBeCloseTo(m.score, 5);
    });
    await expect(web.detect([scene], { iouThreshold: 2 })).rejects.toThrow('option iouThreshold');
    await Promise.all([web.release(), node.release()]);
  });

  it('the same class map at the original size', async () => {
    const graph = tinySegmenter({ resolution: 64, seed: 4 });
    const [web, node] = [await createSession({ graph }), await createNodeSession({ graph })];
    const scene = { ...(await decodeImage(SCENE, 'scene')), name: 'scene' };
    const [w] = await web.segment([scene]);
    const [n] = await node.segment([SCENE]);
    if (!w?.ok || !n?.ok) throw new Error('a segmentation failed');
    expect([w.mask.width, w.mask.height]).toEqual([scene.width, scene.height]);
    const same = w.mask.classes.reduce((k, c, i) => k + (c === n.mask.classes[i] ? 1 : 0), 0);
    expect(same / w.mask.classes.length).toBeGreaterThanOrEqual(0.999);
    await Promise.all([web.release(), node.release()]);
  });
});
