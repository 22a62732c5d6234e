import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './errors.js';

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

/** Checks an output path before any work is done: its folder exists and it is not overwritten unless forced. */
export function checkOutputPath(path: string, force: boolean, option = '-o'): void {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`option ${option}: folder '${dir}' does not exist (create it first)`);
  if (existsSync(path) && !force) throw new UsageError(`option ${option}: '${path}' exists; pass --force to overwrite it`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`option ${option}: '${path}' is a folder, expected a file path`);
}

/** Writes a file atomically: a temporary file beside it, then a rename, so a reader never sees half a file. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
