import { hubSettings, listPretrained, resolveWeights } from '@mobilenet/runtime-node';
import { optionError, quote } from '../errors.js';
import type { Io } from '../io.js';
import type { OptionSpec } from '../parse.js';
import { parse } from '../parse.js';
import { NAMES_HELP, hubOptions, isWeightsName } from '../pretrained.js';

export const WEIGHTS_HELP = `Usage: mobilenet weights list [--json]
       mobilenet weights fetch NAME... [--json]

Pretrained weights by name.
  list    the names we know: size, ImageNet top-1 (or the task's metric), and whether each is in the cache
  fetch   download, verify and cache each NAME now (for a machine that goes offline later); a name already in the
          cache is checked and kept

${NAMES_HELP}

Caches: torchvision files in $TORCH_HOME/hub/checkpoints (default ~/.cache/torch), Hugging Face files in
$HF_HUB_CACHE (default ~/.cache/huggingface/hub), shared with PyTorch and huggingface_hub. Addresses: HF_ENDPOINT,
MOBILENET_TORCHVISION_URL (a mirror of https://download.pytorch.org/models); HF_TOKEN for gated repositories;
HTTPS_PROXY/NO_PROXY.
`;

const OPTIONS = { json: { type: 'boolean' } } as const satisfies OptionSpec;

function list(io: Io, json: boolean): number {
  const rows = listPretrained();
  if (json) return (io.out(`${JSON.stringify(rows, null, 2)}\n`), 0);
  const s = hubSettings();
  const table = [
    ['name', 'size', 'metric', 'cached'],
    ...rows.map((r) => [
      r.name,
      `${r.approx ? '~' : ''}${r.sizeMiB.toFixed(1)} MiB`,
      `${r.metric.name} ${r.metric.value}`,
      `${r.cached ? 'yes' : '-'}${r.note ? `  (${r.note})` : ''}`,
    ]),
  ];
  const w = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  io.out(
    `${table
      .map((r) =>
        r
          .map((c, i) => (i === 1 ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  );
  io.out(
    `\ntorchvision cache: ${s.torchCheckpoints}\nHugging Face cache: ${s.hfCache}\n~: float32 parameters; the hub's file may differ. Any other tag of a timm architecture we build works too.\n`,
  );
  return 0;
}

async function fetch(names: string[], io: Io, json: boolean): Promise<number> {
  if (names.length === 0)
    throw optionError('argument NAME', "at least one pretrained name ('mobilenet weights list')", 'none');
  for (const n of names)
    if (!isWeightsName(n))
      throw optionError(
        `argument ${quote(n)}`,
        'a pretrained name: torchvision:..., hf-hub:... or an https:// URL',
        'a path',
      );
  const done = [];
  for (const name of names) {
    const r = await resolveWeights(name, hubOptions({}, io, 'weights fetch'));
    done.push({ name: r.name, path: r.path, sha256: r.sha256, bytes: r.bytes.length, downloaded: r.downloaded });
    if (!json)
      io.err(
        `mobilenet weights fetch: ${r.name}: ${r.downloaded ? 'fetched' : 'already cached'}, sha256 ${r.sha256} verified: ${r.path}\n`,
      );
  }
  if (json) io.out(`${JSON.stringify(done, null, 2)}\n`);
  return 0;
}

export async function weights(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') return (io.out(WEIGHTS_HELP), sub ? 0 : 2);
  const { values, positionals } = parse(rest, OPTIONS, sub === 'fetch');
  if (values.help) return (io.out(WEIGHTS_HELP), 0);
  if (sub === 'list') return list(io, values.json === true);
  if (sub === 'fetch') return fetch(positionals, io, values.json === true);
  throw optionError(`subcommand ${quote(sub)}`, 'list or fetch', quote(sub));
}
