// The pretrained tables against their sources: torchvision's Weights enums (Debian's torchvision 0.14, run now),
// timm's keys (committed fixtures), and the name parser's refusals (no path out of the cache from a name).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipUnless } from '@mobilenet/test-support';
import { IMAGENET_LABELS } from '../data/imagenet-labels.js';
import { toOnnx } from '../onnx/write.js';
import { runOrt } from '../../test/testing.js';
import { type FormulaLogits, formulaCheckpoint, formulaInput, relError } from '../../test/testing-formula.js';
import { writeSafetensors, readCheckpoint } from '../weights/index.js';
import {
  TIMM_ARCHITECTURES,
  TIMM_TAGS,
  TORCHVISION_BASE_URL,
  TORCHVISION_DEFAULTS,
  TORCHVISION_WEIGHTS,
  buildPretrained,
  hashPrefixOf,
  parseWeightsName,
  readTimmConfig,
  timmSpec,
  torchvisionNames,
  torchvisionSpec,
} from './index.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const json = (p: string) => JSON.parse(readFileSync(FIXTURES + p, 'utf8'));

/** torchvision 0.14's own enums, as JSON: url, transforms, meta, and each enum's DEFAULT. */
const TORCHVISION_SCRIPT = `
import json, torchvision
from torchvision.models import get_weight
from torchvision.models._meta import _IMAGENET_CATEGORIES
out = {"version": torchvision.__version__, "weights": {}, "defaults": {}, "imagenet": list(_IMAGENET_CATEGORIES)}
for enum, values in json.loads(input()).items():
    for v in values:
        w = get_weight(enum + "." + v)
        t = w.transforms()
        tr = {k: getattr(t, k) for k in ("resize_size", "crop_size", "mean", "std") if hasattr(t, k)}
        if hasattr(t, "interpolation"): tr["interpolation"] = t.interpolation.value
        m = w.meta
        out["weights"][enum + "." + v] = {"url": w.url, "transforms": type(t).__name__, "tr": tr,
            "num_params": m["num_params"], "categories": len(m["categories"]), "metrics": m["_metrics"], "recipe": m["recipe"]}
    out["defaults"][enum] = get_weight(enum + ".DEFAULT").url
print(json.dumps(out))
`;

const torchvision = (() => {
  const enums: Record<string, string[]> = {};
  for (const w of TORCHVISION_WEIGHTS) (enums[w.enum] ??= []).push(w.value);
  const r = spawnSync(PYTHON, ['-c', TORCHVISION_SCRIPT], { input: JSON.stringify(enums), encoding: 'utf8' });
  const why =
    r.status === 0
      ? null
      : `${PYTHON} cannot run torchvision: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return {
    skip: skipUnless('torchvision (python3-torchvision)', why),
    out: r.status === 0 ? JSON.parse(r.stdout) : null,
  };
})();

describe("torchvision's weights table", () => {
  it.skipIf(torchvision.skip !== null)(
    `every row is torchvision's own enum value: url, transforms (resize 232 for V2), params, categories, metrics, DEFAULT ${torchvision.skip ?? ''}`,
    () => {
      const tv = torchvision.out!;
      for (const w of TORCHVISION_WEIGHTS) {
        const theirs = tv.weights[`${w.enum}.${w.value}`];
        expect(`${TORCHVISION_BASE_URL}/${w.file}`, w.file).toBe(theirs.url);
        expect(w.numParams).toBe(theirs.num_params);
        expect(w.categories.count).toBe(theirs.categories);
        expect(w.recipe).toBe(theirs.recipe);
        expect({ [w.metrics.dataset]: w.metrics.values }).toEqual(theirs.metrics);
        if (w.transforms.kind === 'classification') {
          expect(theirs.transforms).toBe('ImageClassification');
          expect(theirs.tr).toEqual({
            resize_size: [w.transforms.resize],
            crop_size: [w.transforms.crop],
            mean: [...w.transforms.mean],
            std: [...w.transforms.std],
            interpolation: w.transforms.interpolation,
          });
        } else if (w.transforms.kind === 'segmentation') {
          expect(theirs.transforms).toBe('SemanticSegmentation');
          expect(theirs.tr.resize_size).toEqual([w.transforms.resize]);
        } else expect(theirs.transforms).toBe('ObjectDetection');
      }
      for (const [model, value] of Object.entries(TORCHVISION_DEFAULTS)) {
        const w = TORCHVISION_WEIGHTS.find((x) => x.model === model && x.value === value)!;
        expect(`${TORCHVISION_BASE_URL}/${w.file}`, `${model} DEFAULT`).toBe(tv.defaults[w.enum]);
      }
      // Our ImageNet labels are torchvision's categories, in order: classify prints torchvision's words.
      expect([...IMAGENET_LABELS]).toEqual(tv.imagenet);
    },
  );

  it("reads the hash prefix as torch.hub's HASH_REGEX does, and the V2 weights resize to 232", () => {
    expect(TORCHVISION_WEIGHTS.map((w) => hashPrefixOf(w.file))).toEqual([
      'b0353104',
      '7ebf99e0',
      '8738ca79',
      '5c1a4163',
      '047dcff4',
      'a79551df',
      'd234d4ea',
      'fc3c493d',
    ]);
    expect(hashPrefixOf('mobilenet_v2.pth')).toBeUndefined();
    expect(hashPrefixOf('resnet18-f37072fd.pth')).toBe('f37072fd');
    const v2 = parseWeightsName('torchvision:mobilenet_v3_large');
    expect(v2.kind === 'torchvision' && v2.name).toBe('torchvision:mobilenet_v3_large.IMAGENET1K_V2');
    const spec = torchvisionSpec((v2 as { weights: (typeof TORCHVISION_WEIGHTS)[number] }).weights, 'n', 'u', 's');
    expect(spec.preprocessing).toMatchObject({ resize: 232, size: 224, interpolation: 'bilinear' });
    expect(spec.options).toEqual({ arch: 'v3-large', width: 1, convention: 'torchvision' });
    const v1 = parseWeightsName('torchvision:mobilenet_v3_large.IMAGENET1K_V1');
    expect(v1.kind === 'torchvision' && v1.weights.transforms).toMatchObject({ resize: 256 });
  });

  it('names every model and value, and refuses the detection and segmentation weights to build, by name', () => {
    expect(torchvisionNames()).toContain('torchvision:mobilenet_v2.IMAGENET1K_V1');
    expect(torchvisionNames()).toContain('torchvision:ssdlite320_mobilenet_v3_large');
    const lraspp = parseWeightsName('torchvision:lraspp_mobilenet_v3_large');
    expect(() =>
      torchvisionSpec((lraspp as { weights: (typeof TORCHVISION_WEIGHTS)[number] }).weights, lraspp.kind, '', ''),
    ).toThrow(/expected classification weights .*received lraspp_mobilenet_v3_large, a segmentation model/);
  });
});

