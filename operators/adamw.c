#include "operators/adamw.h"

void adamw_update(real *param, const real *grad, real *m, real *v, long n, long t, adamw_hparams hp, int decay,
                  double grad_scale) {
    // 1 - beta in double: 1 - 0.999f loses four digits in float.
    real b1 = (real)hp.beta1, b2 = (real)hp.beta2, c1 = (real)(1 - hp.beta1), c2 = (real)(1 - hp.beta2);
    real eps = (real)hp.eps, lr = (real)hp.lr;
    real wd = decay ? (real)hp.weight_decay : 0, gs = (real)grad_scale;
    // Bias corrections in double: beta2^t is close to 1 for small t.
    real bc1 = (real)(1.0 - pow(hp.beta1, (double)t)), bc2 = (real)(1.0 - pow(hp.beta2, (double)t));
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        real g = grad[i] * gs;
        real mi = b1 * m[i] + c1 * g;
        real vi = b2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= lr * ((mi / bc1) / (R_SQRT(vi / bc2) + eps) + wd * param[i]);
    }
}

double grad_sum_squares(const real *g, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
    return s;
}

double grad_global_norm(const real *const *grads, const long *sizes, int n_tensors) {
    double s = 0;
    for (int i = 0; i < n_tensors; i++) s += grad_sum_squares(grads[i], sizes[i]);
    return sqrt(s);
}

double grad_clip_scale(double norm, double max_norm) {
    if (max_norm <= 0 || norm <= max_norm || norm == 0) return 1;
    return max_norm / norm;
}
