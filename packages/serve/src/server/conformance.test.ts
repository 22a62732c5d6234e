// The proof from outside for the server: tools/fixtures/oip_conformance.py, a client written only from the
// specifications (inference_rest.md, Triton's binary-data and classification extensions) with nothing but Python's
// standard library, runs every endpoint, JSON and binary tensors, FP32/FP16/BYTES, classification and the error
// objects against `startServer` on a real model; its numbers for encoded images must equal `session.classify`.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import { skipUnless } from '@mobilenet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGES, type Served, serveTestModel, writeTestModel } from '../../test/served.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const CLIENT = resolve(import.meta.dirname, '../../../../tools/fixtures/oip_conformance.py');
const skip = skipUnless(
  'python3',
  spawnSync(PYTHON, ['-c', 'import json, struct, urllib.request']).status === 0 ? null : `${PYTHON} cannot run`,
);

const softmax = (row: number[]) => {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe.skipIf(skip)('the spec-only conformance client against mobilenet serve', () => {
  const model = writeTestModel();
  let served: Served;
  beforeAll(async () => {
    served = await serveTestModel(model.path);
  });
  afterAll(async () => {
    await served?.close();
    model.remove();
  });

  it('passes every check, and its image results equal session.classify to 1e-6', async () => {
    // Not spawnSync: the server runs in this process's event loop.
    const r = await promisify(execFile)(PYTHON, [CLIENT, served.url, 'tiny', ...IMAGES], { timeout: 60_000 }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    const out = JSON.parse(r.stdout || '{}');
    expect(out.failed, r.stderr).toBeUndefined();
    expect(out.checks.length).toBeGreaterThan(80);
    const width: number = out.width;
    const expected = await served.session.classify(IMAGES, { topK: 5 });
    expected.forEach((e, i) => {
      if (!e.ok) throw new Error(e.error);
      const probs = softmax(out.image_logits.slice(i * width, (i + 1) * width));
      // a peaked softmax (see test/served.ts), so 1e-6 is a tight bound and not one on uniform probabilities
      expect(e.top[0]!.probability).toBeGreaterThan(0.1);
      for (const p of e.top) expect(Math.abs(probs[p.index]! - p.probability)).toBeLessThanOrEqual(1e-6);
      const served5 = (out.image_classes as string[]).slice(i * 5, (i + 1) * 5).map((s) => s.split(':'));
      expect(served5.map((s) => Number(s[1]))).toEqual(e.top.map((p) => p.index));
      expect(served5.map((s) => s.slice(2).join(':'))).toEqual(e.top.map((p) => p.label));
    });
    // The error objects name what was wrong.
    expect(out.errors['unknown model']).toContain("unknown model 'no-such-model'");
    expect(out.errors['unknown version']).toContain("no version '999999'");
    expect(out.errors['data vs shape']).toMatch(/inputs\[0\]/);
    expect(out.errors['not an image']).toContain("'image' element 0");
  });
});