describe("timm's architectures", () => {
  const v13 = json('timm/timm-keys.json') as { models: Record<string, { keys: Record<string, number[]> }> };
  const v4 = json('timm-v4/timm-v4-keys.json') as { models: Record<string, { keys: Record<string, number[]> }> };

  it('are exactly the models whose keys are checked against timm, and every listed tag is one of them', () => {
    expect(Object.keys(TIMM_ARCHITECTURES).sort()).toEqual(
      [...Object.keys(v13.models), ...Object.keys(v4.models)].sort(),
    );
    for (const t of TIMM_TAGS) expect(TIMM_ARCHITECTURES, t.name).toHaveProperty(t.name.split('.')[0]!);
  });

  const logitCases = [
    ['mobilenetv1_100', 'timm-registered/mobilenetv1_100.json', 'timm/timm-keys.json'],
    ['mobilenetv2_100', 'timm-registered/mobilenetv2_100.json', 'timm/timm-keys.json'],
    [
      'tf_mobilenetv3_large_minimal_100',
      'timm-registered/tf_mobilenetv3_large_minimal_100.json',
      'timm/timm-keys.json',
    ],
    ['mobilenetv4_conv_small', 'timm-v4/logits/mobilenetv4_conv_small.json', 'timm-v4/timm-v4-keys.json'],
  ] as const;
  it.each(logitCases)(
    "%s: config.json's architecture alone builds the model whose logits are timm's (no arch given)",
    async (architecture, logits, keysFile) => {
      const r = json(logits) as FormulaLogits;
      const keys = (json(keysFile) as typeof v13).models[architecture]!.keys;
      const config = JSON.stringify({
        architecture,
        num_classes: 1000,
        pretrained_cfg: { input_size: [3, 224, 224], crop_pct: 0.875, interpolation: 'bicubic', license: 'apache-2.0' },
      });
      const cfg = readTimmConfig(config, 'config.json');
      const spec = timmSpec(cfg, `hf-hub:timm/${architecture}.x`, 'u', 's', 'config.json');
      const ckpt = readCheckpoint(writeSafetensors(formulaCheckpoint(keys)), 'model.safetensors');
      const size = r.input.shape[2]!;
      const m = buildPretrained(spec, ckpt, { resolution: size });
      const shape = [...r.input.shape];
      const out = await runOrt(toOnnx(m.graph), { input: { data: formulaInput(shape), dims: shape } });
      expect(relError(out.logits!.data as Float32Array, r.logits)).toBeLessThan(1e-4);
      expect(JSON.parse(m.graph.metadata['mobilenet.weights']!)).toMatchObject({ license: 'apache-2.0' });
    },
  );

  it("turns pretrained_cfg into timm's eval transform, and refuses what we cannot reproduce", () => {
    const cfg = (p: object) =>
      readTimmConfig(JSON.stringify({ architecture: 'mobilenetv3_large_100', pretrained_cfg: p }), 'config.json');
    expect(cfg({ input_size: [3, 224, 224], crop_pct: 0.95, interpolation: 'bicubic' }).preprocessing).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resizeMode: 'crop',
      resize: 235,
      size: 224,
      interpolation: 'bicubic',
    });
    // mobilenetv3_large_100.miil_in21k_ft_in1k: mean 0, std 1, bilinear.
    expect(cfg({ mean: [0, 0, 0], std: [1, 1, 1], interpolation: 'bilinear' }).preprocessing).toMatchObject({
      mean: [0, 0, 0],
      std: [1, 1, 1],
      resize: 256,
    });
    expect(() => cfg({ crop_mode: 'border' })).toThrow(/crop_mode: expected 'center'/);
    expect(() => cfg({ interpolation: 'nearest' })).toThrow(/interpolation: expected 'bilinear' or 'bicubic'/);
    expect(() => cfg({ input_size: [3, 224, 256] })).toThrow(/input_size: expected \[3, H, H\]/);
    expect(() => cfg({ std: [1, 0, 1] })).toThrow(/std: expected 3 finite numbers above 0/);
    expect(() => readTimmConfig('{"architecture": "resnet50"}', 'config.json')).not.toThrow();
    const resnet = readTimmConfig('{"architecture": "resnet50"}', 'config.json');
    expect(() =>
      timmSpec(resnet, 'hf-hub:timm/resnet50.a1_in1k', '', '', 'hf-hub:timm/resnet50.a1_in1k config.json'),
    ).toThrow(
      /config.json: architecture: expected one of the timm architectures we build: mobilenetv1_100, .*mobilenetv4_conv_small.*, received 'resnet50'/,
    );
  });
});

