// star: causal linear attention (Rec-1), as operators/linear_attention.c:
//   o_t = sum_{j<=t} (f(q_t) . phi(k_j)) v_j,  f(q) = phi(q) / sqrt(D),  phi = identity or elu+1.
// Forward and backward are the chunked kernel of chunked_scan.cuh (no decay), with the
// roles of q, k, v exchanged for each gradient (F = f(q), K = phi(k)):
//   dF_t = sum_{j<=t} (dO_t . v_j) K_j         forward  (Q = dO, K = v,  V = K)
//   dK_j = sum_{t>=j} (v_j . dO_t) F_t         reverse  (Q = v,  K = dO, V = F)
//   dv_j = sum_{t>=j} (K_j . F_t) dO_t         reverse  (Q = K,  K = F,  V = dO)
// then dq += dF / sqrt(D) phi'(q) and dk += dK phi'(k) in the epilogue. Nothing is saved by
// the forward. Head dimension D <= SCAN_DK_MAX (128).
#include <string.h>

#include "kernels/chunked_scan.cuh"

static scan_in la_in(const floatX *p, int T, int H, int D, float scale, int phi) {
    scan_in in = {p, (long)T * H * D, (long)H * D, D, scale, phi};
    return in;
}

static scan_out la_out(int kind, floatX *o, int T, int H, int D) {
    scan_out out;
    memset(&out, 0, sizeof out);
    out.kind = kind;
    out.o = o;
    out.b_stride = (long)T * H * D;
    out.t_stride = (long)H * D;
    out.h_off = D;
    return out;
}

static int la_check(int B, int T, int H, int D, linatt_phi phi, star_error *err) {
    if (B < 1 || T < 1 || H < 1 || D < 1 || D > SCAN_DK_MAX)
        return STAR_FAIL(err, "linear_attention_cuda: bad shape B=%d T=%d H=%d D=%d (D must be in [1, %d])", B, T, H,
                         D, SCAN_DK_MAX);
    if (phi != LINATT_PHI_IDENTITY && phi != LINATT_PHI_ELU1)
        return STAR_FAIL(err, "linear_attention_cuda: unknown feature map %d", (int)phi);
    return 0;
}

int linear_attention_forward_cuda(floatX *o, const floatX *q, const floatX *k, const floatX *v, int B, int T, int H,
                                  int D, linatt_phi phi, star_stream s, star_error *err) {
    if (la_check(B, T, H, D, phi, err)) return -1;
    int ph = phi == LINATT_PHI_ELU1 ? SCAN_PHI_ELU1 : SCAN_PHI_NONE;
    float scale = 1.0f / sqrtf((float)D);
    scan_args a;
    memset(&a, 0, sizeof a);
    a.q = la_in(q, T, H, D, scale, ph);
    a.k = la_in(k, T, H, D, 1.0f, ph);
    a.v = la_in(v, T, H, D, 1.0f, SCAN_PHI_NONE);
    a.out = la_out(SCAN_WRITE_BF16, o, T, H, D);
    a.B = B, a.T = T, a.H = H, a.DK = D, a.DV = D;
    return chunked_scan_launch(a, false, false, s, err);
}

int linear_attention_backward_cuda(floatX *dq, floatX *dk, floatX *dv, const floatX *dout, const floatX *q,
                                   const floatX *k, const floatX *v, int B, int T, int H, int D, linatt_phi phi,
                                   star_stream s, star_error *err) {
    if (la_check(B, T, H, D, phi, err)) return -1;
    int ph = phi == LINATT_PHI_ELU1 ? SCAN_PHI_ELU1 : SCAN_PHI_NONE;
    float scale = 1.0f / sqrtf((float)D);
    scan_in F = la_in(q, T, H, D, scale, ph), K = la_in(k, T, H, D, 1.0f, ph);
    scan_in V = la_in(v, T, H, D, 1.0f, SCAN_PHI_NONE), dO = la_in(dout, T, H, D, 1.0f, SCAN_PHI_NONE);
    scan_args a;
    memset(&a, 0, sizeof a);
    a.B = B, a.T = T, a.H = H, a.DK = D, a.DV = D;
    if (dq) {
        a.q = dO, a.k = V, a.v = K;
        a.out = la_out(SCAN_ACC_BF16, dq, T, H, D);
        a.out.gsrc = la_in(q, T, H, D, scale, ph);
        if (chunked_scan_launch(a, false, false, s, err)) return -1;
    }
    if (dk) {
        a.q = V, a.k = dO, a.v = F;
        a.out = la_out(SCAN_ACC_BF16, dk, T, H, D);
        a.out.gsrc = la_in(k, T, H, D, 1.0f, ph);
        if (chunked_scan_launch(a, true, false, s, err)) return -1;
    }
    if (dv) {
        a.q = K, a.k = F, a.v = dO;
        a.out = la_out(SCAN_ACC_BF16, dv, T, H, D);
        if (chunked_scan_launch(a, true, false, s, err)) return -1;
    }
    return 0;
}
