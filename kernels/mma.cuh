// star: tensor-core tile products through mma.sync m16n8k16 (bf16 in, fp32 accumulate;
// sm_80 and later, the same code on sm_90a), shared by attention.cu and the chunked
// scans (chunked_scan_tc.cuh). Operands are read from shared memory with 32-bit loads
// where a pair of values is contiguous and packed from 16-bit loads where it is not; a
// warp computes one 16 x 8 accumulator tile per mma.
//
// Fragment layout (lane = 4 g + t, g = lane / 4, t = lane % 4):
//   A (16x16, row major): a0 = (row g, k 2t..2t+1), a1 = (g+8, 2t..), a2 = (g, 2t+8..),
//                         a3 = (g+8, 2t+8..)
//   B (16x8):             b0 = (k 2t..2t+1, n g), b1 = (k 2t+8.., n g)
//   C (16x8 fp32):        c0,c1 = (row g, col 2t..2t+1), c2,c3 = (g+8, 2t..2t+1)
// Pairs hold the lower index in the low 16 bits.
//
// Each loader comes in two forms: with the leading dimension as a template argument
// (attention's fixed tile widths) and as a run-time argument (the scans' key width).
#ifndef STAR_KERNELS_MMA_CUH
#define STAR_KERNELS_MMA_CUH

#include "kernels/common.cuh"

__device__ __forceinline__ void mma_bf16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ uint32_t ld_pair(const floatX *p) { return *reinterpret_cast<const uint32_t *>(p); }

__device__ __forceinline__ uint32_t pack_pair(floatX lo, floatX hi) {
    return (uint32_t)__bfloat16_as_ushort(lo) | ((uint32_t)__bfloat16_as_ushort(hi) << 16);
}

__device__ __forceinline__ uint32_t pack_f32(float lo, float hi) {
    return (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(lo)) |
           ((uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(hi)) << 16);
}

// A = s[r0.., k0..] (s row major, leading dimension ld; ld and k0 even).
__device__ __forceinline__ void frag_a(uint32_t a[4], const floatX *s, int ld, int r0, int k0) {
    int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
    const floatX *p = s + (r0 + g) * ld + k0 + 2 * t;
    a[0] = ld_pair(p);
    a[1] = ld_pair(p + 8 * ld);
    a[2] = ld_pair(p + 8);
    a[3] = ld_pair(p + 8 * ld + 8);
}
template <int LD>
__device__ __forceinline__ void frag_a(uint32_t a[4], const floatX *s, int r0, int k0) {
    frag_a(a, s, LD, r0, k0);
}

// A[m][k] = s[k0 + k][m0 + m]: s holds A transposed (a key tile for the state K^T V).
__device__ __forceinline__ void frag_a_km(uint32_t a[4], const floatX *s, int ld, int m0, int k0) {
    int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
    const floatX *p = s + (k0 + 2 * t) * ld + m0 + g;
    a[0] = pack_pair(p[0], p[ld]);
    a[1] = pack_pair(p[8], p[ld + 8]);
    a[2] = pack_pair(p[8 * ld], p[9 * ld]);
    a[3] = pack_pair(p[8 * ld + 8], p[9 * ld + 8]);
}

// B[k][n] = s[n0 + n][k0 + k]: s holds B transposed (a key tile for S = Q K^T).
__device__ __forceinline__ void frag_b_nk(uint32_t b[2], const floatX *s, int ld, int n0, int k0) {
    int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
    const floatX *p = s + (n0 + g) * ld + k0 + 2 * t;
    b[0] = ld_pair(p);
    b[1] = ld_pair(p + 8);
}
template <int LD>
__device__ __forceinline__ void frag_b_nk(uint32_t b[2], const floatX *s, int n0, int k0) {
    frag_b_nk(b, s, LD, n0, k0);
}

// B[k][n] = s[k0 + k][n0 + n]: s holds B as is (a value tile for O = P V).
__device__ __forceinline__ void frag_b_kn(uint32_t b[2], const floatX *s, int ld, int k0, int n0) {
    int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
    const floatX *p = s + (k0 + 2 * t) * ld + n0 + g;
    b[0] = pack_pair(p[0], p[ld]);
    b[1] = pack_pair(p[8 * ld], p[9 * ld]);
}
template <int LD>
__device__ __forceinline__ void frag_b_kn(uint32_t b[2], const floatX *s, int k0, int n0) {
    frag_b_kn(b, s, LD, k0, n0);
}