describe('names', () => {
  it('parses the four kinds', () => {
    expect(parseWeightsName('hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k')).toEqual({
      kind: 'hf-hub',
      name: 'hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k',
      repo: 'timm/mobilenetv4_conv_small.e2400_r224_in1k',
      revision: 'main',
    });
    expect(parseWeightsName('hf-hub:timm/x@v1.0')).toMatchObject({ revision: 'v1.0' });
    expect(parseWeightsName('https://example.com/m/model-1a2b3c4d.pth')).toMatchObject({
      kind: 'url',
      file: 'model-1a2b3c4d.pth',
    });
    expect(parseWeightsName('http://127.0.0.1:8080/x.pth')).toMatchObject({ kind: 'url' });
    expect(parseWeightsName('weights/model.pth')).toEqual({ kind: 'path', path: 'weights/model.pth' });
  });

  it.each([
    ['torchvision:mobilenet_v4', /expected a torchvision model we know: mobilenet_v2, .*received 'mobilenet_v4'/],
    [
      'torchvision:mobilenet_v2.IMAGENET1K_V3',
      /expected one of IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT for mobilenet_v2/,
    ],
    ['torchvision:../../etc/passwd', /expected torchvision:MODEL/],
    ['hf-hub:timm/../../../etc', /expected hf-hub:OWNER\/NAME/],
    ['hf-hub:../timm', /expected hf-hub:OWNER\/NAME/],
    ['hf-hub:timm/a--b', /expected hf-hub:OWNER\/NAME/],
    ['hf-hub:timm/a/b', /expected hf-hub:OWNER\/NAME/],
    ['hf-hub:/etc/passwd', /expected hf-hub:OWNER\/NAME/],
    ['hf-hub:timm/x.git', /expected hf-hub:OWNER\/NAME/],
    ['hf-hub:timm/x@../../refs', /expected a revision/],
    [
      'http://example.com/model.pth',
      /expected https:\/\/ \(plain http:\/\/ only for 127.0.0.1 or localhost\), received http:\/\/ to example.com/,
    ],
    ['https://example.com/models/', /expected a URL whose last path segment is a file name/],
    ['https://example.com/a/..%2F..%2Fx.pth', /expected a URL whose last path segment is a file name/],
    ['https://user:pw@example.com/x.pth', /without credentials/],
  ])('refuses %s before any request', (name, message) => {
    expect(() => parseWeightsName(name)).toThrow(message);
  });
});
