import { type Stats, closeSync, constants, fstatSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { quotePath } from '@mobilenet/core';

/**
 * The one way this project opens a file the user gave (an image, a model, a checkpoint, a calibration cache, a
 * JSON-lines or matrix file to resume): regular files only, within a size cap, read to the cap and no further.
 *
 * - The path is stat'ed first so that a device or FIFO is never opened (opening some devices has effects), then
 *   opened with O_NONBLOCK (a FIFO without a writer would block the open forever) and O_NOCTTY, and the opened
 *   descriptor is fstat'ed: a path swapped for a FIFO or a link to /dev/zero between the two is still refused.
 * - The size cap is checked against fstat, and the read stops one byte past it whatever fstat said: /proc files
 *   report size 0, and a file may grow while it is read.
 * - `noFollow` refuses a symbolic link at the path itself (O_NOFOLLOW), for files that are about to be rewritten.
 */

export type FileProblem = 'missing' | 'not-regular' | 'too-large' | 'unreadable';

export class FileError extends Error {
  /**
   * `detail` is the problem without the path ('is a FIFO (named pipe); expected an image file (a regular file)',
   * 'no such file'), for callers that name the file their own way.
   */
  constructor(
    readonly path: string,
    readonly problem: FileProblem,
    readonly detail: string,
  ) {
    super(`${quotePath(path)}${detail.startsWith('is ') ? ' ' : ': '}${detail}`);
    this.name = 'FileError';
  }
}

export interface FileRules {
  /** What the file should be, for messages: 'an image file', 'an .onnx file'. */
  readonly what: string;
  /** Largest size read, in bytes. */
  readonly maxBytes: number;
  /** Refuse a symbolic link at the path itself. */
  readonly noFollow?: boolean;
  /** Open for reading and writing (a file to resume: read, then appended to or cut back). */
  readonly update?: boolean;
}

/** Caps on the files read whole, each far above any real file of its kind. */
export const FILE_CAPS = {
  /** An ONNX model: protobuf's own limit is 2 GiB; the largest MobileNet is under 200 MB. */
  model: 1 << 30,
  /** A checkpoint (.pth, .safetensors). */
  checkpoint: 1 << 30,
  /** A calibration cache: one range per activation, under 1 MB for any MobileNet. */
  calibration: 64 << 20,
  /** One image file, at least; `imageByteCap` scales it with the pixel cap. */
  image: 64 << 20,
} as const;

/**
 * What a path is, in words, for an error message.
 * @internal
 */
export function kindOf(s: Stats): string {
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

const WHY: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'a symbolic link (refused here) or a loop of links',
  ENAMETOOLONG: 'name too long',
  ENXIO: 'a socket or a device with nothing behind it',
  EAGAIN: 'would block (not a regular file)',
};

/** A file-system error as one line naming the file, the problem and what was expected. */
export function fileError(path: string, rules: Pick<FileRules, 'what'>, e: unknown): FileError {
  if (e instanceof FileError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new FileError(path, 'missing', 'no such file');
  const why = code ? `${WHY[code] ?? (e as Error).message.replace(/^\w+: /, '').split(',')[0]} (${code})` : String(e);
  return new FileError(
    path,
    code === 'ELOOP' || code === 'ENXIO' ? 'not-regular' : 'unreadable',
    `cannot read: ${why}; expected ${rules.what}`,
  );
}

const notRegular = (path: string, s: Stats, rules: FileRules) =>
  new FileError(path, 'not-regular', `is ${kindOf(s)}; expected ${rules.what} (a regular file)`);

/** Over the cap: by fstat's size when it told, else (a file that grew, a /proc file) by what was read. */
const tooLarge = (path: string, size: number | undefined, rules: FileRules) =>
  new FileError(
    path,
    'too-large',
    size === undefined
      ? `holds more than the ${rules.maxBytes} bytes allowed for ${rules.what}`
      : `is ${size} bytes, more than the ${rules.maxBytes} allowed for ${rules.what}`,
  );

const FLAGS = constants.O_NONBLOCK | constants.O_NOCTTY;
const flags = (rules: FileRules) =>
  FLAGS | (rules.update ? constants.O_RDWR : constants.O_RDONLY) | (rules.noFollow ? constants.O_NOFOLLOW : 0);

/** The checks on the descriptor itself, after the open: a regular file within the cap. */
function checkOpened(path: string, s: Stats, rules: FileRules): void {
  if (!s.isFile()) throw notRegular(path, s, rules);
  if (s.size > rules.maxBytes) throw tooLarge(path, s.size, rules);
}

/**
 * Opens `path` for reading after the checks above; the caller closes the descriptor.
 * @internal
 */
export function openRegularSync(path: string | Buffer, rules: FileRules): number {
  const name = String(path);
  try {
    const before = statSync(path);
    if (!before.isFile()) throw notRegular(name, before, rules);
    const fd = openSync(path, flags(rules));
    try {
      checkOpened(name, fstatSync(fd), rules);
      return fd;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  } catch (e) {
    throw fileError(name, rules, e);
  }
}

/** `openRegularSync`, asynchronously: the returned handle is the caller's to close. */
export async function openRegular(path: string | Buffer, rules: FileRules): Promise<FileHandle> {
  const name = String(path);
  try {
    const before = await stat(path);
    if (!before.isFile()) throw notRegular(name, before, rules);
    const handle = await open(path, flags(rules));
    try {
      checkOpened(name, await handle.stat(), rules);
      return handle;
    } catch (e) {
      await handle.close();
      throw e;
    }
  } catch (e) {
    throw fileError(name, rules, e);
  }
}

/**
 * Reads chunks until the end of the file and refuses them as soon as they pass the cap: first one read of the size
 * fstat gave and one byte more (to see the end), then on in 1 MiB chunks (/proc files say 0, a file may grow).
 */
async function readAll(
  path: string,
  rules: FileRules,
  size: number,
  read: (buf: Buffer, at: number) => number | Promise<number>,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  let want = Math.min(size, rules.maxBytes) + 1;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.max(want, 1 << 16));
    const n = await read(buf, total);
    if (n === 0) break;
    total += n;
    if (total > rules.maxBytes) throw tooLarge(path, undefined, rules);
    chunks.push(buf.subarray(0, n));
    want = 1 << 20;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** The same loop for synchronous reads (no promise in the way: `readRegularSync` stays synchronous). */
function readAllSync(path: string, rules: FileRules, size: number, fd: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  let want = Math.min(size, rules.maxBytes) + 1;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.max(want, 1 << 16));
    const n = readSync(fd, buf, 0, buf.length, total);
    if (n === 0) break;
    total += n;
    if (total > rules.maxBytes) throw tooLarge(path, undefined, rules);
    chunks.push(buf.subarray(0, n));
    want = 1 << 20;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** Reads a whole regular file within `rules.maxBytes`; every refusal is a `FileError` naming the file. */
export function readRegularSync(path: string | Buffer, rules: FileRules): Buffer {
  const name = String(path);
  const fd = openRegularSync(path, rules);
  try {
    return readAllSync(name, rules, fstatSync(fd).size, fd);
  } catch (e) {
    throw fileError(name, rules, e);
  } finally {
    closeSync(fd);
  }
}

/** `readRegularSync`, asynchronously (the read runs in the thread pool, the checks are the same). */
export async function readRegular(path: string | Buffer, rules: FileRules): Promise<Buffer> {
  const name = String(path);
  const handle = await openRegular(path, rules);
  try {
    const size = (await handle.stat()).size;
    return await readAll(name, rules, size, async (buf, at) => (await handle.read(buf, 0, buf.length, at)).bytesRead);
  } catch (e) {
    throw fileError(name, rules, e);
  } finally {
    await handle.close();
  }
}

/**
 * The lines of a regular file, as bytes without their '\n', streamed in chunks (a file of gigabytes is never one
 * string); a line longer than `maxLine` is refused by number. The last line is reported with `complete: false` when
 * the file does not end in '\n' (a write that was cut off). `at` is each line's byte offset.
 */
export function* linesOf(
  fd: number,
  path: string,
  maxLine: number,
): Generator<{ line: Buffer; at: number; number: number; complete: boolean }> {
  let carry = Buffer.alloc(0);
  let carryAt = 0;
  let position = 0;
  let number = 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, position);
    if (n === 0) break;
    position += n;
    let data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      number++;
      if (nl - start > maxLine) throw lineTooLong(path, number, maxLine);
      yield { line: Buffer.from(data.subarray(start, nl)), at: carryAt + start, number, complete: true };
      start = nl + 1;
    }
    carryAt += start;
    data = data.subarray(start);
    if (data.length > maxLine) throw lineTooLong(path, number + 1, maxLine);
    carry = Buffer.from(data);
  }
  if (carry.length) yield { line: carry, at: carryAt, number: number + 1, complete: false };
}

const lineTooLong = (path: string, number: number, maxLine: number) =>
  new FileError(path, 'too-large', `line ${number} is longer than the ${maxLine} bytes allowed`);

/**
 * Removes `path` (a temporary folder) if SIGINT or SIGTERM arrives before the returned function is called, so that
 * Ctrl-C leaves nothing behind; then the signal does what it would have done: with no other handler, its default
 * (the process ends, 130 or 143), else what the other handlers decide.
 * @internal
 */
export function removeOnSignal(path: string): () => void {
  const handler = (signal: NodeJS.Signals) => {
    rmSync(path, { recursive: true, force: true });
    forget();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const forget = () => void process.off('SIGINT', handler).off('SIGTERM', handler);
  process.on('SIGINT', handler).on('SIGTERM', handler);
  return forget;
}
