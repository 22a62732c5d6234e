// Fuzzing the image gate (issue 23): JPEG markers and scans, PNG, WebP, GIF, TIFF page directories and SVG text,
// mutated byte by byte from real files. Every input is admitted or refused by name (an ImageError naming the image,
// a HeaderError from the parser alone), within the time bound; never another exception. `pnpm fuzz` runs 10,000
// cases per reader (FUZZ_RUNS); the default test run a few hundred.
import { blackPng, greyTiff, manyScanJpeg, svgTurbulence } from '@mobilenet/test-support/hostile';
import { RUNS, checkAsync, mutated } from '@mobilenet/test-support/fuzz';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { HeaderError, readHeader, sniff } from '../image-header.js';
import { ImageError, admit } from '../image-policy.js';
import { decodeImage } from '../image.js';

const TIMEOUT = Math.max(60_000, RUNS * 30);

async function seeds(): Promise<Uint8Array[]> {
  const data = Buffer.alloc(24 * 16 * 3, 0);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
  const img = () => sharp(data, { raw: { width: 24, height: 16, channels: 3 } });
  return [
    await img().jpeg().toBuffer(),
    await img().jpeg({ progressive: true }).toBuffer(),
    await img().withMetadata({ orientation: 6 }).jpeg().toBuffer(),
    manyScanJpeg(64, 64, 40),
    await img().png().toBuffer(),
    blackPng(40, 30),
    await img().webp().toBuffer(),
    await img().webp({ lossless: true }).toBuffer(),
    await img().gif().toBuffer(),
    await img().tiff().toBuffer(),
    greyTiff(20, 10, { pages: 3 }),
    svgTurbulence(64, 64),
  ];
}

describe('image headers and the format gate', () => {
  it(
    `${RUNS} mutated images: readHeader gives a header or a HeaderError, within the bound`,
    async () => {
      const arb = mutated(await seeds(), 2048);
      await checkAsync('image headers', arb, async (bytes) => {
        try {
          const h = readHeader(bytes);
          if (h) expect(Number.isSafeInteger(h.width) && Number.isSafeInteger(h.height)).toBe(true);
          sniff(bytes);
          return 'accepted';
        } catch (e) {
          if (!(e instanceof HeaderError)) throw new Error(`not our error: ${(e as Error).message}`);
          return 'refused';
        }
      });
    },
    TIMEOUT,
  );

  it(
    `${RUNS} mutated images: admitted within the limits and decoded, or refused naming the image`,
    async () => {
      const arb = mutated(await seeds(), 2048);
      await checkAsync('image gate and decode', arb, async (bytes) => {
        try {
          const a = await admit(bytes, 'fuzz.img', 100_000_000);
          expect(a.pixels).toBeLessThanOrEqual(100_000_000);
          expect(Math.max(a.width, a.height)).toBeLessThanOrEqual(65535);
          // What the gate admits, libvips decodes or refuses, within the bound (checked by checkAsync).
          const d = await decodeImage({ name: 'fuzz.img', bytes }, 'fuzz.img');
          expect(d.data.length).toBe(d.width * d.height * 3);
          return 'accepted';
        } catch (e) {
          if (!(e instanceof ImageError)) throw new Error(`not our error: ${(e as Error).message}`);
          if (!e.message.startsWith('fuzz.img: ')) throw new Error(`does not name the image: ${e.message}`);
          if (e.message.includes('\n')) throw new Error(`a message of several lines: ${e.message}`);
          return 'refused';
        }
      });
    },
    TIMEOUT,
  );
});
