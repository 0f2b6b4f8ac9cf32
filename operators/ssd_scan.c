#include "operators/ssd_scan.h"

#include <stdlib.h>
#include <string.h>

#include "operators/matmul.h"

static real softplus(real u) { return u > 20 ? u : R_LOG1P(R_EXP(u)); }
static real sigmoid(real u) { return 1 / (1 + R_EXP(-u)); }

// Step size, decay and d dt / d dt_raw of head h at flat position bt = b*T + t.
typedef struct ssd_step {
    real dt, a, A, sig;
} ssd_step;

static ssd_step step_at(const ssd_inputs *in, long bt, int h, int H) {
    ssd_step st;
    real u = in->dt[bt * H + h] + (in->dt_bias ? in->dt_bias[h] : 0);
    st.dt = softplus(u);
    st.sig = sigmoid(u);
    st.A = R_EXP(in->A_log[h]);
    st.a = R_EXP(-st.dt * st.A);
    return st;
}

static int bad_shape(ssd_shape s, int L, star_error *err) {
    return STAR_FAIL(err, "ssd_scan: bad shape B=%d T=%d H=%d P=%d N=%d chunk=%d", s.B, s.T, s.H, s.P, s.N, L);
}

static int shape_ok(ssd_shape s, int L) { return s.B > 0 && s.T > 0 && s.H > 0 && s.P > 0 && s.N > 0 && L > 0; }

// S = a S + dt B x^T. Element-wise loops carry `omp simd`: without it -O2 leaves them
// scalar; vectorized, each element's arithmetic is the same (no fused multiply-add in
// the baseline instruction set), so the same bits.
static void state_update(real *S, real a, real dt, const real *Bt, const real *xt, int N, int P) {
    for (int n = 0; n < N; n++) {
        real c = dt * Bt[n];
#pragma omp simd
        for (int p = 0; p < P; p++) S[n * P + p] = a * S[n * P + p] + c * xt[p];
    }
}

// y = C^T S + Dh x
static void state_output(real *yt, const real *S, const real *Ct, const real *xt, real Dh, int N, int P) {
    for (int p = 0; p < P; p++) yt[p] = Dh * xt[p];
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) yt[p] += Ct[n] * S[n * P + p];
}

int ssd_scan_forward_recurrent(real *y, const ssd_inputs *in, ssd_shape s, star_error *err) {
    if (!shape_ok(s, 1)) return bad_shape(s, 1, err);
    int T = s.T, H = s.H, P = s.P, N = s.N, failed = 0;
#pragma omp parallel
    {
        real *S = malloc(sizeof(real) * (size_t)N * P);
        if (!S) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int bh = 0; bh < s.B * H; bh++) {
            if (!S) continue;
            int b = bh / H, h = bh % H;
            real Dh = in->D ? in->D[h] : 0;
            memset(S, 0, sizeof(real) * N * P);
            for (int t = 0; t < T; t++) {
                long bt = (long)b * T + t;
                ssd_step st = step_at(in, bt, h, H);
                const real *xt = in->x + (bt * H + h) * P;
                state_update(S, st.a, st.dt, in->Bm + bt * N, xt, N, P);
                state_output(y + (bt * H + h) * P, S, in->Cm + bt * N, xt, Dh, N, P);
            }
        }
        free(S);
    }
    if (failed) return STAR_FAIL(err, "ssd_scan: cannot allocate a %dx%d state", N, P);
    return 0;
}

