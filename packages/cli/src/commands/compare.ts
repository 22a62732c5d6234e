import { FILE_CAPS } from '@mobilenet/runtime-node';
import { compareModels } from '@mobilenet/tools';
import { parse } from '../args.js';
import { EXIT, UsageError, optionError, quotePath } from '../errors.js';
import { type Io, readInput } from '../io.js';
import { refuseCheckpoint } from '../model-file.js';

export const COMPARE_HELP = `Usage: mobilenet compare REF.onnx CANDIDATE.onnx --images DIR [--json]

Runs both models (onnxruntime-node CPU) on every image of DIR, preprocessed as REF's metadata says, and reports how
closely CANDIDATE's logits follow REF's: top-1 agreement, top-5 overlap, SQNR of the logits in dB, max abs diff.
Images are read and run one at a time. Both models must take the same input size and give as many classes.
  --images DIR     a folder of images (unreadable files are skipped and named; none readable is an error)
  --json           print the result as JSON on stdout
  --allow-any-op   accept models with ops beyond an image classifier's (control flow, custom domains)
  --allow-large    accept models of more than 20000 nodes
`;

export async function compare(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      images: { type: 'string', expects: 'a folder of images' },
      json: { type: 'boolean' },
      'allow-any-op': { type: 'boolean' },
      'allow-large': { type: 'boolean' },
    },
    true,
  );
  if (values.help) return (io.out(COMPARE_HELP), 0);
  if (positionals.length !== 2)
    throw new UsageError(`expected two model files, REF.onnx CANDIDATE.onnx, received ${positionals.length}`);
  const folder = values.images;
  if (folder === undefined) throw optionError('--images', 'a folder of images (required)', 'nothing');
  const [refFile, candFile] = positionals as [string, string];
  const load = (file: string, which: string) => {
    const where = `argument ${which.toUpperCase()}`;
    const bytes = readInput(file, `an .onnx file (the ${which} model)`, where, FILE_CAPS.model);
    refuseCheckpoint(bytes, file, where);
    return bytes;
  };
  const [ref, cand] = [load(refFile, 'ref'), load(candFile, 'candidate')];
  const { skipped, ...f } = await compareModels(ref, cand, folder, {
    names: { reference: refFile, candidate: candFile },
    allowAnyOp: values['allow-any-op'] === true,
    ...(values['allow-large'] === true && { maxNodes: Number.MAX_SAFE_INTEGER }),
  });
  for (const s of skipped) io.err(`compare: skipped ${quotePath(s.file)}: ${s.reason}\n`);
  const result = { reference: refFile, candidate: candFile, ...f, sizeRatio: cand.length / ref.length };
  if (values.json) io.out(`${JSON.stringify(result)}\n`);
  else {
    io.out(
      `${quotePath(candFile)} against ${quotePath(refFile)} over ${f.images} images of ${quotePath(folder)}:\n` +
        `  top-1 agreement ${(100 * f.top1Agreement).toFixed(1)}%, top-5 overlap ${(100 * f.top5Overlap).toFixed(1)}%\n` +
        `  SQNR ${f.sqnrDb.toFixed(2)} dB, max abs diff ${f.maxAbsDiff.toPrecision(4)}, size ${(100 * result.sizeRatio).toFixed(1)}% of the reference\n`,
    );
  }
  return EXIT.ok;
}
