#!/usr/bin/env python3
"""Side by side: the same genome trained by star (CUDA backend) and by PyTorch from star's
PyTorch export, eager and torch.compile, on random tokens. Driver: bench/side_by_side.sh.

For each shape and baseline (below) it
  1. builds the genome: the LIV pattern of configs/baselines/<name>.yaml (read through
     `star export FILE --format json`) repeated to the shape's LIV count, and checks the
     count with `star genome stats --json`;
  2. times star: `star bench GENOME --backend cuda ... --json` (tokens/s, ms/step, MFU
     against the device's measured bf16 matrix-product peak, device arena);
  3. exports the module: `star export GENOME --format pytorch --out DIR`;
  4. times PyTorch twice, eager and torch.compile (default mode), each in its own
     process (`--torch-one`): bf16 autocast over fp32 weights, fused AdamW with star's
     recipe (lr 1e-3, betas 0.9/0.95, eps 1e-8, weight decay 0.1 on the matrices only,
     gradient norm clipped at 1.0), cross-entropy on random targets; warm-up steps (the
     compilation among them) are not timed; torch.cuda.synchronize around the timed steps;
     tokens/s = batch * seq_len * steps / time. Every step trains on the same batch, so the
     losses recorded (first and last) only show that training ran: models with long
     convolutions fit that one batch within the 13 steps (the striped hybrid ends near
     0.01-0.09), attention-only ones do not (Transformer++ 5.5 / 9.4).
Every piece runs in its own process under a time limit, so a failure (out of memory, a
compiler error, a timeout) becomes an error field in that row and the run goes on. The
phases run in the order star (all rows), eager (all rows), compile (all rows) under one
total budget (--budget-s): what the budget does not reach is recorded as skipped.

Writes bench/results/side_by_side.json (a list of rows: shape, genome, star_tokens_per_s,
torch_eager_tokens_per_s, torch_compile_tokens_per_s, mfu (star's), device, date, the
ratios star/compile and star/eager, ms per step, peak memory, torch version, and errors)
after every phase, and prints a table.

The one change from the exported module for timing: its RMSNorm takes the mean of squares
in fp64 (to match star's CPU engine bit for bit); here it is patched to fp32, as a
PyTorch training would write it.

--merge keeps from the existing output file what this run leaves out (--star-backend none,
--modes, --shapes, --baselines): a second call can fill in what a first one's budget did
not reach, e.g. `--star-backend none --modes compile --shapes star --merge`.

--smoke (or STAR_SBS_SMOKE=1) checks the PyTorch half on the CPU: width 64, batch 2 x 64
tokens, 1 warm-up + 2 timed steps, device cpu; the star side is skipped (noted in each
row), and the rows go to $TMPDIR/side_by_side_smoke.json unless --out is given.
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name, vocab, width, LIVs, batch, seq_len (issue 5: search scale and STAR scale).
SHAPES = [
    ("search", 256, 512, 12, 16, 2048),
    ("star", 50304, 768, 24, 8, 4096),
]
BASELINES = [
    ("transformer", "configs/baselines/transformer.yaml"),
    ("striped", "configs/baselines/striped.yaml"),
]
# Per-process time limits (seconds); each is also cut to what is left of the budget.
LIMIT_STAR, LIMIT_EAGER, LIMIT_COMPILE = 120, 120, 240
MIN_START_S = 20  # a piece is not started with less budget left than this


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tail(text, n=600):
    text = (text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


def run(cmd, timeout):
    """(returncode, stdout, stderr); returncode None on timeout. The command runs in its own
    process group, all of which is killed on timeout (torch.compile starts compile workers)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        return None, out, err


