import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listImages, nameOf } from './collection.js';
import { BIN, ROOT, blankPng, cleanTmp, run, spawnTsx, tmp } from '../test/testing.js';

afterAll(cleanTmp);
const FIX = join(ROOT, 'packages/runtime-node/test/fixtures');
/** The result lines of a JSON-lines OUT (its first line, the header, checked and left out). */
const lines = (file: string) => {
  const [header, ...rest] = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  expect(JSON.parse(header!).format).toBe('mobilenet-classify-jsonl/1');
  return rest.map((l) => JSON.parse(l) as { image: string; ok: boolean; error?: string });
};

/** A folder of good images, bad ones, a subfolder and a symlink loop. */
function folder(): string {
  const dir = tmp();
  copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
  copyFileSync(join(FIX, 'tall.png'), join(dir, 'b.png'));
  copyFileSync(join(FIX, 'truncated.jpg'), join(dir, 'c-truncated.jpg'));
  copyFileSync(join(FIX, 'not-an-image.jpg'), join(dir, 'd-text.jpg'));
  writeFileSync(join(dir, 'e-empty.png'), '');
  symlinkSync(join(dir, 'gone.jpg'), join(dir, 'f-dangling.jpg'));
  writeFileSync(join(dir, 'notes.txt'), 'not listed');
  mkdirSync(join(dir, 'sub'));
  copyFileSync(join(FIX, 'scene.png'), join(dir, 'sub', 'g.png'));
  symlinkSync(dir, join(dir, 'sub', 'loop'));
  return dir;
}

describe('listing a collection', () => {
  it("takes a folder's images in name order, subfolders with --recursive, reports a symlink loop, keeps named files", () => {
    const dir = folder();
    const flat = listImages([dir], false);
    expect(flat.files.map((f) => nameOf(f).slice(dir.length + 1))).toEqual([
      'a.jpg',
      'b.png',
      'c-truncated.jpg',
      'd-text.jpg',
      'e-empty.png',
      'f-dangling.jpg',
    ]);
    expect(flat.skipped).toEqual([]);
    const deep = listImages([dir, join(dir, 'notes.txt'), join(dir, 'missing.jpg')], true);
    expect(deep.files.map((f) => nameOf(f).slice(dir.length + 1))).toEqual([
      'a.jpg',
      'b.png',
      'c-truncated.jpg',
      'd-text.jpg',
      'e-empty.png',
      'f-dangling.jpg',
      'sub/g.png',
      'notes.txt',
      'missing.jpg',
    ]);
    expect(deep.skipped).toEqual([
      { path: join(dir, 'sub', 'loop'), reason: `a symbolic link loop (already listed as '${dir}')` },
    ]);
  });
});

