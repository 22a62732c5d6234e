import { type SegmentResult, escapeControls } from '@mobilenet/core';
import { decodeImage } from '@mobilenet/runtime-node';
import { modelHelp, parse } from '../args.js';
import { type ImageFile, imagesOfArgs, nameOf } from '../collection.js';
import {
  DENSE_RUN_HELP,
  DENSE_RUN_OPTIONS,
  denseModel,
  denseRuntime,
  openDenseSession,
  planOutputs,
} from '../dense-run.js';
import { maskPng, overlayPng } from '../draw.js';
import { EXIT, optionError } from '../errors.js';
import { failedCount, reportSkipped } from '../image-run.js';
import { type Io, writeFileAtomic } from '../io.js';
import type { OptionSpec } from '../parse.js';
import { NAMES_HELP } from '../pretrained.js';
import { Progress } from '../progress.js';

export const SEGMENT_HELP = `Usage: mobilenet segment IMAGE|DIR... (--model FILE.onnx|NAME | --arch A [model options]) -o OUT_DIR [options]

A class for every pixel of each image (lraspp-v3-large, deeplabv3-v3-large: VOC's 21 classes, or your own), at the
image's own size (the model's logits resized bilinearly, then argmax), on onnxruntime-node. For each image NAME:
  OUT_DIR/NAME.mask.png     the class index of each pixel (an indexed PNG with VOC's colours as its palette; 16-bit
                            grayscale beyond 256 classes)
  OUT_DIR/NAME.overlay.png  the image with the classes' colours blended in (background left as it is)
and one line per image with the share of pixels of each class found.
  -o, --output OUT_DIR  a folder (made if missing); an input image is never overwritten, another file only with --force
  --model FILE|NAME     an .onnx segmenter, or a pretrained name (below)
  --offline             a pretrained NAME from the cache only
  --arch A              build the model instead (seeded random weights: the classes carry no meaning)
  --seed N              weight seed with --arch (default 0)
  --json                one JSON array: [{image, ok, width, height, mask, overlay, classes: {label: share}} | error]
  --force               overwrite existing outputs
${DENSE_RUN_HELP}

${NAMES_HELP}

${modelHelp('--model FILE|NAME')}
`;

export const SEGMENT_OPTIONS = {
  ...DENSE_RUN_OPTIONS,
  output: { type: 'string', short: 'o', expects: 'a folder to write masks and overlays into' },
} as const satisfies OptionSpec;

const outputNames = (stem: string) => [`${stem}.mask.png`, `${stem}.overlay.png`];

/** Each class found and its share of the pixels, most first. */
function shares(r: SegmentResult & { ok: true }): Record<string, number> {
  const counts = new Map<number, number>();
  for (const c of r.mask.classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  const n = r.mask.classes.length;
  return Object.fromEntries(
    [...counts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([c, k]) => [r.mask.labels[c] ?? `class ${c}`, Math.round((k / n) * 1e4) / 1e4]),
  );
}

export async function segment(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, SEGMENT_OPTIONS, true);
  if (values.help) return (io.out(SEGMENT_HELP), EXIT.ok);
  if (positionals.length === 0) throw optionError('argument IMAGE', 'at least one image file', 'none');
  if (values.output === undefined) throw optionError('-o', 'a folder to write masks and overlays into', 'none');
  const runtime = denseRuntime(values);
  const { files, skipped } = imagesOfArgs(positionals, values.recursive === true);
  const outputs = planOutputs(files, values.output, outputNames, values.force === true, '-o');
  const model = await denseModel(values, io, 'segment');
  const session = await openDenseSession(model, runtime, io, 'segment', 'the classes');
  reportSkipped(io, 'segment', skipped);
  const report: object[] = [];
  const progress = new Progress(io, files.length, 'segment');
  let failed = 0;
  try {
    let i = 0;
    for await (const r of session.segmentAll(files)) {
      const [mask, overlay] = outputs[i]!;
      const file = files[i++]!;
      if (!r.ok) {
        failed++;
        io.err(`${io.isTty ? '\n' : ''}mobilenet segment: ${r.error}\n`);
        report.push(r);
      } else {
        await write(file, r, mask!, overlay!, runtime.maxPixels);
        const found = shares(r);
        report.push({
          image: r.image,
          ok: true,
          width: r.mask.width,
          height: r.mask.height,
          mask,
          overlay,
          classes: found,
        });
        if (!values.json) {
          const list = Object.entries(found).map(([l, s]) => `${escapeControls(l)} ${(s * 100).toFixed(1)}%`);
          io.out(`${escapeControls(r.image)}: ${list.join(', ')}\n`);
        }
      }
      progress.tick(1);
    }
  } finally {
    progress.finish();
    await session.release();
  }
  if (values.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  const bad = failed + skipped.length;
  io.err(`mobilenet segment: ${files.length - failed} masks and overlays in ${escapeControls(values.output)}\n`);
  if (bad) io.err(`mobilenet segment: ${failedCount(bad, files.length + skipped.length)}\n`);
  return bad ? EXIT.failure : EXIT.ok;
}

/** The mask and its overlay on the image as the model saw it (orientation applied), each written atomically. */
async function write(
  file: ImageFile,
  r: SegmentResult & { ok: true },
  mask: string,
  overlay: string,
  maxPixels?: number,
) {
  await writeFileAtomic(mask, maskPng(r.mask));
  const input = typeof file === 'string' ? file : { name: file.name, path: file.path };
  const image = await decodeImage(input, nameOf(file), maxPixels ? { maxPixels } : {});
  await writeFileAtomic(overlay, await overlayPng(image, r.mask));
}
