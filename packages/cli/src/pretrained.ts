import { type ModelOptions, isWeightsName } from '@mobilenet/core';
import { type DownloadProgress, type HubOptions, type PretrainedModel, loadPretrained } from '@mobilenet/runtime-node';
import type { Io } from './io.js';

/** `--offline`: the cache only (also HF_HUB_OFFLINE=1, MOBILENET_OFFLINE=1). */
export const OFFLINE_OPTION = { offline: { type: 'boolean' } } as const;

export const NAMES_HELP = `Pretrained names (downloaded once, verified, cached where PyTorch and Hugging Face keep them):
  torchvision:mobilenet_v3_large[.IMAGENET1K_V1]    torchvision's DEFAULT weights, or an enum value
  hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k  a timm repository on the Hugging Face hub
  'mobilenet weights list' lists them; --offline (or HF_HUB_OFFLINE=1) uses the cache only`;

export { isWeightsName };

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const secs = (s: number) =>
  s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;

/**
 * Download progress on stderr: on a terminal a bar with bytes, rate and ETA, redrawn in place; otherwise one line
 * when each file of 1 MiB or more is done (logs stay short).
 */
export function progressReporter(io: Io, command: string): (p: DownloadProgress) => void {
  const started = new Map<string, { t: number; from: number }>();
  return (p) => {
    const s = started.get(p.file) ?? { t: performance.now(), from: p.resumedFrom };
    started.set(p.file, s);
    const elapsed = Math.max((performance.now() - s.t) / 1000, 1e-3);
    const rate = (p.received - s.from) / elapsed;
    if (p.done) {
      started.delete(p.file);
      // A config.json is not worth a line.
      if (p.received < 2 ** 20) return void (io.isTty && io.err('\r\x1b[K'));
      io.err(
        `${io.isTty ? '\r\x1b[K' : ''}mobilenet ${command}: downloaded ${p.name}: ${mib(p.received)} in ${elapsed.toFixed(1)} s (${mib(rate)}/s) -> ${p.file}\n`,
      );
      return;
    }
    if (!io.isTty) return;
    const width = 24;
    const frac = p.total ? Math.min(1, p.received / p.total) : 0;
    const bar = p.total ? `[${'#'.repeat(Math.round(width * frac)).padEnd(width, '.')}] ` : '';
    const eta = p.total && rate > 0 ? `  eta ${secs((p.total - p.received) / rate)}` : '';
    io.err(
      `\r\x1b[K${p.name} ${bar}${mib(p.received)}${p.total ? ` / ${mib(p.total)}` : ''}  ${mib(rate)}/s${eta}${p.resumedFrom ? `  (resumed at ${mib(p.resumedFrom)})` : ''}`,
    );
  };
}

/** Hub options from the command line: --offline, and progress on stderr. */
export const hubOptions = (values: { offline?: true }, io: Io, command: string): HubOptions => ({
  ...(values.offline && { offline: true }),
  onProgress: progressReporter(io, command),
});

/** One line on what named weights are, for stderr: the name, the file, how it was checked, the preprocessing. */
export function describeWeights(m: PretrainedModel): string {
  const pre = m.config.preprocessing;
  const w = m.weights;
  return (
    `weights: ${w.name} (${m.config.arch} width ${m.config.width}, convention ${m.config.convention}, ${m.config.classes} classes), ` +
    `sha256 ${w.sha256.slice(0, 12)}..., ${w.downloaded ? 'downloaded' : 'from the cache'} ${w.path}; ` +
    `preprocessing: resize ${pre.resize}, crop ${pre.size}, ${pre.interpolation}\n`
  );
}

/** Loads named weights for a command, saying what they are. */
export async function loadNamed(
  name: string,
  options: Partial<ModelOptions>,
  values: { offline?: true },
  io: Io,
  command: string,
): Promise<PretrainedModel> {
  const m = await loadPretrained(name, options, hubOptions(values, io, command));
  io.err(`mobilenet ${command}: ${describeWeights(m)}`);
  return m;
}
