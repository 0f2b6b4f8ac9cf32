// star search: a run directory. Wraps the generic driver (search/driver.h) with what a
// user keeps: the resolved config, the archive (one line per evaluation, appended the
// moment it ends), the population and front of every generation, a checkpoint
// replaced atomically, a log, and progress on the terminal.
//
// Resume replays the evolution from the seed: every candidate already in the archive
// takes its stored result (the driver's lookup hook), so the run ends with exactly the
// genomes and results an uninterrupted run gives, and nothing measured is lost or
// measured twice.
//
//   DIR/config.yaml           the resolved config
//   DIR/archive.jsonl         every evaluation (search/archive.h)
//   DIR/generations/gen_NNNN.json   population (ranked) and front of generation NNNN
//   DIR/checkpoint.json       last completed generation, evaluations, hypervolume history
//   DIR/log.txt               what happened, with times
//
// Distributed (docs/distributed.md): every rank of `world` runs this same replay. The
// new candidates of each batch (a generation, or a rung of one) are handed out to the
// groups of ranks, costliest first (problem.cost), each to the group with the least
// cost so far; each group's rank 0 formats the archive line of every candidate it
// evaluated and sends it to rank 0 at once; rank 0 appends the lines in batch order as
// the batch's finished prefix grows and at the end broadcasts them all, so every rank
// ends the batch with the same results, and rank 0 alone writes the run directory. A candidate's
// result does not depend on which rank trains it, so the archive is the same with any
// number of ranks (apart from wall times and "rank").
#ifndef STAR_SEARCH_RUN_H
#define STAR_SEARCH_RUN_H

#include <stdint.h>

#include "common/error.h"
#include "common/json.h"
#include "dist/dist.h"
#include "search/driver.h"

typedef struct run_spec {
    const char *dir;
    const char *resolved_config;  // YAML text written to DIR/config.yaml (not rewritten on resume)
    const representation *rep;
    const problem *prob;
    const algorithm *alg;
    search_params params;
    const char *const *obj_names;  // n_obj names, as in the archive and the front
    int n_obj;
    // Hypervolume reference point per objective in the objective's own units; NaN:
    // 1.1 x the worst feasible value of generation 0. Hypervolume is reported on
    // objectives divided by this reference (reference point 1, ideal point 0).
    double hv_ref[SEARCH_MAX_OBJ];
    // How a candidate appears in the archive and the fronts, its extra metrics, and the
    // seed its evaluation uses (written to the archive); any may be NULL.
    void (*write_x)(void *ctx, const void *x, json_writer *w);
    void (*write_metrics)(void *ctx, uint64_t hash, json_writer *w);
    uint64_t (*eval_seed)(void *ctx, uint64_t hash);
    void *ctx;
    int quiet;  // no progress output
    // Multi-fidelity by successive halving within each generation's new candidates:
    // all train to rungs[0] (a fidelity the problem's evaluate_fidelity understands),
    // the best `keep` fraction (constrained non-dominated rank, then crowding) go on to
    // rungs[1], and so on. A candidate's result is that of the last rung it reached.
    // n_rungs = 0: one evaluation per candidate.
    int n_rungs;
    int rungs[8];
    double keep;
    // Candidates that go on through every rung whatever their rank, when feasible (the
    // seeded genomes, so the baselines a user compares against are trained in full).
    uint64_t full_fidelity[32];
    int n_full_fidelity;
    // Ranks: NULL world = one process. group: the ranks this one evaluates with
    // (ranks_per_group of them, made by dist_make_groups), group_index of n_groups.
    const dist_comm *world, *group;
    int ranks_per_group, group_index, n_groups;
    // > 0: a candidate whose evaluation runs longer stops the job (a hang), not the
    // run's archive: every finished evaluation is kept and --resume continues.
    double watchdog_s;
} run_spec;

// resume = 0: DIR must not hold an archive yet. resume = 1: DIR must hold config.yaml.
int run_search(const run_spec *spec, int resume, search_result *result, star_error *err);

// Appends "[time] message" to DIR/log.txt (and never fails the run: errors are printed).
void run_log(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
