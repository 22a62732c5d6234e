import type { BatchStats } from '@mobilenet/core';
import { describe, expect, it } from 'vitest';
import { decodersAfter, startDecoders, tunePipeline } from './pipeline-tuning.js';

const stats = (o: Partial<BatchStats>): BatchStats => ({
  images: 16,
  failed: 0,
  batch: 16,
  waitMs: 0,
  runMs: 100,
  postMs: 1,
  decodeMs: 0,
  preprocessMs: 0,
  runStart: 0,
  runEnd: 100,
  decoders: 4,
  ...o,
});

describe('tunePipeline', () => {
  it('on the CPU with many images: every core for the model, spinning off, decodes adaptive from twice the cores', () => {
    const t = tunePipeline({ backend: 'cpu', images: 264, cores: 2 });
    expect(t).toMatchObject({ threads: 2, spinning: false, decoders: 4, adaptive: true });
    expect(t.reasons).toHaveLength(3);
    expect(t.reasons[1]).toMatch(/^spinning off: decodes share the cores/);
    expect(tunePipeline({ backend: 'cpu', images: 10, cores: 8 })).toMatchObject({ threads: 8, decoders: 16 });
  });

  it("keeps what was asked, spins for one image, and leaves a GPU backend's threads to onnxruntime", () => {
    const asked = tunePipeline({ backend: 'cpu', images: 100, cores: 4, threads: 3, decoders: 5 });
    expect(asked).toMatchObject({ threads: 3, spinning: false, decoders: 5, adaptive: false });
    expect(asked.reasons[0]).toBe('model threads 3 (--threads)');
    expect(tunePipeline({ backend: 'cpu', images: 1, cores: 4 }).spinning).toBe(true);
    const gpu = tunePipeline({ backend: 'cuda', images: 100, cores: 4 });
    expect(gpu).toMatchObject({ threads: undefined, spinning: true });
    expect(gpu.reasons[1]).toContain('the model runs on cuda');
  });

  it('starts decodes at twice the cores, at least 4', () => {
    expect([1, 2, 3, 16].map(startDecoders)).toEqual([4, 4, 6, 32]);
  });
});

describe('decodersAfter', () => {
  it('grows by a step when the JavaScript thread waited for decodes beyond a tenth of the run, up to the cap', () => {
    expect(decodersAfter(stats({ waitMs: 30, preprocessMs: 5 }), 4, 2, 20)).toBe(6);
    expect(decodersAfter(stats({ waitMs: 30, preprocessMs: 5 }), 19, 2, 20)).toBe(20);
    expect(decodersAfter(stats({ waitMs: 30, preprocessMs: 5 }), 20, 2, 20)).toBe(20);
  });

  it('stays when the wait was its own preprocessing, or small against the run', () => {
    expect(decodersAfter(stats({ waitMs: 30, preprocessMs: 25 }), 4, 2, 20)).toBe(4);
    expect(decodersAfter(stats({ waitMs: 9, preprocessMs: 0 }), 4, 2, 20)).toBe(4);
  });
});
