// star: the chunked scan of chunked_scan.cuh with its four tile products on tensor cores
// (mma.sync m16n8k16 through mma.cuh: bf16 operands, fp32 accumulation). Same grid, same
// block (b, h, SCAN_VB value columns), same chunk walk and the same epilogue as the fp32
// kernel; per chunk of l <= SCAN_L positions:
//   A   = mask(Q K^T) o w o lam     Q K^T on tensor cores; mask, decay w = exp(lc_i - lc_j)
//                                   and lam applied in fp32 to the accumulators, then A
//                                   rounded to bf16 in shared memory
//   out = A V + e_i (Q Sb)          both on tensor cores; e_i in fp32 on the accumulator
//   S   = exp(lc_last) S + K^T Vg   K^T Vg on tensor cores, Vg = bf16(g_j V_j) with g_j in
//                                   fp32; S itself stays fp32 (shared memory) and Sb is
//                                   its bf16 copy for the next chunk's Q Sb
// What is rounded to bf16: Q, K, V after the feature map and scale (exact when the input is
// used as is), A, Vg and Sb; every product accumulates in fp32 and every decay factor is
// fp32. Q/K widths are padded with zeros to DKP, a multiple of 16 (the mma k-step).
//
// Work split (8 warps, warp w): A is 4 row blocks x 2 column halves (16 x 32 each, w % 4,
// w / 4), out is 4 row blocks x 2 column halves (16 x 16), the state update one 16-row block
// of S per warp (DKP / 16 <= 8 blocks) x all 32 columns. Tiles above (forward) or below
// (reverse) the causal diagonal are skipped.
#ifndef STAR_KERNELS_CHUNKED_SCAN_TC_CUH
#define STAR_KERNELS_CHUNKED_SCAN_TC_CUH

#include "kernels/mma.cuh"

#define SCAN_TC_PAD 8  // bf16 row padding: row strides of 4 (mod 8) words keep fragment loads conflict-free
#define SCAN_WARPS (SCAN_THREADS / WARP_SIZE)
static_assert(SCAN_WARPS == 8 && SCAN_L == 64 && SCAN_VB == 32 && SCAN_DK_MAX <= 16 * SCAN_WARPS, "tc scan tiling");

__host__ __device__ __forceinline__ int scan_tc_dkp(int DK) { return (DK + 15) / 16 * 16; }

// Shared memory: fp32 S [DKP][SCAN_VB], lc, lam, g [L]; bf16 Q, K [L][DKP+PAD], V, Vg
// [L][VB+PAD], A [L][L+PAD], Sb [DKP][VB+PAD]. Every piece a multiple of 4 bytes.
static inline size_t scan_tc_smem_bytes(int DK) {
    size_t dkp = (size_t)scan_tc_dkp(DK);
    return sizeof(float) * (dkp * SCAN_VB + 3 * SCAN_L) +
           sizeof(floatX) * (2 * SCAN_L * (dkp + SCAN_TC_PAD) + 2 * SCAN_L * (SCAN_VB + SCAN_TC_PAD) +
                             SCAN_L * (SCAN_L + SCAN_TC_PAD) + dkp * (SCAN_VB + SCAN_TC_PAD));
}

