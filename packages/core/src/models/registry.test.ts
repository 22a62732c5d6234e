// The architecture registry: a family added from one file builds, analyses, exports, runs, loads weights and is
// refused options it does not take, like a built-in one; and the built-in families' facts come from the registry.
import { describe, expect, it, vi } from 'vitest';
import { analyze } from '../analysis.js';
import { TINY, TINY_CHANNELS } from '../../test/fixtures/tiny-family.js';
import { toOnnx } from '../onnx/write.js';
import { runOrt } from '../../test/testing.js';
import { buildWithWeights } from '../weights/load.js';
import { keyMap } from '../weights/mapping.js';
import type { CheckpointTensor } from '../weights/tensor.js';
import { buildModel } from './build.js';
import { CONVENTION } from './convention.js';
import { defineFamily } from './family.js';
import { convBnAct, finish } from './layers.js';
import type { ModelOptions } from './options.js';
import { ARCHS, type Arch, DENSE_ARCHS, isArch } from './builtin.js';
import { archs, archsWithOption, familyOf, familyOptions, registerFamily } from './registry.js';

/** A checkpoint holding a graph's own parameters under their names (float32). */
const checkpointOf = (
  g: ReturnType<typeof buildModel>['graph'],
  rename: (k: string) => string = (k) => k,
): Map<string, CheckpointTensor> =>
  new Map(
    g.initializers
      .filter((i) => !i.name.startsWith('const.') && i.data instanceof Float32Array)
      .map((i) => [
        rename(i.name),
        { dtype: 'F32' as const, shape: i.dims, bytes: new Uint8Array((i.data as Float32Array).buffer) },
      ]),
  );

describe('a family registered from one file', () => {
  registerFamily(TINY);
  const registered = (name: string): Arch => {
    if (!isArch(name)) throw new Error(`${name} was not registered`);
    return name;
  };
  const tiny = registered('tiny');

  it('is an arch: listed, found, with its default resolution and convention', () => {
    expect(archs()).toContain('tiny');
    expect(familyOf('tiny')).toBe(TINY);
    const { config } = buildModel({ arch: tiny, weights: null });
    expect([config.resolution, config.convention, config.classes, config.bnEps]).toEqual([
      64,
      'torchvision',
      1000,
      1e-5,
    ]);
  });

  it('builds, analyses and exports; onnxruntime runs it', async () => {
    const { graph, config } = buildModel({ arch: tiny, weights: 1, batch: 2 });
    // 3x3 conv 3 -> 8 at stride 2 on 64x64: 32 * 32 * 8 outputs of 27 MACs; the Linear 8 -> 1000.
    const a = analyze(graph);
    expect(a.macs).toBe(32 * 32 * TINY_CHANNELS * 27 + TINY_CHANNELS * 1000);
    expect(a.params).toBe(27 * TINY_CHANNELS + 2 * TINY_CHANNELS + TINY_CHANNELS * 1000 + 1000);
    const out = await runOrt(toOnnx(graph), {
      input: { data: new Float32Array(2 * 3 * 64 * 64).fill(0.5), dims: [2, 3, 64, 64] },
    });
    expect(out.logits!.dims).toEqual([2, config.classes]);
  });

  it('is refused options and conventions it does not take, naming the option, the rule and the arch', () => {
    expect(() => buildModel({ arch: tiny, minimalistic: true, weights: null })).toThrow(
      "option minimalistic: expected to be used with v3-large or v3-small only, received 'true with tiny'",
    );
    expect(() => buildModel({ arch: tiny, expansion: 4, weights: null })).toThrow(
      "option expansion: expected to be used with v2 only, received '4 with tiny'",
    );
    expect(() => buildModel({ arch: tiny, convention: 'keras', weights: null })).toThrow(
      "option convention: expected one of torchvision, reference for tiny, received 'keras'",
    );
  });

  it('loads its weights by its own key layout, checking every key and shape', () => {
    const seeded = buildModel({ arch: tiny, weights: 5 }).graph;
    const loaded = buildWithWeights({ arch: tiny }, checkpointOf(seeded), { source: 'tiny.pth' });
    expect([
      loaded.format,
      loaded.config.classes,
      loaded.graph.metadata['mobilenet.config']!.includes('"weights":"trained"'),
    ]).toEqual(['torchvision', 1000, true]);
    const narrower = checkpointOf(buildModel({ arch: tiny, width: 0.5, weights: 5 }).graph);
    expect(() => buildWithWeights({ arch: tiny }, narrower, { source: 'half.pth' })).toThrow(
      "half.pth: tensor 'features.0.0.weight': expected shape [8, 3, 3, 3] for tiny width 1, received [4, 3, 3, 3]",
    );
  });

  it('a name already taken is refused', () => {
    expect(() => registerFamily(TINY)).toThrow('registerFamily tiny: arch tiny is already registered');
  });
});

