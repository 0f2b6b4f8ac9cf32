#!/usr/bin/env python3
"""The reading half of bench/prove_search.sh (Python standard library only).

    prove_search.py front PLAN_JSON        the genomes to retrain: one line per genome,
                                           HASH<TAB>kind<TAB>source (the last generation's
                                           front of every NSGA-II search, then the baselines)
    prove_search.py summary PLAN_JSON OUT  search_summary.json from the runs and retrainings
    prove_search.py table SUMMARY_JSON     the retrained genomes as a Markdown table
                                           (docs/results.md)
    prove_search.py budgets SUMMARY_JSON... the same genomes retrained at several budgets
                                           (the summaries of --retrain-steps N beside the
                                           protocol's): wins held, reductions and each
                                           genome's loss per budget, as Markdown tables
    prove_search.py genomes SUMMARY_JSON   the retrained genomes by hash, one row each:
                                           search loss, retrained loss per seed, gap
    prove_search.py compare SEED SUMMARY_JSON...
                                           runs retrained at one budget side by side on one
                                           retraining seed (or `mean`: the means over the
                                           seeds all of them have): best genome, genomes no
                                           worse than each baseline, wins held, Kendall's tau

PLAN_JSON is written by bench/prove_search.sh (its header says what it holds). The
definitions of every figure are in docs/results.md ("The summary"); this file is their
implementation.
"""
import json
import math
import os
import sys

OBJS_STRUCTURAL = ("params", "cache_bytes")


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        fail("%s: %s" % (path, e.strerror or e))
    except ValueError as e:  # json.JSONDecodeError, or bytes that are not UTF-8
        fail("%s: not valid JSON (%s)" % (path, e))


def fail(msg):
    sys.stderr.write("prove_search.py: error: %s\n" % msg)
    sys.exit(1)


def kendall_tau(a, b):
    """Kendall's tau-a between two hash -> value maps, over the hashes both have (None when
    fewer than two)."""
    hs = sorted(h for h in a if h in b and a[h] is not None and b[h] is not None)
    conc = disc = 0
    for i in range(len(hs)):
        for j in range(i + 1, len(hs)):
            d = (a[hs[i]] - a[hs[j]]) * (b[hs[i]] - b[hs[j]])
            conc += d > 0
            disc += d < 0
    n_pairs = len(hs) * (len(hs) - 1) // 2
    return ((conc - disc) / n_pairs if n_pairs else None), len(hs)


KIND_NAMES = {"transformer": "Transformer++", "striped": "striped"}
KIND_ORDER = {"transformer": 0, "striped": 1}


def budget_seeds(b):
    """The retraining seeds of a budget (plan["retrain"] or a summary's), as strings."""
    return [str(x) for x in (b.get("seeds") or [b["seed"]])]


def loss_by_seed(x, seeds):
    """Seed -> validation loss of one retrained genome (a summary written before seeds were
    recorded holds the one seed's loss alone)."""
    return x.get("val_loss_by_seed") or {seeds[0]: x["val_loss"]}


def last_generation(run_dir):
    """The last generation file of a complete run, as a dict."""
    ck = os.path.join(run_dir, "checkpoint.json")
    if not os.path.exists(ck):
        fail("%s: no checkpoint.json (the search has not run)" % run_dir)
    c = load_json(ck)
    if not c.get("complete"):
        fail("%s: the search is not complete (checkpoint.json)" % run_dir)
    return load_json(os.path.join(run_dir, "generations", "gen_%04d.json" % c["generation"])), c


def read_archive(run_dir):
    """Archive lines by (hash, fidelity); a torn last line (a kill mid-write) is skipped."""
    out, lines = {}, []
    path = os.path.join(run_dir, "archive.jsonl")
    with open(path) as f:
        raw = f.read().split("\n")
    for i, line in enumerate(raw):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError:
            if i >= len(raw) - 2:
                continue  # torn last line
            fail("%s:%d: not a JSON line" % (path, i + 1))
        out[(d["hash"], d["fidelity"])] = d
        lines.append(d)
    return out, lines


