// star: the loops shared by the attention operators (operators/attention*.c only).
// A "map" is one softmax score map computed from qk_dim channels of q and k starting
// at channel qk_off (all hd for plain attention, one half for differential attention);
// values always use all hd channels.
#ifndef STAR_OPERATORS_ATTENTION_CORE_H
#define STAR_OPERATORS_ATTENTION_CORE_H

#include "operators/attention.h"

// Online softmax of one query over the keys at positions p0..p1 (in order). Key p sits
// at k + slot * stride, with slot = p % cap for a ring buffer (cap > 0), p otherwise;
// the same for v. Writes o[hd] and returns the row's logsumexp.
real attend_row(real *o, const real *q, const real *k, const real *v, long stride, long p0, long p1, int cap,
                int qk_dim, int hd, real scale);

// First key position visible from query position i.
static inline long attn_first_key(long i, int window) {
    return (window > 0 && i - window + 1 > 0) ? i - window + 1 : 0;
}

// out [B,T,H,hd] and lse [B,H,T] of one map over a whole sequence.
void attn_map_forward(real *out, real *lse, const real *q, const real *k, const real *v, attn_shape s, int qk_off,
                      int qk_dim, real scale);

// Backward of one map whose output was multiplied by coef[h] * coef_sign (coef NULL:
// by 1). dout is the gradient of the multiplied output; out, lse as the forward saved.
void attn_map_backward(real *dq, real *dk, real *dv, const real *dout, const real *coef, real coef_sign,
                       const real *out, const real *lse, const real *q, const real *k, const real *v, attn_shape s,
                       int qk_off, int qk_dim, real scale);

#endif
