#!/usr/bin/python3
"""Checks ONNX models with the official checker (Debian's python3-onnx): onnx.checker.check_model(full_check=True).

Usage:
  /usr/bin/python3 tools/onnx_check.py FILE.onnx...   check files
  /usr/bin/python3 tools/onnx_check.py --stdin        check models streamed on stdin, each as a line
                                                      "NAME<TAB>BYTE-LENGTH" followed by that many bytes
Prints one JSON line per model, as soon as it is checked: {"file", "ok", "error"}.
Exit status 0 when every model passes, 1 otherwise.

One process checks every model: importing onnx costs more than checking a small model, and the test suite runs
on busy machines. --stdin lets the caller stream models without writing them to disk (120 exports are 1.5 GB).
"""
import json
import sys

import onnx


def check(name, load):
    try:
        onnx.checker.check_model(load(), full_check=True)
        return {"file": name, "ok": True, "onnx": onnx.__version__}
    except Exception as e:  # report every model, not just the first failure
        return {"file": name, "ok": False, "error": str(e)[:2000]}


def models_on_stdin(stream):
    while True:
        header = stream.readline()
        if not header:
            return
        name, _, size = header.decode("utf8").rstrip("\n").rpartition("\t")
        if not name or not size.isdigit():
            raise SystemExit(f"onnx_check.py --stdin: expected a line 'NAME<TAB>BYTE-LENGTH', received {header[:200]!r}")
        data = stream.read(int(size))
        if len(data) != int(size):
            raise SystemExit(f"onnx_check.py --stdin: model '{name}': expected {size} bytes, received {len(data)}")
        yield name, data


def main(args):
    if args == ["--stdin"]:
        jobs = ((name, lambda data=data: onnx.load_model_from_string(data)) for name, data in models_on_stdin(sys.stdin.buffer))
    else:
        jobs = ((path, lambda path=path: onnx.load(path)) for path in args)
    failed = 0
    for name, load in jobs:
        result = check(name, load)
        failed += not result["ok"]
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
