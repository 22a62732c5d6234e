import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const out = () => join(tmp(), 'm.onnx');

/**
 * Bad invocations and the option each must name. Every one exits 2 with exactly one line on stderr saying the
 * option, what is allowed and what was received; nothing on stdout.
 */
const BAD: [string[], string][] = [
  [['info', '--arch', 'v2', '--width', '-1'], "option --width: expected a number from 0.05 to 4, received '-1'"],
  [['info', '--arch', 'v2', '--width'], 'option --width: expected a number from 0.05 to 4, received nothing'],
  [
    ['info', '--arch', 'v2', '--width', '--json'],
    "option --width: expected a number from 0.05 to 4, received the option '--json'",
  ],
  [['info', '--arhc', 'v2'], 'option --arhc: unknown; did you mean --arch?'],
  [['info', '--arch', 'v2', '--widht', '1'], 'option --widht: unknown; did you mean --width?'],
  [['info', '--arch', 'v2', '--frobnicate'], 'option --frobnicate: unknown; see --help for the options'],
  [['info', '--arch', 'v2', '--width', 'abc'], "option --width: expected a number from 0.05 to 4, received 'abc'"],
  [
    ['info', '--arch', 'v2', '--width', '1e-300'],
    "option --width: expected a number from 0.05 to 4, received '1e-300'",
  ],
  [['info', '--arch', 'v2', '--width', '0x1'], "option --width: expected a number from 0.05 to 4, received '0x1'"],
  [
    ['info', '--arch', 'v2', '--width', 'Infinity'],
    "option --width: expected a number from 0.05 to 4, received 'Infinity'",
  ],
  [['info', '--arch', 'v2', '--width', ''], "option --width: expected a number from 0.05 to 4, received ''"],
  [
    ['info', '--arch', 'v2', '--resolution', '0x20'],
    "option --resolution: expected a multiple of 32 from 32 to 1024, received '0x20'",
  ],
  [
    ['info', '--arch', 'v2', '--resolution', '224.0'],
    "option --resolution: expected a multiple of 32 from 32 to 1024, received '224.0'",
  ],
  [
    ['info', '--arch', 'v2', '--resolution', '8192'],
    "option --resolution: expected a multiple of 32 from 32 to 1024, received '8192' (pass --allow-large for more)",
  ],
  [
    ['info', '--arch', 'v2', '--classes', '1000000'],
    "option --classes: expected an integer from 1 to 32768, received '1000000' (pass --allow-large for more)",
  ],
  [
    ['info', '--arch', 'v1', '--reduced-tail'],
    'option --reduced-tail: expected --arch v3-large or v3-small, received --arch v1',
  ],
  [['info', '--arch', 'v2', '--dilated'], 'option --dilated: expected --arch v3-large or v3-small, received --arch v2'],
  [
    ['info', '--arch', 'v2', '--depth-multiplier', '2'],
    'option --depth-multiplier: expected --arch v1, received --arch v2',
  ],
  [['info', '--arch', 'v1', '--expansion', '4'], 'option --expansion: expected --arch v2, received --arch v1'],
  [['info', '--arch', 'v2', '--bn-eps', '0'], "option --bn-eps: expected a number from 1e-12 to 0.5, received '0'"],
  [['info', '--arch', 'v2', '--dropout', '1'], "option --dropout: expected a number from 0 to 0.99, received '1'"],
  [
    ['info', '--arch', 'v2', '--convention', 'pytorch'],
    "option --convention: expected one of reference, torchvision, keras, timm, timm-tf, received 'pytorch'",
  ],
  [
    ['info', '--arch'],
    'option --arch: expected one of v1, v2, v3-large, v3-small, v4-conv-small, v4-conv-medium, v4-conv-large, v4-hybrid-medium, v4-hybrid-large, ssdlite320-v3-large, lraspp-v3-large, deeplabv3-v3-large, received nothing',
  ],
  [
    ['info', '--width', '1'],
    'option --arch: expected one of v1, v2, v3-large, v3-small, v4-conv-small, v4-conv-medium, v4-conv-large, v4-hybrid-medium, v4-hybrid-large, ssdlite320-v3-large, lraspp-v3-large, deeplabv3-v3-large (required), received nothing',
  ],
  [['info', '--arch', 'v2', '--json=yes'], "option --json: expected no value (it is a switch), received 'yes'"],
  [
    ['info', '--arch', 'v2', '--width', '1', '--width', '2'],
    "option --width: expected one value, received '1' and '2'",
  ],
  [['info', 'a.onnx', 'b.onnx'], "option argument FILE: expected one ONNX file, received 2: 'a.onnx', 'b.onnx'"],
  [
    ['info', '--arch', 'v2', '--width', 'a\nb'],
    "option --width: expected a number from 0.05 to 4, received 'a\\u000ab'",
  ],
  [['export', '--arch', 'v2'], 'option -o/--output: expected the .onnx file to write (required), received nothing'],
  [['export', '--arch', 'v2', '-o'], 'option -o: expected the .onnx file to write, received nothing'],
  [
    ['export', '--arch', 'v2', '--seed', '-1', '-o', out()],
    "option --seed: expected an integer from 0 to 4294967295, received '-1'",
  ],
  [
    ['export', '--arch', 'v2', '--seed', '1.5', '-o', out()],
    "option --seed: expected an integer from 0 to 4294967295, received '1.5'",
  ],
  [
    ['export', '--arch', 'v2', '--init', 'xavier', '-o', out()],
    "option --init: expected one of torchvision, fan-in, received 'xavier'",
  ],
  [
    ['export', '--arch', 'v2', '--batch', '1e3', '-o', out()],
    "option --batch: expected an integer from 1 to 65536 or 'dynamic', received '1e3'",
  ],
  [
    ['export', '--arch', 'v2', 'extra', '-o', out()],
    "option argument 'extra': expected options only (they start with --), received a positional argument",
  ],
  [
    ['classify', 'x.png', '--arch', 'v2', '--threads', '100000'],
    "option --threads: expected an integer from 1 to 256, received '100000'",
  ],
  [
    ['classify', 'x.png', '--arch', 'v2', '--top', '0'],
    "option --top: expected an integer from 1 to 1000, received '0'",
  ],
  [
    ['classify', 'x.png', '--arch', 'v2', '--max-pixels', '-5'],
    "option --max-pixels: expected an integer from 1 to 4294967296, received '-5'",
  ],
  [
    ['classify', 'x.png', '--arch', 'v2', '--backend', 'tpu'],
    "option --backend: expected one of cpu, cuda, webgpu, received 'tpu'",
  ],
  [['classify', '--arch', 'v2'], 'option argument IMAGE: expected at least one image file, received none'],
  [
    ['classify', 'x.png'],
    'option --model/--arch: expected exactly one of --model FILE.onnx or --arch A, received neither',
  ],
  [
    ['classify', 'x.png', '--model', 'm.onnx', '--width', '0.5'],
    "option --width: expected either --model or --arch with model options, received both (--model 'm.onnx')",
  ],
  [['backends', '--jsno'], 'option --jsno: unknown; did you mean --json?'],
];

