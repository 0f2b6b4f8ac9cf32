#!/usr/bin/env python3
"""Multi-GPU run (issue 8): data-parallel scaling of training and the wall time of a
distributed search, 2 GPUs against 1, in one device call. Driver: bench/multigpu.sh.

Part 1, data-parallel training (weak scaling). The STAR-scale Transformer++ (vocabulary
50304, width 768, the LIV pattern of configs/baselines/transformer.yaml repeated to 24
LIVs, context 4096) timed by `star bench --backend cuda`:
  - 1 GPU: one process, batch 8 x 4096;
  - 2 GPUs: `mpirun -np 2`, global batch 16 x 4096, so each GPU holds the same 8 x 4096
    rows as the single GPU (data parallel, gradients summed through NCCL);
  scaling_efficiency = tokens/s(2 GPUs) / (2 x tokens/s(1 GPU)). The per-GPU batch is
  held fixed (weak scaling): each GPU does the same work per step as alone, so a
  perfect data-parallel step takes as long as one GPU's and the efficiency measures
  what the gradient all-reduce (and anything else the group adds) costs. With the
  global batch fixed instead (strong scaling) each GPU would run half-size steps, at a
  lower efficiency of its own kernels, which is not what the all-reduce costs; that
  figure is taken too when the budget allows (strong_scaling_efficiency, 2 GPUs on
  global batch 8), with the 1-GPU NCCL path (`--nccl`, one rank) that separates the
  NCCL machinery from the second GPU.

Part 2, distributed search. One small `star search` config (a fixed population of 2N
candidates per generation, N = 2 GPUs, over generation 0 and one bred generation; run
seed 1; fixed evaluation.threads; backend cuda; MAD in-context recall) run under
`mpirun -np 1` (one rank, one GPU) and `mpirun -np 2` (ranks_per_candidate 1: each
rank trains its own candidates on its own GPU). search_wall_ratio = wall(2) / wall(1),
each the launcher's wall clock. The two archives must be identical apart from wall_s,
tokens_per_s, train_s and rank (the filter of tests/cli/test_mpi_determinism.sh):
archive_identical. search_balance_bound is the ratio the 2-GPU run would have with no
cost outside the candidates' evaluations: the sum over generations of the busiest
rank's evaluation seconds over the one-rank run's evaluation seconds; the gap between
it and search_wall_ratio is what the distribution costs.

NCCL_NVLS_ENABLE=0 (NVLink multicast off) is exported and passed to every rank (-x);
a preflight checks that both ranks see it.

--smoke runs the same flow on the CPU at tiny sizes (part 1: one CPU bench of a
4-LIV Transformer++, the 2-rank half skipped since star bench under mpirun needs GPUs;
part 2: backend cpu, width 32, 3 steps, mpirun -np 1 against -np 2) to check the
plumbing; output in $TMPDIR/multigpu_smoke.json unless --out.

Writes the JSON (bench/results/multigpu.json by default) after every piece and prints
a summary. Exit 0 when every figure came back (and the archives are identical), 1 when
some did not, 2 on bad usage or a machine that cannot run it (fewer than 2 GPUs without
--smoke, no MPI, multicast not off in the ranks).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from side_by_side import Budget  # the same budget bookkeeping (bench/ is on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from side_by_side import baseline_genome, genome_stats, last_json_line, repeat_genome, tail  # noqa: E402

GPUS = 2  # what this measures: 2 GPUs against 1
TARGET_SCALING, TARGET_WALL_RATIO = 0.9, 0.55

# Part 1: STAR scale (vocab, width, LIVs, per-GPU batch, seq_len); smoke: tiny, on the CPU.
STAR_SHAPE = dict(vocab=50304, width=768, livs=24, batch=8, seq_len=4096, steps=20, warmup=3)
SMOKE_SHAPE = dict(vocab=256, width=32, livs=4, batch=2, seq_len=32, steps=2, warmup=1)

# Part 2: the search. GPU: candidates of about 10 s each on an H200 (width 512, 8 to 12
# LIVs, 400 steps of 16 x 1024 tokens), so the launch and device start-up weigh little.
SEARCH_GPU = dict(backend="cuda", classes="[SA-1, SA-2, SA-3, Rec-1, Rec-2, GConv-1, GConv-2, GMemless]",
                  width=512, depth_min=8, depth_max=12, steps=400, batch=16, seq_len=1024, threads=4,
                  time_limit_s=120)
SEARCH_SMOKE = dict(backend="cpu", classes="[SA-1, SA-2, SA-3, Rec-1, Rec-2, GConv-1, GConv-2, GMemless]",
                    width=32, depth_min=2, depth_max=4, steps=3, batch=2, seq_len=32, threads=1, time_limit_s=0)

# Per-piece time limits (seconds), each also cut to what is left of the budget.
LIMITS = dict(bench1=120, bench2=150, search1=240, search2=180, extra=90)
MIN_START_S = 15

# The fields that may differ between the archives of runs with different rank counts.
STRIP = [re.compile(p) for p in (r'"wall_s":[-0-9.eE+]+', r'"tokens_per_s":[-0-9.eE+]+', r'"train_s":[-0-9.eE+]+',
                                 r'"rank":[0-9]+')]


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(cmd, timeout, env=None):
    """(returncode, stdout, stderr, wall seconds); returncode None on timeout. The command runs
    in its own process group: on timeout SIGTERM first (mpirun passes it to its ranks), then
    SIGKILL to the whole group."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                break
            try:
                out, err = p.communicate(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            out, err = p.communicate()
        return None, out, err, time.monotonic() - t0


def failure(rc, lim, out, err):
    """What went wrong: star's own error lines where there are any (mpirun's banner hides
    them at the end of the output), else the output's tail."""
    text = (err or "") + "\n" + (out or "")
    mine = []
    for l in text.splitlines():
        if re.search(r"\bstar\b.*\berror\b", l) and l.strip() not in mine:
            mine.append(l.strip())
    why = "; ".join(mine)[:600] if mine else tail(err or out)
    return ("timed out after %.0f s" % lim if rc is None else "exit %s" % rc) + ": " + why


def gpu_list():
    """The GPUs nvidia-smi lists (names), [] when it is missing or lists none."""
    try:
        p = subprocess.run(["nvidia-smi", "-L"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if p.returncode != 0:
        return []
    return [re.sub(r"^GPU \d+: ", "", l).split(" (UUID")[0] for l in p.stdout.splitlines() if l.startswith("GPU ")]


def mpirun_base(smoke):
    cmd = ["mpirun", "--bind-to", "none", "-x", "NCCL_NVLS_ENABLE=0"]
    if smoke:
        cmd += ["--oversubscribe"]  # CI machines may have fewer cores than ranks
    if os.geteuid() == 0:
        cmd += ["--allow-run-as-root"]
    return cmd


def strip_archive(path):
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for l in lines:
        for r in STRIP:
            l = r.sub("", l, count=1)
        out.append(l)
    return out


def read_archive(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def balance_bound(arch1, arch2):
    """Sum over generations of the busiest rank's evaluation seconds (2-rank archive) over
    the one-rank archive's evaluation seconds, or None."""
    total1 = sum(l.get("wall_s") or 0.0 for l in arch1)
    if total1 <= 0:
        return None
    busiest = 0.0
    for gen in sorted({l.get("gen") for l in arch2}):
        per_rank = {}
        for l in arch2:
            if l.get("gen") == gen:
                per_rank[l.get("rank")] = per_rank.get(l.get("rank"), 0.0) + (l.get("wall_s") or 0.0)
        busiest += max(per_rank.values())
    return busiest / total1


def search_config(s, population, run_dir):
    return "\n".join([
        "# bench/multigpu.py: the search timed on 1 and on 2 GPUs (the same candidates).",
        "run: {dir: %s, seed: 1, keep_weights: none}" % run_dir,
        "space:",
        "  classes: %s" % s["classes"],
        "  depth: {min: %d, max: %d}" % (s["depth_min"], s["depth_max"]),
        "  width: %d" % s["width"],
        "  vocab: 256",
        "  sharing: {featurizer: true, feature_group: true}",
        "objectives:",
        "  - {name: quality}",
        "  - {name: params}",
        "algorithm:",
        "  name: nsga2",
        "  population: %d" % population,
        "  generations: 1",
        "  seed_with: []",
        "evaluation:",
        "  backend: %s" % s["backend"],
        "  threads: %d" % s["threads"],
        "  ranks_per_candidate: 1",
        "  data: {mad: [in_context_recall]}",
        "  budget: {steps: %d, batch: %d, seq_len: %d, lr: 1.0e-3}" % (s["steps"], s["batch"], s["seq_len"]),
        "  time_limit_s: %d" % s["time_limit_s"],
        ""])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--star", required=True, help="the star binary (built with CUDA, NCCL and MPI)")
    ap.add_argument("--out", help="the JSON file (default bench/results/multigpu.json; smoke: $TMPDIR)")
    ap.add_argument("--smoke", action="store_true", help="the whole flow on the CPU at tiny sizes")
    ap.add_argument("--budget-s", type=float, default=540, help="total time budget in seconds (default 540)")
    a = ap.parse_args()
    if a.budget_s <= 0:
        print("multigpu: error: --budget-s must be positive, got %g" % a.budget_s, file=sys.stderr)
        return 2
    star = os.path.abspath(a.star)
    out_path = a.out or (os.path.join(tempfile.gettempdir(), "multigpu_smoke.json") if a.smoke
                         else os.path.join(ROOT, "bench", "results", "multigpu.json"))
    os.environ["NCCL_NVLS_ENABLE"] = "0"
    env = dict(os.environ)
    # Open MPI frees not all it allocates: no leak check inside the ranks of a sanitizer build.
    env["ASAN_OPTIONS"] = (env["ASAN_OPTIONS"] + ":" if env.get("ASAN_OPTIONS") else "") + "detect_leaks=0"
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")

    gpus = gpu_list()
    if len(gpus) < GPUS and not a.smoke:
        print("multigpu: error: %d GPU(s) visible (nvidia-smi -L), %d needed; on a machine with fewer, "
              "--smoke checks the flow on the CPU" % (len(gpus), GPUS), file=sys.stderr)
        return 2
    if not shutil.which("mpirun"):
        print("multigpu: error: no mpirun on PATH (Open MPI)", file=sys.stderr)
        return 2
    mpi = mpirun_base(a.smoke)
    rc, out, err, _ = run(mpi + ["-np", str(GPUS), "printenv", "NCCL_NVLS_ENABLE"], 60, env)
    if rc != 0 or out.split() != ["0"] * GPUS:
        print("multigpu: error: NCCL_NVLS_ENABLE=0 did not reach every rank (%s): %s" % (
            rc, tail(err or out, 300)), file=sys.stderr)
        return 2

    budget = Budget(a.budget_s, MIN_START_S)
    work = tempfile.mkdtemp(prefix="star_multigpu_")
    shape = SMOKE_SHAPE if a.smoke else STAR_SHAPE
    s = SEARCH_SMOKE if a.smoke else SEARCH_GPU
    backend = "cpu" if a.smoke else "cuda"
    res = {
        "scaling_efficiency": None, "search_wall_ratio": None, "device": gpus[0] if gpus else None, "date": now_iso(),
        "smoke": a.smoke, "backend": backend, "gpus": len(gpus), "gpu_names": gpus, "nccl_nvls_enable": "0",
        "nvls_off_in_ranks": True,
        "targets": {"scaling_efficiency": TARGET_SCALING, "search_wall_ratio": TARGET_WALL_RATIO},
        "bench": dict(shape, baseline="configs/baselines/transformer.yaml", per_gpu_batch=shape["batch"],
                      batch_1gpu=shape["batch"], batch_2gpu=GPUS * shape["batch"],
                      scaling="weak: the per-GPU batch fixed (%d x %d tokens)" % (shape["batch"], shape["seq_len"])),
        "tokens_per_s_1gpu": None, "tokens_per_s_2gpu": None,
        "search": dict(s, population=2 * GPUS, generations=1, run_seed=1, data="mad: in_context_recall",
                       ranks_per_candidate=1),
        "search_wall_s_1gpu": None, "search_wall_s_2gpu": None, "archive_identical": None, "archive_lines": None,
        "search_balance_bound": None, "errors": {},
    }
    if a.smoke:
        res["device"] = "cpu (smoke)"
    rc, out, err, _ = run(["mpirun", "--version"], 30, env)
    res["mpirun_version"] = (out or err or "").strip().splitlines()[0] if rc == 0 and (out or err).strip() else None

    def save():
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        with open(out_path + ".tmp", "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
        os.replace(out_path + ".tmp", out_path)

    print("multigpu: star %s, %d GPU(s) %s, budget %.0f s, out %s%s" % (
        star, len(gpus), ", ".join(gpus), a.budget_s, out_path, " (SMOKE: CPU, tiny sizes)" if a.smoke else ""),
        flush=True)

    # Part 1: data-parallel scaling of training.
    genome = None
    try:
        base = baseline_genome(star, "configs/baselines/transformer.yaml", shape["vocab"], shape["width"])
        genome = repeat_genome(base, shape["livs"])
        st = genome_stats(star, genome, shape["vocab"], shape["width"], shape["seq_len"])
        res["bench"]["genome"] = genome
        res["bench"]["params"] = st.get("params")
    except Exception as e:  # reported; part 2 still runs
        res["errors"]["bench_genome"] = str(e)

    def bench(key, ranks, batch, extra=(), cap=LIMITS["extra"]):
        """Times one configuration; returns its JSON line or None (the error recorded)."""
        lim = budget.limit(cap)
        if genome is None:
            return None
        if lim is None:
            res["errors"][key] = "skipped: time budget spent"
            return None
        cmd = [star, "bench", genome, "--backend", backend, "--width", str(shape["width"]), "--vocab",
               str(shape["vocab"]), "--batch", str(batch), "--seq-len", str(shape["seq_len"]), "--steps",
               str(shape["steps"]), "--warmup-steps", str(shape["warmup"]), "--json"] + list(extra)
        if a.smoke:
            cmd += ["--threads", "1", "--results", os.path.join(work, "bench.jsonl")]
        e = dict(env)
        if ranks > 1:
            cmd = mpi + ["-np", str(ranks)] + cmd
        else:
            e["CUDA_VISIBLE_DEVICES"] = e.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
        res["bench"][key + "_command"] = " ".join(cmd).replace(genome, "'%s'" % genome)
        print("== %s: %d rank(s), batch %d x %d" % (key, ranks, batch, shape["seq_len"]), flush=True)
        rc, out, err, wall = run(cmd, lim, e)
        j = last_json_line(out)
        if rc != 0 or not j or "tokens_per_s" not in j:
            res["errors"][key] = failure(rc, lim, out, err)
            return None
        res["bench"][key] = {k: j.get(k) for k in ("tokens_per_s", "ms_per_step", "mfu", "peak_bf16_tflops", "ranks",
                                                    "nccl", "graph", "batch", "arena_bytes", "device_memory_used_bytes",
                                                    "device")}
        res["bench"][key]["wall_s"] = wall
        return j

    j1 = bench("gpu1", 1, shape["batch"], cap=LIMITS["bench1"])
    if j1:
        res["tokens_per_s_1gpu"] = j1["tokens_per_s"]
        if not a.smoke:
            res["device"] = j1.get("device") or res["device"]
    if a.smoke:
        res["errors"]["gpu2"] = "skipped: smoke mode (star bench under mpirun times GPUs only)"
    else:
        j2 = bench("gpu2", GPUS, GPUS * shape["batch"], cap=LIMITS["bench2"])
        if j2:
            res["tokens_per_s_2gpu"] = j2["tokens_per_s"]
        if j1 and j2 and j1["tokens_per_s"] > 0:
            res["scaling_efficiency"] = j2["tokens_per_s"] / (GPUS * j1["tokens_per_s"])
    save()

    # Part 2: the distributed search, 1 rank against 2.
    population = 2 * GPUS
    walls, archives = {}, {}
    for ranks, cap in ((1, LIMITS["search1"]), (GPUS, LIMITS["search2"])):
        key = "search%d" % ranks
        lim = budget.limit(cap)
        if lim is None:
            res["errors"][key] = "skipped: time budget spent"
            continue
        run_dir = os.path.join(work, "run%d" % ranks)
        cfg = os.path.join(work, "search.yaml")
        with open(cfg, "w") as f:
            f.write(search_config(s, population, os.path.join(work, "run")))
        e = dict(env)
        if ranks == 1 and not a.smoke:
            e["CUDA_VISIBLE_DEVICES"] = e.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
        cmd = mpi + ["-np", str(ranks), star, "search", cfg, "--set", "run.dir=" + run_dir, "--quiet"]
        res["search"][key + "_command"] = " ".join(cmd)
        print("== %s: %d rank(s), population %d, 2 generations' batches" % (key, ranks, population), flush=True)
        rc, out, err, wall = run(cmd, lim, e)
        arch = os.path.join(run_dir, "archive.jsonl")
        if rc != 0 or not os.path.exists(arch):
            res["errors"][key] = failure(rc, lim, out, err)
            continue
        walls[ranks], archives[ranks] = wall, arch
        res["search_wall_s_%dgpu" % ranks] = wall
        lines = read_archive(arch)
        res["search"][key + "_eval_s"] = sum(l.get("wall_s") or 0.0 for l in lines)
        res["search"][key + "_lines"] = len(lines)
        res["search"][key + "_failed"] = sum(1 for l in lines if l.get("failed"))
        res["search"][key + "_ranks_used"] = sorted({l.get("rank") for l in lines})
        save()
    if 1 in walls and GPUS in walls:
        res["search_wall_ratio"] = walls[GPUS] / walls[1]
        a1, a2 = strip_archive(archives[1]), strip_archive(archives[GPUS])
        res["archive_identical"] = a1 == a2
        res["archive_lines"] = len(a1)
        res["search_balance_bound"] = balance_bound(read_archive(archives[1]), read_archive(archives[GPUS]))
    save()

    # Extras, as the budget allows: the NCCL path alone, and strong scaling.
    if not a.smoke:
        jn = bench("gpu1_nccl", 1, shape["batch"], extra=["--nccl"])
        if jn and j1:
            res["bench"]["nccl_one_rank_over_alone"] = jn["tokens_per_s"] / j1["tokens_per_s"]
        js = bench("gpu2_strong", GPUS, shape["batch"])
        if js and j1:
            res["strong_scaling_efficiency"] = js["tokens_per_s"] / (GPUS * j1["tokens_per_s"])
        save()
    shutil.rmtree(work, ignore_errors=True)

    def f(v, spec):
        return format(v, spec) if isinstance(v, (int, float)) else "-"

    print("\nmultigpu (%s, %s):" % (res["device"], res["date"]))
    print("  tokens/s 1 GPU (batch %d)       %s" % (shape["batch"], f(res["tokens_per_s_1gpu"], ".0f")))
    print("  tokens/s 2 GPUs (batch %d)      %s" % (GPUS * shape["batch"], f(res["tokens_per_s_2gpu"], ".0f")))
    print("  scaling efficiency             %s  (target >= %.2f)" % (f(res["scaling_efficiency"], ".3f"), TARGET_SCALING))
    if "strong_scaling_efficiency" in res:
        print("  strong scaling (global batch %d) %s" % (shape["batch"], f(res["strong_scaling_efficiency"], ".3f")))
    print("  search wall 1 / 2 GPUs         %s s / %s s" % (f(res["search_wall_s_1gpu"], ".1f"),
                                                          f(res["search_wall_s_2gpu"], ".1f")))
    print("  search wall ratio              %s  (target <= %.2f; balance bound %s)" % (
        f(res["search_wall_ratio"], ".3f"), TARGET_WALL_RATIO, f(res["search_balance_bound"], ".3f")))
    print("  archives identical             %s  (%s lines)" % (res["archive_identical"], res["archive_lines"]))
    for k, v in res["errors"].items():
        print("  %s: %s" % (k, v))
    print("  written to %s" % out_path, flush=True)
    wanted = ["search_wall_ratio"] + ([] if a.smoke else ["scaling_efficiency"])
    ok = all(res[k] is not None for k in wanted) and res["archive_identical"] is True
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
