// A backend added from outside core, the way a plug-in package would add one: this file is the whole change.
// 'dummy' runs models on onnxruntime-node's CPU provider under another name, with settings of its own.
import { buildModel, fanInFill } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixedInput, maxAbsDiff } from '@mobilenet/test-support';
import {
  type NodeSessionOptions,
  availableBackends,
  backendNames,
  createSession,
  ortOptions,
  registerBackend,
} from './index.js';

const started: NodeSessionOptions[] = [];
registerBackend({
  name: 'dummy',
  check: async () => null,
  defaults: { graphOptimization: 'basic' },
  start: (bytes, options) => {
    started.push(options);
    return ort.InferenceSession.create(bytes, ortOptions('cpu', options));
  },
});
registerBackend({
  name: 'broken',
  precondition: () => 'the broken backend never works',
  start: () => Promise.reject(new Error('unreachable')),
});

const model = () =>
  buildModel({ arch: 'v3-small', convention: 'torchvision', resolution: 64, weights: fanInFill(3), batch: 'dynamic' });
const input = fixedInput(2, 64);

describe('a backend registered from outside core', () => {
  it('is listed by availableBackends and backendNames after the built-in ones', async () => {
    expect(backendNames()).toEqual(['cpu', 'cuda', 'webgpu', 'dummy', 'broken']);
    const status = await availableBackends();
    expect(status.slice(3)).toEqual([
      { backend: 'dummy', available: true },
      { backend: 'broken', available: false, reason: 'the broken backend never works' },
    ]);
  });

  it("runs a session under its name, with its own settings under the caller's, and gives the logits cpu gives", async () => {
    const m = model();
    const dummy = await createSession(m, { backend: 'dummy', threads: 1 });
    const cpu = await createSession(m, { threads: 1 });
    expect([dummy.backend, dummy.requestedBackend, dummy.fallbackReason]).toEqual(['dummy', 'dummy', undefined]);
    expect(started.at(-1)).toMatchObject({ backend: 'dummy', threads: 1, graphOptimization: 'basic' });
    expect(maxAbsDiff(await dummy.logits(input, 2), await cpu.logits(input, 2))).toBeLessThan(1e-4);
    await Promise.all([dummy.release(), cpu.release()]);
    const all = await createSession(m, { backend: 'dummy', graphOptimization: 'all' });
    expect(started.at(-1)).toMatchObject({ graphOptimization: 'all' });
    await all.release();
  });

  it('one that cannot start is refused with its reason, or falls back to cpu when asked', async () => {
    await expect(createSession(model(), { backend: 'broken' })).rejects.toThrow(
      "option backend 'broken': expected a backend that works here, received the broken backend never works",
    );
    const s = await createSession(model(), { backend: 'broken', fallback: true });
    expect([s.backend, s.requestedBackend, s.fallbackReason]).toEqual([
      'cpu',
      'broken',
      'the broken backend never works',
    ]);
    await s.release();
  });

  it('names are checked: a second registration of a name, or a name that is not a plain word, is refused', async () => {
    const start = () => Promise.reject(new Error('unused'));
    expect(() => registerBackend({ name: 'dummy', start })).toThrow(
      "onnxruntime-node: registerBackend('dummy'): expected a name not registered yet, received 'dummy', registered already",
    );
    expect(() => registerBackend({ name: 'Not OK', start })).toThrow(
      'onnxruntime-node: registerBackend: name: expected lower-case letters, digits and dashes, starting with a letter, received "Not OK"',
    );
    await expect(createSession(model(), { backend: 'nowhere' })).rejects.toThrow(
      "option backend 'nowhere': expected a backend that works here, received backend 'nowhere' is not one of cpu, cuda, webgpu, dummy, broken in onnxruntime-node",
    );
  });
});