template <bool REVERSE, bool DECAY>
__global__ void __launch_bounds__(SCAN_THREADS) chunked_scan_tc_kernel(scan_args a) {
    extern __shared__ __align__(16) unsigned char smem_tc[];
    const int DK = a.DK, DKP = scan_tc_dkp(DK);
    const int ldk = DKP + SCAN_TC_PAD, ldv = SCAN_VB + SCAN_TC_PAD, lda = SCAN_L + SCAN_TC_PAD;
    float *S = reinterpret_cast<float *>(smem_tc), *lc = S + DKP * SCAN_VB, *lam = lc + SCAN_L, *g = lam + SCAN_L;
    floatX *Qs = reinterpret_cast<floatX *>(g + SCAN_L), *Ks = Qs + SCAN_L * ldk, *Vs = Ks + SCAN_L * ldk;
    floatX *Vgs = Vs + SCAN_L * ldv, *As = Vgs + SCAN_L * ldv, *Sb = As + SCAN_L * lda;
    const int tid = threadIdx.x, warp = tid / WARP_SIZE;
    const int b = blockIdx.x / a.H, h = blockIdx.x % a.H, v0 = blockIdx.y * SCAN_VB;
    const int vb = a.DV - v0 < SCAN_VB ? a.DV - v0 : SCAN_VB;
    const int T = a.T, nch = (T + SCAN_L - 1) / SCAN_L;
    float A = 0.0f;
    if (DECAY) A = expf(a.decay.A_log[h]);
    const float bias = DECAY && a.decay.bias ? a.decay.bias[h] : 0.0f;
    const float skip = a.out.skip ? a.out.skip[h] : 0.0f;
    // Without decay g = 1 (lam = 1): the state update reads V itself.
    const floatX *Vst = DECAY ? Vgs : Vs;

    for (int k = tid; k < DKP * SCAN_VB; k += SCAN_THREADS) S[k] = 0.0f;
    for (int k = tid; k < DKP * ldv; k += SCAN_THREADS) Sb[k] = __float2bfloat16_rn(0.0f);

    for (int step = 0; step < nch; step++) {
        const int c = REVERSE ? nch - 1 - step : step;
        const long t0 = (long)c * SCAN_L;
        const int l = T - t0 < SCAN_L ? (int)(T - t0) : SCAN_L;
        // ---- load the chunk in bf16 (rows past l and columns past DK / vb are zero)
        uint4 vr[1];  // the raw V pieces, kept for Vg below
        if (a.vec) {
            scan_load_chunk_vec(Qs, Ks, ldk, Vs, ldv, vr, a, b, t0, h, v0, l, DK, vb, DKP);
        } else {
            for (int k = tid; k < SCAN_L * DKP; k += SCAN_THREADS) {
                int i = k / DKP, d = k % DKP;
                bool in = i < l && d < DK;
                Qs[i * ldk + d] = __float2bfloat16_rn(in ? scan_read(a.q, b, t0 + i, h, d) : 0.0f);
                Ks[i * ldk + d] = __float2bfloat16_rn(in ? scan_read(a.k, b, t0 + i, h, d) : 0.0f);
            }
            for (int k = tid; k < SCAN_L * SCAN_VB; k += SCAN_THREADS) {
                int i = k / SCAN_VB, v = k % SCAN_VB;
                Vs[i * ldv + v] = __float2bfloat16_rn(i < l && v < vb ? scan_read(a.v, b, t0 + i, h, v0 + v) : 0.0f);
            }
        }
        const float lc_last = scan_chunk_weights<REVERSE, DECAY>(a.decay.dt, a.T, a.H, a.lam_key, b, h, t0, l, A, bias,
                                                                    lc, lam, g);
        // ---- A = mask(Q K^T) o w o lam: warp's 16 rows from r0 x 32 columns from c0, into As (bf16)
        {
            const int r0 = (warp % 4) * 16, c0 = (warp / 4) * 32;
            float acc[4][4] = {};
            const bool live = REVERSE ? c0 + 31 >= r0 : c0 <= r0 + 15;  // any j on the causal side of any i
            if (live) warp_mma_nk<4>(acc, Qs, ldk, r0, Ks, ldk, c0, 0, DKP);
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int e = 0; e < 4; e += 2) {
                    const int i = r0 + acc_row(e);
                    float sv[2];
#pragma unroll
                    for (int q = 0; q < 2; q++) {
                        const int j = c0 + acc_col(nt, e + q);
                        const bool on = i < l && j < l && (REVERSE ? j >= i : j <= i);
                        float x = 0.0f;
                        if (on) {
                            x = acc[nt][e + q];
                            if (DECAY) x *= REVERSE ? expf(lc[j] - lc[i]) : expf(lc[i] - lc[j]);
                            if (a.lam_key) x *= lam[j];
                        }
                        sv[q] = x;
                    }
                    *reinterpret_cast<uint32_t *>(As + i * lda + c0 + acc_col(nt, e)) = pack_f32(sv[0], sv[1]);
                }
        }
        __syncthreads();  // As and g are complete
        // ---- Vg = bf16(g_j V_j) from the fp32 values (one rounding), for the state update
        if (DECAY && a.vec)
            scan_store_pieces(Vgs, ldv, vr, a.v, l, vb, SCAN_VB, g);
        else if (DECAY)
            for (int k = tid; k < SCAN_L * SCAN_VB; k += SCAN_THREADS) {
                int i = k / SCAN_VB, v = k % SCAN_VB;
                float x = i < l && v < vb ? g[i] * scan_read(a.v, b, t0 + i, h, v0 + v) : 0.0f;
                Vgs[i * ldv + v] = __float2bfloat16_rn(x);
            }
        // ---- out = A V + e_i Q Sb: warp's 16 rows from r0 x 16 columns from n0, then the epilogue
        {
            const int r0 = (warp % 4) * 16, n0 = (warp / 4) * 16;
            float intra[2][4] = {}, inter[2][4] = {};
            // A is zero off the causal side and past l: only k-steps that can hold a nonzero A[i][j].
            const int lk = (l + 15) / 16 * 16;
            const int ka = REVERSE ? r0 : 0, kb = REVERSE ? lk : (r0 + 16 < lk ? r0 + 16 : lk);
            warp_mma_kn<2>(intra, As, lda, r0, Vs, ldv, n0, ka, kb);
            if (step > 0) warp_mma_kn<2>(inter, Qs, ldk, r0, Sb, ldv, n0, 0, DKP);  // S = 0 before the first chunk
#pragma unroll
            for (int nt = 0; nt < 2; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int i = r0 + acc_row(e), v = n0 + acc_col(nt, e);
                    if (i >= l || v >= vb) continue;
                    const float ei = DECAY ? (REVERSE ? expf(lc_last - lc[i]) : expf(lc[i])) : 1.0f;
                    float out = intra[nt][e] + inter[nt][e] * ei;
                    const long t = t0 + i;
                    const float sk = a.out.skip ? skip * scan_read(a.v, b, t, h, v0 + v) : 0.0f;
                    scan_store(a.out, b, t, h, v0 + v, out, sk, &lam[i]);
                }
        }
        __syncthreads();  // Sb is read above and rewritten below; Vgs is complete
        // ---- S = exp(lc_last) S + K^T Vg: warp's 16 state rows from m0 x all 32 columns
        if (warp * 16 < DKP) {
            const int m0 = warp * 16;
            const float carry = DECAY ? expf(lc_last) : 1.0f;
            float acc[4][4] = {};
            warp_mma_tkn<4>(acc, Ks, ldk, m0, Vst, ldv, 0, 0, (l + 15) / 16 * 16);
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int e = 0; e < 4; e += 2) {
                    const int d = m0 + acc_row(e), v = acc_col(nt, e);
                    const float s0 = carry * S[d * SCAN_VB + v] + acc[nt][e];
                    const float s1 = carry * S[d * SCAN_VB + v + 1] + acc[nt][e + 1];
                    S[d * SCAN_VB + v] = s0;
                    S[d * SCAN_VB + v + 1] = s1;
                    *reinterpret_cast<uint32_t *>(Sb + d * ldv + v) = pack_f32(s0, s1);
                }
        }
        __syncthreads();  // before the next chunk overwrites the tiles
    }
}

#endif
