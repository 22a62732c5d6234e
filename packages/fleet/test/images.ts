// Test helpers: seeded JPEGs, each one different (so each has its own content hash).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** A small deterministic generator (mulberry32): the same seed gives the same pictures on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `count` JPEGs of `size` x `size` noise with a coloured gradient into `dir` as img-00000.jpg...; returns
 * their paths in name order.
 */
export async function writeJpegs(
  dir: string,
  count: number,
  o: { seed?: number; size?: number } = {},
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const size = o.size ?? 40;
  const next = rng(o.seed ?? 1);
  const paths: string[] = [];
  const pixels = Buffer.alloc(size * size * 3);
  for (let i = 0; i < count; i++) {
    const [r, g, b] = [next() * 255, next() * 255, next() * 255];
    for (let p = 0; p < size * size; p++) {
      const x = (p % size) / size;
      pixels[p * 3] = (r * x + next() * 64) & 255;
      pixels[p * 3 + 1] = (g * (1 - x) + next() * 64) & 255;
      pixels[p * 3 + 2] = (b + next() * 64) & 255;
    }
    const path = join(dir, `img-${String(i).padStart(5, '0')}.jpg`);
    writeFileSync(
      path,
      await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
    paths.push(path);
  }
  return paths;
}
