// star: causal softmax attention cores (the token mixer of SA-1, SA-2, SA-3, SA-diff).
// Projections, rope and the output projection are separate operators; these functions
// see the per-head features only.
//
// Layout: q [B,T,H,hd]; k, v [B,T,Hkv,hd]; out [B,T,H,hd]. Query head h reads key/value
// head h / (H/Hkv) (GQA; Hkv == H is MHA). Query i attends to keys j with
// i - w < j <= i for a sliding window w > 0, to every j <= i when w = 0.
//   out_i = sum_j softmax_j(q_i . k_j / sqrt(hd)) v_j
// The forward saves only the logsumexp of each score row, lse [B,H,T]; the backward
// recomputes the probabilities from q, k and lse (flash-attention style), so no
// [T,T] map is ever stored: both work by blocks of 64 query rows (scores [64][keys]),
// the products through gemm (operators/matmul.h).
//
// Differential attention (Ye et al. 2024, "Differential Transformer"): the first and
// second halves of q and k (hd/2 channels each) give two score maps, each scaled by
// 1/sqrt(hd/2), and
//   out = (1 - lambda_init) * headRMS( softmax(q1 k1^T) v - lambda_h softmax(q2 k2^T) v )
// with a learnable lambda_h per query head and headRMS the parameter-free RMS norm of
// each head's hd outputs. lambda_init is the paper's constant 0.8 (it fixes the output
// scale; the per-head lambda_h is learned directly rather than through the paper's
// exp(lq1.lk1) - exp(lq2.lk2) + lambda_init reparameterization).
//
// Every backward ACCUMULATES into dq, dk, dv (and dlambda).
#ifndef STAR_OPERATORS_ATTENTION_H
#define STAR_OPERATORS_ATTENTION_H

#include "common/error.h"
#include "operators/real.h"

#define DIFF_ATTN_LAMBDA_INIT 0.8

typedef struct attn_shape {
    int B, T;    // batch, sequence length
    int H, Hkv;  // query heads, key/value heads (H a multiple of Hkv)
    int hd;      // head dim (even for differential attention)
    int window;  // 0 = full causal; w > 0 = the last w keys, the query's own included
} attn_shape;

// Fails with a message naming the offending dimension.
int attention_check_shape(attn_shape s, int differential, star_error *err);

// ---------------------------------------------------------------- softmax attention
// out (overwritten) and lse [B,H,T] (saved for the backward).
int attention_forward(real *out, real *lse, const real *q, const real *k, const real *v, attn_shape s,
                      star_error *err);
// Reads out and lse of the forward on the same q, k, v.
int attention_backward(real *dq, real *dk, real *dv, const real *dout, const real *out, const real *lse,
                       const real *q, const real *k, const real *v, attn_shape s, star_error *err);

// ---------------------------------------------------------------- differential attention
// What the differential forward saves for its backward (caller-allocated).
typedef struct diff_attn_saved {
    real *o1, *o2;  // [B,T,H,hd]: softmax(q1 k1^T) v and softmax(q2 k2^T) v
    real *lse;      // [2][B,H,T]: logsumexp of map 1, then of map 2
    real *rstd;     // [B,T,H]: of the per-head RMS norm
} diff_attn_saved;

// lambda [H]; out [B,T,H,hd] overwritten.
int diff_attention_forward(real *out, const diff_attn_saved *sv, const real *q, const real *k, const real *v,
                           const real *lambda, attn_shape s, star_error *err);
// scratch [B,T,H,hd] (overwritten: the gradient before the head norm); dlambda [H].
int diff_attention_backward(real *dq, real *dk, real *dv, real *dlambda, real *scratch, const real *dout,
                            const diff_attn_saved *sv, const real *q, const real *k, const real *v,
                            const real *lambda, attn_shape s, star_error *err);

// ---------------------------------------------------------------- incremental decoding
// The key/value cache of B sequences decoded in step. k, v [B][cap][Hkv][hd] are the
// caller's: cap >= window for a sliding window (a ring buffer: cap = window holds
// exactly the keys a query can see, so the cache stays w tokens at any context),
// cap = the longest context otherwise.
typedef struct attn_cache {
    real *k, *v;
    int B, cap, Hkv, hd, window;
    long pos;  // tokens appended so far: the position of the next token
} attn_cache;

int attn_cache_init(attn_cache *c, real *k, real *v, int B, int cap, int Hkv, int hd, int window, star_error *err);
// One token per sequence at position c->pos (rope, if any, already applied):
// q [B,H,hd], k, v [B,Hkv,hd]; appends k, v to the cache, writes out [B,H,hd] and
// advances pos. Fails when a full-context cache is full.
int attention_decode_step(real *out, attn_cache *c, const real *q, const real *k, const real *v, int H,
                          star_error *err);
int diff_attention_decode_step(real *out, attn_cache *c, const real *q, const real *k, const real *v,
                               const real *lambda, int H, star_error *err);

#endif
