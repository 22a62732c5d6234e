// onnxruntime-web reads its WASM thread count once, at a page's first session: sessions report the count in effect.
import { buildModel, fanInFill } from '@mobilenet/core';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const model = () =>
  buildModel({ arch: 'v3-small', convention: 'torchvision', resolution: 32, width: 0.35, weights: fanInFill(6) });

describe('threads mean the same as in runtime-node, and the count reported is the one in effect', () => {
  it('the first session sets the count; a later one asking for another gets the count in effect and why', async () => {
    const first = await createSession(model(), { threads: 1 });
    expect(first.wasm).toEqual({ threads: 1, why: 'option threads: 1' });
    expect(ort.env.wasm.numThreads).toBe(1);
    const second = await createSession(model(), { threads: 2 });
    expect(second.wasm).toEqual({
      threads: 1,
      why: "onnxruntime-web fixed 1 thread(s) at this page's first session (option threads: 1); this session asked for 2, which takes a page reload",
    });
    const alias = await createSession(model(), { wasmThreads: 1 });
    expect(alias.wasm.threads).toBe(1);
    const unasked = await createSession(model());
    expect(unasked.wasm).toEqual(first.wasm);
    await Promise.all([first, second, alias, unasked].map((s) => s.release()));
  });

  it('threads and its deprecated alias wasmThreads must agree, and be positive integers', async () => {
    await expect(createSession(model(), { threads: 1, wasmThreads: 2 })).rejects.toThrow(
      'option wasmThreads: expected nothing, or the same count as option threads (1): it is a deprecated alias, received 2',
    );
    await expect(createSession(model(), { wasmThreads: 0 })).rejects.toThrow(
      'option wasmThreads: expected a positive integer, received 0',
    );
    await expect(createSession(model(), { threads: 0 })).rejects.toThrow(
      'option threads: expected an integer from 1 to 256, received 0',
    );
  });
});
