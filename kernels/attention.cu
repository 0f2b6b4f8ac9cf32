// star: causal softmax attention, as operators/attention.c (same layouts: q, out
// [B,T,H,hd]; k, v [B,T,Hkv,hd]; lse [B,H,T]; GQA head h reads kv head h / (H/Hkv);
// query i sees keys i - w < j <= i, every j <= i when w = 0), flash-attention style:
// no [T,T] map is stored.
//
// Two versions of the kernels, chosen at run time (attention_kernel_version_cuda; the
// environment variable STAR_ATTN_V1=1 selects version 1): version 1 is described here,
// version 2 (kernels/attention_v2.cuh: ldmatrix, cp.async double buffering, Q in
// registers, exp2, unmasked interior tiles, 128-row tiles) keeps its structure and math.
// Tensor cores through mma.sync m16n8k16 (bf16 in, fp32 accumulate; sm_80 and later).
// Tiles of q, k, v, dout are staged in shared memory (rows padded by 8 values) and the
// mma fragments are read from there; a warp owns 16 rows of the tile it works on.
//   Forward: one block per (64 queries, head, batch); 4 warps x 16 query rows; loop over
//     64-key tiles with an online softmax in fp32; P is rounded to bf16 for P V (as in
//     FlashAttention-2). Writes out (bf16) and lse = m + log(l) (fp32).
//   Backward (FlashAttention-2, deterministic, no atomics):
//     1. D_i = dout_i . out_i (fp32), one warp per row, into scratch [B,H,T].
//     2. dK/dV: one block per (64 keys, kv head, batch); 4 warps x 16 keys; loop over
//        the query heads of the group and the query tiles that see those keys,
//        recomputing P^T = exp(scale K Q^T - lse) and dP^T = V dO^T; dV += P^T dO,
//        dK += scale dS^T Q with dS = P (dP - D). Each block owns its dK, dV rows, so
//        the group's heads are summed in fp32 in a fixed order before the one += .
//     3. dQ: one block per (64 queries, head, batch), the forward's loop recomputing P
//        and dP, dQ += scale dS K.
//   The dQ pass recomputes S and dP once more (7 products instead of FA2's 5 with
//   atomics) in exchange for no fp32 dQ buffer, no atomics and the same bits each run.
//
// The kernels are templated on the q.k width QKD and the value width VD (both hd for
// plain attention) and take a channel offset for q and k, so one score map over a part
// of the channels (the halves of differential attention) is the same code.
//
// Differential attention (operators/attention_diff.c) composes from two such maps (q.k
// over channel halves, values over all hd) and two row kernels, one warp per (b, t, h):
// forward pre = o1 - lambda_h o2, out = (1 - lambda_init) headRMS(pre); backward
// g = d/d(pre) (bf16 into scratch, with -lambda_h g for the second map) and the per-row
// g . o2, summed per head in a fixed order into dlambda. The maps' backward then runs
// with dout = g on (o1, lse1) and dout = -lambda g on (o2, lse2).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.cuh"
#include "kernels/mma.cuh"  // mma_bf16, the fragment loaders
#include "operators/rmsnorm.h"  // RMSNORM_EPS

#define ATT_WARPS 4
#define ATT_THREADS (ATT_WARPS * WARP_SIZE)
#define ATT_BQ 64  // query rows per block in the forward and dQ kernels (16 per warp)
#define ATT_BK 64  // keys per tile in the forward and dQ kernels; keys per dK/dV block
#define ATT_PAD 8  // shared-memory row padding (values): rows stay 16-byte aligned

// Query rows per tile in the dK/dV kernel: fewer for wide heads to bound registers.
template <int VD>
struct dkv_tile {
    static constexpr int BQ = VD >= 128 ? 32 : 64;
};

struct attn_params {
    const floatX *q, *k, *v, *out, *dout;
    const float *lse_in;  // backward: the forward's lse
    float *lse;           // forward: written
    float *dvec;          // backward: D [B,H,T]
    float *dqacc;         // backward, version 3: dQ accumulated in fp32 [B,T,H,QKD]
    floatX *o, *dq, *dk, *dv;
    int B, T, H, Hkv, hd, window;
    int qk_off;  // first q/k channel of this map
    int add_dq, add_dk, add_dv;  // backward: 1 adds into the gradient (GRAD_ADD), 0 overwrites it
    float scale;
};

// Rows r0 .. r0 + nrows - 1 of a [T, stride] matrix (columns 0..COLS-1 from g) into s with
// leading dimension COLS + ATT_PAD; rows at or past T are zeros (masked scores must never
// meet a NaN: 0 * NaN = NaN).
template <int COLS>
__device__ __forceinline__ void load_tile(floatX *s, const floatX *g, long stride, int r0, int nrows, int T) {
    constexpr int LD = COLS + ATT_PAD, CH = COLS / PACK;
    for (int idx = threadIdx.x; idx < nrows * CH; idx += blockDim.x) {
        int r = idx / CH, c = (idx % CH) * PACK;
        int4 val = make_int4(0, 0, 0, 0);
        if (r0 + r < T) val = *reinterpret_cast<const int4 *>(g + (long)(r0 + r) * stride + c);
        *reinterpret_cast<int4 *>(s + r * LD + c) = val;
    }
}

// Row values (lse or D) of rows r0.. of one (batch, head) row of [B,H,T]; 0 past T.
__device__ __forceinline__ void load_row_values(float *s, const float *g, int r0, int n, int T) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) s[i] = r0 + i < T ? g[r0 + i] : 0.0f;
}

__device__ __forceinline__ bool visible(int i, int j, int T, int window) {
    return j <= i && i < T && (window == 0 || i - j < window);
}

// First key tile (a multiple of ATT_BK) any query of the block at q0 can see.
__device__ __forceinline__ int first_key_tile(int q0, int window) {
    int j = window > 0 && q0 - window + 1 > 0 ? q0 - window + 1 : 0;
    return j / ATT_BK * ATT_BK;
}

