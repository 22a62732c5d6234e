export { readSafetensors, writeSafetensors } from './safetensors.js';
export { readPth } from './pth.js';
export { ALLOWED_GLOBALS } from './pickle.js';
export { type Checkpoint, type CheckpointDType, type CheckpointTensor, CheckpointError, toFloat32 } from './tensor.js';
export { type WeightsFormat, WEIGHTS_FORMATS, LAYOUT_CONVENTIONS, detectFormat, keyMap } from './mapping.js';
export { buildWithWeights, type LoadOptions, type LoadedModel } from './load.js';

import { looksLikePth, readPth } from './pth.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { type Checkpoint, CheckpointError } from './tensor.js';

/** Reads a checkpoint by its content: safetensors (JSON header) or PyTorch (.pth zip or legacy pickle). */
export function readCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  if (looksLikePth(bytes)) return readPth(bytes, source);
  if (looksLikeSafetensors(bytes)) return readSafetensors(bytes, source).tensors;
  const start = Array.from(bytes.subarray(0, 9), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CheckpointError(
    source,
    'a checkpoint: safetensors (8-byte header length, then JSON), or PyTorch (a zip archive, or a pickle)',
    `${bytes.length} bytes starting ${start || '(empty)'}`,
  );
}
