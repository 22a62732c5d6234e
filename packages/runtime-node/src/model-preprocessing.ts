import { MobileNetError, type Preprocessing } from '@mobilenet/core';

/**
 * A model's own preprocessing, from the metadata our writer puts in every model (`mobilenet.preprocessing`). A model
 * without it (not made by mobilenet-ts) is an error naming the model and the step that needed it.
 */
export function preprocessingOf(
  metadata: Readonly<Record<string, string>>,
  model: string,
  step: string,
): Preprocessing {
  const meta = metadata['mobilenet.preprocessing'];
  if (!meta)
    throw new MobileNetError(
      step,
      `model '${model}'`,
      "metadata 'mobilenet.preprocessing' (a model made by mobilenet-ts)",
      'none',
    );
  return JSON.parse(meta) as Preprocessing;
}
