// star: depthwise causal short convolution (the token mixer of gated short convolutions
// and the "reparameterized" featurizer of other LIVs). One filter of K taps per channel,
// no bias:  y[b,t,c] = sum_{k<K} w[c][k] * x[b,t-k,c], with x = 0 before t = 0.
// Layout: x, y [B,T,C]; w [C][K] (tap 0 multiplies the current token).
// Nothing is saved by the forward: the backward reads x itself.
// Decode keeps the last K-1 inputs per sequence: the inference cache is (K-1) x C.
#ifndef STAR_OPERATORS_SHORT_CONV_H
#define STAR_OPERATORS_SHORT_CONV_H

#include "operators/real.h"

// y = conv(x, w)   (overwrites y)
void short_conv_forward(real *y, const real *x, const real *w, int B, int T, int C, int K);
// dx += d y / d x applied to dy; dw += d y / d w applied to dy (either may be NULL).
void short_conv_backward(real *dx, real *dw, const real *dy, const real *x, const real *w, int B, int T, int C,
                         int K);
// One decode step for B sequences. state [B][K-1][C] holds the previous K-1 inputs,
// oldest first (zeros at the start of a sequence); x, y [B][C]. Updates state.
void short_conv_step(real *y, real *state, const real *x, const real *w, int B, int C, int K);

#endif
