export { readSafetensors, writeSafetensors } from './safetensors.js';
export { readPth } from './pth.js';
export { ALLOWED_GLOBALS } from './pickle.js';
export { type Checkpoint, type CheckpointDType, type CheckpointTensor, CheckpointError, toFloat32 } from './tensor.js';
export { type WeightsFormat, WEIGHTS_FORMATS, LAYOUT_CONVENTIONS, detectFormat, keyMap } from './mapping.js';
export { buildWithWeights, type LoadOptions, type LoadedModel } from './load.js';

import { readPth } from './pth.js';
import { readSafetensors } from './safetensors.js';
import type { Checkpoint } from './tensor.js';

/** Reads a checkpoint by its content: safetensors (JSON header) or PyTorch (.pth zip or legacy pickle). */
export function readCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const looksSafetensors = bytes.length > 9 && bytes[8] === 0x7b; // '{' right after the 8-byte length
  return looksSafetensors ? readSafetensors(bytes, source).tensors : readPth(bytes, source);
}
