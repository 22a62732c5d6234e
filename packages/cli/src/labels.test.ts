// Class names for fine-tuned heads: --labels FILE (one per line, or a JSON array) on export (kept in the file's
// metadata) and on classify; ImageNet's names for 1000 and 1001 classes without asking; bad files named.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeOnnx } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const IMAGE = join(ROOT, 'packages/runtime-node/test/fixtures/scene.jpg');
const tiny = ['--arch', 'v3-small', '--width', '0.35', '--resolution', '32', '--init', 'fan-in'];
const NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function file(name: string, text: string): string {
  const path = join(tmp(), name);
  writeFileSync(path, text);
  return path;
}

type Top = { index: number; label: string }[];
const topOf = (out: string): Top => (JSON.parse(out) as { top: Top }[])[0]!.top;

describe('--labels', () => {
  it('export --labels (one per line) stores the names; classify shows them, and --labels on classify overrides', async () => {
    const labels = file('cifar.txt', `${NAMES.join('\r\n')}\r\n`);
    const model = join(tmp(), 'ten.onnx');
    const e = await run('export', ...tiny, '--classes', '10', '--labels', labels, '-o', model);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(summarizeOnnx(readFileSync(model), model).metadata['mobilenet.labels']!)).toEqual(NAMES);
    const c = await run('classify', IMAGE, '--model', model, '--top', '10', '--json');
    expect(c.code, c.err).toBe(0);
    for (const p of topOf(c.out)) expect(p.label).toBe(NAMES[p.index]);
    // The library reads them too.
    const session = await createSession(model);
    expect(session.info.labels).toEqual(NAMES);
    await session.release();

    const upper = file('upper.json', JSON.stringify(NAMES.map((n) => n.toUpperCase())));
    const o = await run('classify', IMAGE, '--model', model, '--labels', upper, '--top', '3', '--json');
    expect(o.code, o.err).toBe(0);
    for (const p of topOf(o.out)) expect(p.label).toBe(NAMES[p.index]!.toUpperCase());
    const a = await run('classify', IMAGE, ...tiny, '--classes', '10', '--labels', upper, '--json');
    for (const p of topOf(a.out)) expect(p.label).toBe(NAMES[p.index]!.toUpperCase());
  });

  it("1000 classes get ImageNet's names, 1001 with 'background' first; other counts 'class N'", async () => {
    for (const [classes, first] of [
      ['1000', 'tench'],
      ['1001', 'background'],
      ['7', 'class 0'],
    ] as const) {
      const r = await run('classify', IMAGE, ...tiny, '--classes', classes, '--top', String(7), '--json');
      const top = topOf(r.out);
      expect(top.find((p) => p.index === 0)?.label ?? first, `classes ${classes}`).toBe(first);
    }
  });

  it('a wrong count, an empty name, bad JSON or a missing file: exit 2, one line naming the option and the file', async () => {
    const model = join(tmp(), 'ten.onnx');
    expect((await run('export', ...tiny, '--classes', '10', '-o', model)).code).toBe(0);
    const three = file('three.txt', 'a\nb\nc\n');
    const holes = file('holes.txt', `${NAMES.slice(0, 4).join('\n')}\n\n${NAMES.slice(5).join('\n')}\n`);
    const broken = file('broken.json', '["a", "b"');
    const numbers = file('numbers.json', JSON.stringify([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    const cases: [string[], string][] = [
      [
        ['classify', IMAGE, '--model', model, '--labels', three],
        `option --labels: '${three}': expected 10 class names (one per class of the model), received 3`,
      ],
      [
        ['export', ...tiny, '--labels', three, '-o', join(tmp(), 'x.onnx')],
        `option --labels: '${three}': expected 1001 class names (one per class of the model), received 3`,
      ],
      [
        ['classify', IMAGE, '--model', model, '--labels', holes],
        `option --labels: '${holes}': label 5: expected a class name, received an empty one`,
      ],
      [
        ['classify', IMAGE, '--model', model, '--labels', broken],
        `option --labels: '${broken}': expected a JSON array`,
      ],
      [
        ['classify', IMAGE, '--model', model, '--labels', numbers],
        `option --labels: '${numbers}': label 1: expected a string, received number`,
      ],
      [
        ['classify', IMAGE, '--model', model, '--labels', 'nothere.txt'],
        "option --labels: file 'nothere.txt' does not exist",
      ],
      [
        ['export', ...tiny, '--no-top', '--labels', three, '-o', join(tmp(), 'y.onnx')],
        `option --labels: expected a model with a classifier (not --no-top), received '${three}'`,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect([r.code, r.out], message).toEqual([2, '']);
      expect(r.err).toContain(`: ${message}`);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
