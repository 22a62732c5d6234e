import { type DetectResult, escapeControls } from '@mobilenet/core';
import { decodeImage } from '@mobilenet/runtime-node';
import { modelHelp, parse } from '../args.js';
import { type ImageFile, JsonlSink, imagesOfArgs, nameOf } from '../collection.js';
import {
  DENSE_RUN_HELP,
  DENSE_RUN_OPTIONS,
  denseModel,
  denseRuntime,
  openDenseSession,
  planOutputs,
} from '../dense-run.js';
import { drawBoxes } from '../draw.js';
import { EXIT, optionError } from '../errors.js';
import { failedCount, modelRecord, reportSkipped } from '../image-run.js';
import { type Io, checkOutputPath, writeFileAtomic } from '../io.js';
import { between, decimal, integer } from '../numbers.js';
import type { OptionSpec } from '../parse.js';
import { NAMES_HELP } from '../pretrained.js';
import { Progress } from '../progress.js';
import { version } from '../version.js';

export const DETECT_HELP = `Usage: mobilenet detect IMAGE|DIR... (--model FILE.onnx|NAME | --arch A [model options]) [options]

SSD's boxes for each image (ssdlite320-v3-large: COCO's 90 classes, or your own), in the image's own pixels, on
onnxruntime-node. A model exported with --postprocess none is decoded here (torchvision's box coder, per-class
threshold and top-k, batched NMS); one with --postprocess graph ends in its own NMS. A folder stands for its images.
  --model FILE|NAME     an .onnx detector, or a pretrained name (below)
  --offline             a pretrained NAME from the cache only
  --arch A              build the model instead (seeded random weights: the boxes carry no meaning)
  --seed N              weight seed with --arch (default 0)
  --score-threshold S   keep a box of a class when its score is above S, 0 to 1 (default: the model's, 0.001)
  --iou-threshold T     NMS drops a box overlapping a better one of its class by more than T, 0 to 1 (default 0.55)
  --max-detections N    at most N boxes per image, 1 to 100000 (default 300)
  --draw OUT_DIR        a copy of each image with its boxes and labels, as OUT_DIR/NAME (JPEG for a JPEG, else PNG;
                        OUT_DIR made if missing);
                        never over an input image; an existing file only with --force
  --jsonl OUT           one JSON line per image as it is done, after a first line naming the model (sha256) and
                        thresholds
  --json                one JSON array: [{image, ok, detections: [{box: [x1, y1, x2, y2], label, labelIndex, score}] | error}]
  --force               overwrite existing outputs (never an input image)
${DENSE_RUN_HELP}

${NAMES_HELP}

${modelHelp('--model FILE|NAME')}
`;

export const DETECT_OPTIONS = {
  ...DENSE_RUN_OPTIONS,
  'score-threshold': { type: 'string', expects: 'a number from 0 to 1' },
  'iou-threshold': { type: 'string', expects: 'a number from 0 to 1' },
  'max-detections': { type: 'string', expects: 'an integer from 1 to 100000' },
  draw: { type: 'string', expects: 'a folder to write drawn copies into' },
  jsonl: { type: 'string', expects: 'a file to write' },
} as const satisfies OptionSpec;

const unit = (name: string, raw: string | undefined) =>
  decimal(name, raw, { min: 0, max: 1, rule: 'a number from 0 to 1' });

/** Where each image's drawn copy goes: its name, JPEG kept as JPEG, anything else as PNG. */
const drawnName = (stem: string, ext: string) => [`${stem}${/^\.jpe?g$/i.test(ext) ? ext : '.png'}`];

export async function detect(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, DETECT_OPTIONS, true);
  if (values.help) return (io.out(DETECT_HELP), EXIT.ok);
  if (positionals.length === 0) throw optionError('argument IMAGE', 'at least one image file', 'none');
  const runtime = denseRuntime(values);
  const scoreThreshold = unit('score-threshold', values['score-threshold']);
  const iouThreshold = unit('iou-threshold', values['iou-threshold']);
  const maxDetections = integer('max-detections', values['max-detections'], between(1, 100_000));
  const force = values.force === true;
  if (values.jsonl !== undefined) checkOutputPath(values.jsonl, force, '--jsonl');
  const { files, skipped } = imagesOfArgs(positionals, values.recursive === true);
  const drawn = values.draw === undefined ? undefined : planOutputs(files, values.draw, drawnName, force, '--draw');
  const model = await denseModel(values, io, 'detect');
  const session = await openDenseSession(model, runtime, io, 'detect', 'the boxes and labels');
  reportSkipped(io, 'detect', skipped);
  const thresholds = {
    ...(scoreThreshold !== undefined && { scoreThreshold }),
    ...(iouThreshold !== undefined && { iouThreshold }),
    ...(maxDetections !== undefined && { maxDetections }),
  };
  const header = {
    format: 'mobilenet-detect-jsonl/1',
    version: version(),
    model: modelRecord(model.name, model.bytes),
    preprocessing: session.info.preprocessing,
    thresholds,
  };
  const sink =
    values.jsonl === undefined ? undefined : await JsonlSink.open(values.jsonl, { force, resume: false }, header);
  const results: DetectResult[] = [];
  const progress = new Progress(io, files.length, 'detect');
  let failed = 0;
  try {
    let i = 0;
    for await (const r of session.detectAll(files, thresholds)) {
      const file = files[i]!;
      const out = drawn?.[i++]?.[0];
      sink?.write(r);
      if (sink === undefined) results.push(r);
      if (!r.ok) {
        failed++;
        io.err(`${io.isTty ? '\n' : ''}mobilenet detect: ${r.error}\n`);
      } else if (out !== undefined) await draw(file, r, out, runtime.maxPixels);
      progress.tick(1);
    }
  } finally {
    progress.finish();
    sink?.close();
    await session.release();
  }
  if (values.json) io.out(`${JSON.stringify(results, null, 2)}\n`);
  else if (sink === undefined) io.out(table(results));
  const bad = failed + skipped.length;
  if (drawn) io.err(`mobilenet detect: ${files.length - failed} drawn in ${escapeControls(values.draw!)}\n`);
  if (bad) io.err(`mobilenet detect: ${failedCount(bad, files.length + skipped.length)}\n`);
  return bad ? EXIT.failure : EXIT.ok;
}

/** The image decoded as the model saw it (orientation applied), its boxes drawn, written atomically. */
async function draw(file: ImageFile, r: DetectResult & { ok: true }, out: string, maxPixels?: number) {
  const input = typeof file === 'string' ? file : { name: file.name, path: file.path };
  const image = await decodeImage(input, nameOf(file), maxPixels ? { maxPixels } : {});
  await writeFileAtomic(out, await drawBoxes(image, r.detections, out));
}

function table(results: readonly DetectResult[]): string {
  const rows: string[][] = [['image', '#', 'score', 'label', 'x1', 'y1', 'x2', 'y2']];
  for (const r of results) {
    if (!r.ok) continue;
    if (r.detections.length === 0) rows.push([escapeControls(r.image), '-', '', 'nothing above the threshold']);
    for (const [k, d] of r.detections.entries())
      rows.push([
        k === 0 ? escapeControls(r.image) : '',
        String(k + 1),
        d.score.toFixed(4),
        escapeControls(d.label),
        ...d.box.map((v) => v.toFixed(1)),
      ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 || i === 3 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