// The A fragment of k-step kk from fp32 accumulators acc[n-tile][4] (columns 16kk..16kk+15
// are n-tiles 2kk and 2kk+1): the product's output becomes the next product's input.
__device__ __forceinline__ void frag_a_from_acc(uint32_t a[4], const float (*acc)[4], int kk) {
    a[0] = pack_f32(acc[2 * kk][0], acc[2 * kk][1]);
    a[1] = pack_f32(acc[2 * kk][2], acc[2 * kk][3]);
    a[2] = pack_f32(acc[2 * kk + 1][0], acc[2 * kk + 1][1]);
    a[3] = pack_f32(acc[2 * kk + 1][2], acc[2 * kk + 1][3]);
}

// Where accumulator element e (0..3) of n-tile nt sits in the warp's 16-row tile:
// row g + 8 (e / 2), column 8 nt + 2 t + e % 2.
__device__ __forceinline__ int acc_row(int e) { return ((threadIdx.x % WARP_SIZE) >> 2) + 8 * (e >> 1); }
__device__ __forceinline__ int acc_col(int nt, int e) { return 8 * nt + 2 * (threadIdx.x & 3) + (e & 1); }

// ---- Warp tile products: acc[NT][4] += A (16 rows from r0) x B (NT n-tiles of 8 from n0),
// over k = k0 .. k1 - 1 in steps of 16 (k1 - k0 a multiple of 16).
// B stored transposed (rows n: frag_b_nk), e.g. Q K^T with K as stored.
template <int NT>
__device__ __forceinline__ void warp_mma_nk(float (*acc)[4], const floatX *As, int lda, int r0, const floatX *Bs,
                                            int ldb, int n0, int k0, int k1) {
    for (int kk = k0; kk < k1; kk += 16) {
        uint32_t a[4];
        frag_a(a, As, lda, r0, kk);
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            uint32_t b[2];
            frag_b_nk(b, Bs, ldb, n0 + nt * 8, kk);
            mma_bf16(acc[nt], a, b);
        }
    }
}
// B stored as is (rows k: frag_b_kn), e.g. A V.
template <int NT>
__device__ __forceinline__ void warp_mma_kn(float (*acc)[4], const floatX *As, int lda, int r0, const floatX *Bs,
                                            int ldb, int n0, int k0, int k1) {
    for (int kk = k0; kk < k1; kk += 16) {
        uint32_t a[4];
        frag_a(a, As, lda, r0, kk);
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            uint32_t b[2];
            frag_b_kn(b, Bs, ldb, kk, n0 + nt * 8);
            mma_bf16(acc[nt], a, b);
        }
    }
}
// A stored transposed (rows k: frag_a_km), B as is, e.g. K^T V with K and V as stored.
template <int NT>
__device__ __forceinline__ void warp_mma_tkn(float (*acc)[4], const floatX *As, int lda, int m0, const floatX *Bs,
                                             int ldb, int n0, int k0, int k1) {
    for (int kk = k0; kk < k1; kk += 16) {
        uint32_t a[4];
        frag_a_km(a, As, lda, m0, kk);
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            uint32_t b[2];
            frag_b_kn(b, Bs, ldb, kk, n0 + nt * 8);
            mma_bf16(acc[nt], a, b);
        }
    }
}

// ---- ldmatrix and cp.async (attention's version 2 kernels) ------------------------------
// ldmatrix.x4: lanes 8i..8i+7 give the row addresses of 8 x 8 matrix i (16-byte aligned);
// register i of lane 4 g + t receives row g, columns 2t, 2t+1 of matrix i (.trans: rows 2t,
// 2t+1 of column g), which is exactly an mma fragment register.
__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const floatX *p) {
    uint32_t a = (uint32_t)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t r[4], const floatX *p) {
    uint32_t a = (uint32_t)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}
// Asynchronous global -> shared copies of 16 (or 4) bytes; valid = false fills zeros and
// reads nothing (src must still be a valid address). Completed by cp_async_wait<N>: all
// but the N most recently committed groups.
__device__ __forceinline__ void cp_async16(void *dst, const void *src, bool valid) {
    uint32_t d = (uint32_t)__cvta_generic_to_shared(dst);
    int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(d), "l"(src), "r"(n) : "memory");
}
__device__ __forceinline__ void cp_async4(void *dst, const void *src, bool valid) {
    uint32_t d = (uint32_t)__cvta_generic_to_shared(dst);
    int n = valid ? 4 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src), "r"(n) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Fragments through ldmatrix (leading dimension LD in values; LD * 2 bytes a multiple of 16).
