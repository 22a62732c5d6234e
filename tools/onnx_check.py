#!/usr/bin/python3
"""Checks ONNX files with the official checker (Debian's python3-onnx): onnx.checker.check_model(full_check=True).

Usage: /usr/bin/python3 tools/onnx_check.py FILE.onnx... ; prints one JSON line per file: {"file", "ok", "error"}.
Exit status 0 when every file passes, 1 otherwise.
"""
import json
import sys

import onnx


def main(paths):
    failed = 0
    for path in paths:
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            print(json.dumps({"file": path, "ok": True, "onnx": onnx.__version__}))
        except Exception as e:  # report every file, not just the first failure
            failed += 1
            print(json.dumps({"file": path, "ok": False, "error": str(e)[:2000]}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
