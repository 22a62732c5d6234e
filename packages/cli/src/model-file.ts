import { UsageError, quotePath } from './errors.js';
import { readInput } from './io.js';

const ascii = (bytes: Uint8Array, from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');

/** A safetensors file: an 8-byte little-endian header length, then a JSON header that starts with '{'. */
function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return bytes[8] === 0x7b && n >= 2n && n <= BigInt(bytes.length - 8);
}

/**
 * What a file that is not an ONNX model is, from its content (not its name), when it is something a user may
 * mistake for one: a PyTorch checkpoint (a zip holding data.pkl, or a pickle, as torch.save writes them), a
 * safetensors file, a Keras HDF5 file or a TensorFlow Lite model. Undefined otherwise (onnx's own reader then says
 * what is wrong).
 */
export function checkpointKind(bytes: Uint8Array): string | undefined {
  const zip = ascii(bytes, 0, 4) === 'PK\x03\x04';
  if (zip && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).includes('data.pkl'))
    return 'a PyTorch checkpoint (a zip archive with data.pkl)';
  if (bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5) return 'a PyTorch checkpoint (a pickle)';
  if (isSafetensors(bytes)) return 'a safetensors checkpoint';
  if (ascii(bytes, 0, 8) === '\x89HDF\r\n\x1a\n') return 'a Keras/HDF5 file';
  if (ascii(bytes, 4, 8) === 'TFL3') return 'a TensorFlow Lite model';
  if (zip) return 'a zip archive';
  return undefined;
}

/**
 * Reads a model file the user named (an option such as --model, or a FILE argument when `option` is undefined): a checkpoint given where an ONNX file belongs is
 * a usage error that says how to make the ONNX file from it, instead of protobuf's 'invalid wire type'.
 */
export function readModelFile(path: string, option?: string): Buffer {
  const bytes = readInput(path, option ? 'an .onnx file' : 'an ONNX file', option);
  refuseCheckpoint(bytes, path, option ? `option ${option}` : 'argument FILE');
  return bytes;
}

/**
 * Throws the usage error for `bytes` (read from `path`, named on the command line as `where`: 'option --model',
 * 'argument REF') when they are a checkpoint rather than an ONNX model, saying how to make the ONNX file from it.
 */
export function refuseCheckpoint(bytes: Uint8Array, path: string, where: string): void {
  const kind = checkpointKind(bytes);
  if (kind === undefined) return;
  const weights = kind.includes('PyTorch') || kind.includes('safetensors');
  const hint = weights
    ? `: make an ONNX file from it with \`mobilenet export --arch A --weights ${quotePath(path)} -o model.onnx\``
    : '';
  throw new UsageError(`${where}: ${quotePath(path)} is ${kind}, not an ONNX model${hint}`);
}
