#!/usr/bin/python3
"""Calibration and evaluation folders of real photographs, from the ones Debian's python3-skimage ships.

The two sets come from different source photographs (never a crop of the same picture in both), so that
quantization is not evaluated on what it was calibrated on. Each source gives 6 images: 3 crops (seeded positions,
60-95% of the short side) and their mirror images. Grayscale sources are kept (the runtime converts them to RGB).
Synthetic pictures (color.png, logo.png) are left out: their logits were 10x those of photographs and drowned
every SQNR.
Run: /usr/bin/python3 tools/images_split.py OUT_DIR   (writes OUT_DIR/calibration and OUT_DIR/evaluation, JPEG)
"""
import pathlib
import random
import sys

from PIL import Image, ImageOps

DATA = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
CALIBRATION = ["astronaut.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg",
               "ihc.png", "grass.png", "brick.png", "camera.png"]
EVALUATION = ["chelsea.png", "motorcycle_right.png", "retina.jpg", "coins.png", "moon.png", "gravel.png",
              "clock_motion.png", "cell.png"]


def variants(path, rng):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    for k in range(3):
        side = int(min(w, h) * rng.uniform(0.6, 0.95))
        left, top = rng.randint(0, w - side), rng.randint(0, h - side)
        crop = img.crop((left, top, left + side, top + side))
        crop.thumbnail((320, 320))
        yield f"{path.stem}_{k}", crop
        yield f"{path.stem}_{k}_flip", ImageOps.mirror(crop)


def main(out):
    rng = random.Random(15)
    for folder, sources in (("calibration", CALIBRATION), ("evaluation", EVALUATION)):
        d = pathlib.Path(out) / folder
        d.mkdir(parents=True, exist_ok=True)
        n = 0
        for s in sources:
            for name, img in variants(DATA / s, rng):
                img.save(d / f"{name}.jpg", quality=92)
                n += 1
        print(f"{d}: {n} images from {len(sources)} photographs")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
