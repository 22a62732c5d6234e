import { readdirSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { displayName, entryOf } from '@mobilenet/runtime-node';
import { IMAGE_EXTENSIONS, type ImageFile, type Skipped } from './collection.js';
import { UsageError, quote, quotePath } from './errors.js';

/** One class of an ImageFolder: its name (the folder's, NFC) and its image files in name order. */
export interface ImageClass {
  readonly name: string;
  readonly folder: string;
  readonly files: ImageFile[];
}

export interface ImageFolderLayout {
  readonly classes: ImageClass[];
  /** Files that are not images (by extension) or not in a class folder: named, left out. */
  readonly skipped: Skipped[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const isDir = (path: string | Buffer): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The image files under a class folder (its subfolders too, as torchvision's ImageFolder walks them). */
function imagesUnder(dir: string | Buffer, shown: string, files: ImageFile[], skipped: Skipped[], depth = 0): void {
  const names = readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
  for (const name of names) {
    const entry = entryOf(dir, name, shown);
    if (isDir(entry.path)) {
      // Bounded: a link loop must not walk forever.
      if (depth < 8) imagesUnder(entry.path, entry.name, files, skipped, depth + 1);
      else skipped.push({ path: entry.name, reason: 'more than 8 folders deep' });
    } else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      files.push(typeof entry.path === 'string' ? entry.path : { name: entry.name, path: entry.path });
    else
      skipped.push({
        path: entry.name,
        reason: `not an image file (expected one of ${[...IMAGE_EXTENSIONS].join(' ')}, received ${quote(extname(entry.name) || 'no extension')})`,
      });
  }
}

/**
 * torchvision's ImageFolder layout: DIR holds one folder per class, named after it; classes in name order. Class
 * names must be UTF-8 and differ after Unicode normalisation (NFC) and trimming; each class needs at least 2 images and
 * there must be at least 2 classes. Each refusal names the folder.
 */
export function readImageFolder(dir: string, option = 'argument DIR'): ImageFolderLayout {
  if (!isDir(dir))
    throw new UsageError(`${option}: expected a folder with one subfolder per class, received ${quotePath(dir)}`);
  const skipped: Skipped[] = [];
  const classes: ImageClass[] = [];
  const seen = new Map<string, string>();
  for (const raw of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
    const entry = entryOf(dir, raw);
    if (!isDir(entry.path)) {
      skipped.push({ path: entry.name, reason: 'not in a class folder (DIR holds one folder per class)' });
      continue;
    }
    let name: string;
    try {
      name = utf8.decode(raw);
    } catch {
      throw new UsageError(
        `${option}: class folder ${quotePath(displayName(raw))}: expected a name in UTF-8 (it becomes the class name), received bytes that are not UTF-8`,
      );
    }
    const key = name.normalize('NFC').trim();
    const other = seen.get(key);
    if (other !== undefined)
      throw new UsageError(
        `${option}: class folders ${quotePath(other)} and ${quotePath(name)}: expected distinct class names, received the same name ${quote(key)} after Unicode normalisation (NFC) and trimming`,
      );
    seen.set(key, name);
    const files: ImageFile[] = [];
    imagesUnder(entry.path, entry.name, files, skipped);
    classes.push({ name: key, folder: entry.name, files });
  }
  if (classes.length < 2)
    throw new UsageError(
      `${option}: expected at least 2 class folders in ${quotePath(dir)}, received ${classes.length}${classes.length ? ` (${quotePath(classes[0]!.folder)})` : ''}: a classifier needs something to tell apart`,
    );
  for (const c of classes)
    if (c.files.length < 2)
      throw new UsageError(
        `${option}: class folder ${quotePath(c.folder)}: expected at least 2 images (one to train on, one to validate), received ${c.files.length}`,
      );
  return { classes, skipped };
}