describe('mobilenet classify DIR --jsonl', () => {
  const model = ['--arch', 'v3-small', '--convention', 'torchvision', '--resolution', '64'];

  it('one line per image in order, each bad image named, exit 1 with the count; an existing OUT needs --force or --resume', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'h-huge.png'), await blankPng(20000, 10000));
    const out = join(tmp(), 'out.jsonl');
    const r = await run('classify', dir, '--recursive', ...model, '--jsonl', out, '--max-pixels', '100000000');
    expect(r.code, r.err).toBe(1);
    const got = lines(out);
    expect(got.map((l) => [l.image.slice(dir.length + 1), l.ok])).toEqual([
      ['a.jpg', true],
      ['b.png', true],
      ['c-truncated.jpg', false],
      ['d-text.jpg', false],
      ['e-empty.png', false],
      ['f-dangling.jpg', false],
      ['h-huge.png', false],
      ['sub/g.png', true],
    ]);
    expect(got.find((l) => l.image.endsWith('h-huge.png'))!.error).toContain(
      '20000x10000 is 200000000 pixels, more than the 100000000 allowed',
    );
    expect(r.err).toContain(`'${join(dir, 'sub', 'loop')}': skipped, a symbolic link loop`);
    expect(r.err).toMatch(
      new RegExp(
        `mobilenet classify: 3 of 9 images classified in ${out}, in [0-9.]+ s; 6 of 9 failed \\(named above\\)\n$`,
      ),
    );
    expect(r.out).toBe('');
    const again = await run('classify', dir, ...model, '--jsonl', out);
    expect([again.code, again.err]).toEqual([
      2,
      `mobilenet classify: option --jsonl: '${out}' exists; pass --force to overwrite it\n`,
    ]);
    expect((await run('classify', dir, ...model, '--resume')).err).toContain(
      'option --resume: expected --jsonl OUT to go with it, received no --jsonl',
    );
  });

  it('--resume keeps complete lines, drops a torn last line, and does only the rest', async () => {
    const dir = tmp();
    for (const n of ['a', 'b', 'c']) copyFileSync(join(FIX, 'scene.jpg'), join(dir, `${n}.jpg`));
    const out = join(tmp(), 'out.jsonl');
    expect((await run('classify', join(dir, 'a.jpg'), ...model, '--jsonl', out)).code).toBe(0);
    const done = readFileSync(out, 'utf8');
    writeFileSync(out, `${done}{"image": "${join(dir, 'b.jpg')}", "ok`);
    const r = await run('classify', dir, ...model, '--jsonl', out, '--resume');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`resuming: 1 images already in ${out}`);
    expect(lines(out).map((l) => l.image.slice(dir.length + 1))).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
  });

  it('--resume tries failed images again: their error lines are replaced, OUT keeps one line per image', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    copyFileSync(join(FIX, 'truncated.jpg'), join(dir, 'b.jpg'));
    copyFileSync(join(FIX, 'not-an-image.jpg'), join(dir, 'c.jpg'));
    copyFileSync(join(FIX, 'tall.png'), join(dir, 'd.png'));
    const out = join(tmp(), 'out.jsonl');
    const first = await run('classify', dir, ...model, '--jsonl', out);
    expect(first.code, first.err).toBe(1);
    const name = (l: { image: string }) => l.image.slice(dir.length + 1);
    expect(lines(out).map((l) => [name(l), l.ok])).toEqual([
      ['a.jpg', true],
      ['b.jpg', false],
      ['c.jpg', false],
      ['d.png', true],
    ]);
    const kept = lines(out).filter((l) => l.ok);
    // b.jpg is repaired; c.jpg stays bad. A repeated line for a.jpg (a user's concatenation) is dropped too.
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'b.jpg'));
    writeFileSync(out, `${readFileSync(out, 'utf8')}${JSON.stringify(kept[0])}\n`);
    const again = await run('classify', dir, ...model, '--jsonl', out, '--resume');
    expect(again.code, again.err).toBe(1);
    expect(again.err).toContain(`resuming: 2 images already in ${out}; trying again the 2 that failed`);
    expect(again.err).toContain(`${join(dir, 'c.jpg')}: cannot decode`);
    expect(again.err).toContain('1 of 4 failed');
    expect(again.err).toContain(`3 of 4 images classified in ${out} (2 from before)`);
    const got = lines(out);
    // The results kept as they were (same bytes), then the retried images in input order.
    expect(got.slice(0, 2)).toEqual(kept);
    expect(got.map((l) => [name(l), l.ok])).toEqual([
      ['a.jpg', true],
      ['d.png', true],
      ['b.jpg', true],
      ['c.jpg', false],
    ]);
    // b.jpg is now scene.jpg: the same classes as a.jpg.
    expect((got[2] as unknown as { top: unknown }).top).toEqual((got[0] as unknown as { top: unknown }).top);
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'c.jpg'));
    const last = await run('classify', dir, ...model, '--jsonl', out, '--resume');
    expect(last.code, last.err).toBe(0);
    expect(lines(out).map((l) => [name(l), l.ok])).toEqual([
      ['a.jpg', true],
      ['d.png', true],
      ['b.jpg', true],
      ['c.jpg', true],
    ]);
  });

  it('Ctrl-C stops after the line being written: OUT valid, exit 130, and --resume finishes it', async () => {
    const dir = tmp();
    for (let i = 0; i < 400; i++) copyFileSync(join(FIX, 'scene.jpg'), join(dir, `${String(i).padStart(3, '0')}.jpg`));
    const outDir = tmp();
    const out = join(outDir, 'out.jsonl');
    let pid = 0;
    let sent = false;
    const watcher = watch(outDir, () => {
      // After the header and at least one result line.
      if (!sent && pid && existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 2) {
        sent = true;
        process.kill(pid, 'SIGINT');
      }
    });
    const r = await spawnTsx([BIN, 'classify', dir, ...model, '--jsonl', out], {
      onStart: (p) => void (pid = p),
    }).finally(() => watcher.close());
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\) after \d+ of 400 images/);
    const partial = lines(out); // every line parses
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(400);
    const rest = await run('classify', dir, ...model, '--jsonl', out, '--resume');
    expect(rest.code, rest.err).toBe(0);
    expect(lines(out).map((l) => l.image)).toEqual(
      Array.from({ length: 400 }, (_, i) => join(dir, `${String(i).padStart(3, '0')}.jpg`)),
    );
  });
});
