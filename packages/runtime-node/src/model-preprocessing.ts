import { MobileNetError, type Preprocessing, parsePreprocessing, quote } from '@mobilenet/core';

/**
 * A model's own preprocessing, from the metadata our writer puts in every model (`mobilenet.preprocessing`),
 * checked as a session checks it (JSON, three finite means, stds above 0, a known mode, sizes up to 16384). A model
 * without it (not made by mobilenet-ts) is an error naming the model and the step that needed it.
 */
export function preprocessingOf(
  metadata: Readonly<Record<string, string>>,
  model: string,
  step: string,
): Preprocessing {
  const meta = Object.hasOwn(metadata, 'mobilenet.preprocessing') ? metadata['mobilenet.preprocessing'] : undefined;
  if (!meta)
    throw new MobileNetError(
      step,
      `model ${quote(model, Infinity)}`,
      "metadata 'mobilenet.preprocessing' (a model made by mobilenet-ts)",
      'none',
    );
  return parsePreprocessing(meta, `model ${quote(model, Infinity)}: metadata 'mobilenet.preprocessing'`);
}
