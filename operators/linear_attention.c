#include "operators/linear_attention.h"

#include <stdlib.h>
#include <string.h>

#include "operators/matmul.h"

static real phi_f(real x, linatt_phi phi) {
    if (phi == LINATT_PHI_ELU1) return x > 0 ? x + 1 : R_EXP(x);
    return x;
}

static real phi_grad(real x, linatt_phi phi) {
    if (phi == LINATT_PHI_ELU1) return x > 0 ? 1 : R_EXP(x);
    return 1;
}

// Features of one head as a contiguous [T][D] array: dst[t][d] = scale * phi(src[t, h*D + d]).
static void head_features(real *dst, const real *src, int T, int HD, int D, real scale, linatt_phi phi) {
    for (int t = 0; t < T; t++)
        for (int d = 0; d < D; d++) dst[(long)t * D + d] = scale * phi_f(src[(long)t * HD + d], phi);
}

// Zeroes the strictly upper triangle of an l x l block (row stride ld): causal mask.
static void mask_upper(real *A, int l, int ld) {
    for (int i = 0; i < l; i++)
        for (int j = i + 1; j < l; j++) A[(long)i * ld + j] = 0;
}

static int bad_shape(int B, int T, int H, int D, int L, star_error *err) {
    return STAR_FAIL(err, "linear_attention: bad shape B=%d T=%d H=%d D=%d chunk=%d", B, T, H, D, L);
}

int linear_attention_forward_recurrent(real *o, const real *q, const real *k, const real *v, int B, int T, int H,
                                       int D, linatt_phi phi, star_error *err) {
    if (B <= 0 || T <= 0 || H <= 0 || D <= 0) return bad_shape(B, T, H, D, 1, err);
    int HD = H * D, failed = 0;
    real scale = 1 / R_SQRT((real)D);
#pragma omp parallel
    {
        real *S = malloc(sizeof(real) * ((size_t)D * D + 2 * (size_t)D));
        if (!S) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            if (!S) continue;
            long base = (long)(bh / H) * T * HD + (long)(bh % H) * D;
            real *fq = S + (long)D * D, *fk = fq + D;
            memset(S, 0, sizeof(real) * D * D);
            for (int t = 0; t < T; t++) {
                const real *qt = q + base + (long)t * HD, *kt = k + base + (long)t * HD, *vt = v + base + (long)t * HD;
                real *ot = o + base + (long)t * HD;
                for (int d = 0; d < D; d++) {
                    fq[d] = scale * phi_f(qt[d], phi);
                    fk[d] = phi_f(kt[d], phi);
                }
                for (int d = 0; d < D; d++)
                    for (int p = 0; p < D; p++) S[d * D + p] += fk[d] * vt[p];
                for (int p = 0; p < D; p++) ot[p] = 0;
                for (int d = 0; d < D; d++)
                    for (int p = 0; p < D; p++) ot[p] += fq[d] * S[d * D + p];
            }
        }
        free(S);
    }
    if (failed) return STAR_FAIL(err, "linear_attention: cannot allocate scratch for D=%d", D);
    return 0;
}

int linear_attention_forward_chunked(real *o, const real *q, const real *k, const real *v, int B, int T, int H,
                                     int D, int L, linatt_phi phi, star_error *err) {
    if (B <= 0 || T <= 0 || H <= 0 || D <= 0 || L <= 0) return bad_shape(B, T, H, D, L, err);
    if (L > T) L = T;
    int HD = H * D, failed = 0;
    real scale = 1 / R_SQRT((real)D);
    size_t per_thread = 2 * (size_t)T * D + (size_t)D * D + (size_t)L * L;
#pragma omp parallel
    {
        real *F = malloc(sizeof(real) * per_thread);
        if (!F) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            if (!F) continue;
            long base = (long)(bh / H) * T * HD + (long)(bh % H) * D;
            real *K = F + (long)T * D, *S = K + (long)T * D, *A = S + (long)D * D;
            head_features(F, q + base, T, HD, D, scale, phi);
            head_features(K, k + base, T, HD, D, 1, phi);
            memset(S, 0, sizeof(real) * D * D);
            for (int t0 = 0; t0 < T; t0 += L) {
                int l = T - t0 < L ? T - t0 : L;
                const real *Fc = F + (long)t0 * D, *Kc = K + (long)t0 * D, *Vc = v + base + (long)t0 * HD;
                real *Oc = o + base + (long)t0 * HD;
                gemm(0, 1, l, l, D, 1, Fc, D, Kc, D, 0, A, L);  // A = F K^T
                mask_upper(A, l, L);
                gemm(0, 0, l, D, l, 1, A, L, Vc, HD, 0, Oc, HD);  // O = mask(A) V
                gemm(0, 0, l, D, D, 1, Fc, D, S, D, 1, Oc, HD);   //   + F S
                gemm(1, 0, D, D, l, 1, Kc, D, Vc, HD, 1, S, D);   // S += K^T V
            }
        }
        free(F);
    }
    if (failed) return STAR_FAIL(err, "linear_attention: cannot allocate scratch for T=%d D=%d", T, D);
    return 0;
}

