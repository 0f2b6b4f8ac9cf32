// star: element-wise activations, named by genome/arch.h's act_kind so the gene that
// picks a nonlinearity and the operator that runs it cannot drift apart:
//   ACT_IDENTITY  x
//   ACT_SIGMOID   1 / (1 + e^-x)
//   ACT_SILU      x sigmoid(x)
//   ACT_GELU      0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (tanh form)
//   ACT_ELU1      elu(x) + 1 = x + 1 for x > 0, e^x otherwise (positive: a feature map)
#ifndef STAR_OPERATORS_ACTIVATION_H
#define STAR_OPERATORS_ACTIVATION_H

#include "genome/arch.h"
#include "operators/real.h"

real act_value(act_kind k, real x);
real act_derivative(act_kind k, real x);

// y = f(x)  (overwrites y; y may alias x)
void activation_forward(real *y, const real *x, long n, act_kind k);
// dx += dy * f'(x)
void activation_backward(real *dx, const real *dy, const real *x, long n, act_kind k);

#endif