// A (16 x 16) = s[r0.., k0..], s row major.
template <int LD>
__device__ __forceinline__ void ldsm_a(uint32_t a[4], const floatX *s, int r0, int k0) {
    int lane = threadIdx.x % WARP_SIZE;
    ldsm_x4(a, s + (r0 + (lane & 15)) * LD + k0 + 8 * (lane >> 4));
}
// B of two n-tiles (b[0..1]: n0..n0+7, b[2..3]: n0+8..n0+15) for k0..k0+15, from
// s[n][k] (B transposed: a key tile for Q K^T).
template <int LD>
__device__ __forceinline__ void ldsm_b_nk(uint32_t b[4], const floatX *s, int n0, int k0) {
    int lane = threadIdx.x % WARP_SIZE;
    ldsm_x4(b, s + (n0 + (lane & 7) + 8 * (lane >> 4)) * LD + k0 + 8 * ((lane >> 3) & 1));
}
// The same from s[k][n] (B as is: a value tile for P V), through .trans.
template <int LD>
__device__ __forceinline__ void ldsm_b_kn(uint32_t b[4], const floatX *s, int k0, int n0) {
    int lane = threadIdx.x % WARP_SIZE;
    ldsm_x4_trans(b, s + (k0 + (lane & 15)) * LD + n0 + 8 * (lane >> 4));
}

// acc[N / 8] += A B^T for a warp's 16 rows: A = As[r0 .. r0 + 15][0 .. K) (leading
// dimension LDA), B given as Bs[n][k] (n-major, LDB, N rows): S = Q K^T, dP = dO V^T.
template <int K, int N, int LDA, int LDB>
__device__ __forceinline__ void ldsm_mma_nk(float (*acc)[4], const floatX *As, int r0, const floatX *Bs) {
#pragma unroll
    for (int kk = 0; kk < K / 16; kk++) {
        uint32_t a[4];
        ldsm_a<LDA>(a, As, r0, kk * 16);
#pragma unroll
        for (int np = 0; np < N / 16; np++) {
            uint32_t bb[4];
            ldsm_b_nk<LDB>(bb, Bs, np * 16, kk * 16);
            mma_bf16(acc[2 * np], a, bb);
            mma_bf16(acc[2 * np + 1], a, bb + 2);
        }
    }
}
// acc[mt][N / 8] += P[mt] B for MT row tiles of 16 rows of a warp: P[mt] the tile's 16 x K
// accumulator (rounded to bf16 as the A operand), B = Bs[k][n] (k-major, LDB), each B
// fragment loaded once for all the tiles.
template <int MT, int K, int N, int LDB>
__device__ __forceinline__ void ldsm_mma_pkn_rows(float (*acc)[N / 8][4], const float (*p)[K / 8][4],
                                                  const floatX *Bs) {
#pragma unroll
    for (int kk = 0; kk < K / 16; kk++) {
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) frag_a_from_acc(a[mt], p[mt], kk);
#pragma unroll
        for (int dp = 0; dp < N / 16; dp++) {
            uint32_t bb[4];
            ldsm_b_kn<LDB>(bb, Bs, kk * 16, dp * 16);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                mma_bf16(acc[mt][2 * dp], a[mt], bb);
                mma_bf16(acc[mt][2 * dp + 1], a[mt], bb + 2);
            }
        }
    }
}

// acc[N / 8] += P B: P the warp's 16 x K accumulator p (rounded to bf16 as the A operand),
// B = Bs[k][n] (k-major, LDB): O += P V, dV += P^T dO, dK += dS^T Q, dQ += dS K.
template <int K, int N, int LDB>
__device__ __forceinline__ void ldsm_mma_pkn(float (*acc)[4], const float (*p)[4], const floatX *Bs) {
    ldsm_mma_pkn_rows<1, K, N, LDB>(reinterpret_cast<float (*)[N / 8][4]>(acc),
                                    reinterpret_cast<const float (*)[K / 8][4]>(p), Bs);
}

#endif
