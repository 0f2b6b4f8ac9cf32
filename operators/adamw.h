// star: the AdamW update (Loshchilov & Hutter, decoupled weight decay) on one flat
// parameter tensor, and the global gradient norm used for clipping.
// Per element, at step t (1-based) with g = grad * grad_scale:
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p -= lr * ( (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + wd p )
// where wd = weight_decay for tensors with the decay flag (matrices) and 0 otherwise
// (norm gains, biases, per-head scalars): the decay is a pull of the weight itself
// towards zero, not a gradient term, so Adam's scaling never touches it.
#ifndef STAR_OPERATORS_ADAMW_H
#define STAR_OPERATORS_ADAMW_H

#include "operators/real.h"

typedef struct adamw_hparams {
    double lr, beta1, beta2, eps, weight_decay;
} adamw_hparams;

// Updates param, m, v (n elements each) in place for step t >= 1.
void adamw_update(real *param, const real *grad, real *m, real *v, long n, long t, adamw_hparams hp, int decay,
                  double grad_scale);

// sum of g^2 in double, in index order.
double grad_sum_squares(const real *g, long n);
// sqrt of the sum of squares over n_tensors gradient arrays (in tensor order).
double grad_global_norm(const real *const *grads, const long *sizes, int n_tensors);
// The factor that brings a gradient of global norm `norm` to at most max_norm:
// min(1, max_norm / norm); 1 when max_norm <= 0 (no clipping) or norm is 0.
double grad_clip_scale(double norm, double max_norm);

#endif