// The online softmax's running state after a key tile (the forward of both versions): the
// lane's partial row sums l and its output rows o are rescaled by corr (the change of the
// running max), then l gains this tile's exponentials p (the lane's columns of its 2 rows;
// l is summed over the quad at the end).
template <int NK, int VD>
__device__ __forceinline__ void softmax_tile_update(float l[2], float (*o)[4], const float (*p)[4],
                                                    const float corr[2]) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float rs = 0.0f;
#pragma unroll
        for (int nt = 0; nt < NK / 8; nt++) rs += p[nt][2 * r] + p[nt][2 * r + 1];
        l[r] = l[r] * corr[r] + rs;
    }
#pragma unroll
    for (int dt = 0; dt < VD / 8; dt++) {
        o[dt][0] *= corr[0];
        o[dt][1] *= corr[0];
        o[dt][2] *= corr[1];
        o[dt][3] *= corr[1];
    }
}

// ---- Forward --------------------------------------------------------------------------
template <int QKD, int VD>
__global__ void __launch_bounds__(ATT_THREADS) attention_forward_kernel(attn_params p) {
    constexpr int LQ = QKD + ATT_PAD, LV = VD + ATT_PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    floatX *Qs = reinterpret_cast<floatX *>(smem), *Ks = Qs + ATT_BQ * LQ, *Vs = Ks + ATT_BK * LQ;
    int T = p.T, H = p.H, b = blockIdx.z, h = blockIdx.y, grp = h / (H / p.Hkv);
    int q0 = blockIdx.x * ATT_BQ, warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    int g = lane >> 2, t = lane & 3;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    const floatX *qg = p.q + ((long)b * T * H + h) * p.hd + p.qk_off;
    const floatX *kg = p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off;
    const floatX *vg = p.v + ((long)b * T * p.Hkv + grp) * p.hd;
    load_tile<QKD>(Qs, qg, qs, q0, ATT_BQ, T);

    int row[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};
    float o[VD / 8][4] = {};
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    int kend = min(q0 + ATT_BQ - 1, T - 1);
    for (int k0 = first_key_tile(q0, p.window); k0 <= kend; k0 += ATT_BK) {
        __syncthreads();  // the previous tile is consumed (and Qs is in place)
        load_tile<QKD>(Ks, kg, ks, k0, ATT_BK, T);
        load_tile<VD>(Vs, vg, ks, k0, ATT_BK, T);
        __syncthreads();

        float s[ATT_BK / 8][4] = {};
#pragma unroll
        for (int kk = 0; kk < QKD / 16; kk++) {
            uint32_t a[4];
            frag_a<LQ>(a, Qs, warp * 16, kk * 16);
#pragma unroll
            for (int nt = 0; nt < ATT_BK / 8; nt++) {
                uint32_t bb[2];
                frag_b_nk<LQ>(bb, Ks, nt * 8, kk * 16);
                mma_bf16(s[nt], a, bb);
            }
        }
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < ATT_BK / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int r = e >> 1, j = k0 + nt * 8 + 2 * t + (e & 1);
                s[nt][e] = visible(row[r], j, T, p.window) ? s[nt][e] * p.scale : -INFINITY;
                mx[r] = fmaxf(mx[r], s[nt][e]);
            }
        float mu[2], corr[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {  // the 4 lanes of a quad hold one row
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            float mnew = fmaxf(m[r], mx[r]);
            mu[r] = mnew == -INFINITY ? 0.0f : mnew;  // no key seen yet: exp(-inf - 0) = 0
            corr[r] = expf(m[r] - mu[r]);
            m[r] = mnew;
        }
#pragma unroll
        for (int nt = 0; nt < ATT_BK / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int r = e >> 1;
                s[nt][e] = expf(s[nt][e] - mu[r]);
            }
        softmax_tile_update<ATT_BK, VD>(l, o, s, corr);
#pragma unroll
        for (int kk = 0; kk < ATT_BK / 16; kk++) {
            uint32_t a[4];
            frag_a_from_acc(a, s, kk);
#pragma unroll
            for (int dt = 0; dt < VD / 8; dt++) {
                uint32_t bb[2];
                frag_b_kn<LV>(bb, Vs, kk * 16, dt * 8);
                mma_bf16(o[dt], a, bb);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
        int i = row[r];
        if (i >= T) continue;
        float inv = 1.0f / l[r];
        floatX *orow = p.o + (((long)b * T + i) * H + h) * p.hd;
#pragma unroll
        for (int dt = 0; dt < VD / 8; dt++)
            *reinterpret_cast<__nv_bfloat162 *>(orow + dt * 8 + 2 * t) =
                __floats2bfloat162_rn(o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
        if (t == 0) p.lse[((long)b * H + h) * T + i] = m[r] + logf(l[r]);
    }
}

// ---- Backward -------------------------------------------------------------------------
// D [B,H,T] = rowsum(dout * out) over the VD value channels; one warp per (b, t, h) row.
__global__ void attention_backward_dvec_kernel(attn_params p, int VD) {
    long rows = (long)p.B * p.T * p.H;
    long r = blockIdx.x * (long)(blockDim.x / WARP_SIZE) + threadIdx.x / WARP_SIZE;
    if (r >= rows) return;
    int lane = threadIdx.x % WARP_SIZE;
    const floatX *dor = p.dout + r * p.hd, *orow = p.out + r * p.hd;
    float acc = 0.0f;
    for (int d = lane; d < VD; d += WARP_SIZE) acc += __bfloat162float(dor[d]) * __bfloat162float(orow[d]);
    acc = warp_sum(acc);
    int h = (int)(r % p.H);
    long bt = r / p.H;
    int i = (int)(bt % p.T), b = (int)(bt / p.T);
    if (lane == 0) p.dvec[((long)b * p.H + h) * p.T + i] = acc;
}

// The same in 16-byte loads, where VD / 8 is a power of two up to 32 and the rows are
// aligned: VD / 8 lanes per row, each a chunk of 8 values, summed by shuffles within the
// group; rows go in D's (b, h, t) order, so a warp's writes of D are contiguous.
__global__ void attention_backward_dvec16_kernel(attn_params p, int VD) {
    int G = VD / PACK;
    long rows = (long)p.B * p.H * p.T, gid = blockIdx.x * (long)blockDim.x + threadIdx.x;
    long r = gid / G;
    int c = (int)(gid % G) * PACK;
    float acc = 0.0f;
    if (r < rows) {
        int t = (int)(r % p.T);
        long bh = r / p.T;
        long off = (((bh / p.H) * p.T + t) * p.H + bh % p.H) * p.hd + c;
        float dov[PACK], ov[PACK];
        load8(dov, p.dout + off);
        load8(ov, p.out + off);
#pragma unroll
        for (int j = 0; j < PACK; j++) acc += dov[j] * ov[j];
    }
    for (int m = G / 2; m > 0; m /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, m);
    if (r < rows && c == 0) p.dvec[r] = acc;
}

static int dvec_launch(attn_params p, int VD, star_stream st, star_error *err) {
    int G = VD / PACK;
    if (VD % PACK == 0 && G <= WARP_SIZE && (G & (G - 1)) == 0 && p.hd % PACK == 0 && is_aligned16(p.dout) &&
        is_aligned16(p.out)) {
        long threads = (long)p.B * p.H * p.T * G;
        attention_backward_dvec16_kernel<<<(unsigned)((threads + 255) / 256), 256, 0, st>>>(p, VD);
    } else {
        const int rows_per_block = 8;
        long rows = (long)p.B * p.T * p.H;
        attention_backward_dvec_kernel<<<(unsigned)((rows + rows_per_block - 1) / rows_per_block),
                                         rows_per_block * WARP_SIZE, 0, st>>>(p, VD);
    }
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// dst[n] += v[n] for a bf16 pair (GRAD_ADD), or dst[n] = v[n] without reading it (GRAD_SET).
__device__ __forceinline__ void grad_pair(floatX *dst, float v0, float v1, int add) {
    if (add) {
        __nv_bfloat162 old = *reinterpret_cast<__nv_bfloat162 *>(dst);
        v0 += __bfloat162float(old.x), v1 += __bfloat162float(old.y);
    }
    *reinterpret_cast<__nv_bfloat162 *>(dst) = __floats2bfloat162_rn(v0, v1);
}

template <int QKD, int VD>
__global__ void __launch_bounds__(ATT_THREADS) attention_backward_dkv_kernel(attn_params p) {
    constexpr int LQ = QKD + ATT_PAD, LV = VD + ATT_PAD, BQ = dkv_tile<VD>::BQ;
    extern __shared__ __align__(16) unsigned char smem[];
    floatX *Ks = reinterpret_cast<floatX *>(smem), *Vs = Ks + ATT_BK * LQ, *Qs = Vs + ATT_BK * LV,
           *dOs = Qs + BQ * LQ;
    float *lse_s = reinterpret_cast<float *>(dOs + BQ * LV), *D_s = lse_s + BQ;
    int T = p.T, H = p.H, b = blockIdx.z, grp = blockIdx.y, rep = H / p.Hkv;
    int j0 = blockIdx.x * ATT_BK, warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    int g = lane >> 2, t = lane & 3;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    load_tile<QKD>(Ks, p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off, ks, j0, ATT_BK, T);
    load_tile<VD>(Vs, p.v + ((long)b * T * p.Hkv + grp) * p.hd, ks, j0, ATT_BK, T);

    int key[2] = {j0 + warp * 16 + g, j0 + warp * 16 + g + 8};
    float dk[QKD / 8][4] = {}, dv[VD / 8][4] = {};
    int qend = p.window > 0 ? min(T - 1, j0 + ATT_BK - 1 + p.window - 1) : T - 1;
    for (int h = grp * rep; h < (grp + 1) * rep; h++) {
        const floatX *qg = p.q + ((long)b * T * H + h) * p.hd + p.qk_off;
        const floatX *dog = p.dout + ((long)b * T * H + h) * p.hd;
        const float *lseg = p.lse_in + ((long)b * H + h) * T, *Dg = p.dvec + ((long)b * H + h) * T;
        for (int i0 = j0 / BQ * BQ; i0 <= qend; i0 += BQ) {
            __syncthreads();  // the previous query tile is consumed
            load_tile<QKD>(Qs, qg, qs, i0, BQ, T);
            load_tile<VD>(dOs, dog, qs, i0, BQ, T);
            load_row_values(lse_s, lseg, i0, BQ, T);
            load_row_values(D_s, Dg, i0, BQ, T);
            __syncthreads();

            // S^T = K Q^T (this warp's 16 keys x BQ queries), then P^T.
            float pt[BQ / 8][4] = {};
#pragma unroll
            for (int kk = 0; kk < QKD / 16; kk++) {
                uint32_t a[4];
                frag_a<LQ>(a, Ks, warp * 16, kk * 16);
#pragma unroll
                for (int nt = 0; nt < BQ / 8; nt++) {
                    uint32_t bb[2];
                    frag_b_nk<LQ>(bb, Qs, nt * 8, kk * 16);
                    mma_bf16(pt[nt], a, bb);
                }
            }
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int c = nt * 8 + 2 * t + (e & 1), j = key[e >> 1];
                    pt[nt][e] = visible(i0 + c, j, T, p.window) && j < T ? expf(pt[nt][e] * p.scale - lse_s[c]) : 0.0f;
                }
            // dP^T = V dO^T
            float dpt[BQ / 8][4] = {};
#pragma unroll
            for (int kk = 0; kk < VD / 16; kk++) {
                uint32_t a[4];
                frag_a<LV>(a, Vs, warp * 16, kk * 16);
#pragma unroll
                for (int nt = 0; nt < BQ / 8; nt++) {
                    uint32_t bb[2];
                    frag_b_nk<LV>(bb, dOs, nt * 8, kk * 16);
                    mma_bf16(dpt[nt], a, bb);
                }
            }
            // dV += P^T dO
#pragma unroll
            for (int kk = 0; kk < BQ / 16; kk++) {
                uint32_t a[4];
                frag_a_from_acc(a, pt, kk);
#pragma unroll
                for (int dt = 0; dt < VD / 8; dt++) {
                    uint32_t bb[2];
                    frag_b_kn<LV>(bb, dOs, kk * 16, dt * 8);
                    mma_bf16(dv[dt], a, bb);
                }
            }
            // dS^T = P^T (dP^T - D), kept in pt; dK += dS^T Q (scale applied at the end)
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) pt[nt][e] *= dpt[nt][e] - D_s[nt * 8 + 2 * t + (e & 1)];
#pragma unroll
            for (int kk = 0; kk < BQ / 16; kk++) {
                uint32_t a[4];
                frag_a_from_acc(a, pt, kk);
#pragma unroll
                for (int dt = 0; dt < QKD / 8; dt++) {
                    uint32_t bb[2];
                    frag_b_kn<LQ>(bb, Qs, kk * 16, dt * 8);
                    mma_bf16(dk[dt], a, bb);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int j = key[r];
        if (j >= T) continue;
        long off = (((long)b * T + j) * p.Hkv + grp) * p.hd;
#pragma unroll
        for (int dt = 0; dt < QKD / 8; dt++)
            grad_pair(p.dk + off + p.qk_off + dt * 8 + 2 * t, p.scale * dk[dt][2 * r], p.scale * dk[dt][2 * r + 1],
                      p.add_dk);
#pragma unroll
        for (int dt = 0; dt < VD / 8; dt++) grad_pair(p.dv + off + dt * 8 + 2 * t, dv[dt][2 * r], dv[dt][2 * r + 1],
                                                      p.add_dv);
    }
}

template <int QKD, int VD>
__global__ void __launch_bounds__(ATT_THREADS) attention_backward_dq_kernel(attn_params p) {
    constexpr int LQ = QKD + ATT_PAD, LV = VD + ATT_PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    floatX *Qs = reinterpret_cast<floatX *>(smem), *dOs = Qs + ATT_BQ * LQ, *Ks = dOs + ATT_BQ * LV,
           *Vs = Ks + ATT_BK * LQ;
    float *lse_s = reinterpret_cast<float *>(Vs + ATT_BK * LV), *D_s = lse_s + ATT_BQ;
    int T = p.T, H = p.H, b = blockIdx.z, h = blockIdx.y, grp = h / (H / p.Hkv);
    int q0 = blockIdx.x * ATT_BQ, warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    int g = lane >> 2, t = lane & 3;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    const floatX *kg = p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off;
    const floatX *vg = p.v + ((long)b * T * p.Hkv + grp) * p.hd;
    load_tile<QKD>(Qs, p.q + ((long)b * T * H + h) * p.hd + p.qk_off, qs, q0, ATT_BQ, T);
    load_tile<VD>(dOs, p.dout + ((long)b * T * H + h) * p.hd, qs, q0, ATT_BQ, T);
    load_row_values(lse_s, p.lse_in + ((long)b * H + h) * T, q0, ATT_BQ, T);
    load_row_values(D_s, p.dvec + ((long)b * H + h) * T, q0, ATT_BQ, T);

    int rl[2] = {warp * 16 + g, warp * 16 + g + 8};  // rows within the tile
    float dq[QKD / 8][4] = {};
    int kend = min(q0 + ATT_BQ - 1, T - 1);
    for (int k0 = first_key_tile(q0, p.window); k0 <= kend; k0 += ATT_BK) {
        __syncthreads();
        load_tile<QKD>(Ks, kg, ks, k0, ATT_BK, T);
        load_tile<VD>(Vs, vg, ks, k0, ATT_BK, T);
        __syncthreads();

        float s[ATT_BK / 8][4] = {}, dp[ATT_BK / 8][4] = {};
#pragma unroll
        for (int kk = 0; kk < QKD / 16; kk++) {
            uint32_t a[4];
            frag_a<LQ>(a, Qs, warp * 16, kk * 16);
#pragma unroll
            for (int nt = 0; nt < ATT_BK / 8; nt++) {
                uint32_t bb[2];
                frag_b_nk<LQ>(bb, Ks, nt * 8, kk * 16);
                mma_bf16(s[nt], a, bb);
            }
        }
#pragma unroll
        for (int kk = 0; kk < VD / 16; kk++) {
            uint32_t a[4];
            frag_a<LV>(a, dOs, warp * 16, kk * 16);
#pragma unroll
            for (int nt = 0; nt < ATT_BK / 8; nt++) {
                uint32_t bb[2];
                frag_b_nk<LV>(bb, Vs, nt * 8, kk * 16);
                mma_bf16(dp[nt], a, bb);
            }
        }
        // dS = P (dP - D), P = exp(scale S - lse); masked entries are 0.
#pragma unroll
        for (int nt = 0; nt < ATT_BK / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int r = rl[e >> 1], j = k0 + nt * 8 + 2 * t + (e & 1);
                float pr = visible(q0 + r, j, T, p.window) ? expf(s[nt][e] * p.scale - lse_s[r]) : 0.0f;
                s[nt][e] = pr * (dp[nt][e] - D_s[r]);
            }
#pragma unroll
        for (int kk = 0; kk < ATT_BK / 16; kk++) {
            uint32_t a[4];
            frag_a_from_acc(a, s, kk);
#pragma unroll
            for (int dt = 0; dt < QKD / 8; dt++) {
                uint32_t bb[2];
                frag_b_kn<LQ>(bb, Ks, kk * 16, dt * 8);
                mma_bf16(dq[dt], a, bb);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int i = q0 + rl[r];
        if (i >= T) continue;
        floatX *dst = p.dq + (((long)b * T + i) * H + h) * p.hd + p.qk_off;
#pragma unroll
        for (int dt = 0; dt < QKD / 8; dt++)
            grad_pair(dst + dt * 8 + 2 * t, p.scale * dq[dt][2 * r], p.scale * dq[dt][2 * r + 1], p.add_dq);
    }
}

#include "kernels/attention_v2.cuh"  // version 2 of the kernels above (ldmatrix, cp.async)
#include "kernels/attention_wgmma.cuh"  // version 2's dK/dV pass on wgmma (sm_90a, width 64)

// ---- Host side --------------------------------------------------------------------------
// Which kernels run: version 2 (default), version 1 (STAR_ATTN_V1=1) or version 3
// (STAR_ATTN_ATOMIC_DQ=1: version 2 with dQ by atomics in the dK/dV pass, not
// deterministic), so one device run can compare them; attention_kernel_version_set_cuda
// fixes it for the process.
static int attn_version_mode = -1;

void attention_kernel_version_set_cuda(int version) { attn_version_mode = version >= 1 && version <= 3 ? version : -1; }

// Version 2's forward at value width 64: 32 query rows per warp (default) or 16.
static int attn_fwd_rows_per_warp = 0;
void attention_forward_rows_per_warp_set_cuda(int rows) { attn_fwd_rows_per_warp = rows == 16 || rows == 32 ? rows : 0; }

// Versions 2 and 3's dK/dV pass at value widths up to 64: 32-row query tiles (2 blocks per
// SM) or 64, the same dk and dv bits; 0 the default (backward_map_v2).
static int attn_dkv_rows = 0;
void attention_backward_dkv_rows_set_cuda(int rows) { attn_dkv_rows = rows == 32 || rows == 64 ? rows : 0; }

// Version 2's dQ kernel at value widths up to 64: 2 blocks of 8 warps per SM or 1, the same
// bits; 0 the default (backward_map_v2).
static int attn_dq_blocks = 0;
void attention_backward_dq_blocks_set_cuda(int blocks) { attn_dq_blocks = blocks == 1 || blocks == 2 ? blocks : 0; }

// Version 2's default kernels at value widths up to 64 (the forward's 32-row warps, the
// 32-row dK/dV tiles, the 2-block dQ kernel): 2 or 3 buffers for the streamed tiles, the
// same bits; 0 reads STAR_ATTN_STAGES (unset: the defaults, 2 for the forward and 3 for
// the backward: on an H100 three gave the backward 1.02-1.03x and the forward 0.99-1.00x,
// kernels/NOTES.md).
static int attn_stages = 0;
void attention_stages_set_cuda(int stages) { attn_stages = stages == 2 || stages == 3 ? stages : 0; }

int attention_stages_cuda(star_error *err) {
    if (attn_stages) return attn_stages;
    const char *v = getenv("STAR_ATTN_STAGES");
    if (!v || !*v) return 0;
    if (strcmp(v, "2") == 0 || strcmp(v, "3") == 0) return v[0] - '0';
    return STAR_FAIL(err, "environment variable STAR_ATTN_STAGES=\"%s\": expected 2 or 3 (buffers for the streamed "
                          "tiles of the attention kernels)", v);
}

// Version 2's passes on Hopper's warpgroup products where they apply: mask 1 the
// backward's dK/dV pass, 2 its dQ pass, 4 the forward, 8 the forward pipelined, 16 the
// selected passes with their warpgroups ping-ponged, 32 with one warpgroup per block
// (sums of them), 0 none; -1 (the
// default): the environment variable STAR_ATTN_WGMMA (unset: 0).
static int attn_wgmma = -1;
void attention_wgmma_set_cuda(int mask) { attn_wgmma = mask < 0 ? -1 : mask & 63; }

int attention_wgmma_cuda(star_error *err) {
    if (attn_wgmma >= 0) return attn_wgmma;
    const char *v = getenv("STAR_ATTN_WGMMA");
    if (!v || !*v) return 0;
    char *end;
    long m = strtol(v, &end, 10);
    if (*end == '\0' && v[0] >= '0' && v[0] <= '9' && m <= 63) return (int)m;
    return STAR_FAIL(err,
                     "environment variable STAR_ATTN_WGMMA=\"%s\": expected 0 to 63 (a sum of 1 the backward's dK/dV "
                     "pass on wgmma, 2 its dQ pass, 4 the forward, 8 the forward pipelined, 16 ping-pong, 32 one "
                     "warpgroup per block)",
                     v);
}

// 0 or 1 from environment variable name (unset or empty: 0); -1 with err otherwise.
static int env_flag(const char *name, const char *what, star_error *err) {
    const char *v = getenv(name);
    if (!v || !*v || strcmp(v, "0") == 0) return 0;
    if (strcmp(v, "1") == 0) return 1;
    return STAR_FAIL(err, "environment variable %s=\"%s\": expected 1 (%s) or 0", name, v, what);
}

int attention_kernel_version_cuda(star_error *err) {
    if (attn_version_mode > 0) return attn_version_mode;
    int v1 = env_flag("STAR_ATTN_V1", "version 1 kernels", err);
    if (v1 < 0) return -1;
    int v3 = env_flag("STAR_ATTN_ATOMIC_DQ", "dQ by atomics, version 3", err);
    if (v3 < 0) return -1;
    if (v1 && v3) return STAR_FAIL(err, "STAR_ATTN_V1=1 and STAR_ATTN_ATOMIC_DQ=1: choose one kernel version");
    return v1 ? 1 : v3 ? 3 : 2;
}

// Head dims on the device: 32, 64 or 128 (differential attention's maps use q.k halves of
// 16, 32 or 64).
static int check_shape(attn_shape s, const char *who, star_error *err) {
    if (s.B < 1 || s.T < 1) return STAR_FAIL(err, "%s: batch %d and length %d must be positive", who, s.B, s.T);
    if (s.H < 1 || s.Hkv < 1 || s.H % s.Hkv != 0)
        return STAR_FAIL(err, "%s: %d query heads must be a positive multiple of the %d key/value heads", who, s.H,
                         s.Hkv);
    if (s.hd != 32 && s.hd != 64 && s.hd != 128)
        return STAR_FAIL(err, "%s: head dim %d is not supported on CUDA (32, 64 or 128)", who, s.hd);
    if (s.window < 0) return STAR_FAIL(err, "%s: window %d must be 0 (full) or positive", who, s.window);
    if ((long)s.H * s.B > 65535L * 65535L || s.H > 65535 || s.B > 65535)
        return STAR_FAIL(err, "%s: %d heads x batch %d exceed the launch grid", who, s.H, s.B);
    return 0;
}

static int check_aligned(const void *const *ptrs, int n, const char *who, star_error *err) {
    for (int i = 0; i < n; i++)
        if (ptrs[i] && !is_aligned16(ptrs[i]))
            return STAR_FAIL(err, "%s: tensor %d is not 16-byte aligned", who, i);
    return 0;
}

static void set_grad_modes(attn_params *p, attn_grad_write m) {
    p->add_dq = m.dq == GRAD_ADD;
    p->add_dk = m.dk == GRAD_ADD;
    p->add_dv = m.dv == GRAD_ADD;
}

static attn_params make_params(attn_shape s, int qk_off, double scale) {
    attn_params p = {};
    p.B = s.B;
    p.T = s.T;
    p.H = s.H;
    p.Hkv = s.Hkv;
    p.hd = s.hd;
    p.window = s.window;
    p.qk_off = qk_off;
    p.scale = (float)scale;
    return p;
}

template <int QKD, int VD>
static int forward_map(attn_params p, star_stream st, star_error *err) {
    int version = attention_kernel_version_cuda(err);
    if (version < 0) return -1;
    if (version >= 2) {
        int wgmma = attention_wgmma_cuda(err);
        if (wgmma < 0) return -1;
        int ran = wgmma & 12 ? forward_launch_wgmma<QKD, VD>(p, wgmma, st, err) : 0;
        if (ran != 0) return ran < 0 ? -1 : 0;
        int stages = attention_stages_cuda(err);
        if (stages < 0) return -1;
        return forward_map_v2<QKD, VD>(p, attn_fwd_rows_per_warp, stages ? stages : 2, st, err);
    }
    size_t smem = sizeof(floatX) * ((size_t)(ATT_BQ + ATT_BK) * (QKD + ATT_PAD) + (size_t)ATT_BK * (VD + ATT_PAD));
    cudaCheck(cudaFuncSetAttribute(attention_forward_kernel<QKD, VD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   (int)smem),
              err);
    dim3 grid((p.T + ATT_BQ - 1) / ATT_BQ, p.H, p.B);
    attention_forward_kernel<QKD, VD><<<grid, ATT_THREADS, smem, st>>>(p);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

template <int QKD, int VD>
static int backward_map(attn_params p, star_stream st, star_error *err) {
    int version = attention_kernel_version_cuda(err);
    if (version < 0) return -1;
    if (dvec_launch(p, VD, st, err)) return -1;
    if (version >= 2) {
        int wgmma = attention_wgmma_cuda(err);
        if (wgmma < 0) return -1;
        int stages = attention_stages_cuda(err);
        if (stages < 0) return -1;
        return backward_map_v2<QKD, VD>(p, version == 3, attn_dkv_rows, attn_dq_blocks, wgmma & 51, stages ? stages : 3,
                                        st, err);
    }

    constexpr int BQ = dkv_tile<VD>::BQ;
    size_t smem_kv = sizeof(floatX) * ((size_t)(ATT_BK + BQ) * (QKD + ATT_PAD) + (size_t)(ATT_BK + BQ) * (VD + ATT_PAD)) +
                     sizeof(float) * 2 * BQ;
    cudaCheck(cudaFuncSetAttribute(attention_backward_dkv_kernel<QKD, VD>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem_kv),
              err);
    dim3 grid_kv((p.T + ATT_BK - 1) / ATT_BK, p.Hkv, p.B);
    attention_backward_dkv_kernel<QKD, VD><<<grid_kv, ATT_THREADS, smem_kv, st>>>(p);
    cudaCheck(cudaGetLastError(), err);

    size_t smem_q = sizeof(floatX) * ((size_t)(ATT_BQ + ATT_BK) * (QKD + ATT_PAD) +
                                      (size_t)(ATT_BQ + ATT_BK) * (VD + ATT_PAD)) +
                    sizeof(float) * 2 * ATT_BQ;
    cudaCheck(cudaFuncSetAttribute(attention_backward_dq_kernel<QKD, VD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   (int)smem_q),
              err);
    dim3 grid_q((p.T + ATT_BQ - 1) / ATT_BQ, p.H, p.B);
    attention_backward_dq_kernel<QKD, VD><<<grid_q, ATT_THREADS, smem_q, st>>>(p);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int attention_forward_cuda(floatX *out, float *lse, const floatX *q, const floatX *k, const floatX *v, attn_shape s,
                           star_stream st, star_error *err) {
    if (check_shape(s, "attention_forward_cuda", err)) return -1;
    const void *ptrs[] = {out, q, k, v};
    if (check_aligned(ptrs, 4, "attention_forward_cuda", err)) return -1;
    attn_params p = make_params(s, 0, 1.0 / sqrt((double)s.hd));
    p.q = q;
    p.k = k;
    p.v = v;
    p.o = out;
    p.lse = lse;
    switch (s.hd) {
    case 32: return forward_map<32, 32>(p, st, err);
    case 64: return forward_map<64, 64>(p, st, err);
    default: return forward_map<128, 128>(p, st, err);
    }
}

// D [B,H,T], then version 3's dQ buffer [B,T,H,hd] (planned whatever the version, so a
// model's memory does not depend on it).
long attention_backward_scratch_floats(attn_shape s) { return (long)s.B * s.H * s.T * (1 + s.hd); }

int attention_backward_cuda(floatX *dq, floatX *dk, floatX *dv, float *scratch, const floatX *dout,
                            const floatX *out, const float *lse, const floatX *q, const floatX *k, const floatX *v,
                            attn_shape s, attn_grad_write mode, star_stream st, star_error *err) {
    if (check_shape(s, "attention_backward_cuda", err)) return -1;
    if (!dq || !dk || !dv || !scratch)
        return STAR_FAIL(err, "attention_backward_cuda: dq, dk, dv and scratch are required");
    const void *ptrs[] = {dq, dk, dv, dout, out, q, k, v};
    if (check_aligned(ptrs, 8, "attention_backward_cuda", err)) return -1;
    attn_params p = make_params(s, 0, 1.0 / sqrt((double)s.hd));
    p.q = q;
    p.k = k;
    p.v = v;
    p.out = out;
    p.dout = dout;
    p.lse_in = lse;
    p.dvec = scratch;
    p.dqacc = scratch + (long)s.B * s.H * s.T;
    p.dq = dq;
    p.dk = dk;
    p.dv = dv;
    set_grad_modes(&p, mode);
    switch (s.hd) {
    case 32: return backward_map<32, 32>(p, st, err);
    case 64: return backward_map<64, 64>(p, st, err);
    default: return backward_map<128, 128>(p, st, err);
    }
}

// ---- Differential attention ------------------------------------------------------------
#define DIFF_OUT_SCALE ((float)(1.0 - DIFF_ATTN_LAMBDA_INIT))
#define DIFF_ROWS_PER_BLOCK 8  // warps per block in the row kernels

// out = DIFF_OUT_SCALE * pre * rstd, pre = o1 - lambda_h o2, rstd = 1 / sqrt(mean(pre^2) + eps).
__global__ void diff_combine_forward_kernel(floatX *out, float *rstd, const floatX *o1, const floatX *o2,
                                            const float *lambda, long rows, int H, int hd) {
    long r = blockIdx.x * (long)DIFF_ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
    if (r >= rows) return;
    int lane = threadIdx.x % WARP_SIZE;
    float lam = lambda[r % H], ss = 0.0f;
    const floatX *a = o1 + r * hd, *c = o2 + r * hd;
    for (int d = lane; d < hd; d += WARP_SIZE) {
        float pre = __bfloat162float(a[d]) - lam * __bfloat162float(c[d]);
        ss += pre * pre;
    }
    ss = warp_sum(ss);
    float rs = 1.0f / sqrtf(ss / hd + (float)RMSNORM_EPS);
    if (lane == 0) rstd[r] = rs;
    for (int d = lane; d < hd; d += WARP_SIZE) {
        float pre = __bfloat162float(a[d]) - lam * __bfloat162float(c[d]);
        out[r * hd + d] = __float2bfloat16_rn(DIFF_OUT_SCALE * pre * rs);
    }
}

// g = rs dy - pre rs^3 / hd * sum(dy pre), dy = DIFF_OUT_SCALE dout; writes g and
// -lambda_h g (bf16) and the row's g . o2 (fp32, from the unrounded g).
__global__ void diff_grad_pre_kernel(floatX *g1, floatX *g2, float *rowdot, const floatX *dout, const floatX *o1,
                                     const floatX *o2, const float *rstd, const float *lambda, long rows, int H,
                                     int hd) {
    long r = blockIdx.x * (long)DIFF_ROWS_PER_BLOCK + threadIdx.x / WARP_SIZE;
    if (r >= rows) return;
    int lane = threadIdx.x % WARP_SIZE;
    float lam = lambda[r % H], rs = rstd[r], acc = 0.0f;
    const floatX *a = o1 + r * hd, *c = o2 + r * hd, *dy = dout + r * hd;
    for (int d = lane; d < hd; d += WARP_SIZE) {
        float pre = __bfloat162float(a[d]) - lam * __bfloat162float(c[d]);
        acc += DIFF_OUT_SCALE * __bfloat162float(dy[d]) * pre;
    }
    acc = warp_sum(acc);
    float k = acc * rs * rs * rs / hd, dot = 0.0f;
    for (int d = lane; d < hd; d += WARP_SIZE) {
        float o2d = __bfloat162float(c[d]), pre = __bfloat162float(a[d]) - lam * o2d;
        float g = rs * DIFF_OUT_SCALE * __bfloat162float(dy[d]) - k * pre;
        g1[r * hd + d] = __float2bfloat16_rn(g);
        g2[r * hd + d] = __float2bfloat16_rn(-lam * g);
        dot += g * o2d;
    }
    dot = warp_sum(dot);
    if (lane == 0) rowdot[r] = dot;
}

// dlambda[h] -= sum over the rows of head h of rowdot; one block per head, fixed order.
__global__ void diff_dlambda_kernel(float *dlambda, const float *rowdot, long rows, int H) {
    __shared__ float part[WARP_SIZE];
    int h = blockIdx.x;
    float acc = 0.0f;
    for (long r = h + (long)threadIdx.x * H; r < rows; r += (long)blockDim.x * H) acc += rowdot[r];
    acc = block_sum(acc, part);
    if (threadIdx.x == 0) dlambda[h] -= acc;
}

// One of differential attention's maps: q.k over a half-head (hd / 2), values over hd.
static int diff_forward_map(attn_params p, int hd, star_stream st, star_error *err) {
    switch (hd) {
    case 32: return forward_map<16, 32>(p, st, err);
    case 64: return forward_map<32, 64>(p, st, err);
    default: return forward_map<64, 128>(p, st, err);
    }
}
static int diff_backward_map(attn_params p, int hd, star_stream st, star_error *err) {
    switch (hd) {
    case 32: return backward_map<16, 32>(p, st, err);
    case 64: return backward_map<32, 64>(p, st, err);
    default: return backward_map<64, 128>(p, st, err);
    }
}

static int diff_check(attn_shape s, const diff_attn_saved_cuda *sv, const float *lambda, const char *who,
                      star_error *err) {
    if (check_shape(s, who, err)) return -1;
    if (!sv || !sv->o1 || !sv->o2 || !sv->lse || !sv->rstd || !lambda)
        return STAR_FAIL(err, "%s: saved tensors and lambda are required", who);
    const void *ptrs[] = {sv->o1, sv->o2};
    return check_aligned(ptrs, 2, who, err);
}

int diff_attention_forward_cuda(floatX *out, const diff_attn_saved_cuda *sv, const floatX *q, const floatX *k,
                                const floatX *v, const float *lambda, attn_shape s, star_stream st, star_error *err) {
    const char *who = "diff_attention_forward_cuda";
    if (diff_check(s, sv, lambda, who, err)) return -1;
    const void *ptrs[] = {out, q, k, v};
    if (check_aligned(ptrs, 4, who, err)) return -1;
    int half = s.hd / 2;
    attn_params p = make_params(s, 0, 1.0 / sqrt((double)half));
    p.q = q;
    p.k = k;
    p.v = v;
    for (int map = 0; map < 2; map++) {
        p.qk_off = map * half;
        p.o = map ? sv->o2 : sv->o1;
        p.lse = sv->lse + (long)map * s.B * s.H * s.T;
        if (diff_forward_map(p, s.hd, st, err)) return -1;
    }
    long rows = (long)s.B * s.T * s.H;
    diff_combine_forward_kernel<<<(unsigned)((rows + DIFF_ROWS_PER_BLOCK - 1) / DIFF_ROWS_PER_BLOCK),
                                  DIFF_ROWS_PER_BLOCK * WARP_SIZE, 0, st>>>(out, sv->rstd, sv->o1, sv->o2, lambda,
                                                                            rows, s.H, s.hd);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// Scratch: g and -lambda g (bf16 [B,T,H,hd] each), then the row dots and D (fp32 [B*T*H]
// each), then version 3's dQ buffer of a map (fp32 [B*T*H][hd / 2]).
size_t diff_attention_backward_scratch_bytes(attn_shape s) {
    size_t n = (size_t)s.B * s.T * s.H * s.hd, rows = (size_t)s.B * s.T * s.H;
    return 2 * n * sizeof(floatX) + 2 * rows * sizeof(float) + rows * (size_t)(s.hd / 2) * sizeof(float);
}

int diff_attention_backward_cuda(floatX *dq, floatX *dk, floatX *dv, float *dlambda, void *scratch,
                                 size_t scratch_bytes, const floatX *dout, const diff_attn_saved_cuda *sv,
                                 const floatX *q, const floatX *k, const floatX *v, const float *lambda, attn_shape s,
                                 attn_grad_write mode, star_stream st, star_error *err) {
    const char *who = "diff_attention_backward_cuda";
    if (diff_check(s, sv, lambda, who, err)) return -1;
    if (!dq || !dk || !dv || !dlambda || !scratch)
        return STAR_FAIL(err, "%s: dq, dk, dv, dlambda and scratch are required", who);
    if (scratch_bytes < diff_attention_backward_scratch_bytes(s))
        return STAR_FAIL(err, "%s: scratch of %zu bytes is smaller than the %zu needed", who, scratch_bytes,
                         diff_attention_backward_scratch_bytes(s));
    const void *ptrs[] = {dq, dk, dv, dout, q, k, v, scratch};
    if (check_aligned(ptrs, 8, who, err)) return -1;
    long n = (long)s.B * s.T * s.H * s.hd, rows = (long)s.B * s.T * s.H;
    floatX *g1 = (floatX *)scratch, *g2 = g1 + n;
    float *rowdot = (float *)(g2 + n), *dvec = rowdot + rows;
    diff_grad_pre_kernel<<<(unsigned)((rows + DIFF_ROWS_PER_BLOCK - 1) / DIFF_ROWS_PER_BLOCK),
                           DIFF_ROWS_PER_BLOCK * WARP_SIZE, 0, st>>>(g1, g2, rowdot, dout, sv->o1, sv->o2, sv->rstd,
                                                                     lambda, rows, s.H, s.hd);
    cudaCheck(cudaGetLastError(), err);
    diff_dlambda_kernel<<<s.H, 256, 0, st>>>(dlambda, rowdot, rows, s.H);
    cudaCheck(cudaGetLastError(), err);

    int half = s.hd / 2;
    attn_params p = make_params(s, 0, 1.0 / sqrt((double)half));
    p.q = q;
    p.k = k;
    p.v = v;
    p.dvec = dvec;
    p.dqacc = dvec + rows;
    p.dq = dq;
    p.dk = dk;
    p.dv = dv;
    // The maps' q and k channels are disjoint halves; both maps write dv, the second adding
    // onto the first.
    attn_grad_write second = mode;
    second.dv = GRAD_ADD;
    for (int map = 0; map < 2; map++) {
        set_grad_modes(&p, map ? second : mode);
        p.qk_off = map * half;
        p.dout = map ? g2 : g1;
        p.out = map ? sv->o2 : sv->o1;
        p.lse_in = sv->lse + (long)map * s.B * s.H * s.T;
        if (diff_backward_map(p, s.hd, st, err)) return -1;
    }
    return 0;
}
