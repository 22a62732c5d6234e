import { randomBytes } from 'node:crypto';
import {
  type Stats,
  closeSync,
  constants,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FILE_CAPS, FileError, kindOf, readRegularSync } from '@mobilenet/runtime-node';
import { EXIT, UsageError, quotePath } from './errors.js';

/** Where the command writes: stdout for results, stderr for progress and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly isTty: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTty: Boolean(process.stderr.isTTY),
};

const CODES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/** A file-system error about `path` as the user named it (not a temporary file or a bare errno). */
function fsError(verb: 'read' | 'write', path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code
    ? `${CODES[code] ?? (e as Error).message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')} (${code})`
    : String(e);
  return new Error(`cannot ${verb} ${quotePath(path)}: ${why}`);
}

/**
 * Checks an output path before any work is done: its folder exists; the path is a new file, or (with --force) a
 * regular file. A symbolic link is refused even with --force: writing through it would replace a file the user
 * did not name (the classic attack on a world-writable folder), and replacing the link itself is rarely meant.
 */
export function checkOutputPath(path: string, force: boolean, option = '-o'): void {
  const dir = dirname(path);
  const folder = statOrUndefined(dir, statSync);
  if (!folder?.isDirectory())
    throw new UsageError(`option ${option}: folder ${quotePath(dir)} does not exist (create it first)`);
  const target = statOrUndefined(path, lstatSync);
  if (!target) return;
  if (target.isDirectory())
    throw new UsageError(`option ${option}: ${quotePath(path)} is a directory; expected the path of a file to write`);
  if (target.isSymbolicLink())
    throw new UsageError(
      `option ${option}: ${quotePath(path)} is a symbolic link; refusing to write through it (name the file itself, or remove the link)`,
    );
  if (!target.isFile())
    throw new UsageError(
      `option ${option}: ${quotePath(path)} is ${kindOf(target)}; only a regular file can be replaced`,
    );
  if (!force) throw new UsageError(`option ${option}: ${quotePath(path)} exists; pass --force to overwrite it`);
}

function statOrUndefined(path: string, stat: typeof statSync | typeof lstatSync): Stats | undefined {
  try {
    return stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError('read', path, e);
  }
}

/**
 * Reads a file the user named (a checkpoint, an ONNX file, a calibration cache) through runtime-node's guarded
 * reader: a missing path is a usage error naming the option; a directory, device, FIFO or socket is refused by
 * kind without being opened for long (reading /dev/zero would never end); a file over `maxBytes` is refused from
 * its size (exit 1); read errors name the file.
 */
export function readInput(path: string, what: string, option?: string, maxBytes: number = FILE_CAPS.model): Buffer {
  const label = option ? `option ${option}: ` : '';
  try {
    return readRegularSync(path, { what, maxBytes });
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    if (e.problem === 'missing') throw new UsageError(`${label}file ${quotePath(path)} does not exist`);
    if (e.problem === 'not-regular') throw new UsageError(`${label}${e.message}`);
    throw new Error(`${label}${e.message}`);
  }
}

/** Temporary files being written now, removed if the process is interrupted (see `writeFileAtomic`). */
const pending = new Set<string>();
let watching = 0;
const SIGNALS = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm } as const;

function onSignal(signal: keyof typeof SIGNALS): void {
  for (const tmp of pending) rmSync(tmp, { force: true });
  process.stderr.write(`mobilenet: interrupted (${signal}); removed the unfinished file\n`);
  process.exit(SIGNALS[signal]);
}

function watchSignals(on: boolean): void {
  for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
    if (on) process.on(s, onSignal);
    else process.off(s, onSignal);
  }
}

/**
 * A new temporary file beside `path`: a random name, created exclusively (O_EXCL: an existing file or a link
 * planted under that name is an error, never followed or reused), private until complete (mode 0600).
 */
async function createTemp(path: string): Promise<{ tmp: string; handle: FileHandle }> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
    // Pending before it exists: a signal that lands while the file is being created still removes it.
    pending.add(tmp);
    try {
      return { tmp, handle: await open(tmp, flags, 0o600) };
    } catch (e) {
      pending.delete(tmp);
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 4) throw fsError('write', path, e);
    }
  }
}

const CHUNK = 4 << 20;

