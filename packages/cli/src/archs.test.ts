// Every architecture in the registry goes through the CLI: MobileNetV4 with the paper's resolutions, the options
// it does not take refused by name, a v3 checkpoint refused with the keys that differ, and a family registered
// from one file accepted like a built-in one.
import { join, resolve } from 'node:path';
import { registerFamily } from '@mobilenet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY } from '@mobilenet/core/testing';
import { cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const SCENE = resolve(import.meta.dirname, '../../runtime-node/test/fixtures/scene.png');
const V3_TIMM = resolve(import.meta.dirname, '../../core/test/fixtures/timm/mobilenetv3_small_050.safetensors');
const V4 = ['v4-conv-small', 'v4-conv-medium', 'v4-conv-large', 'v4-hybrid-medium', 'v4-hybrid-large'];

describe('mobilenet with --arch v4-*', () => {
  it("info: the paper's resolution per model by default; --width and --resolution as given", async () => {
    const res: number[] = [];
    for (const arch of V4) {
      const r = await run('info', '--arch', arch, '--json');
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect([j.arch, j.convention]).toEqual([arch, 'timm']);
      res.push(j.resolution);
    }
    expect(res).toEqual([224, 256, 384, 256, 384]);
    const half = JSON.parse(
      (await run('info', '--arch', 'v4-conv-small', '--width', '0.5', '--resolution', '128', '--json')).out,
    );
    expect(half).toMatchObject({ arch: 'v4-conv-small', width: 0.5, resolution: 128 });
  });

  it('export writes a file info reads back; classify runs it and builds one from --arch', async () => {
    const file = join(tmp(), 'hm.onnx');
    const e = await run('export', '--arch', 'v4-hybrid-medium', '--resolution', '64', '--batch', 'dynamic', '-o', file);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse((await run('info', file, '--json')).out)).toMatchObject({
      arch: 'v4-hybrid-medium',
      width: 1,
      resolution: 64,
    });
    const fromFile = await run('classify', SCENE, '--model', file, '--json', '--top', '3');
    expect(fromFile.code, fromFile.err).toBe(0);
    expect(JSON.parse(fromFile.out)[0].top).toHaveLength(3);
    const built = await run('classify', SCENE, '--arch', 'v4-conv-small', '--resolution', '64', '--json');
    expect(built.code, built.err).toBe(0);
    expect(JSON.parse(built.out)[0].ok).toBe(true);
  }, 120_000);

  it.each([
    [['--minimalistic'], 'option --minimalistic: expected --arch v3-large or v3-small, received --arch v4-conv-small'],
    [['--reduced-tail'], 'option --reduced-tail: expected --arch v3-large or v3-small, received --arch v4-conv-small'],
    [['--depth-multiplier', '2'], 'option --depth-multiplier: expected --arch v1, received --arch v4-conv-small'],
    [
      ['--convention', 'keras'],
      "option --convention: expected one of timm, reference for v4-conv-small, received 'keras'",
    ],
  ])('%j with v4: exit 2, naming the option and the arch', async (extra, message) => {
    const r = await run('info', '--arch', 'v4-conv-small', ...extra);
    expect([r.code, r.err]).toEqual([2, `mobilenet info: ${message}\n`]);
  });

  it('a v3 checkpoint for a v4 arch: exit 1, listing the first missing and unexpected keys', async () => {
    const r = await run('export', '--arch', 'v4-conv-small', '--weights', V3_TIMM, '-o', join(tmp(), 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /expected the \d+ timm keys of v4-conv-small width 1, received \d+ missing \(blocks\.0\.0\.conv\.weight, [^)]*\); \d+ unexpected \(blocks\.0\.0\.bn2\.bias, [^)]*\)/,
    );
  });
});

describe('a family registered from one file', () => {
  registerFamily(TINY);

  it('passes --arch validation: info, export; refused the options it does not take', async () => {
    const info = await run('info', '--arch', 'tiny', '--json');
    expect(info.code, info.err).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({ arch: 'tiny', resolution: 64 });
    const e = await run('export', '--arch', 'tiny', '-o', join(tmp(), 'tiny.onnx'));
    expect(e.code, e.err).toBe(0);
    const bad = await run('info', '--arch', 'tiny', '--expansion', '4');
    expect([bad.code, bad.err]).toEqual([
      2,
      'mobilenet info: option --expansion: expected --arch v2, received --arch tiny\n',
    ]);
    expect((await run('info', '--arch', 'tinyy')).err).toContain(
      'expected one of v1, v2, v3-large, v3-small, v4-conv-small, v4-conv-medium, v4-conv-large, v4-hybrid-medium, v4-hybrid-large, ssdlite320-v3-large, lraspp-v3-large, deeplabv3-v3-large, tiny, received',
    );
  });
});