def feasible_points(population, objs):
    pts = []
    for m in population:
        if m.get("status") != "ok":
            continue
        v = [m["objectives"].get(o) for o in objs]
        if any(x is None or not math.isfinite(x) for x in v):
            continue
        pts.append(v)
    return pts


def hv2d(pts):
    """Area dominated by pts (minimized) below the reference point (1, 1): a sweep in
    the first objective with the best second objective so far."""
    pts = sorted(p for p in pts if p[0] < 1 and p[1] < 1)
    area, best_y = 0.0, 1.0
    for i, (x, y) in enumerate(pts):
        best_y = min(best_y, y)
        nx = pts[i + 1][0] if i + 1 < len(pts) else 1.0
        area += (nx - x) * (1.0 - best_y)
    return area


def hypervolume(pts):
    """Exact hypervolume of points in [0, 1)^M with reference point 1 (M = 1, 2 or more:
    slicing on the last objective down to the 2-D sweep)."""
    pts = [list(p) for p in pts if all(x < 1 for x in p)]
    if not pts:
        return 0.0
    m = len(pts[0])
    if m == 1:
        return 1.0 - min(p[0] for p in pts)
    if m == 2:
        return hv2d(pts)
    pts.sort(key=lambda p: p[-1])
    vol = 0.0
    for i, p in enumerate(pts):
        top = pts[i + 1][-1] if i + 1 < len(pts) else 1.0
        if top > p[-1]:
            vol += (top - p[-1]) * hypervolume([q[:-1] for q in pts[: i + 1]])
    return vol


def retrain_dir(plan):
    """retrain/ for the protocol's retraining, retrain-N/ for a control of N steps."""
    return os.path.join(plan["out"], plan["retrain"].get("dir", "retrain"))


def retrain_list(plan):
    path = os.path.join(retrain_dir(plan), "list.tsv")
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def kind_of(h, baselines):
    for k, b in baselines.items():
        if b["hash"] == h:
            return k
    return "evolved"


def cmd_front(plan):
    seen = set()
    for pair in plan["pairs"]:
        gen, _ = last_generation(pair["nsga2"])
        for idx in gen["front"]:
            m = gen["population"][idx]
            h = m["hash"]
            if h in seen or kind_of(h, plan["baselines"]) != "evolved":
                continue
            seen.add(h)
            print("%s\tevolved\t%s" % (h, pair["nsga2"]))
    for k, b in plan["baselines"].items():
        if b["hash"] not in seen:
            seen.add(b["hash"])
            print("%s\t%s\t%s" % (b["hash"], k, b["file"]))


def trained(d):
    """Whether an archive line's candidate was trained: ok, or failed while training
    (diverged, out of memory or time). Candidates refused before any training say so in
    their reason (docs/run.md): a hard limit "(not trained)", a shape the CUDA backend
    does not run "not on the CUDA backend"."""
    r = d.get("reason") or ""
    return d["status"] == "ok" or not ("(not trained)" in r or "not on the CUDA backend" in r)


def search_record(pair_name, alg, run_dir):
    gen, ck = last_generation(run_dir)
    cfg_objs = list(gen["population"][0]["objectives"].keys()) if gen["population"] else []
    _, lines = read_archive(run_dir)
    by_fid, trained_fid = {}, {}
    for d in lines:
        f = str(d["fidelity"])
        by_fid[f] = by_fid.get(f, 0) + 1
        if trained(d):
            trained_fid[f] = trained_fid.get(f, 0) + 1
    return gen, {
        "pair": pair_name,
        "algorithm": alg,
        "dir": run_dir,
        "objectives": cfg_objs,
        "generations": ck["generation"] + 1,
        "evaluations": ck["evaluations"],
        "trainings_by_fidelity": by_fid,
        "trained_by_fidelity": trained_fid,
        "refused_untrained": sum(1 for d in lines if not trained(d)),
        "failed_or_infeasible": sum(1 for d in lines if d["status"] != "ok"),
        "train_s": round(math.fsum(d.get("wall_s") or 0 for d in lines), 1),
        "hypervolume_per_generation_own_reference": ck.get("hypervolume"),
        "final_front": [
            {"hash": gen["population"][i]["hash"], "genome": gen["population"][i]["x"],
             "objectives": gen["population"][i]["objectives"]}
            for i in gen["front"]
        ],
    }


