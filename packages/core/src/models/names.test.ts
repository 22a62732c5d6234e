import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analysis.js';
import { OPS } from '../ir/ops.js';
import { buildModel } from './build.js';
import type { ModelOptions } from './options.js';

// Made by tools/fixtures/torchvision_keys.py from torchvision itself.
const TV = JSON.parse(
  readFileSync(new URL('../../test/fixtures/torchvision-keys.json', import.meta.url), 'utf8'),
) as Record<string, { keys: Record<string, number[]>; params: number }>;

const CASES: Record<string, ModelOptions> = {
  v2: { arch: 'v2' },
  'v2-0.5': { arch: 'v2', width: 0.5 },
  'v3-large': { arch: 'v3-large' },
  'v3-large-0.75': { arch: 'v3-large', width: 0.75 },
  'v3-small': { arch: 'v3-small' },
  'v3-large-reduced-dilated': { arch: 'v3-large', reducedTail: true, dilated: true },
  'v3-small-reduced': { arch: 'v3-small', reducedTail: true },
};

/** Parameters and BN statistics by name: the initializers that a module owns (not Clip's scalar bounds). */
function stateDict(o: ModelOptions): Record<string, number[]> {
  const { graph } = buildModel({ ...o, convention: 'torchvision', weights: null });
  const owned = new Set(
    graph.nodes.flatMap((n) => n.inputs.filter((_, i) => OPS[n.op]!.roles?.[i] && OPS[n.op]!.roles![i] !== 'const')),
  );
  return Object.fromEntries(graph.initializers.filter((i) => owned.has(i.name)).map((i) => [i.name, [...i.dims]]));
}

describe('parameter names and shapes are torchvision state_dict keys', () => {
  for (const [name, o] of Object.entries(CASES)) {
    it(`${name}: same keys, same shapes, same parameter count`, () => {
      expect(stateDict(o)).toEqual(TV[name]!.keys);
      expect(analyze(buildModel({ ...o, convention: 'torchvision', weights: null }).graph).params).toBe(
        TV[name]!.params,
      );
    });
  }
});