describe('a family declares its own options', () => {
  // No list in core names this option: the family's declaration is all there is.
  const WIDE = defineFamily({
    name: 'wide',
    archs: ['wide'],
    help: 'a one-conv test network whose channels are an option',
    conventions: { torchvision: CONVENTION.torchvision },
    defaultConvention: 'torchvision',
    options: {
      stemChannels: {
        name: 'stem-channels',
        neutral: 8,
        value: 'C',
        help: 'channels of the one conv, 1 to 64',
        check: { ok: (c) => Number.isInteger(c) && c >= 1 && c <= 64, expected: 'an integer from 1 to 64' },
      },
    },
    resolution: () => 32,
    dropout: 0,
    weights: { native: 'torchvision', classifier: { torchvision: 'fc' } },
    build: (net, input, _conv, _arch, options: { readonly stemChannels: number }) => {
      const x = convBnAct(net, input, 'stem', { out: options.stemChannels, kernel: 3, stride: 2, act: 'relu' });
      finish(net, x, (pooled) => net.b.linear(pooled, 'fc', net.cfg.classes));
    },
  });
  registerFamily(WIDE);
  const wide = (o: Partial<ModelOptions> & { stemChannels?: number }) =>
    ({ arch: 'wide', weights: null, ...o }) as ModelOptions;

  it('is listed with the archs that take it, and builds from its value (given or neutral)', () => {
    const option = familyOptions().find((o) => o.key === 'stemChannels');
    expect([option?.spec.name, option?.families.map((f) => f.name)]).toEqual(['stem-channels', ['wide']]);
    expect(archsWithOption('stemChannels')).toEqual(['wide']);
    const given = buildModel(wide({ stemChannels: 16 }));
    expect(given.config.options.stemChannels).toBe(16);
    expect(given.graph.initializers.find((i) => i.name === 'stem.0.weight')?.dims).toEqual([16, 3, 3, 3]);
    expect(buildModel(wide({})).config.options.stemChannels).toBe(8);
  });

  it('is checked by its rule, and refused by every other family', () => {
    expect(() => buildModel(wide({ stemChannels: 0 }))).toThrow(
      'option stem-channels: expected an integer from 1 to 64, received 0',
    );
    expect(() => buildModel({ arch: 'v2', stemChannels: 4, weights: null } as ModelOptions)).toThrow(
      "option stem-channels: expected to be used with wide only, received '4 with v2'",
    );
    expect(() => buildModel(wide({ expansion: 4 }))).toThrow(
      "option expansion: expected to be used with v2 only, received '4 with wide'",
    );
  });

  it('may be shared only with the same name and neutral value', () => {
    const clash = {
      ...WIDE,
      name: 'clash',
      archs: ['clash'],
      options: { stemChannels: { ...WIDE.options.stemChannels!, neutral: 4 } },
    };
    expect(() => registerFamily(clash)).toThrow(
      'registerFamily clash: option stemChannels is already registered as --stem-channels',
    );
  });
});

describe('the built-in families, from the registry', () => {
  it('are registered before any lookup, whichever module is imported first', async () => {
    for (const first of ['./options.js', '../weights/mapping.js', '../weights/load.js', '../pretrained/index.js']) {
      vi.resetModules();
      await import(first);
      const fresh = await import('./registry.js');
      expect([first, fresh.archs()]).toEqual([first, [...ARCHS, ...DENSE_ARCHS]]);
    }
  });

  it('lists every arch, v4 included, and which take each family option', () => {
    expect(ARCHS).toEqual([
      'v1',
      'v2',
      'v3-large',
      'v3-small',
      'v4-conv-small',
      'v4-conv-medium',
      'v4-conv-large',
      'v4-hybrid-medium',
      'v4-hybrid-large',
    ]);
    expect([archsWithOption('minimalistic'), archsWithOption('depthMultiplier'), archsWithOption('expansion')]).toEqual(
      [['v3-large', 'v3-small'], ['v1'], ['v2']],
    );
  });

  it('resolves the convention and the preprocessing once, onto the config', () => {
    const v1 = buildModel({ arch: 'v1', convention: 'timm', weights: null });
    // timm's v1 (inception mean/std) differs from its v2 (ImageNet's): the family, not a string test, says so.
    expect(v1.config.preprocessing.mean).toEqual([0.5, 0.5, 0.5]);
    expect(buildModel({ arch: 'v2', convention: 'timm', weights: null }).config.preprocessing.mean).toEqual([
      0.485, 0.456, 0.406,
    ]);
    expect(JSON.parse(v1.graph.metadata['mobilenet.preprocessing']!)).toEqual(v1.config.preprocessing);
    expect([
      buildModel({ arch: 'v3-small', convention: 'torchvision', weights: null }).config.bnEps,
      buildModel({ arch: 'v2', convention: 'torchvision', weights: null }).config.bnEps,
    ]).toEqual([1e-3, 1e-5]);
  });

  it('a v3 checkpoint given to a v4 arch: the error lists the first missing and unexpected keys', () => {
    const v3 = buildModel({ arch: 'v3-small', convention: 'torchvision', weights: 3 }).graph;
    const torchvisionKeys = checkpointOf(v3);
    expect(() => buildWithWeights({ arch: 'v4-conv-small' }, torchvisionKeys, { source: 'v3.pth' })).toThrow(
      /^v3\.pth: expected the \d+ timm keys of v4-conv-small width 1, received \d+ missing \(conv_stem\.weight, bn1\.weight, bn1\.bias, bn1\.running_mean and \d+ more\); \d+ unexpected \(features\.0\.0\.weight, features\.0\.1\.weight, features\.0\.1\.bias, features\.0\.1\.running_mean and \d+ more\)/,
    );
    const toTimm = keyMap(v3, 'v3-small', 'timm');
    const timmKeys = checkpointOf(v3, (k) => toTimm.get(k) ?? k);
    expect(() => buildWithWeights({ arch: 'v4-conv-small' }, timmKeys, { source: 'v3.safetensors' })).toThrow(
      /^v3\.safetensors: expected the \d+ timm keys of v4-conv-small width 1, received \d+ missing \(blocks\.0\.0\.conv\.weight, .*\); \d+ unexpected \(blocks\.0\.0\.conv_dw\.weight, .*\)/,
    );
  });
});
