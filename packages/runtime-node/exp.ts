import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { manyScanJpeg } from '@mobilenet/test-support/hostile';
for (const [w, h, s] of [[64, 64, 883], [2000, 2000, 100], [2000, 2000, 883], [10000, 9999, 10], [10000, 9999, 100]] as const) {
  const b = manyScanJpeg(w, h, s);
  writeFileSync(`/tmp/h/scans-${w}-${s}.jpg`, b);
  const t = performance.now();
  try {
    const r = await sharp(b, { failOn: 'warning', limitInputPixels: 1e8 }).timeout({ seconds: 5 }).raw().toBuffer({ resolveWithObject: true });
    console.log(w, h, s, b.length, 'ok', r.info.width, r.info.height, (performance.now() - t).toFixed(0), 'ms');
  } catch (e) { console.log(w, h, s, b.length, 'err', (e as Error).message.split('\n')[0], (performance.now() - t).toFixed(0), 'ms'); }
}
