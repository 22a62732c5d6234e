import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MobileNetError, type Preprocessing, preprocess, quotePath } from '@mobilenet/core';
import { type DecodeOptions, ImageError, decodeImage, readImageFile } from './image.js';

/** The preprocessed images of a folder, and the files that could not be read (named, with the reason). */
export interface ImageFolder {
  readonly folder: string;
  readonly names: readonly string[];
  readonly tensors: readonly Float32Array[];
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

/** A file found in a folder: the path to open (bytes when its name is not UTF-8) and the name to show. */
export interface FolderEntry {
  readonly path: string | Buffer;
  readonly name: string;
}

/**
 * A file name as bytes, shown on one line: UTF-8 as it is, and when it is not valid UTF-8, each byte that is not
 * printable ASCII as \xNN (a name that is not UTF-8 still names its file, instead of a U+FFFD that matches nothing on disk).
 * @internal
 */
export function displayName(name: Buffer): string {
  const text = name.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(name)) return text;
  const printable = (b: number) => b >= 0x20 && b < 0x7f;
  return [...name]
    .map((b) => (printable(b) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
    .join('');
}

/**
 * A name from `readdir` (as bytes) in `folder` as a path to open: a string when the folder and the name are UTF-8,
 * else bytes (the string Node would make of them names no file). `shown` is the folder as messages name it.
 * @internal
 */
export function entryOf(folder: string | Buffer, name: Buffer, shown = displayName(Buffer.from(folder))): FolderEntry {
  const text = name.toString('utf8');
  const utf8 = typeof folder === 'string' && Buffer.from(text, 'utf8').equals(name);
  const path = utf8
    ? join(folder, text)
    : Buffer.concat([Buffer.from(folder).subarray(0, trimmed(Buffer.from(folder))), Buffer.from('/'), name]);
  return { path, name: join(shown, displayName(name)) };
}

/** Length of a folder path without its trailing slashes (the root '/' stays whole). */
function trimmed(folder: Buffer): number {
  let n = folder.length;
  while (n > 1 && folder[n - 1] === 0x2f) n--;
  return n === 1 && folder[0] === 0x2f ? 0 : n;
}

/**
 * The files of a folder (not recursive), sorted by name: everything but folders, links followed. A FIFO, a device
 * or a link to one is listed too, so that its decode refuses it by name instead of it vanishing from the count.
 * @internal
 */
export function folderEntries(folder: string): FolderEntry[] {
  let names: Buffer[];
  try {
    names = readdirSync(folder, { encoding: 'buffer' });
  } catch (e) {
    throw new MobileNetError(
      'image-folder',
      `image folder ${quotePath(folder)}`,
      'a readable folder of images',
      (e as NodeJS.ErrnoException).code ?? (e as Error).message,
    );
  }
  return names
    .sort(Buffer.compare)
    .map((n) => entryOf(folder, n, folder))
    .filter((e) => !isFolder(e.path));
}

export function isFolder(path: string | Buffer): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a dangling link: its decode names the problem
  }
}

/** One image of a folder, decoded and preprocessed, or why it could not be. */
export type FolderImage =
  | { readonly name: string; readonly tensor: Float32Array }
  | { readonly name: string; readonly reason: string };

/**
 * The images of a folder one at a time, preprocessed as `pre` says: nothing is held but the image being read, so a
 * folder of thousands of images costs the memory of one. Files that do not decode come with the reason.
 */
export async function* folderImages(
  folder: string,
  pre: Preprocessing,
  options: DecodeOptions = {},
  entries: readonly FolderEntry[] = folderEntries(folder),
): AsyncGenerator<FolderImage, void, undefined> {
  for (const e of entries) {
    try {
      const bytes = await readImageFile(e.path, e.name, options);
      yield { name: e.name, tensor: preprocess(await decodeImage({ name: e.name, bytes }, e.name, options), pre) };
    } catch (x) {
      if (!(x instanceof ImageError)) throw x;
      yield { name: e.name, reason: x.reason };
    }
  }
}

/**
 * Too few readable images in a folder: the error names the folder, the count and the files that failed.
 * @internal
 */
export function tooFewImages(
  folder: string,
  minimum: number,
  read: number,
  files: number,
  skipped: ImageFolder['skipped'],
): MobileNetError {
  const why = skipped.length ? `; unreadable: ${skipped.map((s) => `${s.file} (${s.reason})`).join(', ')}` : '';
  return new MobileNetError(
    'image-folder',
    `image folder ${quotePath(folder)}`,
    `at least ${minimum} readable images`,
    `${read} of ${files} files${why}`,
  );
}

/**
 * Reads every file of a folder (sorted by name, not recursive) as an image, preprocessed as `pre` says, and holds
 * them all (for the few callers that need them at once; `folderImages` streams). Files that do not decode are
 * skipped and listed; fewer than `minimum` readable images is an error naming the folder.
 */
export async function readImageFolder(
  folder: string,
  pre: Preprocessing,
  minimum = 1,
  onImage?: (done: number, total: number) => void,
): Promise<ImageFolder> {
  const entries = folderEntries(folder);
  const total = entries.length;
  const names: string[] = [];
  const tensors: Float32Array[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for await (const image of folderImages(folder, pre, {}, entries)) {
    if ('tensor' in image) {
      tensors.push(image.tensor);
      names.push(image.name);
    } else skipped.push({ file: image.name, reason: image.reason });
    onImage?.(names.length + skipped.length, total);
  }
  if (tensors.length < minimum) throw tooFewImages(folder, minimum, tensors.length, total, skipped);
  return { folder, names, tensors, skipped };
}
