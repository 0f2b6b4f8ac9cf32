// star: gated product  y = act(g) * u, element-wise over n values: the core of SwiGLU
// (act = silu) and GeGLU (gelu) MLPs and the gate of gated convolutions. Nothing is
// saved: the backward recomputes act(g) from g.
#ifndef STAR_OPERATORS_GLU_H
#define STAR_OPERATORS_GLU_H

#include "operators/activation.h"

// y = act(g) * u  (overwrites y; y may alias g or u)
void glu_forward(real *y, const real *g, const real *u, long n, act_kind k);
// dg += dy * u * act'(g); du += dy * act(g)   (either may be NULL)
void glu_backward(real *dg, real *du, const real *dy, const real *g, const real *u, long n, act_kind k);

#endif
