// timm's registered MobileNets v1-v3 as users have them (full width, 1000 classes, 224x224), against timm's logits
// without timm: formula weights (testing-formula.ts) on timm's own keys and shapes (fixtures/timm/timm-keys.json),
// and timm's logits for them, committed by tools/fixtures/timm_registered_formula.py with timm 1.0.29. weights.test.ts
// also runs timm itself on these models when it can be imported; CI cannot.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Arch } from '../models/builtin.js';
import { toOnnx } from '../onnx/write.js';
import { runOrt } from '../../test/testing.js';
import {
  type FormulaLogits,
  formulaCheckpoint,
  formulaInput,
  formulaTensor,
  relError,
} from '../../test/testing-formula.js';
import { readCheckpoint, writeSafetensors } from './index.js';
import { buildWithWeights } from './load.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const KEYS = JSON.parse(readFileSync(join(FIXTURES, 'timm/timm-keys.json'), 'utf8')) as {
  timm: string;
  models: Record<string, { keys: Record<string, number[]> }>;
};
type RegisteredLogits = FormulaLogits & {
  recipe: string;
  arch: Arch;
  width: number;
  minimalistic: boolean;
  tf: boolean;
};
const DIR = join(FIXTURES, 'timm-registered');
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const record = (name: string): RegisteredLogits => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));

describe("timm's registered v1-v3 models, formula weights (committed logits; no timm needed)", () => {
  it('covers v1, v2, v3 and the tf_ ports, made by the timm whose keys are committed', () => {
    expect(NAMES).toHaveLength(10);
    expect(new Set(NAMES.map((n) => record(n).arch))).toEqual(new Set(['v1', 'v2', 'v3-large', 'v3-small']));
    for (const n of NAMES) expect(record(n).timm, n).toBe(KEYS.timm);
  });

  it.each(NAMES)(
    "%s: timm's keys load by identity from safetensors; our export gives timm's logits (rel < 1e-4)",
    async (name) => {
      const r = record(name);
      const keys = KEYS.models[name]!.keys;
      for (const [key, values] of Object.entries(r.probes)) {
        const v = formulaTensor(key, keys[key]!);
        for (const [i, want] of Object.entries(values))
          expect(v[Number(i)], `${key}[${i}]: the TypeScript twin's bits`).toBe(Math.fround(want));
      }
      const file = `${name}.safetensors`;
      const ckpt = readCheckpoint(writeSafetensors(formulaCheckpoint(keys)), file);
      // As a user loads them: timm's own models by their key layout, the tf_ ports with convention timm-tf.
      const shape = r.input.shape as number[];
      const m = buildWithWeights(
        {
          arch: r.arch,
          width: r.width,
          minimalistic: r.minimalistic,
          resolution: shape[2]!,
          ...(r.tf && { convention: 'timm-tf' as const }),
        },
        ckpt,
        { source: file },
      );
      expect([m.format, m.config.convention]).toEqual(['timm', r.tf ? 'timm-tf' : 'timm']);
      const out = await runOrt(toOnnx(m.graph), { input: { data: formulaInput(shape), dims: shape } });
      const rel = relError(out.logits!.data as Float32Array, r.logits);
      console.log(
        `${name}: rel ${rel.toExponential(2)} of max |logit| ${Math.max(...r.logits.map(Math.abs)).toFixed(2)}`,
      );
      expect(rel).toBeLessThan(1e-4);
    },
    60_000,
  );
});