int ssd_scan_forward_chunked(real *y, const ssd_inputs *in, ssd_shape s, int L, star_error *err) {
    if (!shape_ok(s, L)) return bad_shape(s, L, err);
    int T = s.T, H = s.H, P = s.P, N = s.N, HP = H * P, failed = 0;
    if (L > T) L = T;
    size_t per_thread = 2 * (size_t)L + (size_t)L * L + 2 * (size_t)L * P + (size_t)N * P;
#pragma omp parallel
    {
        real *cum = malloc(sizeof(real) * per_thread);
        if (!cum) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int bh = 0; bh < s.B * H; bh++) {
            if (!cum) continue;
            int b = bh / H, h = bh % H;
            real *dts = cum + L, *M = dts + L, *Z = M + (long)L * L, *Xw = Z + (long)L * P, *S = Xw + (long)L * P;
            real Dh = in->D ? in->D[h] : 0;
            memset(S, 0, sizeof(real) * N * P);
            for (int t0 = 0; t0 < T; t0 += L) {
                int l = T - t0 < L ? T - t0 : L;
                long bt0 = (long)b * T + t0;
                const real *Bc = in->Bm + bt0 * N, *Cc = in->Cm + bt0 * N, *Xc = in->x + bt0 * HP + (long)h * P;
                real *Yc = y + bt0 * HP + (long)h * P;
                real run = 0;
                for (int i = 0; i < l; i++) {
                    ssd_step st = step_at(in, bt0 + i, h, H);
                    run += -st.dt * st.A;  // log a
                    cum[i] = run;
                    dts[i] = st.dt;
                }
                // intra-chunk: Y = ((C B^T) o segsum mask) (dt X)
                gemm(0, 1, l, l, N, 1, Cc, N, Bc, N, 0, M, L);
                for (int i = 0; i < l; i++)
                    for (int j = 0; j < l; j++)
                        M[(long)i * L + j] = j <= i ? M[(long)i * L + j] * R_EXP(cum[i] - cum[j]) * dts[j] : 0;
                gemm(0, 0, l, P, l, 1, M, L, Xc, HP, 0, Yc, HP);
                // inter-chunk: Y += diag(exp(cum)) C S_prev
                gemm(0, 0, l, P, N, 1, Cc, N, S, P, 0, Z, P);
                for (int i = 0; i < l; i++) {
                    real e = R_EXP(cum[i]);
                    for (int p = 0; p < P; p++) Yc[(long)i * HP + p] += e * Z[(long)i * P + p] + Dh * Xc[(long)i * HP + p];
                }
                // state passing: S = exp(cum_last) S + B^T diag(exp(cum_last - cum_j) dt_j) X
                real decay = R_EXP(cum[l - 1]);
                for (int i = 0; i < N * P; i++) S[i] *= decay;
                for (int j = 0; j < l; j++) {
                    real wj = R_EXP(cum[l - 1] - cum[j]) * dts[j];
                    for (int p = 0; p < P; p++) Xw[(long)j * P + p] = wj * Xc[(long)j * HP + p];
                }
                gemm(1, 0, N, P, l, 1, Bc, N, Xw, P, 1, S, P);
            }
        }
        free(cum);
    }
    if (failed) return STAR_FAIL(err, "ssd_scan: cannot allocate chunk scratch (L=%d N=%d P=%d)", L, N, P);
    return 0;
}