def beats(loss, loss_b, st, st_b):
    """The objectives (params, cache_bytes) on which a genome beats a baseline: loss no
    worse and strictly smaller; empty when it does not beat it."""
    if loss is None or loss_b is None or loss > loss_b:
        return []
    return [o for o in OBJS_STRUCTURAL if st[o] < st_b[o]]


def cmd_summary(plan, out_path):
    base = plan["baselines"]
    # --- hypervolume on one shared reference per pair of searches -------------------
    searches, hv_pairs = [], []
    for pair in plan["pairs"]:
        objs = pair["objectives"]
        g_n, rec_n = search_record(pair["name"], "nsga2", pair["nsga2"])
        g_r, rec_r = search_record(pair["name"], "random", pair["random"])
        searches += [rec_n, rec_r]
        g0 = []
        for d in (pair["nsga2"], pair["random"]):
            g0 += feasible_points(load_json(os.path.join(d, "generations", "gen_0000.json"))["population"], objs)
        if not g0:
            fail("%s: no feasible member in generation 0 of either search" % pair["name"])
        ref = [1.1 * max(p[k] for p in g0) for k in range(len(objs))]
        hv = {}
        for alg, g in (("nsga2", g_n), ("random", g_r)):
            pts = [[p[k] / ref[k] for k in range(len(objs))] for p in feasible_points(g["population"], objs)]
            hv[alg] = {"hypervolume": hypervolume(pts), "feasible_members": len(pts),
                       "inside_reference": sum(1 for p in pts if all(x < 1 for x in p))}
        hv_pairs.append({"pair": pair["name"], "objectives": objs,
                         "reference": dict(zip(objs, ref)), "nsga2": hv["nsga2"], "random": hv["random"]})
    hv_nsga2 = math.fsum(p["nsga2"]["hypervolume"] for p in hv_pairs) / len(hv_pairs)
    hv_random = math.fsum(p["random"]["hypervolume"] for p in hv_pairs) / len(hv_pairs)

    # --- retrainings: one per genome and seed; a genome's loss is the mean over the seeds
    # (None when any seed's training failed) --------------------------------------------
    seeds = plan["retrain"].get("seeds") or [plan["retrain"]["seed"]]
    retrained = {}
    for h, kind, src in retrain_list(plan):
        runs = []
        for seed in seeds:
            name = h + (".json" if seed == seeds[0] else ".seed%d.json" % seed)
            path = os.path.join(retrain_dir(plan), name)
            if not os.path.exists(path):
                fail("%s: missing (the retraining of %s with seed %d has not run)" % (path, h, seed))
            runs.append((seed, load_json(path)))
        r0 = runs[0][1]
        ok = all(bool(r["train"].get("ok")) for _, r in runs)
        by_seed = {str(seed): (r["train"].get("val_loss") if r["train"].get("ok") else None) for seed, r in runs}
        losses = [v for v in by_seed.values() if v is not None]
        mean = lambda xs: math.fsum(xs) / len(xs)  # fsum: the same last bit on every Python (3.12 changed sum)
        std = (math.sqrt(math.fsum((x - mean(losses)) ** 2 for x in losses) / (len(losses) - 1))
               if ok and len(losses) > 1 else None)
        reasons = ["seed %d: %s" % (seed, r["train"].get("reason", "")) for seed, r in runs if not r["train"].get("ok")]
        train_loss = mean([r["train"]["train_loss"] for _, r in runs]) if ok else None
        retrained[h] = {"hash": h, "kind": kind, "source": src, "genome": r0["train"].get("genome"),
                        "params": r0["stats"]["params"], "cache_bytes": r0["stats"]["cache_bytes"],
                        "ok": ok, "reason": "; ".join(reasons),
                        "val_loss": mean(losses) if ok else None,
                        "val_loss_by_seed": by_seed, "val_loss_std": std,
                        "bits_per_byte": mean([r["train"]["bits_per_byte"] for _, r in runs]) if ok else None,
                        # The training loss over the last tenth of the steps, mean over the seeds, and
                        # how far the validation loss lies above it (memorization shows there).
                        "train_loss": train_loss,
                        "train_val_gap": mean(losses) - train_loss if ok else None,
                        "train_s": round(math.fsum(r["train"].get("wall_s") or 0 for _, r in runs), 3),
                        "device": r0.get("device"), "date": max(r.get("date") or "" for _, r in runs)}
    for k, b in base.items():
        if b["hash"] not in retrained:
            fail("baseline %s (%s) was not retrained" % (k, b["hash"]))
    evolved = [r for r in retrained.values() if r["kind"] == "evolved"]
    T = retrained[base["transformer"]["hash"]]

    # --- the search's own view: each evolved genome against each baseline, at the highest
    # fidelity both reached in the NSGA-II run that found it -----------------------------
    archives = {pair["nsga2"]: read_archive(pair["nsga2"])[0] for pair in plan["pairs"]}
    comparisons = []
    for r in evolved:
        run = r["source"]
        arch = archives[run]
        for k, b in base.items():
            mine = {f: d for (h, f), d in arch.items() if h == r["hash"] and d["status"] == "ok"}
            theirs = {f: d for (h, f), d in arch.items() if h == b["hash"] and d["status"] == "ok"}
            common = sorted(set(mine) & set(theirs))
            if not common:
                comparisons.append({"hash": r["hash"], "baseline": k, "run": run, "fidelity": None,
                                    "note": "no fidelity at which both trained in the search"})
                continue
            f = common[-1]
            lg, lb = mine[f]["objectives"]["quality"], theirs[f]["objectives"]["quality"]
            rb = retrained[b["hash"]]
            search_beats = beats(lg, lb, r, rb)
            re_beats = beats(r["val_loss"], rb["val_loss"], r, rb)
            # The same verdict seed by seed (each genome against the baseline trained with
            # the same seed): how much the mean's verdict owes to one seed.
            per_seed = {sd: bool(beats(r["val_loss_by_seed"][sd], rb["val_loss_by_seed"][sd], r, rb))
                        for sd in r["val_loss_by_seed"]}
            comparisons.append({"hash": r["hash"], "baseline": k, "run": run, "fidelity": f,
                                "search_loss": lg, "search_baseline_loss": lb, "search_beats_on": search_beats,
                                "retrain_loss": r["val_loss"], "retrain_baseline_loss": rb["val_loss"],
                                "retrain_loss_std": r["val_loss_std"], "retrain_baseline_loss_std": rb["val_loss_std"],
                                "retrain_beats_on": re_beats, "retrain_beats_by_seed": per_seed,
                                "confirmed": (bool(re_beats) if search_beats else None)})
    counted = [c for c in comparisons if c.get("confirmed") is not None]
    ranking_confirmed = None if not counted else all(c["confirmed"] for c in counted)

    # --- rank agreement: Kendall's tau (tau-a) between each retrained genome's loss in the
    # search (the highest fidelity it reached in its NSGA-II run; a baseline's from the
    # first pair's run) and its retrained loss, over the genomes whose retraining worked --
    first_run = plan["pairs"][0]["nsga2"]
    search_loss = {}
    for r in retrained.values():
        run = r["source"] if r["kind"] == "evolved" else first_run
        mine = {f: d for (h, f), d in archives[run].items() if h == r["hash"] and d["status"] == "ok"}
        if mine and r["val_loss"] is not None:
            search_loss[r["hash"]] = mine[max(mine)]["objectives"]["quality"]
    tau, tau_genomes = kendall_tau(search_loss, {h: r["val_loss"] for h, r in retrained.items()})

    # --- reductions at equal loss, after retraining -----------------------------------
    def reduction(obj):
        if T["val_loss"] is None:
            return None, None
        best, who = None, None
        for r in evolved:
            if r["val_loss"] is None or r["val_loss"] > T["val_loss"]:
                continue
            red = 1.0 - r[obj] / T[obj]
            if best is None or red > best:
                best, who = red, r["hash"]
        return best, who

    cache_red, cache_who = reduction("cache_bytes")
    param_red, param_who = reduction("params")

    summary = {
        "cache_reduction_at_equal_loss": cache_red,
        "param_reduction_at_equal_loss": param_red,
        "hv_nsga2": hv_nsga2,
        "hv_random": hv_random,
        "ranking_confirmed": ranking_confirmed,
        "device": plan["device"],
        "date": plan["date"],
        "scale": plan["scale"],
        "plan": plan["plan"],
        "commit": plan["commit"],
        "protocol": "docs/results.md",
        "raw": {
            "corpus": plan["corpus"],
            "searches": searches,
            "hypervolume": {"reference": "1.1 x the worst feasible value of each objective over generation 0 "
                                         "of both searches of a pair; ideal 0; the last generation's feasible "
                                         "members; hv_nsga2 and hv_random are the means over the pairs",
                            "pairs": hv_pairs},
            "retrain": {"budget": plan["retrain"], "results": sorted(retrained.values(), key=lambda r: (r["kind"] != "transformer", r["kind"] != "striped", r["hash"]))},
            "reductions": {"cache_bytes": {"best": cache_red, "hash": cache_who},
                           "params": {"best": param_red, "hash": param_who},
                           "transformer_val_loss": T["val_loss"],
                           "evolved_no_worse_than_transformer": sorted(
                               r["hash"] for r in evolved
                               if r["val_loss"] is not None and T["val_loss"] is not None and r["val_loss"] <= T["val_loss"])},
            "search_vs_retrain": comparisons,
            "ranking_pairs_counted": len(counted),
            "ranking_pairs_confirmed": sum(1 for c in counted if c["confirmed"]),
            "ranking_pairs_confirmed_by_seed": {
                str(sd): sum(1 for c in counted if c["retrain_beats_by_seed"][str(sd)]) for sd in seeds},
            "ranking_kendall_tau": tau,
            "ranking_kendall_genomes": tau_genomes,
        },
        "invocation": plan["invocation"],
    }
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, out_path)


