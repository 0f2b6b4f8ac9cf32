// star search: what is optimized. A problem evaluates a batch of candidates at once (the
// driver hands it every new candidate of a generation together, so an evaluator can
// spread them over processes). For each individual it fills f[0..n_obj) (minimized),
// cv (0 when feasible: the sum of normalized excesses over the hard limits) and, for a
// candidate that could not be evaluated, status = INDIVIDUAL_FAILED with a reason
// (individual_set_failed). Returning -1 stops the whole search: keep that for faults
// of the evaluator itself, not of one candidate.
#ifndef STAR_SEARCH_PROBLEM_H
#define STAR_SEARCH_PROBLEM_H

#include "common/error.h"
#include "search/individual.h"

typedef struct problem {
    const char *name;
    int n_obj;          // 1..SEARCH_MAX_OBJ
    int n_constraints;  // informative; the problem folds them into cv
    void *ctx;
    int (*evaluate_batch)(void *ctx, individual **inds, int n, star_error *err);
    // Optional: evaluates one candidate at a fidelity (for architectures: training
    // steps) for multi-fidelity runs (search/run.h); NULL when the problem has one.
    int (*evaluate_fidelity)(void *ctx, individual *ind, int fidelity, star_error *err);
    // Optional: how costly evaluating ind is, relative to the others (for architectures:
    // FLOPs per token), so a distributed run hands out the costliest first; NULL: alike.
    double (*cost)(void *ctx, const individual *ind);
} problem;

#endif
