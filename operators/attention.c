#include "operators/attention.h"

#include "operators/attention_core.h"

#include <stdlib.h>

#include "operators/matmul.h"

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

// Query rows per block of the map loops: scores [ATTN_BQ][keys] per task (1 MB at 4,096
// keys in fp32), the products through gemm.
#define ATTN_BQ 64

// The score block of query rows i0 .. i0 + m - 1 against keys kbeg .. i0 + m - 1:
// S = scale q k^T, then per row p = exp(S - sub_r) over the visible keys, 0 elsewhere.
// sub NULL: sub_r is the row's max, lse_out[r] gets max + log(sum), the row is normalized.
static void score_block(real *S, const real *qb, long ldq, const real *kb, long ldk, int m, long kbeg, long i0,
                        int nk, int qk_dim, real scale, int window, const real *sub, real *lse_out) {
    gemm(0, 1, m, nk, qk_dim, scale, qb, (int)ldq, kb, (int)ldk, 0, S, nk);
    for (int r = 0; r < m; r++) {
        real *row = S + (long)r * nk;
        long i = i0 + r;
        int lo = (int)(attn_first_key(i, window) - kbeg), hi = (int)(i - kbeg);  // visible: lo .. hi
        real mx = -INFINITY;
        if (sub) mx = sub[r];
        else
            for (int j = lo; j <= hi; j++) mx = row[j] > mx ? row[j] : mx;
        for (int j = 0; j < nk; j++) row[j] = j >= lo && j <= hi ? R_EXP(row[j] - mx) : 0;
        if (!sub) {
            real l = 0;
            for (int j = lo; j <= hi; j++) l += row[j];
            lse_out[r] = mx + R_LOG(l);
            real inv = 1 / l;
            for (int j = lo; j <= hi; j++) row[j] *= inv;
        }
    }
}

// One task per (batch, head) writes that head's rows: the same results whatever the
// number of threads.
void attn_map_forward(real *out, real *lse, const real *q, const real *k, const real *v, attn_shape s, int qk_off,
                      int qk_dim, real scale) {
    int rep = s.H / s.Hkv;
    long ldq = (long)s.H * s.hd, ldk = (long)s.Hkv * s.hd;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < s.B; b++)
        for (int h = 0; h < s.H; h++) {
            real *S = star_malloc(sizeof(real) * ATTN_BQ * (size_t)s.T);
            long ko = (long)b * s.T * ldk + (long)(h / rep) * s.hd;
            for (long i0 = 0; i0 < s.T; i0 += ATTN_BQ) {
                int m = (int)(s.T - i0 < ATTN_BQ ? s.T - i0 : ATTN_BQ);
                long kbeg = attn_first_key(i0, s.window), kk = ko + kbeg * ldk;
                int nk = (int)(i0 + m - kbeg);
                long qo = ((long)b * s.T + i0) * ldq + (long)h * s.hd;
                score_block(S, q + qo + qk_off, ldq, k + kk + qk_off, ldk, m, kbeg, i0, nk, qk_dim, scale, s.window,
                            NULL, lse + ((long)b * s.H + h) * s.T + i0);
                gemm(0, 0, m, s.hd, nk, 1, S, nk, v + kk, (int)ldk, 0, out + qo, (int)ldq);
            }
            free(S);
        }
}

static real dot(const real *a, const real *b, int n) {
    real s = 0;
    for (int d = 0; d < n; d++) s += a[d] * b[d];
    return s;
}

// With p_ij = exp(s_ij - lse_i), dp_ij = c dout_i . v_j and D_i = c dout_i . out_i
// (= sum_j p_ij dp_ij):  ds_ij = p_ij (dp_ij - D_i),  dq_i += scale ds_ij k_j,
// dk_j += scale ds_ij q_i,  dv_j += c p_ij dout_i; by blocks of query rows, as products.
// One task per (batch, kv head) owns that head's dk, dv and the dq of its query heads,
// so the sums run in the same order whatever the number of threads.
void attn_map_backward(real *dq, real *dk, real *dv, const real *dout, const real *coef, real coef_sign,
                       const real *out, const real *lse, const real *q, const real *k, const real *v, attn_shape s,
                       int qk_off, int qk_dim, real scale) {
    int rep = s.H / s.Hkv;
    long ldq = (long)s.H * s.hd, ldk = (long)s.Hkv * s.hd;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < s.B; b++)
        for (int g = 0; g < s.Hkv; g++) {
            real *P = star_malloc(sizeof(real) * 2 * ATTN_BQ * (size_t)s.T), *dP = P + ATTN_BQ * (size_t)s.T;
            real D[ATTN_BQ], L[ATTN_BQ];
            long ko = (long)b * s.T * ldk + (long)g * s.hd;
            for (int h = g * rep; h < (g + 1) * rep; h++) {
                real c = coef_sign * (coef ? coef[h] : (real)1);
                for (long i0 = 0; i0 < s.T; i0 += ATTN_BQ) {
                    int m = (int)(s.T - i0 < ATTN_BQ ? s.T - i0 : ATTN_BQ);
                    long kbeg = attn_first_key(i0, s.window), kk = ko + kbeg * ldk;
                    int nk = (int)(i0 + m - kbeg);
                    long qo = ((long)b * s.T + i0) * ldq + (long)h * s.hd;
                    for (int r = 0; r < m; r++) {
                        D[r] = c * dot(dout + qo + r * ldq, out + qo + r * ldq, s.hd);
                        L[r] = lse[((long)b * s.H + h) * s.T + i0 + r];
                    }
                    score_block(P, q + qo + qk_off, ldq, k + kk + qk_off, ldk, m, kbeg, i0, nk, qk_dim, scale,
                                s.window, L, NULL);
                    gemm(0, 1, m, nk, s.hd, c, dout + qo, (int)ldq, v + kk, (int)ldk, 0, dP, nk);
                    for (int r = 0; r < m; r++)  // dS = scale P (dP - D), into dP
                        for (int j = 0; j < nk; j++) {
                            long e = (long)r * nk + j;
                            dP[e] = scale * P[e] * (dP[e] - D[r]);
                        }
                    gemm(0, 0, m, qk_dim, nk, 1, dP, nk, k + kk + qk_off, (int)ldk, 1, dq + qo + qk_off, (int)ldq);
                    gemm(1, 0, nk, qk_dim, m, 1, dP, nk, q + qo + qk_off, (int)ldq, 1, dk + kk + qk_off, (int)ldk);
                    gemm(1, 0, nk, s.hd, m, c, P, nk, dout + qo, (int)ldq, 1, dv + kk, (int)ldk);
                }
            }
            free(P);
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
