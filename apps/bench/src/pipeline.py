#!/usr/bin/python3
"""Helper of apps/bench/src/pipeline.ts (Debian's /usr/bin/python3: PIL, torch, torchvision, skimage's photos).

  pipeline.py generate DIR [SMALL BIG]   writes SMALL JPEGs of 640x480 and BIG of 4000x3000, cut from skimage's
                                         photographs (random crops, scales, flips; quality 90 like a camera)
  pipeline.py torchvision FILE_LIST      times PIL decode + Resize(256), CenterCrop(224), ToTensor, Normalize per
                                         file (one thread, as a DataLoader worker runs), and the decode alone
                                         (Image.open().convert('RGB')), prints JSON
"""
import json
import pathlib
import sys
import time

import numpy as np
from PIL import Image

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png", "horse.png", "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "color.png"]
SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")


def photo(rng, sources, w, h):
    src = sources[rng.integers(len(sources))]
    # A random crop covering 40-100% of the photo, resized to w x h: smooth like a photo, varied like a folder.
    f = rng.uniform(0.4, 1.0)
    cw, ch = max(8, int(src.width * f)), max(8, int(src.height * f))
    x, y = rng.integers(0, src.width - cw + 1), rng.integers(0, src.height - ch + 1)
    img = src.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BICUBIC)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    # Sensor-like grain, so that large images compress like photographs rather than like smooth enlargements.
    a = np.asarray(img, dtype=np.int16) + rng.normal(0, 3, (h, w, 1)).astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def generate(out, small, big):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = [Image.open(SKIMAGE / p).convert("RGB") for p in PHOTOS if (SKIMAGE / p).exists()]
    for i in range(small):
        photo(rng, sources, 640, 480).save(out / f"small-{i:04d}.jpg", quality=90)
    for i in range(big):
        photo(rng, sources, 4000, 3000).save(out / f"big-{i:02d}.jpg", quality=90)


def torchvision_times(file_list):
    import torch
    from torchvision import transforms

    torch.set_num_threads(1)
    t = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    files = [line for line in pathlib.Path(file_list).read_text().splitlines() if line]
    for f in files[:2]:  # warm-up
        t(Image.open(f).convert("RGB"))
    per_file = {}
    for f in files:
        c0, t0 = time.process_time(), time.perf_counter()
        img = Image.open(f).convert("RGB")
        c1, t1 = time.process_time(), time.perf_counter()
        t(img)
        c2, t2 = time.process_time(), time.perf_counter()
        per_file[f] = {"cpu": (c2 - c0) * 1000, "wall": (t2 - t0) * 1000, "decodeCpu": (c1 - c0) * 1000, "decodeWall": (t1 - t0) * 1000}
    print(json.dumps({"perFile": per_file, "torch": torch.__version__}))


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 256, int(sys.argv[4]) if len(sys.argv) > 4 else 16)
    elif sys.argv[1] == "torchvision":
        torchvision_times(sys.argv[2])
    else:
        sys.exit(f"pipeline.py: unknown command {sys.argv[1]!r}; expected generate or torchvision")
