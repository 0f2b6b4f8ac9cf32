// Differential attention: two half-width score maps, their difference weighted by a
// per-head lambda, a parameter-free per-head RMS norm and the constant (1 - lambda_init).
#include "operators/attention.h"
#include "operators/attention_core.h"
#include "operators/rmsnorm.h"

#define DIFF_OUT_SCALE ((real)(1.0 - DIFF_ATTN_LAMBDA_INIT))

int diff_attention_forward(real *out, const diff_attn_saved *sv, const real *q, const real *k, const real *v,
                           const real *lambda, attn_shape s, star_error *err) {
    if (attention_check_shape(s, 1, err)) return -1;
    int half = s.hd / 2;
    real scale = (real)(1.0 / sqrt((double)half));
    long n = (long)s.B * s.T * s.H * s.hd;
    attn_map_forward(sv->o1, sv->lse, q, k, v, s, 0, half, scale);
    attn_map_forward(sv->o2, sv->lse + (long)s.B * s.H * s.T, q, k, v, s, half, half, scale);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) out[i] = sv->o1[i] - lambda[(i / s.hd) % s.H] * sv->o2[i];
    head_rmsnorm_forward(out, sv->rstd, out, (long)s.B * s.T, s.H, s.hd);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) out[i] *= DIFF_OUT_SCALE;
    return 0;
}

// g = d/d(pre) with pre = o1 - lambda o2, through the head norm and the output scale:
//   g = r dy - pre r^3 / hd * sum(dy pre),  dy = (1 - lambda_init) dout.
// Then o1 receives g, o2 receives -lambda g, and dlambda_h -= sum g . o2.
int diff_attention_backward(real *dq, real *dk, real *dv, real *dlambda, real *scratch, const real *dout,
                            const diff_attn_saved *sv, const real *q, const real *k, const real *v,
                            const real *lambda, attn_shape s, star_error *err) {
    if (attention_check_shape(s, 1, err)) return -1;
    int half = s.hd / 2, hd = s.hd;
    real scale = (real)(1.0 / sqrt((double)half));
    long rows = (long)s.B * s.T * s.H;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        const real *o1 = sv->o1 + r * hd, *o2 = sv->o2 + r * hd, *dy = dout + r * hd;
        real *g = scratch + r * hd;
        real lam = lambda[r % s.H], rs = sv->rstd[r];
        real acc = 0;
        for (int d = 0; d < hd; d++) acc += DIFF_OUT_SCALE * dy[d] * (o1[d] - lam * o2[d]);
        real c = acc * rs * rs * rs / hd;
        for (int d = 0; d < hd; d++) g[d] = rs * DIFF_OUT_SCALE * dy[d] - c * (o1[d] - lam * o2[d]);
    }
    // One task per head sums its rows in order: independent of the thread count.
#pragma omp parallel for schedule(static)
    for (int h = 0; h < s.H; h++) {
        real acc = 0;
        for (long r = h; r < rows; r += s.H)
            for (int d = 0; d < hd; d++) acc += scratch[r * hd + d] * sv->o2[r * hd + d];
        dlambda[h] -= acc;
    }
    attn_map_backward(dq, dk, dv, scratch, NULL, 1, sv->o1, sv->lse, q, k, v, s, 0, half, scale);
    attn_map_backward(dq, dk, dv, scratch, lambda, -1, sv->o2, sv->lse + (long)s.B * s.H * s.T, q, k, v, s, half,
                      half, scale);
    return 0;
}
