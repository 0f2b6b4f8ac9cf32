// star: a trainable model built from a resolved genome (genome/arch.h) on the CPU.
// Token embedding (tied with the LM head) -> LIV blocks with the norm/residual of each
// LIV's gene -> final RMSNorm -> LM head -> cross-entropy. Featurizer sharing is real
// weight tying (a tied LIV points at its owner's tensors and adds its gradients to
// them); feature-group sharing is real reuse (a LIV reads the K/V, or B/X/dt, that its
// owner computed, and its gradients flow back into the owner's features).
#ifndef STAR_EVAL_MODEL_H
#define STAR_EVAL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "eval/batch.h"
#include "genome/arch.h"
#include "operators/real.h"

typedef struct model model;

typedef struct model_options {
    int max_batch;            // B the activations are planned for
    int max_seq;              // T the activations are planned for
    uint64_t seed;            // weight initialization stream
    size_t memory_limit_bytes;// 0 = none; creation fails (with the planned size) above it
} model_options;

// One parameter tensor as allocated. Tied LIVs own no tensors: the count of allocated
// elements is the model's parameter count.
typedef struct param_tensor {
    char name[96];   // e.g. "liv.3.proj.q", "embed"
    int ndim;
    int shape[4];
    size_t numel;
    real *data;
    real *grad;
    int decay;       // 1 for matrices (AdamW decays them), 0 for norms, biases, scalars
} param_tensor;

int model_create(const arch *a, model_options opt, model **out, star_error *err);
void model_free(model *m);

const arch *model_arch(const model *m);
int model_n_tensors(const model *m);
param_tensor *model_tensor(model *m, int i);
size_t model_param_count(const model *m);  // sum of numel over allocated tensors
size_t model_planned_bytes(const model *m);// params, grads and activations

// Forward over a batch (B <= max_batch, T <= max_seq); returns the mean cross-entropy in
// nats over positions with target >= 0, and keeps the activations for backward.
int model_forward(model *m, const token_batch *b, double *loss, star_error *err);
// Logits [B, T, vocab] of the last forward.
const real *model_logits(const model *m);
void model_zero_grad(model *m);
// Gradients of the last forward's loss, accumulated into every tensor's grad.
int model_backward(model *m, star_error *err);

// Incremental decoding: one token at a time through the inference cache.
typedef struct decode_state decode_state;
int decode_create(model *m, int max_context, decode_state **out, star_error *err);
void decode_free(decode_state *d);
// Elements held in the cache (KV, recurrent state, convolution history) times dtype
// bytes: what genome_stats calls cache_bytes at context max_context.
size_t decode_cache_bytes(const decode_state *d, int dtype_bytes);
// Feeds token at the next position and writes logits [vocab].
int decode_step(model *m, decode_state *d, int token, real *logits, star_error *err);

#endif
