#include "operators/attention.h"

#include "operators/attention_core.h"

int attention_check_shape(attn_shape s, int differential, star_error *err) {
    if (s.B < 1 || s.T < 1) return STAR_FAIL(err, "attention: batch %d and length %d must be positive", s.B, s.T);
    if (s.H < 1 || s.Hkv < 1 || s.H % s.Hkv != 0)
        return STAR_FAIL(err, "attention: %d query heads must be a positive multiple of the %d key/value heads", s.H,
                         s.Hkv);
    if (s.hd < 1) return STAR_FAIL(err, "attention: head dim %d must be positive", s.hd);
    if (differential && s.hd % 2 != 0)
        return STAR_FAIL(err, "differential attention: head dim %d must be even (two halves of q and k)", s.hd);
    if (s.window < 0) return STAR_FAIL(err, "attention: window %d must be 0 (full) or positive", s.window);
    return 0;
}

real attend_row(real *o, const real *q, const real *k, const real *v, long stride, long p0, long p1, int cap,
                int qk_dim, int hd, real scale) {
    real m = -INFINITY, l = 0;
    for (int d = 0; d < hd; d++) o[d] = 0;
    for (long p = p0; p <= p1; p++) {
        long off = (cap > 0 ? p % cap : p) * stride;
        const real *kp = k + off, *vp = v + off;
        real sc = 0;
        for (int d = 0; d < qk_dim; d++) sc += q[d] * kp[d];
        sc *= scale;
        if (sc > m) {  // new running max: rescale what was summed so far
            real c = R_EXP(m - sc);
            l *= c;
            for (int d = 0; d < hd; d++) o[d] *= c;
            m = sc;
        }
        real e = R_EXP(sc - m);
        l += e;
        for (int d = 0; d < hd; d++) o[d] += e * vp[d];
    }
    for (int d = 0; d < hd; d++) o[d] /= l;
    return m + R_LOG(l);
}

void attn_map_forward(real *out, real *lse, const real *q, const real *k, const real *v, attn_shape s, int qk_off,
                      int qk_dim, real scale) {
    int rep = s.H / s.Hkv;
    long kstride = (long)s.Hkv * s.hd;
#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < s.B; b++)
        for (int h = 0; h < s.H; h++)
            for (int i = 0; i < s.T; i++) {
                long qo = (((long)b * s.T + i) * s.H + h) * s.hd;
                long ko = ((long)b * s.T * s.Hkv + h / rep) * s.hd;
                lse[((long)b * s.H + h) * s.T + i] = attend_row(out + qo, q + qo + qk_off, k + ko + qk_off, v + ko,
                                                                kstride, attn_first_key(i, s.window), i, 0, qk_dim,
                                                                s.hd, scale);
            }
}

static real dot(const real *a, const real *b, int n) {
    real s = 0;
    for (int d = 0; d < n; d++) s += a[d] * b[d];
    return s;
}

// With p_ij = exp(s_ij - lse_i), dp_ij = c dout_i . v_j and D_i = c dout_i . out_i
// (= sum_j p_ij dp_ij):  ds_ij = p_ij (dp_ij - D_i),  dq_i += scale ds_ij k_j,
// dk_j += scale ds_ij q_i,  dv_j += c p_ij dout_i.
// One task per (batch, kv head) owns that head's dk, dv and the dq of its query heads,
// so the sums run in the same order whatever the number of threads.
void attn_map_backward(real *dq, real *dk, real *dv, const real *dout, const real *coef, real coef_sign,
                       const real *out, const real *lse, const real *q, const real *k, const real *v, attn_shape s,
                       int qk_off, int qk_dim, real scale) {
    int rep = s.H / s.Hkv;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < s.B; b++)
        for (int g = 0; g < s.Hkv; g++)
            for (int h = g * rep; h < (g + 1) * rep; h++) {
                real c = coef_sign * (coef ? coef[h] : (real)1);
                for (int i = 0; i < s.T; i++) {
                    long qo = (((long)b * s.T + i) * s.H + h) * s.hd;
                    const real *doi = dout + qo, *qi = q + qo + qk_off;
                    real *dqi = dq + qo + qk_off;
                    real Di = c * dot(doi, out + qo, s.hd);
                    real L = lse[((long)b * s.H + h) * s.T + i];
                    for (long j = attn_first_key(i, s.window); j <= i; j++) {
                        long ko = (((long)b * s.T + j) * s.Hkv + g) * s.hd;
                        const real *kj = k + ko + qk_off, *vj = v + ko;
                        real p = R_EXP(scale * dot(qi, kj, qk_dim) - L);
                        real ds = p * (c * dot(doi, vj, s.hd) - Di) * scale;
                        real *dkj = dk + ko + qk_off, *dvj = dv + ko;
                        for (int d = 0; d < qk_dim; d++) {
                            dqi[d] += ds * kj[d];
                            dkj[d] += ds * qi[d];
                        }
                        for (int d = 0; d < s.hd; d++) dvj[d] += c * p * doi[d];
                    }
                }
            }
}

int attention_forward(real *out, real *lse, const real *q, const real *k, const real *v, attn_shape s,
                      star_error *err) {
    if (attention_check_shape(s, 0, err)) return -1;
    attn_map_forward(out, lse, q, k, v, s, 0, s.hd, (real)(1.0 / sqrt((double)s.hd)));
    return 0;
}

int attention_backward(real *dq, real *dk, real *dv, const real *dout, const real *out, const real *lse,
                       const real *q, const real *k, const real *v, attn_shape s, star_error *err) {
    if (attention_check_shape(s, 0, err)) return -1;
    attn_map_backward(dq, dk, dv, dout, NULL, 1, out, lse, q, k, v, s, 0, s.hd, (real)(1.0 / sqrt((double)s.hd)));
    return 0;
}
