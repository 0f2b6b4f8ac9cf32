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

#define ACT_GELU_C 0.7978845608028654  // sqrt(2 / pi)

// Never exponentiates a large positive number, so it stays finite for any x.
static inline real act_sigmoid(real x) {
    if (x >= 0) return 1 / (1 + R_EXP(-x));
    real e = R_EXP(x);
    return e / (1 + e);
}

// f(x) and, in *d, f'(x): one exponential (or tanh) for both, each formula as act_value
// and act_derivative write it, so the values are theirs bit for bit. Inline in the
// header so that element loops (glu.c, activation.c) take the switch out of the loop.
static inline real act_value_derivative(act_kind k, real x, real *d) {
    switch (k) {
    case ACT_IDENTITY: *d = 1; return x;
    case ACT_SIGMOID: {
        real s = act_sigmoid(x);
        *d = s * (1 - s);
        return s;
    }
    case ACT_SILU: {
        real s = act_sigmoid(x);
        *d = s * (1 + x * (1 - s));
        return x * s;
    }
    case ACT_GELU: {
        real u = (real)ACT_GELU_C * (x + (real)0.044715 * x * x * x);
        real th = R_TANH(u);
        real du = (real)ACT_GELU_C * (1 + 3 * (real)0.044715 * x * x);
        *d = (real)0.5 * (1 + th) + (real)0.5 * x * (1 - th * th) * du;
        return (real)0.5 * x * (1 + th);
    }
    case ACT_ELU1: {
        if (x > 0) {
            *d = 1;
            return x + 1;
        }
        real e = R_EXP(x);
        *d = e;
        return e;
    }
    }
    *d = 1;
    return x;
}

static inline real act_value(act_kind k, real x) {
    real d;
    return act_value_derivative(k, x, &d);
}

static inline real act_derivative(act_kind k, real x) {
    real d;
    act_value_derivative(k, x, &d);
    return d;
}

// y = f(x)  (overwrites y; y may alias x)
void activation_forward(real *y, const real *x, long n, act_kind k);
// dx += dy * f'(x)
void activation_backward(real *dx, const real *dy, const real *x, long n, act_kind k);

#endif
