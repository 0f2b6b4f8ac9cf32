// star: the model's insides, shared by eval/model*.c and the per-class token mixers
// eval/liv_*.c. Nothing outside eval/ includes this.
//
// A LIV layer computes y = f(h) from its (normalized) input h [B,T,D]:
//   1. features: each feature-group slot it computes itself is a projection of h
//      (dense or grouped), optionally followed by a depthwise causal short conv;
//   2. the class's token mixer turns the features into core [B,T,inner];
//   3. the output projection (dense inner->D, or a diagonal scale) gives y.
// Memory features (K/V for attention and linear attention; B, X and dt for Rec-2) are
// read through `mem_owner`: a LIV with kv_from >= 0 reads its owner's features and
// adds its gradients into the owner's dfeat, which the owner consumes later in the
// backward pass (the owner is always earlier in depth).
#ifndef STAR_EVAL_MODEL_PRIVATE_H
#define STAR_EVAL_MODEL_PRIVATE_H

#include "eval/model.h"

#define LIV_SLOTS GENOME_FEATURE_GROUPS

typedef struct liv_layer liv_layer;

// A trainable tensor of a layer: its data and grad, possibly the tie owner's.
typedef struct ptensor {
    real *w, *g;
    size_t numel;
} ptensor;

struct liv_layer {
    const liv_spec *s;
    int index;
    // Parameters (w == NULL when absent).
    ptensor norm;              // [D]                       (not for NORM_NONE)
    ptensor proj[LIV_SLOTS];   // [dim, D] or [4][dim/4][D/4] (featurizer: tied)
    ptensor fconv[LIV_SLOTS];  // [dim][conv_len]            (featurizer: tied)
    ptensor out;               // [D, inner] or diagonal [D]
    ptensor lambda;            // SA-diff: [H]
    ptensor dt_w, dt_b, a_log; // Rec-2 memory unit: [H, D], [H], [H] (tied with the featurizer)
    ptensor skip;              // Rec-2: [H]; GConv-2: [inner]
    ptensor conv;              // GConv-1: [inner][conv_len]
    ptensor fa, fb, falpha;    // GConv-2 implicit filter: [inner][M], [inner][M], [inner]
    int computes[LIV_SLOTS];   // 1 if this layer computes the slot itself (not reused)
    liv_layer *mem_owner;      // the layer whose memory features this one reads (self if none)

    // Activations for the planned max B, T.
    real *x_in;                // block input [B*T*D] (the residual stream)
    real *h;                   // input of f [B*T*D] (= x_in unless pre-norm)
    real *rstd;                // [B*T]
    real *sum;                 // NORM_POST: x_in + y [B*T*D]
    real *fpre[LIV_SLOTS];     // projection outputs [B*T*dim]
    real *feat[LIV_SLOTS];     // after the optional conv (== fpre without conv)
    real *dfeat[LIV_SLOTS];    // gradient of feat (memory slots: also from sharers)
    real *act[6];              // mixer-specific saved activations
    real *dact[6];             // mixer-specific gradients (zeroed before each backward)
    size_t dact_n[6];          // their element counts (set by the mixer's alloc)
    real *core;                // [B*T*inner]
    real *y;                   // [B*T*D]
};

// Per-class token mixer: forward writes l->core from the features; backward reads
// dcore and ACCUMULATES into dfeat (its own or the memory owner's) and parameter grads.
// alloc plans the mixer's activations with model_alloc.
typedef struct liv_mixer {
    int (*alloc)(model *m, liv_layer *l, int B, int T, star_error *err);
    int (*forward)(liv_layer *l, int B, int T, star_error *err);
    // dh: the layer's input gradient, for mixers that project their own input (Rec-2's dt).
    int (*backward)(liv_layer *l, const real *dcore, real *dh, int B, int T, star_error *err);
} liv_mixer;

#define LIV_CHUNK 16  // chunk length of the chunked linear-attention and SSD forms

#define MODEL_MAX_TENSORS (GENOME_MAX_DEPTH * 16 + 4)
#define MODEL_MAX_ALLOCS (GENOME_MAX_DEPTH * 64 + 64)

struct model {
    arch a;
    model_options opt;
    param_tensor tensors[MODEL_MAX_TENSORS];
    int n_tensors;
    ptensor embed, final_norm;
    liv_layer layers[GENOME_MAX_DEPTH];
    // Activations of the embedding, final norm and head, for the planned B, T.
    real *x_final;      // residual stream after the last block [B*T*D]
    real *h_final;      // final norm output [B*T*D]
    real *rstd_final;   // [B*T]
    real *logits;       // [B*T*V]
    real *dlogits;      // [B*T*V]
    real *dres;         // gradient of the residual stream [B*T*D]
    real *scratch[4];   // [B*T*max(D, inner, dims)] temporaries of the backward pass
    int32_t *targets;   // copy of the last batch's targets and inputs
    int32_t *inputs;
    int B, T;           // shape of the last forward
    // Every allocation, freed by model_free; bytes counted against opt.memory_limit_bytes.
    void *allocs[MODEL_MAX_ALLOCS];
    int n_allocs;
    size_t bytes;
};

// Counting allocator: zeroed memory, counted against the model's limit; fails with the
// planned size when the limit would be passed.
real *model_alloc(model *m, size_t numel, star_error *err);
int model_params_create(model *m, star_error *err);
const char *liv_slot_name(liv_class c, int slot);
int liv_slot_is_memory(liv_class c, int slot);
extern const liv_mixer *const liv_mixers[LIV_CLASS_COUNT];

#endif
