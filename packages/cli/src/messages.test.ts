// What a newcomer reads: help that says when --arch is an alternative, "did you mean" for archs, a checkpoint given
// as a model named as such, an unavailable backend said as the machine's failure, unused values still checked,
// progress without a made-up rate, summaries after --jsonl and profile --svg, small samples said.
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeZip } from '@mobilenet/core/testing';
import { writeSafetensors } from '@mobilenet/core';
import { availableBackends } from '@mobilenet/runtime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Progress } from './progress.js';
import { ROOT, cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const FIX = join(ROOT, 'packages/runtime-node/test/fixtures');
const IMAGE = join(FIX, 'scene.jpg');
const tiny = ['--arch', 'v3-small', '--width', '0.35', '--resolution', '32', '--init', 'fan-in'];

/** One line on stderr, exit 2, nothing on stdout. */
async function usage(argv: string[], message: string): Promise<void> {
  const r = await run(...argv);
  expect([r.code, r.out, r.err], argv.join(' ')).toEqual([2, '', `mobilenet ${argv[0]}: ${message}\n`]);
}

describe('help', () => {
  it('--arch is "required" only where it is; elsewhere the help says what it stands in for', async () => {
    expect((await run('export', '--help')).out).toContain(
      '--arch A                         architecture, instead of a pretrained --weights NAME; one of:',
    );
    expect((await run('info', '--help')).out).toContain('architecture, instead of FILE.onnx; one of:');
    expect((await run('profile', '--help')).out).toContain('architecture, instead of FILE.onnx|NAME; one of:');
    for (const command of ['classify', 'embed']) {
      const help = (await run(command, '--help')).out;
      expect(help, command).toContain('architecture, instead of --model FILE|NAME; one of:');
      expect(help, command).not.toContain('(required)');
    }
  });

  it('--arch v3-smal suggests v3-small', async () => {
    const r = await run('info', '--arch', 'v3-smal');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/received 'v3-smal'; did you mean v3-small\?\n$/);
  });

  it('every package description says v1-v4, none v1/v2/v3', () => {
    for (const dir of ['packages', 'apps'])
      for (const name of readdirSync(join(ROOT, dir))) {
        const text = readFileSync(join(ROOT, dir, name, 'package.json'), 'utf8');
        const { description } = JSON.parse(text) as { description: string };
        expect(description, name).not.toMatch(/v1\/v2\/v3|v1, v2 and v3/);
        if (/v1/.test(description)) expect(description, name).toContain('v1-v4');
      }
  });
});

describe('a checkpoint where an ONNX file belongs', () => {
  it('a PyTorch zip, a legacy pickle and a safetensors file are named, with the export command to make one', async () => {
    const dir = tmp();
    const zip = join(dir, 'mobilenet_v2.pth');
    writeFileSync(
      zip,
      makeZip({ 'archive/data.pkl': Uint8Array.of(0x80, 0x02, 0x7d, 0x2e), 'archive/version': Uint8Array.of(0x33) }),
    );
    const legacy = join(dir, 'legacy.pth');
    writeFileSync(legacy, Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50));
    const st = join(dir, 'model.safetensors');
    writeFileSync(st, writeSafetensors({ x: { dtype: 'F32', shape: [1], bytes: new Uint8Array(4) } }));
    const hint = (f: string) =>
      `make an ONNX file from it with \`mobilenet export --arch A --weights '${f}' -o model.onnx\``;
    await usage(
      ['classify', IMAGE, '--model', zip],
      `option --model: '${zip}' is a PyTorch checkpoint (a zip archive with data.pkl), not an ONNX model: ${hint(zip)}`,
    );
    await usage(
      ['embed', IMAGE, '--model', legacy, '-o', join(dir, 'e.npy')],
      `option --model: '${legacy}' is a PyTorch checkpoint (a pickle), not an ONNX model: ${hint(legacy)}`,
    );
    await usage(['info', st], `argument FILE: '${st}' is a safetensors checkpoint, not an ONNX model: ${hint(st)}`);
    await usage(
      ['profile', zip],
      `argument FILE: '${zip}' is a PyTorch checkpoint (a zip archive with data.pkl), not an ONNX model: ${hint(zip)}`,
    );
  });
});

// Why CUDA cannot start here, as runtime-node's own check says it (null where it can).
const cuda = (await availableBackends()).find((b) => b.backend === 'cuda')?.reason ?? null;

describe('an unavailable backend is a failure of the machine (exit 1), said in words', () => {
  it.skipIf(cuda === null)('classify --backend cuda without CUDA: "CUDA is not available here: <why>"', async () => {
    const model = join(tmp(), 'm.onnx');
    expect((await run('export', ...tiny, '-o', model)).code).toBe(0);
    const r = await run('classify', IMAGE, '--model', model, '--backend', 'cuda');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`mobilenet classify: CUDA is not available here: ${cuda} (--fallback runs on cpu instead;`);
    const e = await run('embed', IMAGE, '--model', model, '--backend', 'cuda', '-o', join(tmp(), 'e.npy'));
    expect(e.code).toBe(1);
    expect(e.err).toContain(`mobilenet embed: CUDA is not available here: ${cuda} (--backend cpu runs it on the CPU;`);
  });
});

describe('every value is checked, used or not', () => {
  it('--weights-format keras without --weights is refused for its value; a valid one for the missing --weights', async () => {
    const out = join(tmp(), 'm.onnx');
    await usage(
      ['export', ...tiny, '--weights-format', 'keras', '-o', out],
      "option --weights-format: expected one of torchvision, timm, auto, received 'keras'",
    );
    await usage(
      ['export', ...tiny, '--weights-format', 'timm', '-o', out],
      'option --weights-format: expected --weights FILE to go with it, received no --weights',
    );
    await usage(
      ['export', ...tiny.slice(0, -2), '--init', 'xavier', '-o', out],
      "option --init: expected one of torchvision, fan-in, received 'xavier'",
    );
  });
});

describe('progress and summaries', () => {
  it('the progress bar shows no rate until one is measured', () => {
    let err = '';
    const p = new Progress({ out: () => {}, err: (t) => void (err += t), isTty: true }, 12, 'classify');
    p.tick(1);
    expect(err).toContain('1/12');
    expect(err).not.toMatch(/\/s|eta/);
  });

  it('profile --svg says what it wrote; a profile from 3 images warns that the sample is small', async () => {
    const dir = tmp();
    for (const f of ['scene.jpg', 'tall.png', 'scene.png']) copyFileSync(join(FIX, f), join(dir, f));
    const prefix = join(tmp(), 'p');
    const r = await run('profile', ...tiny, '--runs', '1', '--images', dir, '--svg', prefix);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(
      `mobilenet profile: warning: only 3 images in ${dir}: the pipeline stages are averaged over few samples`,
    );
    expect(r.err).toContain(`mobilenet profile: wrote ${prefix}-ops.svg, ${prefix}-layers.svg, ${prefix}-stages.svg\n`);
    expect(readFileSync(`${prefix}-ops.svg`, 'utf8')).toMatch(/^<svg/);
  });
});
