import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  readSync,
  readdirSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { extname } from 'node:path';
import { FileError, displayName, entryOf, linesOf, openRegularSync } from '@mobilenet/runtime-node';
import { optionError, quote, quotePath } from './errors.js';
import { checkOutputPath, lockOutput, openOutput, replaceAtomic, writeAll } from './io.js';

/** Extensions taken from a folder; a file named on the command line is taken whatever its name. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif']);

/** A path that could not be listed (a symlink loop, an unreadable folder): reported by name, the run goes on. */
export interface Skipped {
  readonly path: string;
  readonly reason: string;
}

/**
 * An image file to read: its path as given or found, or, for a name in a folder that is not UTF-8, the bytes of its
 * path with the name to show (control bytes and bytes above 0x7f as \xNN).
 */
export type ImageFile = string | { readonly name: string; readonly path: Buffer };

/** The name results and messages give an image file. */
export const nameOf = (f: ImageFile): string => (typeof f === 'string' ? f : f.name);

/** `listImages` for a command's arguments: nothing to read at all is a usage error naming what was given. */
export function imagesOfArgs(args: readonly string[], recursive: boolean): { files: ImageFile[]; skipped: Skipped[] } {
  const listed = listImages(args, recursive);
  if (listed.files.length === 0 && listed.skipped.length === 0)
    throw optionError('argument IMAGE|DIR', 'at least one image', `none in ${args.map((p) => quotePath(p)).join(' ')}`);
  return listed;
}

/**
 * The images named by `args`: files as given (a missing one is kept, and its decode names the error), folders as
 * their image files in name order, subfolders only with `recursive`. A file in a folder is listed whatever it is
 * (a link, a FIFO, a device): its decode refuses what is not a regular file, by name. A folder reached twice
 * through symbolic links (a loop) is skipped and reported. Names are read as bytes, so a name that is not UTF-8
 * still reaches its file.
 */
export function listImages(args: readonly string[], recursive: boolean): { files: ImageFile[]; skipped: Skipped[] } {
  const files: ImageFile[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  const walk = (dir: string | Buffer, shown: string) => {
    let names: Buffer[];
    try {
      const real = realpathSync(dir, { encoding: 'buffer' }).toString('latin1');
      if (seen.has(real))
        return void skipped.push({
          path: shown,
          reason: `a symbolic link loop (already listed as ${quotePath(displayName(Buffer.from(real, 'latin1')))})`,
        });
      seen.add(real);
      names = readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return void skipped.push({
        path: shown,
        reason: code === 'ELOOP' ? 'a symbolic link loop' : `cannot list: ${(e as Error).message}`,
      });
    }
    for (const name of names) {
      const entry = entryOf(dir, name, shown);
      let isDir = false;
      try {
        isDir = statSync(entry.path).isDirectory();
      } catch (e) {
        // A broken link or a file that vanished: an image path whose decode will say what is wrong.
        if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
          skipped.push({ path: entry.name, reason: 'a symbolic link loop' });
          continue;
        }
      }
      if (isDir) {
        if (recursive) walk(entry.path, entry.name);
      } else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        files.push(typeof entry.path === 'string' ? entry.path : { name: entry.name, path: entry.path });
    }
  };
  for (const arg of args) {
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      // kept as a file: its decode reports it by name
    }
    if (isDir) walk(arg, arg);
    else files.push(arg);
  }
  return { files, skipped };
}

/** What a resumed OUT held: the images with a result, and the failures dropped from it to be tried again. */
export interface Resumed {
  readonly done: ReadonlySet<string>;
  readonly failed: ReadonlySet<string>;
}

/**
 * The first line of every JSON-lines OUT: which model (a content hash), preprocessing, top-k and version made its
 * results, so that `--resume` refuses a file that is not ours, or one of another model, instead of appending to it.
 */
export interface JsonlHeader {
  readonly format: typeof JSONL_FORMAT;
  readonly version: string;
  readonly model: { readonly name: string; readonly sha256: string };
  readonly preprocessing: unknown;
  readonly top: number;
}

export const JSONL_FORMAT = 'mobilenet-classify-jsonl/1';

/** Longest line read back: a result with 1000 classes is about 60 KB. */
const MAX_LINE = 1 << 20;

/**
 * Results appended one JSON line per image after a header line, each written whole (a short write is continued, an
 * error such as ENOSPC names OUT), so that an interrupted run leaves a valid file (at worst a last partial line,
 * which `--resume` drops). An existing file is refused unless `force` (start over) or `resume`; `OUT.lock` keeps a
 * second run from writing to the same OUT.
 *
 * `resume` checks the header (our format, the same model and top-k), reads the file as a stream of bytes and keeps
 * the lines of images that have a result (`ok: true`, the first one per image); the failed ones are tried again:
 * their `ok: false` lines are removed, so OUT keeps one line per image and the retry's line is the only one. When
 * lines are removed OUT is rewritten atomically (kept lines copied byte for byte to a temporary file renamed over
 * it; Ctrl-C during it leaves the old OUT); a torn last line is cut off. Any other damage (a line that is not UTF-8
 * or not one of our records) refuses the resume and leaves OUT as it is.
 */