/**
 * Writes a file atomically: a temporary file beside it, synced, given the mode the umask allows, then renamed, so
 * a reader never sees half a file. A failure removes the temporary file. With `signals`, SIGINT and SIGTERM during
 * the write also remove it and exit 130 or 143 (the write is chunked and asynchronous so they are seen).
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: { signals?: boolean } = {},
): Promise<void> {
  await replaceAtomic(path, { signals: options.signals === true, mode: 0o666 & ~process.umask() }, async (write) => {
    for (let offset = 0; offset < bytes.length; offset += CHUNK) await write(bytes.subarray(offset, offset + CHUNK));
  });
}

/**
 * Replaces `path` atomically with what `fill` writes through `write` (each call written whole: a short write is
 * continued, an error names `path`): the rules of `writeFileAtomic`, with the mode given (a rewrite keeps the mode
 * of the file it replaces).
 */
export async function replaceAtomic(
  path: string,
  options: { signals: boolean; mode: number },
  fill: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<void> {
  // Signals are watched before the temporary file exists, so no moment leaves it behind.
  if (options.signals && watching++ === 0) watchSignals(true);
  let created: Awaited<ReturnType<typeof createTemp>>;
  try {
    created = await createTemp(path);
  } catch (e) {
    if (options.signals && --watching === 0) watchSignals(false);
    throw e;
  }
  const { tmp, handle } = created;
  let open = true;
  try {
    await fill(async (bytes) => {
      for (let offset = 0; offset < bytes.length; ) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
        if (bytesWritten === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
        offset += bytesWritten;
      }
    });
    await handle.sync();
    await handle.chmod(options.mode);
    await handle.close();
    open = false;
    // Synchronous on purpose: an asynchronous rename could finish in the thread pool while a signal handler,
    // run before its callback, believes the write unfinished; it would then exit 130 beside a complete file.
    renameSync(tmp, path);
  } catch (e) {
    if (open) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw fsError('write', path, e);
  } finally {
    pending.delete(tmp);
    if (options.signals && --watching === 0) watchSignals(false);
  }
}

/**
 * Writes all of `bytes` to `fd` (at `position`, or at its offset: the end for a file opened to append). A short
 * write is continued, not taken for done; an error (ENOSPC, EIO) names `path`, the file the user gave.
 */
export function writeAll(fd: number, bytes: Uint8Array, path: string, position?: number): void {
  try {
    for (let offset = 0; offset < bytes.length; ) {
      const n = writeSync(fd, bytes, offset, bytes.length - offset, position === undefined ? null : position + offset);
      if (n === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
      offset += n;
    }
  } catch (e) {
    throw fsError('write', path, e);
  }
}

/** Opens an output the user named for writing (`append`, or created/emptied), never through a symbolic link. */
export function openOutput(path: string, how: 'append' | 'truncate'): number {
  const flags =
    constants.O_WRONLY |
    constants.O_NOFOLLOW |
    (how === 'append' ? constants.O_APPEND : constants.O_CREAT | constants.O_TRUNC);
  try {
    return openSync(path, flags, 0o666);
  } catch (e) {
    throw fsError('write', path, e);
  }
}

/**
 * Claims an output for this process: `OUT.lock`, created exclusively (never through a link), holding the process
 * id. A second writer to the same OUT is refused, naming the first, instead of both exiting 0 with one's work lost.
 * A lock whose process is gone (a crash, a kill -9) is taken over. Returns the release.
 */
export function lockOutput(path: string, option: string): () => void {
  const lock = `${path}.lock`;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, flags, 0o644);
      writeAll(fd, Buffer.from(`${process.pid}\n`), lock);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw fsError('write', lock, e);
    }
    const holder = lockHolder(lock);
    if (holder !== undefined)
      throw new Error(
        `${option}: ${quotePath(path)} is being written by another mobilenet (process ${holder}, per ${quotePath(lock)}); wait for it to finish (a lock left by a process that is gone is taken over)`,
      );
    rmSync(lock, { force: true });
  }
}

/** The live process that holds a lock file, or undefined when the file names none (stale, empty, not ours). */
function lockHolder(lock: string): number | undefined {
  let text: string;
  try {
    text = readRegularSync(lock, { what: 'a lock file', maxBytes: 64, noFollow: true }).toString('latin1');
  } catch (e) {
    // Not a regular file (a link, a FIFO planted there): not ours to remove.
    if (e instanceof FileError && e.problem !== 'missing') throw new Error(e.message);
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid < 1) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
