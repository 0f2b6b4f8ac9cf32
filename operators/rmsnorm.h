// star: RMS normalization.  y = x * rstd * w,  rstd = 1 / sqrt(mean(x^2) + eps)
// over each row of C channels (eps = RMSNORM_EPS). The forward saves rstd [N] for the
// backward, which reads x again (no normalized copy is kept).
// The parameter-free per-head variant normalizes each group of hd channels on its own
// (w = 1); differential attention and some recurrences use it on [B,T,H,hd].
#ifndef STAR_OPERATORS_RMSNORM_H
#define STAR_OPERATORS_RMSNORM_H

#include "operators/real.h"

#define RMSNORM_EPS 1e-5

// x, y [N,C]; w [C] or NULL for w = 1; rstd [N]. y may alias x.
void rmsnorm_forward(real *y, real *rstd, const real *x, const real *w, long N, int C);
// dx += dL/dx, dw += dL/dw (either may be NULL; dw must be NULL when w is NULL).
// dx must not alias dy.
void rmsnorm_backward(real *dx, real *dw, const real *dy, const real *x, const real *w, const real *rstd, long N,
                      int C);

// Per-head, no parameters: x, y [N,H,hd] normalized per (n,h); rstd [N*H].
void head_rmsnorm_forward(real *y, real *rstd, const real *x, long N, int H, int hd);
void head_rmsnorm_backward(real *dx, const real *dy, const real *x, const real *rstd, long N, int H, int hd);

#endif