def fmt(x, f):
    return "failed" if x is None else f % x


def search_losses(s, with_fidelity=False):
    """Hash -> the search's loss of each retrained genome in summary s: the highest fidelity
    it reached in its NSGA-II run; the baselines' from the first comparison naming them.
    with_fidelity: hash -> (loss, steps) instead."""
    hash_of_kind = {x["kind"]: x["hash"] for x in s["raw"]["retrain"]["results"] if x["kind"] != "evolved"}
    out = {}
    for c in s["raw"]["search_vs_retrain"]:
        f = c.get("fidelity")
        out.setdefault(c["hash"], (c["search_loss"], f) if with_fidelity else c["search_loss"])
        out.setdefault(hash_of_kind[c["baseline"]], (c["search_baseline_loss"], f) if with_fidelity else c["search_baseline_loss"])
    return out


def cmd_genomes(s):
    r = s["raw"]["retrain"]
    b = r["budget"]
    seeds = budget_seeds(b)
    search = search_losses(s, with_fidelity=True)
    ok = [x for x in r["results"] if x["val_loss"] is not None]
    best = min(ok, key=lambda x: x["val_loss"])["hash"] if ok else None
    print("| genome | found by | params | cache | search (steps) | retrained @%d | seeds %s | val - train |"
          % (b["steps"], " / ".join(seeds)))
    print("|---|---|---|---|---|---|---|---|")
    order = sorted(r["results"], key=lambda x: (KIND_ORDER.get(x["kind"], 2),
                                               math.inf if x["val_loss"] is None else x["val_loss"]))
    for x in order:
        sl = search.get(x["hash"])
        loss = fmt(x["val_loss"], "%.4f")
        if x.get("val_loss_std") is not None and x["val_loss"] is not None:
            loss += " ± %.4f" % x["val_loss_std"]
        if x["hash"] == best:
            loss = "**%s**" % loss
        by_seed = loss_by_seed(x, seeds)
        print("| %s | %s | %.2fM | %.2f MiB | %s | %s | %s | %s |" % (
            x["hash"], KIND_NAMES.get(x["kind"]) or os.path.basename(x["source"]), x["params"] / 1e6,
            x["cache_bytes"] / 1048576.0, "-" if sl is None else "%.4f (%s)" % (sl[0], sl[1]), loss,
            " / ".join(fmt(by_seed.get(sd), "%.4f") for sd in seeds), fmt(x.get("train_val_gap"), "%.3f")))


