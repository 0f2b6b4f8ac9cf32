// star: causal linear attention (Rec-1), per head, without a normalizing denominator:
//   o_t = sum_{j<=t} (f(q_t) . phi(k_j)) v_j,   f(q) = phi(q) / sqrt(D),
// phi = identity or elu(x)+1 (chosen by a flag; applied here, with its derivative in the
// backward). The scale multiplies the feature, so for elu+1 it is phi(q)/sqrt(D), not
// phi(q/sqrt(D)).
// Layout: q, k, v, o [B,T,H*D] (head h uses channels [h*D, (h+1)*D)).
//
// Two forms compute the same output:
// - recurrent: S_t = S_{t-1} + phi(k_t) v_t^T (D x D per head), o_t = S_t^T f(q_t);
// - chunked (chunk length L): inside a chunk, o = mask(F K^T) V + F S (gemm products),
//   then S += K^T V; a last partial chunk is fine.
// The backward follows the chunked form and recomputes features and chunk states from
// q, k, v: the forward saves nothing. Decode keeps S: the cache is H*D*D per sequence.
// Scratch is allocated per thread inside the calls (O(T*D + L*L + D*D) reals).
#ifndef STAR_OPERATORS_LINEAR_ATTENTION_H
#define STAR_OPERATORS_LINEAR_ATTENTION_H

#include "common/error.h"
#include "operators/real.h"

typedef enum linatt_phi { LINATT_PHI_IDENTITY = 0, LINATT_PHI_ELU1 = 1 } linatt_phi;

// o = linear attention(q, k, v)   (overwrites o)
int linear_attention_forward_recurrent(real *o, const real *q, const real *k, const real *v, int B, int T, int H,
                                       int D, linatt_phi phi, star_error *err);
int linear_attention_forward_chunked(real *o, const real *q, const real *k, const real *v, int B, int T, int H,
                                     int D, int L, linatt_phi phi, star_error *err);
// dq, dk, dv += gradients given do_ (each may be NULL); L = chunk length.
int linear_attention_backward(real *dq, real *dk, real *dv, const real *do_, const real *q, const real *k,
                              const real *v, int B, int T, int H, int D, int L, linatt_phi phi, star_error *err);
// One decode step for B sequences: state [B][H][D][D] (S[d][p], zeros at the start);
// q, k, v, o [B][H*D]. Updates state.
void linear_attention_step(real *o, real *state, const real *q, const real *k, const real *v, int B, int H, int D,
                           linatt_phi phi);

#endif