// Chunked backward. With A = mask(F K^T), dA = mask(dO V^T) and S_c the state before
// chunk c (G_c = sum over later chunks of F^T dO):
//   dF = dA K + dO S_c^T,  dK = dA^T F + V G_c^T,  dV = A^T dO + K G_c.
// A forward sweep over chunks gives dF; a reverse sweep gives dK and dV.
int linear_attention_backward(real *dq, real *dk, real *dv, const real *do_, const real *q, const real *k,
                              const real *v, int B, int T, int H, int D, int L, linatt_phi phi, star_error *err) {
    if (B <= 0 || T <= 0 || H <= 0 || D <= 0 || L <= 0) return bad_shape(B, T, H, D, L, err);
    if (L > T) L = T;
    int HD = H * D, failed = 0;
    real scale = 1 / R_SQRT((real)D);
    size_t per_thread = 3 * (size_t)T * D + (size_t)D * D + 2 * (size_t)L * L;
#pragma omp parallel
    {
        real *F = malloc(sizeof(real) * per_thread);
        if (!F) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            if (!F) continue;
            long base = (long)(bh / H) * T * HD + (long)(bh % H) * D;
            real *K = F + (long)T * D, *dG = K + (long)T * D, *S = dG + (long)T * D, *A = S + (long)D * D,
                 *P = A + (long)L * L;
            head_features(F, q + base, T, HD, D, scale, phi);
            head_features(K, k + base, T, HD, D, 1, phi);
            const real *Vh = v + base, *dOh = do_ + base;
            // forward sweep: dF into dG, then dq
            if (dq) {
                memset(S, 0, sizeof(real) * D * D);
                for (int t0 = 0; t0 < T; t0 += L) {
                    int l = T - t0 < L ? T - t0 : L;
                    const real *Kc = K + (long)t0 * D, *Vc = Vh + (long)t0 * HD, *dOc = dOh + (long)t0 * HD;
                    real *dFc = dG + (long)t0 * D;
                    gemm(0, 1, l, l, D, 1, dOc, HD, Vc, HD, 0, P, L);  // dA = mask(dO V^T)
                    mask_upper(P, l, L);
                    gemm(0, 0, l, D, l, 1, P, L, Kc, D, 0, dFc, D);   // dF = dA K
                    gemm(0, 1, l, D, D, 1, dOc, HD, S, D, 1, dFc, D);  //    + dO S^T
                    gemm(1, 0, D, D, l, 1, Kc, D, Vc, HD, 1, S, D);    // S += K^T V
                }
                for (int t = 0; t < T; t++)
                    for (int d = 0; d < D; d++) {
                        real x = q[base + (long)t * HD + d];
                        dq[base + (long)t * HD + d] += dG[(long)t * D + d] * scale * phi_grad(x, phi);
                    }
            }
            // reverse sweep: dK into dG, dV accumulated in place
            if (dk || dv) {
                real *G = S;
                memset(G, 0, sizeof(real) * D * D);
                int last = ((T - 1) / L) * L;
                for (int t0 = last; t0 >= 0; t0 -= L) {
                    int l = T - t0 < L ? T - t0 : L;
                    const real *Fc = F + (long)t0 * D, *Kc = K + (long)t0 * D, *Vc = Vh + (long)t0 * HD,
                               *dOc = dOh + (long)t0 * HD;
                    if (dk) {
                        real *dKc = dG + (long)t0 * D;
                        gemm(0, 1, l, l, D, 1, dOc, HD, Vc, HD, 0, P, L);  // dA = mask(dO V^T)
                        mask_upper(P, l, L);
                        gemm(1, 0, l, D, l, 1, P, L, Fc, D, 0, dKc, D);   // dK = dA^T F
                        gemm(0, 1, l, D, D, 1, Vc, HD, G, D, 1, dKc, D);   //    + V G^T
                    }
                    if (dv) {
                        real *dVc = dv + base + (long)t0 * HD;
                        gemm(0, 1, l, l, D, 1, Fc, D, Kc, D, 0, A, L);  // A = mask(F K^T)
                        mask_upper(A, l, L);
                        gemm(1, 0, l, D, l, 1, A, L, dOc, HD, 1, dVc, HD);  // dV += A^T dO
                        gemm(0, 0, l, D, D, 1, Kc, D, G, D, 1, dVc, HD);    //     + K G
                    }
                    gemm(1, 0, D, D, l, 1, Fc, D, dOc, HD, 1, G, D);  // G += F^T dO
                }
                if (dk)
                    for (int t = 0; t < T; t++)
                        for (int d = 0; d < D; d++) {
                            real x = k[base + (long)t * HD + d];
                            dk[base + (long)t * HD + d] += dG[(long)t * D + d] * phi_grad(x, phi);
                        }
            }
        }
        free(F);
    }
    if (failed) return STAR_FAIL(err, "linear_attention: cannot allocate scratch for T=%d D=%d", T, D);
    return 0;
}

void linear_attention_step(real *o, real *state, const real *q, const real *k, const real *v, int B, int H, int D,
                           linatt_phi phi) {
    int HD = H * D;
    real scale = 1 / R_SQRT((real)D);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            real *S = state + ((long)b * H + h) * D * D;
            const real *qh = q + (long)b * HD + h * D, *kh = k + (long)b * HD + h * D, *vh = v + (long)b * HD + h * D;
            real *oh = o + (long)b * HD + h * D;
            for (int d = 0; d < D; d++) {
                real fk = phi_f(kh[d], phi);
                for (int p = 0; p < D; p++) S[d * D + p] += fk * vh[p];
            }
            for (int p = 0; p < D; p++) oh[p] = 0;
            for (int d = 0; d < D; d++) {
                real fq = scale * phi_f(qh[d], phi);
                for (int p = 0; p < D; p++) oh[p] += fq * S[d * D + p];
            }
        }
}
