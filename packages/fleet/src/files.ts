import { DEFAULT_MAX_PIXELS, imageByteCap, readRegular } from '@mobilenet/runtime-node';

/**
 * An image file as the producer hashes it and the worker reads it: through the runtime's guarded reader (a regular
 * file, not a FIFO, device or link to one; within the byte cap of a local run's default pixel cap).
 */
export const readImage = (path: string): Promise<Buffer> =>
  readRegular(path, { what: 'an image file', maxBytes: imageByteCap(DEFAULT_MAX_PIXELS) });
