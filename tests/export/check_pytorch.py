"""The module of `star export --format pytorch` against star's CPU engine.

For every genome below (hand-picked to cover every LIV class, every sharing pattern, every
norm gene and the operator/featurizer variants) and a few random ones: train a few steps
with star (star train --save), export the checkpoint to PyTorch with its weights, load
the module with torch, and compare its logits with star's (star logits --ckpt) on the
same tokens, in fp32:
  - relative error ||torch - star||_inf / ||star||_inf below 1e-4;
  - the module's parameter count equals `star genome stats` params and the checkpoint's;
  - the state_dict names are exactly the tensors of model.safetensors (strict load);
  - as a control, weights perturbed by 0.1% give a clearly larger error;
and check that the safetensors package reads every file star wrote.

usage: python3 check_pytorch.py STAR_BINARY WORKDIR [--random N] [--device DEV] [--reuse]
--device runs the module on a torch device (cuda: TF32 off, so it stays fp32); --reuse
compares again the files a previous run left in WORKDIR without running star (to check
the module on a machine that has torch but no star).
Exit 0 when every genome passes, 1 otherwise (each failure printed).
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

WIDTH, VOCAB = 128, 256
B, T = 2, 80  # T > 64: past SA-3's smallest window, several Rec-1/Rec-2 chunks of 16
TOL = 1e-4
DEVICE = "cpu"

# (genome, what it covers)
GENOMES = [
    ("11111-21111-31111-41111-51111-61111-71111-81111-91111;n=123123123",
     "every class at its defaults; pre-, post- and no norm"),
    ("11211-11211-91111", "SA-1 featurizer tying (Q, K, V projections of LIV 1)"),
    ("11112-11112-91111", "SA-1 feature-group reuse (LIV 2 reads LIV 1's K/V)"),
    ("11212-11212-11111;n=312", "SA-1 tie + reuse together, post-norm and no-norm LIVs"),
    ("51212-51212-91111;o5=11121", "Rec-1 elu+1 feature map, tie + reuse (shared state)"),
    ("61212-61212-61111", "Rec-2 tie + reuse (B, X, dt from the owner; own C and skip)"),
    ("61211-61211-91111", "Rec-2 featurizer tying (dt projection, dt bias, A_log tied)"),
    ("61112-61112;o6=21111;f6=2211.2111.2111",
     "Rec-2 short convs on features, block-diagonal C projection, N=16, P=32, inner 2D, reuse"),
    ("21111-21112-21112;o2=11111;f2=1111.1113.1111", "SA-2 as MQA (one K/V head), head dim 32, reuse"),
    ("21111-21112;o2=11111", "SA-2 GQA (2 query heads per K/V head), head dim 32, reuse"),
    ("31111-31112;o3=11211", "SA-3 sliding window 64 (T = 80), reuse"),
    ("41111-41212-41212;o4=21211;f4=2111.2211.1111",
     "SA-diff with short convs (lengths 3 and 4), block-diagonal K, tie + reuse"),
    ("11111-91111;f1=1211.1211.1211", "block-diagonal Q, K, V projections"),
    ("71211-71211-71111;o7=23122;f7=2111.2211.1111",
     "GConv-1 kernel 15, sigmoid gate, diagonal output, feature convs, tying"),
    ("81111-81211-81211;o8=21131;f8=1121.1111.1111",
     "GConv-2 silu gate, inner 2D, feature convs, tying"),
    ("91211-91211;o9=11121;f9=1131.1111.1111", "GMemless GeGLU, inner 4D, tying"),
    ("71111-81111;o7=13132;o8=11122", "GConv-1 kernel 7 silu diagonal; GConv-2 identity gate diagonal"),
    ("51111-51112;o5=21112;f5=2211.1111.1111", "Rec-1 with short convs, block-diagonal Q, diagonal out, reuse"),
]


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_one(star, work, idx, genome, data, reuse):
    d = os.path.join(work, "g%02d" % idx)
    ckpt, exp, logits_path = d + "/ckpt", d + "/export", d + "/logits.safetensors"
    if not reuse:
        os.makedirs(d, exist_ok=True)
        run([star, "train", genome, "--width", str(WIDTH), "--vocab", str(VOCAB), "--data", data, "--steps", "4",
             "--batch", "2", "--seq-len", "64", "--lr", "0.01", "--threads", "1", "--save", ckpt])
        run([star, "export", ckpt, "--format", "pytorch", "--weights", "--out", exp])
        run([star, "logits", "--ckpt", ckpt, "--random", "%d,%d" % (B, T), "--seed", str(idx + 1), "--out",
             logits_path])
        with open(d + "/stats.json", "w") as f:
            f.write(run([star, "genome", "stats", genome, "--width", str(WIDTH), "--vocab", str(VOCAB),
                         "--context", str(T), "--json"]))
        # Every file star wrote reads with the safetensors package.
        for f in (ckpt + "/model.safetensors", ckpt + "/optimizer.safetensors", exp + "/model.safetensors",
                  logits_path):
            with safe_open(f, framework="pt") as st:
                for k in st.keys():
                    st.get_tensor(k)
    with open(d + "/stats.json") as f:
        stats = json.load(f)
    ref = load_file(logits_path)
    with safe_open(logits_path, framework="pt") as st:
        star_params = int(st.metadata()["params"])

    mod = load_module(exp + "/model.py", "star_export_%02d" % idx)
    model = mod.StarModel()
    weights = load_file(exp + "/model.safetensors")
    model.load_state_dict(weights, strict=True)  # same names, same shapes, nothing missing
    model.eval().to(DEVICE)
    tokens = ref["tokens"].to(torch.int64).to(DEVICE)
    with torch.no_grad():
        out = model(tokens)
    want = ref["logits"].to(DEVICE)
    err = ((out - want).abs().max() / want.abs().max()).item()
    n_params = model.num_parameters()
    problems = []
    if not err < TOL:
        problems.append("relative error %.3g >= %g" % (err, TOL))
    # Control: the comparison notices weights that differ by 0.1%.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 + 1e-3 * torch.randn_like(p))
        off = ((model(tokens) - want).abs().max() / want.abs().max()).item()
    if not off > 10 * err:
        problems.append("control: perturbed weights give relative error %.3g, no larger than %.3g" % (off, err))
    if n_params != stats["params"] or n_params != star_params:
        problems.append("parameters: torch %d, star genome stats %d, star model %d" % (n_params, stats["params"],
                                                                                       star_params))
    if sum(w.numel() for w in weights.values()) != n_params:
        problems.append("model.safetensors holds %d values, the module %d" %
                        (sum(w.numel() for w in weights.values()), n_params))
    classes = sorted({l["class"] for l in mod.ARCH["resolved"]["livs"]})
    return err, n_params, classes, problems


def main():
    global DEVICE
    ap = argparse.ArgumentParser(description="the PyTorch export against star's CPU engine")
    ap.add_argument("star")
    ap.add_argument("work")
    ap.add_argument("--random", type=int, default=4, help="random genomes besides the hand-picked ones")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--reuse", action="store_true", help="compare the files already in WORK; run no star")
    a = ap.parse_args()
    DEVICE = a.device
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    star, work = os.path.abspath(a.star), a.work
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data.txt")
    genomes_file = os.path.join(work, "genomes.json")
    if a.reuse:
        with open(genomes_file) as f:
            genomes = [tuple(g) for g in json.load(f)]
    else:
        with open(data, "w") as f:  # a small byte-level text
            for i in range(400):
                f.write("star exports the model %d times; the module computes the same logits. " % (i * 7 % 13))
        genomes = list(GENOMES)
        rand = run([star, "genome", "random", "--seed", "7", "--count", str(a.random), "--depth-min", "3",
                    "--depth-max", "6", "--width", str(WIDTH), "--vocab", str(VOCAB)]).split()
        genomes += [(g, "random (star genome random --seed 7)") for g in rand]
        with open(genomes_file, "w") as f:
            json.dump(genomes, f)
    worst, failed, seen = 0.0, 0, set()
    for i, (g, what) in enumerate(genomes):
        try:
            err, n, classes, problems = check_one(star, work, i, g, data, a.reuse)
        except Exception as e:  # a failing command or load is a failure of this genome
            err, n, classes, problems = float("nan"), 0, [], [str(e)]
        worst = max(worst, err) if err == err else worst
        seen.update(classes)
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print("%-60s rel.err %.2e  params %7d  %s  [%s]" % (g, err, n, status, what), flush=True)
        failed += bool(problems)
    print("max relative error %.3e over %d genomes on %s (tolerance %g); classes covered: %s" %
          (worst, len(genomes), DEVICE, TOL, " ".join(sorted(seen))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