def load_summary(p):
    """A search_summary.json with its retraining part, or a failure naming the file."""
    s = load_json(p)
    r = s.get("raw", {}).get("retrain") if isinstance(s, dict) else None
    if not r or "budget" not in r or "results" not in r:
        fail("%s: not a search_summary.json (no raw.retrain)" % p)
    return s


def cmd_compare(seed, paths):
    runs = [(p, load_summary(p)) for p in paths]
    steps = sorted({s["raw"]["retrain"]["budget"]["steps"] for _, s in runs})
    if len(steps) != 1:
        fail("the summaries were retrained for %s steps: compare runs retrained at one budget"
             % " and ".join(map(str, steps)))
    seed_sets = [budget_seeds(s["raw"]["retrain"]["budget"]) for _, s in runs]
    if seed != "mean":
        for (p, _), ss in zip(runs, seed_sets):
            if seed not in ss:
                fail("%s: no retraining with seed %s (seeds %s)" % (p, seed, ", ".join(ss)))
    elif any(ss != seed_sets[0] for ss in seed_sets):
        fail("the means are over other seeds in %s: compare one seed instead" % ", ".join(p for p, _ in runs))

    def loss(x):
        if seed == "mean":
            return x["val_loss"]
        return loss_by_seed(x, seed_sets[0]).get(seed)

    cols = []
    for p, s in runs:
        res = s["raw"]["retrain"]["results"]
        base = {x["kind"]: loss(x) for x in res if x["kind"] != "evolved"}
        ev = [x for x in res if x["kind"] == "evolved"]
        ok = [x for x in ev if loss(x) is not None]
        best = min(ok, key=loss) if ok else None
        fid = max(int(f) for sr in s["raw"]["searches"] for f in sr.get("trainings_by_fidelity", {}))
        counted = [c for c in s["raw"]["search_vs_retrain"] if c["search_beats_on"]]
        if seed == "mean":
            held = sum(1 for c in counted if c["confirmed"])
        else:
            held = sum(1 for c in counted if c.get("retrain_beats_by_seed", {}).get(seed))
        tau, n = kendall_tau(search_losses(s), {x["hash"]: loss(x) for x in res})
        no_worse = lambda k: (None if base.get(k) is None else sum(1 for x in ok if loss(x) <= base[k]))
        cols.append({
            "label": "%s (searched at %d)" % (os.path.dirname(s["raw"]["searches"][0]["dir"]), fid),
            "best": best, "best_loss": None if best is None else loss(best),
            "T": no_worse("transformer"), "T_loss": base.get("transformer"),
            "S": no_worse("striped"), "S_loss": base.get("striped"),
            "n_ev": len(ev), "held": held, "counted": len(counted), "tau": tau, "tau_n": n})
    top = min((c["best_loss"] for c in cols if c["best_loss"] is not None), default=None)
    print("| at %d steps, %s | %s |" % (steps[0], "seed " + seed if seed != "mean" else "the means over seeds "
                                        + ", ".join(seed_sets[0]), " | ".join(c["label"] for c in cols)))
    print("|---|%s" % ("---|" * len(cols)))

    def best_cell(c):
        if c["best"] is None:
            return "-"
        v = "%.4f" % c["best_loss"]
        if c["best_loss"] == top:
            v = "**%s**" % v
        b = c["best"]
        return "%s (%s: %.2fM, %.2f MiB)" % (v, b["hash"][:8], b["params"] / 1e6, b["cache_bytes"] / 1048576.0)

    nw = lambda c, k: "-" if c[k] is None else "%d of %d (%.4f)" % (c[k], c["n_ev"], c[k + "_loss"])
    print("| best evolved genome | %s |" % " | ".join(best_cell(c) for c in cols))
    print("| evolved genomes no worse than Transformer++ | %s |" % " | ".join(nw(c, "T") for c in cols))
    print("| evolved genomes no worse than the striped hybrid | %s |" % " | ".join(nw(c, "S") for c in cols))
    print("| wins the search counted that held | %s |" % " | ".join("%d of %d" % (c["held"], c["counted"]) for c in cols))
    print("| Kendall's tau, search loss against retrained loss | %s |" % " | ".join(
        "%s (%d genomes)" % (fmt(c["tau"], "%.2f"), c["tau_n"]) for c in cols))


