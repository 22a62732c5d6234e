import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MobileNetError, type Preprocessing, preprocess } from '@mobilenet/core';
import { ImageError, decodeImage } from './image.js';

/** The preprocessed images of a folder, and the files that could not be read (named, with the reason). */
export interface ImageFolder {
  readonly folder: string;
  readonly names: readonly string[];
  readonly tensors: readonly Float32Array[];
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

/**
 * Reads every file of a folder (sorted by name, not recursive) as an image, preprocessed as `pre` says. Files that
 * do not decode are skipped and listed; fewer than `minimum` readable images is an error naming the folder.
 */
export async function readImageFolder(
  folder: string,
  pre: Preprocessing,
  minimum = 1,
  onImage?: (done: number, total: number) => void,
): Promise<ImageFolder> {
  let files: string[];
  try {
    files = (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch (e) {
    throw new MobileNetError(
      'image-folder',
      `image folder '${folder}'`,
      'a readable folder of images',
      (e as NodeJS.ErrnoException).code ?? (e as Error).message,
    );
  }
  const names: string[] = [];
  const tensors: Float32Array[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for (const [i, f] of files.entries()) {
    const path = join(folder, f);
    try {
      tensors.push(preprocess(await decodeImage(path, path), pre));
      names.push(f);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      skipped.push({ file: path, reason: e.message.slice(path.length + 2) });
    }
    onImage?.(i + 1, files.length);
  }
  if (tensors.length < minimum) {
    const why = skipped.length ? `; unreadable: ${skipped.map((s) => `${s.file} (${s.reason})`).join(', ')}` : '';
    throw new MobileNetError(
      'image-folder',
      `image folder '${folder}'`,
      `at least ${minimum} readable images`,
      `${tensors.length} of ${files.length} files${why}`,
    );
  }
  return { folder, names, tensors, skipped };
}
