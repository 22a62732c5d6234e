#!/usr/bin/python3
"""timm's MobileNetV4 models exported by torch.onnx, for v4-vs-timm.ts beside it: the same formula weights as our
export (tools/fixtures/formula_weights.py), at timm's input size, batch 1, opset 17 (or argv). timm from TIMM_SRC
(default /work/timm-src) on Debian's python3-torch 1.13.
Run: /usr/bin/python3 apps/bench/scripts/timm/timm_v4_export.py OUT [OPSET [MODEL ...]]
Writes OUT/<model>.onnx and prints one JSON line per model: {"model", "resolution", "file"}.
"""
import json
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("TIMM_SRC", "/work/timm-src"))
sys.path.insert(0, str(HERE.parents[3] / "tools" / "fixtures"))

import timm  # noqa: E402
import torch  # noqa: E402
from formula_weights import formula_state_dict  # noqa: E402
from timm_v4 import MODELS  # noqa: E402


def main():
    out = pathlib.Path(sys.argv[1])
    opset = int(sys.argv[2]) if len(sys.argv) > 2 else 17
    names = sys.argv[3:] or list(MODELS)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        model = timm.create_model(name, pretrained=False).eval()
        model.load_state_dict(formula_state_dict(model), strict=True)
        r = model.pretrained_cfg["input_size"][1]
        file = out / f"{name}.onnx"
        with torch.no_grad():
            torch.onnx.export(model, torch.zeros(1, 3, r, r), str(file), opset_version=opset,
                              input_names=["input"], output_names=["logits"], do_constant_folding=True)
        print(json.dumps({"model": name, "resolution": r, "file": str(file)}), flush=True)


if __name__ == "__main__":
    main()