export class JsonlSink {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly unlock: () => void,
    /** Images already in the file with a result (with `resume`): skipped. */
    readonly done: ReadonlySet<string>,
    /** Images whose failure lines were removed on resume (and that have no result): done again. */
    readonly failed: ReadonlySet<string>,
  ) {}

  static async open(
    path: string,
    mode: { force: boolean; resume: boolean },
    /** classify's header (resumable); another command's own first line (`format` naming it) with resume false. */
    header: JsonlHeader | { readonly format: string },
    option = '--jsonl',
  ): Promise<JsonlSink> {
    const exists = existsSync(path);
    checkOutputPath(path, mode.force || mode.resume, option);
    const unlock = lockOutput(path, option);
    try {
      const resumed = exists && mode.resume ? await keepResults(path, header as JsonlHeader) : undefined;
      const fd = openOutput(path, resumed ? 'append' : 'truncate');
      if (!resumed) writeAll(fd, Buffer.from(`${JSON.stringify(header)}\n`), path);
      return new JsonlSink(path, fd, unlock, resumed?.done ?? new Set(), resumed?.failed ?? new Set());
    } catch (e) {
      unlock();
      throw e;
    }
  }

  write(record: unknown): void {
    writeAll(this.fd, Buffer.from(`${JSON.stringify(record)}\n`), this.path);
  }

  close(): void {
    closeSync(this.fd);
    this.unlock();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A refusal to resume: OUT is left as it was; the message says what is wrong and the ways on. */
const cannotResume = (path: string, why: string) =>
  new Error(
    `--resume: ${quotePath(path)} ${why}; it was left as it is (start over with --force, or write to another file)`,
  );

/** A line as our JSON, or why it is not. */
function parseLine(line: Buffer): { value?: unknown; why?: string } {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { why: 'is not valid UTF-8' };
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { why: 'is not valid JSON' };
  }
}

/** The header line must be ours, for the same model and top-k. */
function checkHeader(line: Buffer, path: string, want: JsonlHeader): void {
  const { value } = parseLine(line);
  const h = value as Partial<JsonlHeader> | undefined;
  if (typeof h !== 'object' || h === null || h.format !== JSONL_FORMAT)
    throw cannotResume(
      path,
      `is not a JSON-lines file written by mobilenet classify (its first line is not a '${JSONL_FORMAT}' header)`,
    );
  const model = h.model as Partial<JsonlHeader['model']> | undefined;
  if (typeof model?.sha256 !== 'string' || model.sha256 !== want.model.sha256)
    throw cannotResume(
      path,
      `holds the results of another model (${typeof model?.name === 'string' ? quote(model.name) : 'unnamed'}, sha256 ${typeof model?.sha256 === 'string' ? quote(model.sha256.slice(0, 16)) : 'none'}), not of ${quote(want.model.name)} (sha256 '${want.model.sha256.slice(0, 16)}')`,
    );
  if (h.top !== want.top)
    throw cannotResume(path, `was written with --top ${typeof h.top === 'number' ? h.top : '?'}, not ${want.top}`);
}

/**
 * Reduces a JSON-lines OUT to its header and results: the first `ok: true` line of each image. Failure lines and
 * repeats are dropped (OUT rewritten atomically), a torn last line is cut off (truncated); a damaged line refuses.
 */
async function keepResults(path: string, header: JsonlHeader): Promise<Resumed | undefined> {
  const fd = openRegularSync(path, {
    what: 'a JSON-lines file written by mobilenet classify',
    maxBytes: Number.MAX_SAFE_INTEGER,
    noFollow: true,
  });
  const done = new Set<string>();
  const failed = new Set<string>();
  const kept: [number, number][] = []; // byte ranges [start, end) of the lines kept
  let dropped = 0;
  let end = 0; // where the complete lines end
  let lines = 0;
  try {
    for (const l of linesOf(fd, path, MAX_LINE)) {
      if (!l.complete) break; // a torn last line: its image is done again
      lines++;
      end = l.at + l.line.length + 1;
      if (l.number === 1) {
        checkHeader(l.line, path, header);
        kept.push([l.at, end]);
        continue;
      }
      const { value, why } = parseLine(l.line);
      const record = value as { image?: unknown; ok?: unknown } | undefined;
      if (
        why ||
        typeof record !== 'object' ||
        record === null ||
        typeof record.image !== 'string' ||
        typeof record.ok !== 'boolean'
      )
        throw cannotResume(path, `line ${l.number} ${why ?? 'is not a result line ({"image", "ok", ...})'}`);
      if (record.ok && !done.has(record.image)) {
        done.add(record.image);
        kept.push([l.at, end]);
      } else {
        dropped++;
        if (!record.ok) failed.add(record.image);
      }
    }
    if (lines === 0 && fstatSync(fd).size > 0)
      throw cannotResume(path, 'is not a JSON-lines file written by mobilenet classify (it holds no complete line)');
    // An empty file: nothing to keep, and nothing of anyone's to lose; it is started as a new one.
    if (lines === 0) return undefined;
    if (dropped > 0) await rewriteKept(path, fd, kept);
    else if (fstatSync(fd).size > end) truncateOwn(path, end);
  } catch (e) {
    // A line past the cap: the file is refused as a whole, unchanged.
    if (e instanceof FileError) throw cannotResume(path, e.detail);
    throw e;
  } finally {
    closeSync(fd);
  }
  for (const image of done) failed.delete(image);
  return { done, failed };
}

/** Cuts a torn last line off OUT (opened again for writing, never through a link). */
function truncateOwn(path: string, length: number): void {
  const fd = openOutput(path, 'append');
  try {
    ftruncateSync(fd, length);
  } finally {
    closeSync(fd);
  }
}

/** OUT rewritten to the byte ranges kept, copied from the file as it is, atomically and with its mode. */
async function rewriteKept(path: string, fd: number, kept: readonly [number, number][]): Promise<void> {
  const buf = Buffer.allocUnsafe(1 << 20);
  await replaceAtomic(path, { signals: true, mode: fstatSync(fd).mode & 0o7777 }, async (write) => {
    for (const [start, end] of kept)
      for (let at = start; at < end; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
        if (n === 0) throw new Error(`${quotePath(path)} changed while it was rewritten`);
        await write(buf.subarray(0, n));
        at += n;
      }
  });
}
