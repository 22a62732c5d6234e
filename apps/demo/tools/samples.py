"""The demo's sample photographs: four of scikit-image's (Debian's python3-skimage), public domain or CC0,
downscaled and saved as small JPEGs in apps/demo/public/samples. Run: /usr/bin/python3 apps/demo/tools/samples.py

Licenses, from each image's docstring in skimage/data/_fetchers.py (skimage 0.19.3), are repeated in
public/samples/ATTRIBUTION.md. The motorcycle pair (Middlebury stereo) states no license, so it is left out.
"""
import os

import skimage.data
from PIL import Image

OUT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', 'public', 'samples'))
# Long side in pixels: enough for the models' 224-256 crops (Resize 256 reads a short side of 256 or more where the
# photo has it) while each file stays well under 60 KB.
LONG_SIDE = 480
NAMES = ['chelsea.png', 'coffee.png', 'astronaut.png', 'rocket.jpg']


def main():
    folder = os.path.dirname(skimage.data.__file__)
    os.makedirs(OUT, exist_ok=True)
    for name in NAMES:
        img = Image.open(os.path.join(folder, name)).convert('RGB')
        scale = min(1.0, LONG_SIDE / max(img.size))
        size = (round(img.width * scale), round(img.height * scale))
        if size != img.size:
            img = img.resize(size, Image.LANCZOS)
        path = os.path.join(OUT, os.path.splitext(name)[0] + '.jpg')
        # Baseline JPEG, 4:2:0, no metadata: decoded the same by libjpeg-turbo in sharp and in Chromium.
        img.save(path, 'JPEG', quality=85, optimize=True)
        print(f'{path}: {size[0]}x{size[1]}, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