// Reverse-time scan. With dS the total gradient of S_t (C_t dy_t^T plus a_{t+1} dS_{t+1}):
//   dx_t = dt B_t^T dS + D dy_t,  dB_t = dt dS x_t,  dC_t = S_t dy_t,
//   d dt = B_t^T dS x_t - A a_t <dS, S_{t-1}>,  d A_log = -dt A a_t <dS, S_{t-1}>.
// B, C (shared by heads) and the per-head parameters (shared by sequences) are summed
// from per-(b,h) partials in a fixed order, so results do not depend on the threads.
int ssd_scan_backward(const ssd_grads *g, const real *dy, const ssd_inputs *in, ssd_shape s, int L, star_error *err) {
    if (!shape_ok(s, L)) return bad_shape(s, L, err);
    int B = s.B, T = s.T, H = s.H, P = s.P, N = s.N, failed = 0;
    if (L > T) L = T;
    int nch = (T + L - 1) / L;
    int want_bc = g->dBm || g->dCm;
    size_t n_bc = want_bc ? (size_t)B * H * T * 2 * N : 0;
    real *bc = calloc(n_bc + (size_t)B * H * 3, sizeof(real));  // [B*H][T][2N] then [B*H][3]
    if (!bc) return STAR_FAIL(err, "ssd_scan: cannot allocate backward partials (B=%d H=%d T=%d N=%d)", B, H, T, N);
    real *par = bc + n_bc;
    size_t per_thread = ((size_t)nch + L + 1) * N * P + P;
#pragma omp parallel
    {
        real *ck = malloc(sizeof(real) * per_thread);
        if (!ck) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * H; bh++) {
            if (!ck) continue;
            int b = bh / H, h = bh % H;
            long NP = (long)N * P;
            real *St = ck + nch * NP, *dS = St + L * NP, *dxa = dS + NP;
            real Dh = in->D ? in->D[h] : 0, gA = 0, gbias = 0, gD = 0;
            real *pbc = want_bc ? bc + (size_t)bh * T * 2 * N : NULL;
            // checkpoints: ck[c] = state before chunk c (dS used as the running state)
            memset(dS, 0, sizeof(real) * NP);
            for (int c = 0; c < nch; c++) {
                memcpy(ck + c * NP, dS, sizeof(real) * NP);
                for (int t = c * L; t < T && t < (c + 1) * L; t++) {
                    long bt = (long)b * T + t;
                    ssd_step st = step_at(in, bt, h, H);
                    state_update(dS, st.a, st.dt, in->Bm + bt * N, in->x + (bt * H + h) * P, N, P);
                }
            }
            memset(dS, 0, sizeof(real) * NP);
            for (int c = nch - 1; c >= 0; c--) {
                int t0 = c * L, l = T - t0 < L ? T - t0 : L;
                for (int i = 0; i < l; i++) {  // states of this chunk
                    long bt = (long)b * T + t0 + i;
                    ssd_step st = step_at(in, bt, h, H);
                    memcpy(St + i * NP, i ? St + (i - 1) * NP : ck + c * NP, sizeof(real) * NP);
                    state_update(St + i * NP, st.a, st.dt, in->Bm + bt * N, in->x + (bt * H + h) * P, N, P);
                }
                for (int i = l - 1; i >= 0; i--) {
                    int t = t0 + i;
                    long bt = (long)b * T + t;
                    ssd_step st = step_at(in, bt, h, H);
                    const real *xt = in->x + (bt * H + h) * P, *Bt = in->Bm + bt * N, *Ct = in->Cm + bt * N;
                    const real *dyt = dy + (bt * H + h) * P, *S = St + i * NP;
                    const real *Sp = i ? St + (i - 1) * NP : ck + c * NP;
                    for (int n = 0; n < N; n++)
#pragma omp simd
                        for (int p = 0; p < P; p++) dS[n * P + p] += Ct[n] * dyt[p];
                    real g_in = 0, g_a = 0;
                    for (int n = 0; n < N; n++) {
                        real dsx = 0, sdy = 0;
                        for (int p = 0; p < P; p++) {
                            dsx += dS[n * P + p] * xt[p];
                            sdy += S[n * P + p] * dyt[p];
                            g_a += dS[n * P + p] * Sp[n * P + p];
                        }
                        g_in += Bt[n] * dsx;
                        if (pbc) {
                            pbc[(long)t * 2 * N + n] += st.dt * dsx;  // dB
                            pbc[(long)t * 2 * N + N + n] += sdy;      // dC
                        }
                    }
                    if (g->dx) {  // row by row over p: the same terms in the same order per element
                        real *dxt = g->dx + (bt * H + h) * P;
                        for (int p = 0; p < P; p++) dxa[p] = Dh * dyt[p];
                        for (int n = 0; n < N; n++) {
                            real c = st.dt * Bt[n];
#pragma omp simd
                            for (int p = 0; p < P; p++) dxa[p] += c * dS[n * P + p];
                        }
                        for (int p = 0; p < P; p++) dxt[p] += dxa[p];
                    }
                    real du = (g_in - st.A * st.a * g_a) * st.sig;
                    if (g->ddt) g->ddt[bt * H + h] += du;
                    gbias += du;
                    gA += -st.dt * st.A * st.a * g_a;
                    for (int p = 0; p < P; p++) gD += dyt[p] * xt[p];
#pragma omp simd
                    for (int k = 0; k < N * P; k++) dS[k] *= st.a;  // to S_{t-1}
                }
            }
            par[(long)bh * 3 + 0] = gA;
            par[(long)bh * 3 + 1] = gbias;
            par[(long)bh * 3 + 2] = gD;
        }
        free(ck);
    }
    if (failed) {
        free(bc);
        return STAR_FAIL(err, "ssd_scan: cannot allocate backward scratch (T=%d L=%d N=%d P=%d)", T, L, N, P);
    }
    if (want_bc)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < H; h++) {
                    const real *pb = bc + (((size_t)b * H + h) * T + t) * 2 * N;
                    long bt = (long)b * T + t;
                    for (int n = 0; n < N; n++) {
                        if (g->dBm) g->dBm[bt * N + n] += pb[n];
                        if (g->dCm) g->dCm[bt * N + n] += pb[N + n];
                    }
                }
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const real *pp = par + ((long)b * H + h) * 3;
            if (g->dA_log) g->dA_log[h] += pp[0];
            if (g->ddt_bias && in->dt_bias) g->ddt_bias[h] += pp[1];
            if (g->dD && in->D) g->dD[h] += pp[2];
        }
    free(bc);
    return 0;
}

void ssd_scan_step(real *y, real *state, const ssd_inputs *in, ssd_shape s) {
    int H = s.H, P = s.P, N = s.N;
    for (int b = 0; b < s.B; b++)
        for (int h = 0; h < H; h++) {
            ssd_step st = step_at(in, b, h, H);
            real *S = state + ((long)b * H + h) * N * P;
            const real *xt = in->x + ((long)b * H + h) * P;
            state_update(S, st.a, st.dt, in->Bm + (long)b * N, xt, N, P);
            state_output(y + ((long)b * H + h) * P, S, in->Cm + (long)b * N, xt, in->D ? in->D[h] : 0, N, P);
        }
}
