// star: rotary position embedding on x [B,T,H,hd] (hd even). Channel i is paired with
// i + hd/2 (the "rotate half" layout) and rotated by the angle pos * base^(-2i/hd),
// base ROPE_BASE, pos = pos0 + t. pos0 > 0 serves incremental decoding (one token at
// its absolute position). The rotation is orthogonal: the backward is the inverse
// rotation of the gradient.
#ifndef STAR_OPERATORS_ROPE_H
#define STAR_OPERATORS_ROPE_H

#include "operators/real.h"

#define ROPE_BASE 10000.0

// out = R(pos) x  (overwrites out; out may alias x)
void rope_forward(real *out, const real *x, int B, int T, int H, int hd, int pos0);
// dx += R(pos)^T dout   (dx must not alias dout)
void rope_backward(real *dx, const real *dout, int B, int T, int H, int hd, int pos0);

#endif