def last_json_line(text):
    for line in reversed((text or "").strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------------------------------
# Genomes


def repeat_genome(base, n_livs):
    """The STAR string `base` with its LIVs (and per-LIV norm digits) repeated to n_livs."""
    parts = base.split(";")
    livs = parts[0].split("-")
    out_livs = [livs[i % len(livs)] for i in range(n_livs)]
    sections = []
    for sec in parts[1:]:
        if sec.startswith("n="):
            digits = sec[2:]
            sec = "n=" + "".join(digits[i % len(digits)] for i in range(n_livs))
        sections.append(sec)
    return ";".join(["-".join(out_livs)] + sections)


def baseline_genome(star, path, vocab, width):
    rc, out, err = run([star, "export", path, "--width", str(width), "--vocab", str(vocab), "--format", "json"], 60)
    if rc != 0:
        raise RuntimeError("star export %s --format json failed (%s): %s" % (path, rc, tail(err)))
    s = json.loads(out).get("string")
    if not s:
        raise RuntimeError("star export %s --format json: no 'string' key in %s" % (path, tail(out, 200)))
    return s


def genome_stats(star, genome, vocab, width, seq_len):
    rc, out, err = run([star, "genome", "stats", genome, "--width", str(width), "--vocab", str(vocab),
                        "--context", str(seq_len), "--json"], 60)
    st = last_json_line(out) if rc == 0 else None
    if not st or "genome" not in st:
        raise RuntimeError("star genome stats failed (%s): %s" % (rc, tail(err or out)))
    return st


# ---------------------------------------------------------------------------------------
# The PyTorch side, one (module, mode) per process


def rms_norm_fp32(x, weight, eps):
    """The module's rms_norm with the mean of squares in fp32 instead of fp64."""
    xf = x.float()
    y = (xf * xf.pow(2).mean(-1, keepdim=True).add(eps).rsqrt()).to(x.dtype)
    return y * weight if weight is not None else y


def torch_one(a):
    """Trains the exported module for warm-up + timed steps; prints one JSON line."""
    import torch
    import torch.nn.functional as F

    res = {"mode": a.mode, "torch_version": torch.__version__}
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        res["device"] = torch.cuda.get_device_name(dev)
    else:
        res["device"] = "cpu"
    spec = importlib.util.spec_from_file_location("star_exported_model", a.model)
    m = importlib.util.module_from_spec(spec)
    # torch.compile (dynamo) looks the module up by name: it must be registered.
    sys.modules[spec.name] = m
    spec.loader.exec_module(m)
    m.rms_norm = rms_norm_fp32
    torch.manual_seed(1)
    model = m.StarModel().to(dev)
    res["params"] = model.num_parameters()
    V = model.arch["vocab"]
    # star's AdamW decays the matrices only: embed, proj.*, out, dt_proj (docs/export.md).
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        last = name.split(".")
        is_matrix = name == "embed" or ".proj." in name or last[-1] in ("out", "dt_proj")
        (decay if is_matrix else no_decay).append(p)
    fused = dev.type == "cuda"
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8, fused=fused)
    res["fused_adamw"] = fused

    def loss_of(tokens, targets):
        logits = model(tokens)
        return F.cross_entropy(logits.reshape(-1, V).float(), targets.reshape(-1))

    loss_fn = torch.compile(loss_of) if a.mode == "compile" else loss_of
    g = torch.Generator(device=dev).manual_seed(1)
    tokens = torch.randint(0, V, (a.batch, a.seq_len), device=dev, generator=g)
    targets = torch.randint(0, V, (a.batch, a.seq_len), device=dev, generator=g)
    amp_dtype = torch.bfloat16

    def step():
        with torch.autocast(device_type=dev.type, dtype=amp_dtype):
            loss = loss_fn(tokens, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    first = None
    for _ in range(a.warmup):
        loss = step()
        if first is None:
            first = float(loss.detach())
    sync()
    res["warmup_s"] = time.perf_counter() - t0  # with torch.compile: mostly compilation
    sync()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    sync()
    dt = time.perf_counter() - t0
    res["loss_first"] = first
    res["loss_last"] = float(loss.detach())
    if not (res["loss_last"] == res["loss_last"]):  # NaN
        raise RuntimeError("the loss is NaN")
    res["ms_per_step"] = 1e3 * dt / a.steps
    res["tokens_per_s"] = a.batch * a.seq_len * a.steps / dt
    if dev.type == "cuda":
        res["peak_memory_bytes"] = torch.cuda.max_memory_allocated(dev)
    print(json.dumps(res), flush=True)


def torch_one_main(a):
    try:
        torch_one(a)
        return 0
    except Exception as e:  # reported as the row's error, the parent goes on
        msg = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")
        if "out of memory" in str(e).lower():
            msg = "out of memory: " + msg
        print(json.dumps({"mode": a.mode, "error": msg[:500]}), flush=True)
        import traceback
        traceback.print_exc()
        return 1


# ---------------------------------------------------------------------------------------
# The driver


class Budget:
    """Seconds left of a run's budget (bench/multigpu.py uses it too)."""

    def __init__(self, seconds, min_start_s=MIN_START_S):
        self.end = time.monotonic() + seconds
        self.min_start_s = min_start_s

    def left(self):
        return self.end - time.monotonic()

    def limit(self, cap):
        """The time limit for the next piece, or None when too little is left to start it."""
        left = self.left()
        return None if left < self.min_start_s else min(cap, left)


# The fields of each side, for --merge.
SIDE_KEYS = {
    "star": lambda k: k.startswith("star_") and not k.startswith("star_over_") or k in (
        "mfu", "peak_bf16_tflops", "device", "date"),
    "eager": lambda k: k.startswith("torch_eager_"),
    "compile": lambda k: k.startswith("torch_compile_"),
}


def merge_rows(rows, old_rows, sides_run):
    """Copies into each row, from the old row of the same shape and baseline (and genome), the
    fields of the sides not run now; then the ratios again."""
    old = {(o.get("shape"), o.get("baseline"), o.get("genome")): o for o in old_rows if isinstance(o, dict)}
    for r in rows:
        o = old.get((r["shape"], r["baseline"], r["genome"]))
        if not o:
            continue
        for side, is_key in SIDE_KEYS.items():
            if side in sides_run:
                continue
            for k in [k for k in r if is_key(k)]:
                del r[k]
            for k, v in o.items():
                if is_key(k):
                    r[k] = v
        if "torch_version" not in r and "torch_version" in o:
            r["torch_version"] = o["torch_version"]
        ratios(r)


def write_rows(rows, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def print_table(rows):
    print("\n%-8s %-12s %5s %12s %12s %12s %9s %9s %7s" % ("shape", "baseline", "LIVs", "star tok/s", "eager tok/s",
                                                          "compile tok/s", "st/comp", "st/eager", "MFU"))
    for r in rows:
        print("%-8s %-12s %5s %12s %12s %12s %9s %9s %7s" % (
            r["shape"], r["baseline"], r["livs"], fmt(r.get("star_tokens_per_s"), ".0f"),
            fmt(r.get("torch_eager_tokens_per_s"), ".0f"), fmt(r.get("torch_compile_tokens_per_s"), ".0f"),
            fmt(r.get("star_over_compile"), ".2f"), fmt(r.get("star_over_eager"), ".2f"),
            fmt(100 * r["mfu"] if isinstance(r.get("mfu"), (int, float)) else None, ".1f")))
        for k in ("star_error", "torch_eager_error", "torch_compile_error", "error"):
            if r.get(k):
                print("    %s: %s" % (k, r[k]))
    sys.stdout.flush()


def ratios(r):
    s = r.get("star_tokens_per_s")
    for mode in ("compile", "eager"):
        t = r.get("torch_%s_tokens_per_s" % mode)
        r["star_over_%s" % mode] = s / t if isinstance(s, (int, float)) and isinstance(t, (int, float)) and t > 0 else None
        flops, peak = r.get("train_flops_per_token"), r.get("peak_bf16_tflops")
        r["torch_%s_mfu" % mode] = (1e-12 * flops * t / peak if isinstance(t, (int, float)) and flops and peak
                                   else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--star", default=os.path.join(ROOT, "build-gpu", "star"), help="the star binary")
    ap.add_argument("--out", help="the JSON file (default bench/results/side_by_side.json)")
    ap.add_argument("--smoke", action="store_true", default=os.environ.get("STAR_SBS_SMOKE", "") not in ("", "0"),
                    help="CPU check of the PyTorch half at tiny shapes; star side skipped")
    ap.add_argument("--budget-s", type=float, default=float(os.environ.get("STAR_SBS_BUDGET_S", 510)),
                    help="total time budget in seconds (default 510)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (default 10; smoke 2)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed warm-up steps (default 3; smoke 1)")
    ap.add_argument("--shapes", default="search,star", help="comma-separated: search, star")
    ap.add_argument("--baselines", default="transformer,striped", help="comma-separated: transformer, striped")
    ap.add_argument("--modes", default="eager,compile", help="PyTorch modes: eager, compile")
    ap.add_argument("--device", default=None, help="torch device (default cuda; smoke cpu)")
    ap.add_argument("--star-backend", default="cuda", choices=("cuda", "cpu", "none"),
                    help="star's engine (cpu only to check this script: with --smoke it runs star on the CPU; "
                         "none: leave star out)")
    ap.add_argument("--merge", action="store_true",
                    help="keep from the existing --out file the sides (star, eager, compile) not run now")
    # One PyTorch measurement (the driver runs these as child processes).
    ap.add_argument("--torch-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seq-len", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_one:
        return torch_one_main(a)

    if a.smoke:
        if "--steps" not in sys.argv:
            a.steps = 2
        if "--warmup" not in sys.argv:
            a.warmup = 1
    device = a.device or ("cpu" if a.smoke else "cuda")
    out_path = a.out or (os.path.join(tempfile.gettempdir(), "side_by_side_smoke.json") if a.smoke
                         else os.path.join(ROOT, "bench", "results", "side_by_side.json"))
    star = os.path.abspath(a.star)
    if not os.access(star, os.X_OK):
        print("side_by_side: error: no star binary at '%s' (pass --star PATH)" % a.star, file=sys.stderr)
        return 2
    shapes = [s for s in SHAPES if s[0] in a.shapes.split(",")]
    baselines = [b for b in BASELINES if b[0] in a.baselines.split(",")]
    modes = [m for m in ("eager", "compile") if m in a.modes.split(",")]
    if not shapes or not baselines:
        print("side_by_side: error: no shape or baseline selected (--shapes %s, --baselines %s)" % (a.shapes, a.baselines),
              file=sys.stderr)
        return 2
    budget = Budget(a.budget_s)
    old_rows = []
    if a.merge and os.path.exists(out_path):
        with open(out_path) as f:
            old_rows = json.load(f)
    sides_run = set(modes) | ({"star"} if a.star_backend != "none" else set())

    def save():
        out = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        if a.merge:
            merge_rows(rows, old_rows, sides_run)
            out = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
            now = {(r["shape"], r["baseline"]) for r in rows}
            out += [o for o in old_rows if isinstance(o, dict) and (o.get("shape"), o.get("baseline")) not in now]
        write_rows(out, out_path)

    work = tempfile.mkdtemp(prefix="star_sbs_")
    star_side = {"cpu": "on the CPU", "none": "left out"}.get(a.star_backend, "skipped")
    note = " (SMOKE: tiny shapes, star side %s)" % star_side if a.smoke else ""
    print("side_by_side: star %s, device %s, %d warm-up + %d timed steps, budget %.0f s, out %s%s" % (
        star, device, a.warmup, a.steps, a.budget_s, out_path, note))
    sys.stdout.flush()

    # Phase 0: genomes, stats, exports; phase 1: star.
    rows = []
    for shape, vocab, width, n_livs, batch, seq_len in shapes:
        if a.smoke:
            width, batch, seq_len = 64, 2, 64
        for name, path in baselines:
            r = {"shape": shape, "baseline": name, "baseline_file": path, "livs": n_livs, "vocab": vocab, "width": width,
                 "batch": batch, "seq_len": seq_len, "tokens_per_step": batch * seq_len, "warmup_steps": a.warmup,
                 "timed_steps": a.steps, "genome": None, "star_tokens_per_s": None, "torch_eager_tokens_per_s": None,
                 "torch_compile_tokens_per_s": None, "mfu": None, "device": None, "date": now_iso(), "smoke": a.smoke}
            rows.append(r)
            try:
                r["genome"] = repeat_genome(baseline_genome(star, path, vocab, width), n_livs)
                st = genome_stats(star, r["genome"], vocab, width, seq_len)
                if len(st["genome"].split(";")[0].split("-")) != n_livs:
                    raise RuntimeError("star genome stats reads %s, not %d LIVs" % (st["genome"], n_livs))
                r["params"] = st.get("params")
                r["train_flops_per_token"] = st.get("train_flops_per_token")
                d = os.path.join(work, "%s_%s" % (shape, name))
                rc, out, err = run([star, "export", r["genome"], "--width", str(width), "--vocab", str(vocab),
                                    "--format", "pytorch", "--out", d], 60)
                if rc != 0:
                    raise RuntimeError("star export --format pytorch failed (%s): %s" % (rc, tail(err)))
                r["_model"] = os.path.join(d, "model.py")
                with open(os.path.join(d, "model.py")) as f:
                    got = re.findall(r'"index":\s*(\d+)', f.read())
                if len(set(got)) != n_livs:
                    raise RuntimeError("the exported module has %d LIVs, expected %d" % (len(set(got)), n_livs))
            except Exception as e:
                r["error"] = str(e)
                continue
            if a.star_backend == "none":
                continue
            if a.smoke and a.star_backend != "cpu":
                r["star_error"] = "skipped: smoke mode (CPU; the star side needs --backend cuda)"
                continue
            lim = budget.limit(LIMIT_STAR)
            if lim is None:
                r["star_error"] = "skipped: time budget spent"
                continue
            cmd = [star, "bench", r["genome"], "--backend", a.star_backend, "--width", str(width), "--vocab", str(vocab),
                   "--batch", str(batch), "--seq-len", str(seq_len), "--steps", str(a.steps),
                   "--warmup-steps", str(a.warmup), "--json"]
            if a.star_backend == "cpu":  # a check of this script, not a result to keep
                cmd += ["--results", os.path.join(work, "star_cpu.jsonl")]
            r["star_command"] = " ".join(cmd[:2] + ["'%s'" % cmd[2]] + cmd[3:])
            print("== star %s %s" % (shape, name), flush=True)
            rc, out, err = run(cmd, lim)
            j = last_json_line(out)
            if rc == 0 and j and "tokens_per_s" in j:
                r["star_tokens_per_s"] = j["tokens_per_s"]
                r["star_ms_per_step"] = j.get("ms_per_step")
                r["mfu"] = j.get("mfu")
                r["peak_bf16_tflops"] = j.get("peak_bf16_tflops")
                r["train_flops_per_token"] = j.get("train_flops_per_token", r.get("train_flops_per_token"))
                r["star_arena_bytes"] = j.get("arena_bytes")
                r["star_device_memory_used_bytes"] = j.get("device_memory_used_bytes")
                r["star_attention_kernels"] = j.get("attention_kernels")  # 3: STAR_ATTN_ATOMIC_DQ=1
                r["device"] = j.get("device")
                r["date"] = j.get("date", r["date"])
            else:
                r["star_error"] = ("timed out after %.0f s" % lim if rc is None else "exit %s" % rc) + ": " + tail(err or out)
    save()

    # Phases 2 and 3: PyTorch eager, then torch.compile.
    for mode in modes:
        cap = LIMIT_COMPILE if mode == "compile" else LIMIT_EAGER
        for r in rows:
            if "_model" not in r:
                continue
            lim = budget.limit(cap)
            if lim is None:
                r["torch_%s_error" % mode] = "skipped: time budget spent"
                continue
            print("== torch %s %s %s" % (mode, r["shape"], r["baseline"]), flush=True)
            cmd = [sys.executable, os.path.abspath(__file__), "--torch-one", "--model", r["_model"], "--mode", mode,
                   "--batch", str(r["batch"]), "--seq-len", str(r["seq_len"]), "--steps", str(a.steps),
                   "--warmup", str(a.warmup), "--device", device]
            rc, out, err = run(cmd, lim)
            j = last_json_line(out)
            if rc == 0 and j and "tokens_per_s" in j:
                r["torch_%s_tokens_per_s" % mode] = j["tokens_per_s"]
                r["torch_%s_ms_per_step" % mode] = j["ms_per_step"]
                r["torch_%s_warmup_s" % mode] = j["warmup_s"]
                r["torch_%s_peak_memory_bytes" % mode] = j.get("peak_memory_bytes")
                r["torch_%s_loss_first" % mode] = j["loss_first"]
                r["torch_%s_loss_last" % mode] = j["loss_last"]
                r["torch_version"] = j["torch_version"]
                r["torch_params"] = j["params"]
                r["torch_device"] = j["device"]
                if not r.get("device"):
                    r["device"] = j["device"]
                if r.get("params") is not None and j["params"] != r["params"]:
                    r["error"] = "the module has %d parameters, star genome stats %d" % (j["params"], r["params"])
            else:
                why = j["error"] if j and "error" in j else tail(err or out)
                r["torch_%s_error" % mode] = ("timed out after %.0f s" % lim if rc is None else "exit %s" % rc) + ": " + why
        for r in rows:
            ratios(r)
        save()

    shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    print("wrote %s (%.0f s of the %.0f s budget used)" % (out_path, a.budget_s - budget.left(), a.budget_s))
    # Exit 0 when every requested measurement came back.
    keys = ["torch_%s_tokens_per_s" % m for m in modes]
    if a.star_backend != "none" and (not a.smoke or a.star_backend == "cpu"):
        keys.append("star_tokens_per_s")
    return 0 if all(r.get(k) is not None for r in rows for k in keys) else 1


if __name__ == "__main__":
    sys.exit(main())
