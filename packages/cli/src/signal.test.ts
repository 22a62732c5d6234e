// A dead network says so: a file with trained weights whose logits are flat gets a warning from classify, and
// export says on its `wrote` line whether the weights are seeded or trained.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '@mobilenet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { formulaCheckpoint } from '@mobilenet/core/testing';
import { ROOT, cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const IMAGES = ['scene.jpg', 'tall.png'].map((f) => join(ROOT, 'packages/runtime-node/test/fixtures', f));
const KEYS = (
  JSON.parse(readFileSync(join(ROOT, 'packages/core/test/fixtures/torchvision-keys.json'), 'utf8')) as Record<
    string,
    { keys: Record<string, number[]> }
  >
)['v3-small']!.keys;

/** torchvision's v3-small keys with formula weights; `dead` zeroes the classifier, so every logit is 0. */
function checkpoint(dead: boolean): string {
  const tensors = formulaCheckpoint(KEYS);
  if (dead)
    for (const k of ['classifier.3.weight', 'classifier.3.bias'])
      tensors[k] = { ...tensors[k]!, bytes: new Uint8Array(tensors[k]!.bytes.length) };
  const file = join(tmp(), dead ? 'dead.safetensors' : 'alive.safetensors');
  writeFileSync(file, writeSafetensors(tensors));
  return file;
}

describe('a network that carries no signal is said to', () => {
  it('classify warns when the logits of a trained file span less than 1e-6; a working one gets no warning', async () => {
    const dir = tmp();
    const warning =
      'warning: the logits of every image (2) span less than 1e-6: they carry no signal (every class gets the same probability)';
    for (const dead of [true, false]) {
      const file = join(dir, `${dead}.onnx`);
      const weights = checkpoint(dead);
      const e = await run('export', '--arch', 'v3-small', '--resolution', '64', '--weights', weights, '-o', file);
      expect(e.code, e.err).toBe(0);
      expect(e.err).toContain(`trained weights from ${weights}`);
      const table = await run('classify', ...IMAGES, '--model', file);
      expect(table.code, table.err).toBe(0);
      if (dead) {
        expect(table.out).toContain('0.0010');
        expect(table.err).toContain(`mobilenet classify: ${warning}`);
      } else expect(table.err).toBe('');
      const jsonl = join(dir, `${dead}.jsonl`);
      const lines = await run('classify', ...IMAGES, '--model', file, '--jsonl', jsonl);
      expect(lines.err.includes(warning)).toBe(dead);
    }
  });

  it('a seeded file is not warned about twice: its labels are already said to carry no meaning', async () => {
    const file = join(tmp(), 'seeded.onnx');
    const e = await run('export', '--arch', 'v3-small', '--resolution', '64', '-o', file);
    expect(e.code).toBe(0);
    const r = await run('classify', IMAGES[0]!, '--model', file);
    expect(r.err).toBe(
      `mobilenet classify: ${file} was exported with seeded random weights; the labels carry no meaning\n`,
    );
  });

  it("export without --weights says on its 'wrote' line that the weights are seeded, with the init and seed", async () => {
    const file = join(tmp(), 'm.onnx');
    const r = await run('export', '--arch', 'v2', '--resolution', '64', '--seed', '7', '--init', 'fan-in', '-o', file);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      new RegExp(
        `^wrote ${file}: mobilenet_v2_1_64 \\(reference\\), seeded weights \\(fan-in init, seed 7; the labels carry no meaning: --weights FILE for trained ones\\), `,
      ),
    );
  });
});
