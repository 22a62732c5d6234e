import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { extname, join } from 'node:path';
import { optionError, quotePath } from './errors.js';
import { checkOutputPath, writeFileAtomic } from './io.js';

/** Extensions taken from a folder; a file named on the command line is taken whatever its name. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif']);

/** A path that could not be listed (a symlink loop, an unreadable folder): reported by name, the run goes on. */
export interface Skipped {
  readonly path: string;
  readonly reason: string;
}

/** `listImages` for a command's arguments: nothing to read at all is a usage error naming what was given. */
export function imagesOfArgs(args: readonly string[], recursive: boolean): { files: string[]; skipped: Skipped[] } {
  const listed = listImages(args, recursive);
  if (listed.files.length === 0 && listed.skipped.length === 0)
    throw optionError('argument IMAGE|DIR', 'at least one image', `none in ${args.map((p) => quotePath(p)).join(' ')}`);
  return listed;
}

/**
 * The images named by `args`: files as given (a missing one is kept, and its decode names the error), folders as
 * their image files in name order, subfolders only with `recursive`. A folder reached twice through symbolic
 * links (a loop) is skipped and reported.
 */
export function listImages(args: readonly string[], recursive: boolean): { files: string[]; skipped: Skipped[] } {
  const files: string[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    let real: string;
    let names: string[];
    try {
      real = realpathSync(dir);
      if (seen.has(real))
        return void skipped.push({ path: dir, reason: `a symbolic link loop (already listed as ${quotePath(real)})` });
      seen.add(real);
      names = readdirSync(dir).sort();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return void skipped.push({
        path: dir,
        reason: code === 'ELOOP' ? 'a symbolic link loop' : `cannot list: ${(e as Error).message}`,
      });
    }
    for (const name of names) {
      const path = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch (e) {
        // A broken link or a file that vanished: an image path whose decode will say what is wrong.
        if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
          skipped.push({ path, reason: 'a symbolic link loop' });
          continue;
        }
      }
      if (isDir) {
        if (recursive) walk(path);
      } else if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) files.push(path);
    }
  };
  for (const arg of args) {
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      // kept as a file: its decode reports it by name
    }
    if (isDir) walk(arg);
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
 * Results appended one JSON line per image, each written whole with one write, so that an interrupted run leaves a
 * valid file (at worst a last partial line, which `--resume` drops). An existing file is refused unless `force`
 * (start over) or `resume`.
 *
 * `resume` keeps the lines of images that have a result (`ok: true`, the first one per image) and tries the
 * failed ones again: their `ok: false` lines are removed, so OUT keeps one line per image and the retry's line
 * (a result, or the new error) is the only one. When lines are removed OUT is rewritten atomically (a temporary
 * file renamed over it; Ctrl-C during it leaves the old OUT); retried images come after the kept lines.
 */
export class JsonlSink {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    /** Images already in the file with a result (with `resume`): skipped. */
    readonly done: ReadonlySet<string>,
    /** Images whose failure lines were removed on resume (and that have no result): done again. */
    readonly failed: ReadonlySet<string>,
  ) {}

  static async open(path: string, mode: { force: boolean; resume: boolean }, option = '--jsonl'): Promise<JsonlSink> {
    const exists = existsSync(path);
    checkOutputPath(path, mode.force || mode.resume, option);
    const resume = exists && mode.resume;
    const { done, failed } = resume ? await keepResults(path) : { done: new Set<string>(), failed: new Set<string>() };
    return new JsonlSink(path, openSync(path, resume ? 'a' : 'w'), done, failed);
  }

  write(record: unknown): void {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Reduces a JSON-lines OUT to its results: the first `ok: true` line of each image. Failure lines, repeats,
 * damaged lines and a torn last line are dropped (truncated if only the tail goes, else rewritten atomically).
 */
async function keepResults(path: string): Promise<Resumed> {
  const text = readFileSync(path, 'utf8');
  const complete = text.lastIndexOf('\n') + 1;
  const done = new Set<string>();
  const failed = new Set<string>();
  const kept: string[] = [];
  let dropped = 0;
  for (const line of text.slice(0, complete).split('\n').slice(0, -1)) {
    let record: { image?: unknown; ok?: unknown } | undefined;
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      // a damaged line: its image is done again
    }
    const image = record?.image;
    if (typeof image === 'string' && record?.ok === true && !done.has(image)) {
      done.add(image);
      kept.push(`${line}\n`);
      continue;
    }
    dropped++;
    if (typeof image === 'string' && record?.ok === false) failed.add(image);
  }
  if (dropped === 0) truncateSync(path, Buffer.byteLength(text.slice(0, complete)));
  else await writeFileAtomic(path, new TextEncoder().encode(kept.join('')), { signals: true });
  for (const image of done) failed.delete(image);
  return { done, failed };
}
