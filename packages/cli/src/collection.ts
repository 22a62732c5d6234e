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
import { quotePath } from './errors.js';
import { checkOutputPath } from './io.js';

/** Extensions taken from a folder; a file named on the command line is taken whatever its name. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif']);

/** A path that could not be listed (a symlink loop, an unreadable folder): reported by name, the run goes on. */
export interface Skipped {
  readonly path: string;
  readonly reason: string;
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

/**
 * Results appended one JSON line per image, each written whole with one write, so that an interrupted run leaves a
 * valid file (at worst a last partial line, which `--resume` drops). An existing file is refused unless `force`
 * (start over) or `resume` (keep its lines and skip their images).
 */
export class JsonlSink {
  private readonly fd: number;
  /** Images already in the file (with `resume`). */
  readonly done: ReadonlySet<string>;

  constructor(
    readonly path: string,
    mode: { force: boolean; resume: boolean },
    option = '--jsonl',
  ) {
    const exists = existsSync(path);
    checkOutputPath(path, mode.force || mode.resume, option);
    const done = new Set<string>();
    if (exists && mode.resume) {
      const text = readFileSync(path, 'utf8');
      const complete = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(0, complete).split('\n')) {
        if (!line) continue;
        try {
          const image = (JSON.parse(line) as { image?: unknown }).image;
          if (typeof image === 'string') done.add(image);
        } catch {
          // a damaged line is redone
        }
      }
      truncateSync(path, Buffer.byteLength(text.slice(0, complete)));
    }
    this.done = done;
    this.fd = openSync(path, exists && mode.resume ? 'a' : 'w');
  }

  write(record: unknown): void {
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
