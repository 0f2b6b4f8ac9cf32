// star: training one model: AdamW (decay on matrices only), linear warm-up then cosine
// decay to min_lr_frac * lr, global gradient-norm clipping; loss checked every step so a
// diverging candidate stops at once with its reason.
//
// Data parallel over a group of ranks (train_params.group of size n > 1): every rank
// draws the same global batch and trains on its slice of rows (rows [B r / n, B (r+1) /
// n) for rank r); each rank's gradient of its mean loss is weighted by its scored
// positions, summed over the group (MPI_Allreduce) and divided by the group's scored
// positions, which is the gradient of the global batch's mean loss. The ranks start
// from the same weights (the same seed) and take identical optimizer steps; decisions
// (divergence, the time limit) are taken on summed values, so they agree. The result
// matches one rank with the same global batch up to floating-point reordering.
#ifndef STAR_EVAL_TRAIN_H
#define STAR_EVAL_TRAIN_H

#include <stdint.h>

#include "common/error.h"
#include "dist/dist.h"
#include "eval/batch.h"
#include "eval/model.h"
#include "eval/optimizer.h"

// Where batches come from: text, .bin shards or a MAD task, behind one interface.
typedef struct data_source {
    int vocab;      // tokens are < vocab
    int is_bytes;   // 1 for byte-level text: report bits per byte
    // Fills b (b->B, b->T set by the caller) with the next training batch.
    int (*train_batch)(void *ctx, token_batch *b, star_error *err);
    // Number of validation batches of shape (B, T), and the i-th one (deterministic).
    int (*val_count)(void *ctx, int B, int T);
    int (*val_batch)(void *ctx, int i, token_batch *b, star_error *err);
    void *ctx;
} data_source;

typedef struct train_params {
    int steps, batch, seq_len;
    double lr, min_lr_frac, warmup_steps, weight_decay, clip, beta1, beta2, eps;
    int val_batches;        // how many validation batches to score at the end (0 = all),
                            // spread evenly over the split (validation_batch_index)
    double time_limit_s;    // 0 = none: stop and fail when exceeded
    int log_every;          // 0 = quiet (only the group's rank 0 logs)
    const dist_comm *group; // NULL (or one rank): train alone; else data parallel over its ranks
    // CUDA backend: the NCCL communicator of group's ranks (dist/nccl_group.h), through
    // which gradients are summed. Needed when group has several ranks; with one rank it
    // runs the same path over NCCL (to check it against training alone).
    struct nccl_group *nccl;
} train_params;

// The model of a rank in a group of n trains at most this many rows of a batch of B:
// every rank plans the same size, so a memory limit is met or missed by all alike.
int train_rows_per_rank(int B, int n);

void train_params_default(train_params *p);
// The learning rate at step (0-based): linear warm-up to lr over warmup_steps, then cosine
// decay to min_lr_frac * lr at the last step. The CPU and CUDA trainers share it.
double train_lr_at(const train_params *p, int step);

typedef struct train_result {
    int ok;                 // 0: diverged or failed; reason says why
    char reason[256];
    int steps_done;
    double train_loss;      // mean of the last 10% of steps
    double val_loss;        // nats per token over scored positions
    double bits_per_byte;   // val_loss / ln 2 for byte data, else 0
    double accuracy;        // argmax == target over scored validation positions
    double wall_s, tokens_per_s;
} train_result;

int train_run(model *m, const data_source *data, const train_params *p, train_result *r, star_error *err);
// The same with the caller's optimizer state (initialized with adamw_init, possibly
// loaded from a checkpoint): training continues from its step and moments.
int train_run_with(model *m, adamw_state *opt, const data_source *data, const train_params *p, train_result *r,
                   star_error *err);
// Data parallel: fails unless every rank of group holds rank 0's weights, bit for bit.
int train_check_same_weights(model *m, const dist_comm *group, star_error *err);
// Batch i of the `used` validation batches scored out of `total`: spread evenly over the
// split, so a part of it stands for all of it even where the text is ordered (a
// dictionary, alphabetically). The identity when every batch is scored.
static inline int validation_batch_index(int i, int used, int total) {
    return (int)((long long)i * total / used);
}
// The validation batches of `batch` rows that hold `sequences` sequences (0: all of them).
static inline int validation_batches(long sequences, int batch) {
    return (int)((sequences + batch - 1) / batch);
}
// Scores the validation set: loss and accuracy (no gradients); max_batches > 0 scores
// that many batches, spread by validation_batch_index.
int evaluate_validation(model *m, const data_source *data, int B, int T, int max_batches, train_result *r,
                        star_error *err);
// The same with batches of B rows split over the ranks of group (NULL = alone).
int evaluate_validation_group(model *m, const data_source *data, int B, int T, int max_batches,
                              const dist_comm *group, train_result *r, star_error *err);

#endif