def cmd_table(s):
    r = s["raw"]["retrain"]
    T = [x for x in r["results"] if x["kind"] == "transformer"][0]
    b = r["budget"]
    seeds = budget_seeds(b)
    print("Retrained from scratch: seed%s %s, %s steps of %s x %s bytes, width %s, %s; cache at context %s, bf16."
          % ("s" if len(seeds) > 1 else "", ", ".join(seeds), b["steps"], b["batch"], b["seq_len"],
             b["width"], s["device"], b["cache_context"]))
    if len(seeds) > 1:
        print("Validation loss: the mean over the seeds (standard deviation), then each seed's.")
    print()
    search_loss = search_losses(s)
    # gain: search loss - retrained loss, what the retraining's longer budget bought (the
    # baselines' gain against the evolved genomes' decides whether the search's wins hold).
    print("| kind | genome | params | vs T++ | cache (MiB) | vs T++ | search loss | val loss (nats) | by seed | bits/byte "
          "| val - train | gain |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for x in r["results"]:
        by_seed = loss_by_seed(x, seeds)
        loss = fmt(x["val_loss"], "%.4f")
        if x.get("val_loss_std") is not None:
            loss += " (%.4f)" % x["val_loss_std"]
        sl = search_loss.get(x["hash"])
        gain = sl - x["val_loss"] if sl is not None and x["val_loss"] is not None else None
        print("| %s | `%s` | %d | %+.1f%% | %.2f | %+.1f%% | %s | %s | %s | %s | %s | %s |" % (
            x["kind"], x["genome"], x["params"], 100.0 * (x["params"] / T["params"] - 1),
            x["cache_bytes"] / 1048576.0, 100.0 * (x["cache_bytes"] / T["cache_bytes"] - 1),
            fmt(sl, "%.4f"), loss, " / ".join(fmt(by_seed.get(sd), "%.4f") for sd in seeds), fmt(x["bits_per_byte"], "%.4f"),
            fmt(x["train_val_gap"], "%.3f") if "train_val_gap" in x else "-",  # older summaries lack it
            fmt(gain, "%.3f")))
    print()
    for k in ("cache_reduction_at_equal_loss", "param_reduction_at_equal_loss", "hv_nsga2", "hv_random",
              "ranking_confirmed"):
        print("- `%s`: %s" % (k, s[k]))


def cmd_budgets(paths):
    runs = []
    for p in paths:
        s = load_summary(p)
        runs.append((s["raw"]["retrain"]["budget"]["steps"], p, s))
    runs.sort(key=lambda x: x[0])
    steps = [x[0] for x in runs]
    if len(set(steps)) != len(steps):
        fail("two summaries retrained for the same number of steps (%s)" % ", ".join(map(str, steps)))
    hashes = [sorted(x["hash"] for x in s["raw"]["retrain"]["results"]) for _, _, s in runs]
    for (n, p, _), h in zip(runs[1:], hashes[1:]):
        if h != hashes[0]:
            fail("%s: retrained other genomes than %s (summaries of one run's front are compared)" % (p, runs[0][1]))
    print("| retrained for | wins held | seed by seed | Kendall's tau | cache reduction at equal loss "
          "| param reduction at equal loss | evolved genomes no worse than Transformer++ |")
    print("|---|---|---|---|---|---|---|")
    for n, p, s in runs:
        r = s["raw"]
        red = r["reductions"]
        n_ev = sum(1 for x in r["retrain"]["results"] if x["kind"] == "evolved")
        by_seed = r.get("ranking_pairs_confirmed_by_seed") or {}
        red_s = lambda k: ("-" if red[k]["best"] is None else "%.3f (%s)" % (red[k]["best"], red[k]["hash"][:8]))
        print("| %d steps | %s of %s | %s | %s | %s | %s | %d of %d |" % (
            n, r["ranking_pairs_confirmed"], r["ranking_pairs_counted"],
            ", ".join(str(by_seed[k]) for k in sorted(by_seed, key=int)) or "-",
            fmt(r.get("ranking_kendall_tau"), "%.2f"), red_s("cache_bytes"), red_s("params"),
            len(red["evolved_no_worse_than_transformer"]), n_ev))
    print()
    res = [{x["hash"]: x for x in s["raw"]["retrain"]["results"]} for _, _, s in runs]
    search_loss = search_losses(runs[0][2])
    order = sorted(res[0].values(), key=lambda x: (x["kind"] != "transformer", x["kind"] != "striped",
                                                   search_loss.get(x["hash"], math.inf)))
    best = [min((x for x in d.values() if x["val_loss"] is not None), key=lambda x: x["val_loss"])["hash"] for d in res]
    print("| genome | found by | params | cache | search | %s | %s |" % (
        " | ".join("@%d" % n for n in steps), " | ".join("gain %d to %d" % (a, b) for a, b in zip(steps, steps[1:]))))
    print("|---|---|---|---|---|%s" % ("---|" * (2 * len(steps) - 1)))
    for x in order:
        h = x["hash"]
        found = KIND_NAMES.get(x["kind"]) or os.path.basename(x["source"])
        cells = []
        for d, b in zip(res, best):
            y = d[h]
            c = fmt(y["val_loss"], "%.4f")
            if y["val_loss"] is not None and h == b:
                c = "**%s**" % c
            if y.get("val_loss_std") is not None:
                c += " ± %.4f" % y["val_loss_std"]
            cells.append(c)
        gains = []
        for d, e in zip(res, res[1:]):
            a, b = d[h]["val_loss"], e[h]["val_loss"]
            gains.append(fmt(None if a is None or b is None else a - b, "%.3f"))
        print("| %s | %s | %.2fM | %.2f MiB | %s | %s | %s |" % (
            h, found, x["params"] / 1e6, x["cache_bytes"] / 1048576.0, fmt(search_loss.get(h), "%.4f"),
            " | ".join(cells), " | ".join(gains)))


def main(argv):
    if (len(argv) < 3 or argv[1] not in ("front", "summary", "table", "budgets", "genomes", "compare")
            or (argv[1] == "summary" and len(argv) != 4) or (argv[1] == "compare" and len(argv) < 4)):
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "budgets":
        cmd_budgets(argv[2:])
        return 0
    if argv[1] == "compare":
        if argv[2] != "mean" and not argv[2].isdigit():
            fail("compare: the seed is a whole number or `mean`, got '%s'" % argv[2])
        cmd_compare(argv[2], argv[3:])
        return 0
    plan = load_json(argv[2])
    if argv[1] == "table":
        cmd_table(plan)
    elif argv[1] == "genomes":
        cmd_genomes(plan)
    elif argv[1] == "front":
        cmd_front(plan)
    else:
        cmd_summary(plan, argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
