#!/usr/bin/env python3
"""Where a training step's GPU time goes, from Nsight Compute's CSV (bench/step_profile.sh).

    step_profile.py NCU_CSV STEPS [--json OUT_JSONL --arch A --args S --device D]

NCU_CSV: the output of `ncu --csv --metrics gpu__time_duration.sum` over STEPS timed
training steps (star bench marks them with cudaProfilerStart/Stop). Prints one row per
kernel (its name without the parameter list: template arguments, and so head dims, kept):
launches and milliseconds per step, share of the profiled time, largest first; then the
total. With --json, appends one line with the same figures (and the arch, the bench
arguments, the device and the date) to OUT_JSONL. Standard library only.
"""
import argparse
import csv
import datetime
import json
import sys

UNIT_MS = {"ns": 1e-6, "nsecond": 1e-6, "us": 1e-3, "usecond": 1e-3, "ms": 1.0, "msecond": 1.0, "s": 1e3,
           "second": 1e3}


def fail(msg):
    sys.stderr.write("step_profile.py: error: %s\n" % msg)
    sys.exit(1)


def kernel_key(name):
    """'void f<64, 64>(attn_params)' -> 'f<64, 64>'; library kernels keep their name."""
    n = name.strip()
    if n.startswith("void "):
        n = n[5:]
    depth = 0
    for i, c in enumerate(n):  # the parameter list: the first '(' outside template brackets
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0:
            n = n[:i]
            break
    return n[:120]


def read_rows(path):
    """Per launch: (kernel name, milliseconds)."""
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        fail("%s: no ncu CSV header (a line starting with \"ID\"); did ncu profile any kernel?" % path)
    rows = list(csv.DictReader(lines[start:]))
    need = ("Kernel Name", "Metric Name", "Metric Unit", "Metric Value")
    missing = [k for k in need if rows and k not in rows[0]]
    if missing:
        fail("%s:%d: the header has no column %s" % (path, start + 1, ", ".join(missing)))
    out = []
    for i, r in enumerate(rows):
        if r["Metric Name"] != "gpu__time_duration.sum":
            continue
        line = start + 2 + i
        unit = UNIT_MS.get(r["Metric Unit"])
        if unit is None:
            fail("%s:%d: unknown time unit '%s'" % (path, line, r["Metric Unit"]))
        try:
            v = float(r["Metric Value"].replace(",", ""))
        except ValueError:
            fail("%s:%d: metric value '%s' is not a number" % (path, line, r["Metric Value"]))
        out.append((kernel_key(r["Kernel Name"]), v * unit))
    if not out:
        fail("%s: no gpu__time_duration.sum values" % path)
    return out


def main(argv):
    ap = argparse.ArgumentParser(prog="step_profile.py", description=__doc__.split("\n")[0])
    ap.add_argument("ncu_csv")
    ap.add_argument("steps")
    ap.add_argument("--json", help="append a line to this JSONL file")
    ap.add_argument("--arch", default="")
    ap.add_argument("--args", default="")
    ap.add_argument("--device", default="")
    o = ap.parse_args(argv[1:])
    try:
        steps = int(o.steps)
    except ValueError:
        steps = 0
    if steps < 1:
        fail("STEPS: expected a whole number >= 1, got '%s'" % o.steps)
    path = o.ncu_csv
    per = {}
    for k, ms in read_rows(path):
        c, t = per.get(k, (0, 0.0))
        per[k] = (c + 1, t + ms)
    total = sum(t for _, t in per.values())
    order = sorted(per.items(), key=lambda kv: -kv[1][1])
    print("| kernel | launches per step | ms per step | share |")
    print("|---|---|---|---|")
    for k, (c, t) in order:
        print("| `%s` | %g | %.3f | %.1f%% |" % (k, c / steps, t / steps, 100.0 * t / total))
    print("| total | %g | %.3f | 100%% |" % (sum(c for c, _ in per.values()) / steps, total / steps))
    if o.json:
        line = {"arch": o.arch, "args": o.args, "device": o.device,
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "steps": steps, "ms_per_step": total / steps,
                "kernels": [{"kernel": k, "launches_per_step": c / steps, "ms_per_step": t / steps} for k, (c, t) in order]}
        with open(o.json, "a") as f:
            f.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