describe('usage errors', () => {
  it(`${BAD.length} bad invocations each exit 2 with one line naming the option`, async () => {
    expect(BAD.length).toBeGreaterThanOrEqual(20);
    for (const [argv, message] of BAD) {
      const r = await run(...argv);
      const where = JSON.stringify(argv);
      expect(r.code, where).toBe(2);
      expect(r.out, where).toBe('');
      expect(r.err, where).toBe(`mobilenet ${argv[0]}: ${message}\n`);
      expect(r.err.trimEnd().split('\n'), where).toHaveLength(1);
      expect(r.err, where).toMatch(/^mobilenet \w+: option \S+/);
    }
  });

  it('an unknown command is one line, including names that exist on every object', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(await run(name)).toEqual({
        code: 2,
        out: '',
        err: `mobilenet: unknown command '${name}'; expected one of info, export, classify, compare, backends, embed, detect, segment, profile, serve, worker, queue, weights, train\n`,
      });
    }
    expect((await run('infoo')).err).toBe(
      "mobilenet: unknown command 'infoo'; expected one of info, export, classify, compare, backends, embed, detect, segment, profile, serve, worker, queue, weights, train (did you mean info?)\n",
    );
  });

  it('--version prints the version in the package.json beside src/ and dist/', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(await run('--version')).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
    expect((await run('--help')).out).toContain('mobilenet --version');
  });

  it('a negative number is a value, not an option; -- ends the options', async () => {
    expect((await run('info', '--arch', 'v2', '--width', '-0.5')).err).toContain("received '-0.5'");
    const r = await run('info', '--json', '--', '--arch');
    expect(r.code).toBe(2);
    expect(r.err).toBe("mobilenet info: file '--arch' does not exist\n");
  });

  it('--allow-large lifts the caps (the library still checks the structure)', async () => {
    const r = await run(
      'info',
      '--arch',
      'v3-small',
      '--resolution',
      '2048',
      '--classes',
      '40000',
      '--allow-large',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ resolution: 2048, classes: 40000 });
    expect((await run('info', '--arch', 'v2', '--resolution', '2050', '--allow-large')).err).toContain(
      "option --resolution: expected a multiple of 32 from 32 to 1024, received '2050'",
    );
  });
});
