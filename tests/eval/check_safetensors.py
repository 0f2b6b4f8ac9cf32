#!/usr/bin/env python3
"""Interoperability of star's safetensors with the reference library (not a ctest entry).

    python3 tests/eval/check_safetensors.py build/test_safetensors

1. star writes a file (test_safetensors --write); the safetensors library loads it and
   the values, shapes, dtypes and metadata are compared with what star was given.
2. the library writes F32, BF16, F16 and F64 tensors (and an I32 one star must refuse to
   read as float); star reads them (test_safetensors --dump) and the values are compared.
Needs: pip install safetensors numpy.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import safetensors
from safetensors import safe_open


def bf16_to_f32(raw):
    return (np.frombuffer(bytes(raw), dtype="<u2").astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bytes(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16  # round to nearest even (no NaNs here)
    return u.astype("<u2").tobytes()


def write_reference(path, arrays, metadata):
    """Writes raw tensors with the library: older releases take dicts, newer ones TensorSpec."""
    try:
        tensors = {k: {"dtype": d, "shape": list(a.shape), "data": a.tobytes()} for k, (d, _, a) in arrays.items()}
        safetensors.serialize_file(tensors, path, metadata=metadata)
    except TypeError:
        tensors = {k: safetensors.TensorSpec(dtype=n, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
                   for k, (_, n, a) in arrays.items()}
        safetensors.serialize_file(tensors, path, metadata=metadata)


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else "build/test_safetensors"
    failures = 0

    def check(cond, what):
        nonlocal failures
        if not cond:
            failures += 1
            print("FAIL:", what)

    with tempfile.TemporaryDirectory() as tmp:
        # 1. star -> library
        path = os.path.join(tmp, "star.safetensors")
        subprocess.run([exe, "--write", path], check=True)
        with safe_open(path, framework="np") as f:
            check(f.metadata() == {"format": "pt", "genome": '21211-31112 "q" \\ \u00e9'}, "metadata")
            w = f.get_tensor("layer.0.w")
            want = np.array([[1.5, -2.25, 3.0e-3], [1.0e6, -0.0, 7.0]], dtype=np.float32)
            check(w.dtype == np.float32 and w.shape == (2, 3) and np.array_equal(w, want), "layer.0.w")
            s = f.get_tensor("scale")
            check(s.shape == () and float(s) == 42.0, "scale")
            check(f.get_tensor("empty").shape == (0, 5), "empty")
        spec = dict(safetensors.deserialize(open(path, "rb").read()))
        e = spec["embed"]
        check(e["dtype"] == "BF16" and list(e["shape"]) == [4], "embed dtype/shape")
        got = bf16_to_f32(e["data"])
        want = bf16_to_f32(f32_to_bf16_bytes([1.0, 1.00390625, 1.01171875, -3.14159]))
        check(np.array_equal(got, want), "embed bf16 values %s vs %s" % (got, want))

        # 2. library -> star
        path2 = os.path.join(tmp, "ref.safetensors")
        x32 = np.array([[0.25, -1.0], [3.5, 1e-7]], dtype=np.float32)
        x16 = np.array([1.0, -2.0, 0.5, 65504.0], dtype=np.float16)
        x64 = np.array([1.0 / 3.0, -2.5], dtype=np.float64)
        xbf = np.array([2.0, -0.15625, 7.0], dtype=np.float32)
        xi = np.array([1, 2, 3], dtype=np.int32)
        arrays = {  # name: (safetensors dtype, numpy dtype name for TensorSpec, array)
            "a.f32": ("F32", "float32", x32),
            "b.f16": ("F16", "float16", x16),
            "c.f64": ("F64", "float64", x64),
            "d.bf16": ("BF16", "bfloat16", np.frombuffer(f32_to_bf16_bytes(xbf), dtype="<u2").copy()),
            "e.i32": ("I32", "int32", xi),
        }
        write_reference(path2, arrays, {"source": "reference"})
        out = subprocess.run([exe, "--dump", path2], check=True, capture_output=True, text=True).stdout
        rows = {}
        for line in out.splitlines():
            parts = line.split()
            rows[parts[0]] = parts[1:]
        check(rows.get("__metadata__") == ["source=reference"], "metadata read by star")
        for name, ref, dtype in (("a.f32", x32, "F32"), ("b.f16", x16, "F16"), ("c.f64", x64, "F64"),
                                 ("d.bf16", xbf, "BF16")):
            r = rows.get(name)
            check(r is not None and r[0] == dtype, name + " dtype")
            if r:
                vals = np.array([float(v) for v in r[2:]], dtype=np.float32)
                check(np.array_equal(vals, ref.astype(np.float32).ravel()), "%s values %s" % (name, vals))
        check(rows.get("e.i32", [None, None, None])[2] == "unreadable", "I32 refused as float")

    print("check_safetensors: %s" % ("ok" if failures == 0 else "%d failures" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
