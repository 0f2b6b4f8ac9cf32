#!/usr/bin/env python3
"""The instruction mix of compiled kernels, loop by loop (a static count, no GPU needed).

    sass_mix.py FILE [--kernel REGEX]... [--base FILE] [--cuobjdump PATH] [--json OUT_JSONL]

FILE: a cubin, object file or executable with sm_XX code (read with `cuobjdump -sass`,
and `cuobjdump -res-usage` for registers and spills), or the text `cuobjdump -sass`
printed (a .sass file; registers then unknown). For every kernel whose mangled or
demangled-looking name matches one of the --kernel regular expressions (default: all),
prints its registers and spill bytes, its instruction count, and each loop (the range
from a backward branch's target to the branch): instructions, tensor-core instructions
(HMMA, HGMMA), the instructions per tensor-core instruction, and the most frequent
opcodes. The count is static: a loop's body includes its cold branches (the mask pass of
an attention tile, for instance), so compare the same kernel before and after a change
(--base FILE prints the same figures for another build side by side), not two kernels.
--json appends one line per kernel with the figures and the date.

cuobjdump comes with the CUDA toolkit (or `pip install nvidia-cuda-cuobjdump`); --cuobjdump
or $CUOBJDUMP names it where it is not on PATH. Standard library only.
"""
import argparse
import collections
import datetime
import json
import os
import re
import shutil
import subprocess
import sys

TENSOR_OPS = ("HMMA", "HGMMA", "IMMA", "QGMMA")
INS_RE = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
# BRA 0x..; BRA P1, 0x..; BRA.DIV UR8, 0x.. (a predicate or a uniform register before the target)
BRA_RE = re.compile(r"\bBRA(?:\.\w+)*\s+(?:!?U?[PR]\w*,\s*)?(0x[0-9a-f]+)")


def fail(msg):
    sys.stderr.write("sass_mix.py: error: %s\n" % msg)
    sys.exit(1)


def cuobjdump_path(arg):
    p = arg or os.environ.get("CUOBJDUMP") or shutil.which("cuobjdump")
    if not p or not os.access(p, os.X_OK):
        fail("no cuobjdump (the CUDA toolkit's, or `pip install nvidia-cuda-cuobjdump`): --cuobjdump PATH or "
             "$CUOBJDUMP names it, or give the text of `cuobjdump -sass` as a .sass file")
    return p


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        fail("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()[-400:]))
    return r.stdout


def parse_sass(text, path):
    """{function: [(address, instruction text)]} from cuobjdump -sass output."""
    funcs, cur = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*Function\s*:\s*(\S+)", line)
        if m:
            cur = m.group(1)
            funcs[cur] = []
            continue
        m = INS_RE.match(line)
        if m and cur is not None:
            funcs[cur].append((int(m.group(1), 16), m.group(2)))
        elif m:
            fail("%s:%d: an instruction before any 'Function :' line" % (path, n))
    return funcs


def parse_res_usage(text):
    """{function: {'registers': R, 'stack': S, 'local': L}} from cuobjdump -res-usage."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*Function\s+(\S+?):?\s*$", line)
        if m:
            cur = m.group(1)
            continue
        m = re.search(r"REG:(\d+)\s+STACK:(\d+)\s+SHARED:(\d+)\s+LOCAL:(\d+)", line)
        if m and cur:
            out[cur] = {"registers": int(m.group(1)), "stack": int(m.group(2)), "local": int(m.group(4))}
            cur = None
    return out


def opcode(ins):
    t = re.sub(r"^@!?U?P\w+\s+", "", ins)
    return t.split()[0].split(".")[0]


def loops_of(ins):
    """(start, end) address ranges of backward branches, outermost first."""
    spans = set()
    for addr, t in ins:
        m = BRA_RE.search(t)
        if m:
            target = int(m.group(1), 16)
            if target < addr:  # (a branch to itself is the trap after EXIT)
                spans.add((target, addr))
    return sorted(spans, key=lambda s: (s[0], -s[1]))


def mix(ins):
    ops = collections.Counter(opcode(t) for _, t in ins)
    tc = sum(ops[o] for o in TENSOR_OPS)
    return {"instructions": len(ins), "tensor": tc, "per_tensor": (len(ins) / tc) if tc else None,
            "top": ops.most_common(12)}


def analyse(path, cuobjdump):
    if path.endswith(".sass"):
        try:
            text = open(path, errors="replace").read()
        except OSError as e:
            fail("cannot read '%s': %s" % (path, e.strerror))
        return parse_sass(text, path), {}
    if not os.path.isfile(path):
        fail("'%s' is not a file" % path)
    tool = cuobjdump_path(cuobjdump)
    funcs = parse_sass(run([tool, "-sass", path]), path)
    if not funcs:
        fail("'%s' holds no SASS (a cubin, object or executable with sm_XX code; PTX alone has none)" % path)
    return funcs, parse_res_usage(run([tool, "-res-usage", path]))


def report(name, ins, res):
    r = {"kernel": name, **mix(ins)}
    if name in res:
        r.update(res[name])
    r["loops"] = []
    for lo, hi in loops_of(ins):
        body = [(a, t) for a, t in ins if lo <= a <= hi]
        r["loops"].append({"start": "%#x" % lo, "end": "%#x" % hi, **mix(body)})
    return r


def fmt(r):
    head = "%d instructions" % r["instructions"]
    if "registers" in r:
        head += ", %d registers, %d-byte stack frame (spills)" % (r["registers"], r["stack"])
    lines = [head]
    for lp in r["loops"]:
        pt = " (%.2f per tensor-core instruction)" % lp["per_tensor"] if lp["per_tensor"] else ""
        lines.append("  loop %s-%s: %d instructions, %d tensor-core%s" % (lp["start"], lp["end"], lp["instructions"],
                                                                        lp["tensor"], pt))
        lines.append("    " + ", ".join("%s %d" % kv for kv in lp["top"]))
    return lines


def main():
    ap = argparse.ArgumentParser(description="Instruction mix of compiled kernels, loop by loop.")
    ap.add_argument("file")
    ap.add_argument("--kernel", action="append", default=[], help="regular expression on the kernel's name")
    ap.add_argument("--base", help="another build's file, printed beside")
    ap.add_argument("--cuobjdump")
    ap.add_argument("--json")
    a = ap.parse_args()
    pats = []
    for k in a.kernel:
        try:
            pats.append(re.compile(k))
        except re.error as e:
            fail("--kernel '%s': %s" % (k, e))
    this, this_res = analyse(a.file, a.cuobjdump)
    base, base_res = analyse(a.base, a.cuobjdump) if a.base else ({}, {})
    names = [n for n in this if not pats or any(p.search(n) for p in pats)]
    if not names:
        fail("no kernel in '%s' matches %s" % (a.file, " or ".join(repr(k) for k in a.kernel)))
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    for n in names:
        r = report(n, this[n], this_res)
        print(n)
        if a.base:
            if n in base:
                print("  base: " + "\n  base: ".join(fmt(report(n, base[n], base_res))))
            else:
                print("  base: (no such kernel)")
            print("  this: " + "\n  this: ".join(fmt(r)))
        else:
            print("  " + "\n  ".join(fmt(r)))
        rows.append(dict(r, file=a.file, date=date))
    if a.json:
        try:
            with open(a.json, "a") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
        except OSError as e:
            fail("cannot write '%s': %s" % (a.json, e.strerror))


if __name__ == "__main__":
    main()
