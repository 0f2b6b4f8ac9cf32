// star: the slice of a group's batch that one rank trains on, for data-parallel training
// (eval/train.c on the CPU, eval/train_cuda.c on GPUs). Every rank of the group draws the
// same global batch of B rows and keeps rows [B r / n, B (r+1) / n) for its rank r of n.
#ifndef STAR_EVAL_BATCH_SLICE_H
#define STAR_EVAL_BATCH_SLICE_H

#include "common/error.h"
#include "dist/dist.h"
#include "eval/batch.h"

typedef struct batch_slice {
    const dist_comm *group;  // NULL when alone (a group of one rank is alone)
    int n, r;
    token_batch global;      // the whole batch, drawn identically on every rank
} batch_slice;

int batch_slice_init(batch_slice *sl, const dist_comm *group, int B, int T, star_error *err);
void batch_slice_free(batch_slice *sl);
// The batch to fill: the global one in a group, else the rank's own.
token_batch *batch_slice_source(batch_slice *sl, token_batch *local);
// Copies this rank's rows of the global batch into local (nothing when alone).
void batch_slice_take(batch_slice *sl, token_batch *local);

#endif
