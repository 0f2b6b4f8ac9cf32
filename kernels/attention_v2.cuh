// star: version 2 of the causal attention kernels (attention.cu includes this after
// version 1 and chooses between them at run time: attention_kernel_version_cuda). Same
// arithmetic contract as version 1 (fp32 accumulation, P and dS rounded to bf16 for their
// products, deterministic backward without atomics); what changes is how the tiles move:
//   - fragments come from shared memory through ldmatrix (.trans for operands stored
//     k-major: V in P V, dO in P^T dO, Q in dS^T Q, K in dS K) instead of 32-bit and
//     16-bit scalar loads;
//   - the streamed tiles (K/V in the forward and dQ kernels, Q/dO/lse/D in the dK/dV
//     kernel) are double-buffered with cp.async: tile n + 1 loads while tile n computes;
//   - the forward keeps the warp's Q fragments in registers for the whole key loop;
//   - exponentials are exp2 with the softmax scale folded into log2(e) (one FMA each);
//   - a warp tests per tile whether all its (row, key) pairs are visible (no mask) or none
//     is (the tile's products are skipped: that warp has nothing to add there);
//   - larger tiles: the forward runs 128 query rows (8 warps), the dQ kernel 128 (hd 64)
//     or 64 (hd 128), the dK/dV kernel 128 keys (hd 64) or 64 (hd 128); heavy causal
//     blocks (the last query tiles) are launched first.
// Rows and keys past T are zero-filled by cp.async (src-size 0) and masked.
#ifndef STAR_KERNELS_ATTENTION_V2_CUH
#define STAR_KERNELS_ATTENTION_V2_CUH

#define ATT2_LOG2E 1.4426950408889634f
#define ATT2_LN2 0.6931471805599453f

// The exponentials are exp2_ftz (kernels/common.cuh: no denormal fix-up around each
// MUFU.EX2; a softmax never needs those results, the largest probability of a row is at
// least 1/T, so the flushed ones change no sum). Version 2's forward keeps exp2f for its 4
// rescale factors per tile: with exp2_ftz there too ptxas spills its 32-row warps at value
// width 64 (255 registers and 16/52 bytes, CUDA 13.0; with exp2f there, 255 and none).

// The causal (and window) mask of a fragment row as a range of columns. With base the
// column of the thread's first element (k0 + 2t along keys, i0 + 2t along queries),
// element (nt, e) is visible iff lo <= nt * 8 + (e & 1) <= hi: one compare of a register
// with a constant per bound, where visible() per element compiled to about ten
// instructions (bit masks of its three tests). The same elements as visible().
// Keys query i sees, [i - window + 1, i] (none where i >= T):
__device__ __forceinline__ void keys_seen(int i, int T, int window, int base, int *lo, int *hi) {
    *lo = (window > 0 ? i - window + 1 : -(1 << 30)) - base;
    *hi = i < T ? i - base : *lo - 1;
}
// Queries that see key j, [j, j + window - 1] below T:
__device__ __forceinline__ void queries_seeing(int j, int T, int window, int base, int *lo, int *hi) {
    *lo = j - base;
    *hi = (window > 0 ? min(T - 1, j + window - 1) : T - 1) - base;
}

// Tile shapes of version 2 (NW warps of 16 rows each, in the forward MT row tiles each).
template <int VD>
struct att2_cfg {
    // forward: 128 query rows, as 8 warps of 16 rows or, at value width 64, 4 warps of
    // 32 rows (attention_forward_rows_per_warp_set_cuda picks for a comparison). At value
    // width 32 the 32-row warps measured 0.96x the 16-row ones (H200), so 16 stay there.
    static constexpr int FWD_MT = VD == 64 ? 2 : 1;
    static constexpr int DQ_NW = VD >= 128 ? 4 : 8;  // dQ: 64 or 128 query rows
    static constexpr int DKV_NW = VD >= 128 ? 4 : 8; // dK/dV: 64 or 128 keys
    static constexpr int DKV_BQ = VD >= 128 ? 32 : 64;  // dK/dV: query rows per streamed tile
                                                        // (widths <= 64: att2_dkv_alt's 32 by default)
};
// The dK/dV kernel's 32-row shape at value widths up to 64 (the default there since
// measured, backward_map_v2; attention_backward_dkv_rows_set_cuda picks either): 32-row
// query tiles halve the P^T and dP^T registers, so ptxas fits the kernel in 128 registers
// and 2 blocks of 8 warps share an SM. The same 16-row chunks of
// the same queries reach each accumulator in the same order, so dk and dv are the bits
// of the 64-row tiles (the test checks it); version 3's dq sums the same products in
// another order, as its atomics do anyway.
template <int VD>
struct att2_dkv_alt {
    static constexpr bool has = VD <= 64;
    static constexpr int BQ = 32, MINB = 2;
};
// The dQ kernel's 2-blocks shape at value widths up to 64 (the default there since
// measured; attention_backward_dq_blocks_set_cuda picks either): the same code held to 128
// registers (at hd 64 16 bytes of spills), so 2 blocks of 8 warps share an SM. Same
// arithmetic, same bits.
template <int VD>
struct att2_dq_alt {
    static constexpr bool has = VD <= 64;
    static constexpr int MINB = 2;
};
// The forward's block: 128 query rows as NW warps of MT row tiles. 16-row warps: 1 block
// per SM (2 would cap registers at 128 and ptxas spills at hd 64); 32-row warps: 4 warps
// and 2 blocks per SM.
template <int VD, int MT>
struct att2_fwd_cfg {
    static constexpr int NW = 8 / MT, MINB = MT == 2 ? 2 : 1;
};

// cp.async of rows r0 .. r0 + NROWS - 1 (COLS values each, from column 0 of a [T, stride]
// matrix) into s with leading dimension COLS + ATT_PAD; rows at or past T become zeros.
// WHOLE: a constant trip count (the loop unrolls whole, no bound test when NTHREADS divides
// the pieces): fewer instructions, but the unrolled addresses can cost registers.
template <int COLS, int NROWS, int NTHREADS, bool WHOLE = true>
__device__ __forceinline__ void cp_tile(floatX *s, const floatX *g, long stride, int r0, int T) {
    constexpr int LD = COLS + ATT_PAD, CH = COLS / PACK, N = NROWS * CH, IT = (N + NTHREADS - 1) / NTHREADS;
    auto piece = [&](int idx) {  // 16 bytes: row idx / CH, columns from (idx % CH) * 8
        int r = idx / CH, c = (idx % CH) * PACK;
        bool ok = r0 + r < T;
        cp_async16(s + r * LD + c, g + (long)(ok ? r0 + r : 0) * stride + c, ok);
    };
    if constexpr (!WHOLE) {
#pragma unroll
        for (int idx = threadIdx.x; idx < N; idx += NTHREADS) piece(idx);
    } else {
#pragma unroll
        for (int it = 0; it < IT; it++) {
            int idx = threadIdx.x + it * NTHREADS;
            if (N % NTHREADS != 0 && idx >= N) break;
            piece(idx);
        }
    }
}

// cp.async of N row values (lse or D) from r0; 0 past T.
template <int N, int NTHREADS>
__device__ __forceinline__ void cp_row_values(float *s, const float *g, int r0, int T) {
    constexpr int IT = (N + NTHREADS - 1) / NTHREADS;
#pragma unroll
    for (int it = 0; it < IT; it++) {
        int i = threadIdx.x + it * NTHREADS;
        if (N % NTHREADS != 0 && i >= N) break;
        bool ok = r0 + i < T;
        cp_async4(s + i, g + (ok ? r0 + i : 0), ok);
    }
}

// Key/value tile (the key rows from k0) into buffer nb of Ks and Vs.
template <int QKD, int VD, int BK, int NT, bool WHOLE = true>
__device__ __forceinline__ void kv_tile_load(floatX *Ks, floatX *Vs, const floatX *kg, const floatX *vg, long ks,
                                             int nb, int k0, int T) {
    cp_tile<QKD, BK, NT, WHOLE>(Ks + nb * BK * (QKD + ATT_PAD), kg, ks, k0, T);
    cp_tile<VD, BK, NT, WHOLE>(Vs + nb * BK * (VD + ATT_PAD), vg, ks, k0, T);
}

// The key loop's double buffering (forward and dQ): starts loading key/value tile n + 1
// (the key rows from k0 + BK) into the other buffer, then waits until tile n, and all
// that was committed before it, is in shared memory for the whole block.
template <int QKD, int VD, int BK, int NT, bool WHOLE = true>
__device__ __forceinline__ void next_kv_tile(floatX *Ks, floatX *Vs, const floatX *kg, const floatX *vg, long ks,
                                             int n, int ntiles, int k0, int T) {
    if (n + 1 < ntiles) kv_tile_load<QKD, VD, BK, NT, WHOLE>(Ks, Vs, kg, vg, ks, (n + 1) & 1, k0 + BK, T);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
}

// The key loop with three buffers (NBUF 3): tile n + 2 loads while tile n computes, and
// one barrier per tile instead of two. Before tile n's products: wait until tile n (and all
// committed before it) is in, one barrier (tile n visible to every warp, and every warp
// done with tile n - 1, whose buffer (n + 2) % 3 the load of tile n + 2 then takes). The
// caller committed tiles 0 and 1 (or an empty group) before the loop.
template <int QKD, int VD, int BK, int NT, bool WHOLE = true>
__device__ __forceinline__ void next_kv_tile3(floatX *Ks, floatX *Vs, const floatX *kg, const floatX *vg, long ks,
                                              int n, int ntiles, int k0, int T) {
    cp_async_wait<1>();
    __syncthreads();
    if (n + 2 < ntiles) kv_tile_load<QKD, VD, BK, NT, WHOLE>(Ks, Vs, kg, vg, ks, (n + 2) % 3, k0 + 2 * BK, T);
    cp_async_commit();
}

// Before the key loop: tile 1 into buffer 1 where NBUF is 3 (tile 0 is committed by then;
// an empty group where there is no tile 1, so that the loop's waits count alike).
template <int QKD, int VD, int BK, int NT, int NBUF, bool WHOLE = true>
__device__ __forceinline__ void kv_tile1(floatX *Ks, floatX *Vs, const floatX *kg, const floatX *vg, long ks,
                                         int ntiles, int kbeg, int T) {
    if constexpr (NBUF == 3) {
        if (ntiles > 1) kv_tile_load<QKD, VD, BK, NT, WHOLE>(Ks, Vs, kg, vg, ks, 1, kbeg + BK, T);
        cp_async_commit();
    }
}

// Tile n's buffering: NBUF 2 (next_kv_tile, a second barrier after the products) or 3.
template <int QKD, int VD, int BK, int NT, int NBUF, bool WHOLE = true>
__device__ __forceinline__ void kv_tile_in(floatX *Ks, floatX *Vs, const floatX *kg, const floatX *vg, long ks, int n,
                                          int ntiles, int k0, int T) {
    if constexpr (NBUF == 3) next_kv_tile3<QKD, VD, BK, NT, WHOLE>(Ks, Vs, kg, vg, ks, n, ntiles, k0, T);
    else next_kv_tile<QKD, VD, BK, NT, WHOLE>(Ks, Vs, kg, vg, ks, n, ntiles, k0, T);
}
template <int NBUF>
__device__ __forceinline__ void kv_tile_done() {
    if constexpr (NBUF == 2) __syncthreads();  // buffer n & 1 is consumed before tile n + 2 loads into it
}

// ---- Forward --------------------------------------------------------------------------
// Block = (BQ = 16 NW MT queries, head, batch), key tiles of ATT_BK double-buffered; each
// warp holds MT tiles of 16 query rows. With MT 2 every K and V fragment a warp loads
// from shared memory feeds two products, and the two row tiles' products and
// exponentials are independent work for the scheduler to overlap. Each row's arithmetic
// is the same whatever NW and MT (same key tiles, same product order): the results are
// bit-identical (the test checks it). Shared memory: Q [BQ][LQ], K [2][ATT_BK][LQ], V
// [2][ATT_BK][LV].
template <int QKD, int VD, int NW, int MT, int NBUF = 2>
__global__ void __launch_bounds__(NW *WARP_SIZE, att2_fwd_cfg<VD, MT>::MINB) attention_forward_v2_kernel(attn_params p) {
    constexpr int BQ = 16 * NW * MT, BK = ATT_BK, NT = NW * WARP_SIZE;
    constexpr int LQ = QKD + ATT_PAD, LV = VD + ATT_PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    floatX *Qs = reinterpret_cast<floatX *>(smem), *Ks = Qs + BQ * LQ, *Vs = Ks + NBUF * BK * LQ;
    int T = p.T, H = p.H, b = blockIdx.z, h = blockIdx.y, grp = h / (H / p.Hkv);
    int q0 = (gridDim.x - 1 - blockIdx.x) * BQ;  // the longest rows first
    int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    const floatX *qg = p.q + ((long)b * T * H + h) * p.hd + p.qk_off;
    const floatX *kg = p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off;
    const floatX *vg = p.v + ((long)b * T * p.Hkv + grp) * p.hd;
    int kbeg = first_key_tile(q0, p.window), kend = min(q0 + BQ - 1, T - 1);
    int ntiles = (kend - kbeg) / BK + 1;

    // The loops as they were (WHOLE false): unrolled whole, they cost the 32-row-warp forward
    // spills at hd 64 (253 registers there).
    cp_tile<QKD, BQ, NT, false>(Qs, qg, qs, q0, T);
    cp_async_commit();
    kv_tile_load<QKD, VD, BK, NT, false>(Ks, Vs, kg, vg, ks, 0, kbeg, T);
    cp_async_commit();
    kv_tile1<QKD, VD, BK, NT, NBUF, false>(Ks, Vs, kg, vg, ks, ntiles, kbeg, T);
    cp_async_wait<NBUF - 1>();  // Q is in
    __syncthreads();
    int r_lo = q0 + warp * 16 * MT, r_hi = r_lo + 16 * MT - 1;
    uint32_t qf[MT][QKD / 16][4];
    int row[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int kk = 0; kk < QKD / 16; kk++) ldsm_a<LQ>(qf[mt][kk], Qs, (warp * MT + mt) * 16, kk * 16);
        row[mt][0] = r_lo + 16 * mt + g;
        row[mt][1] = row[mt][0] + 8;
    }

    const float sl2 = p.scale * ATT2_LOG2E;
    float o[MT][VD / 8][4] = {};
    float ms[MT][2], l[MT][2];  // ms: running max of scale * log2e * s
#pragma unroll
    for (int mt = 0; mt < MT; mt++) ms[mt][0] = ms[mt][1] = -INFINITY, l[mt][0] = l[mt][1] = 0.0f;
    for (int n = 0; n < ntiles; n++) {
        int k0 = kbeg + n * BK;
        kv_tile_in<QKD, VD, BK, NT, NBUF, false>(Ks, Vs, kg, vg, ks, n, ntiles, k0, T);  // tile n is in
        int buf = NBUF == 3 ? n % 3 : n & 1;
        const floatX *Kb = Ks + buf * BK * LQ, *Vb = Vs + buf * BK * LV;
        // A row tile with no visible key here gets -inf scores: its state does not change
        // (corr 1 and no mass), as if skipped.
        bool none = r_hi < k0 || r_lo >= T || (p.window > 0 && r_lo - (k0 + BK - 1) >= p.window);
        if (!none) {
            bool all = k0 + BK - 1 <= r_lo && r_hi < T && (p.window == 0 || r_hi - k0 < p.window);
            float s[MT][BK / 8][4] = {};
#pragma unroll
            for (int kk = 0; kk < QKD / 16; kk++)
#pragma unroll
                for (int np = 0; np < BK / 16; np++) {
                    uint32_t bb[4];
                    ldsm_b_nk<LQ>(bb, Kb, np * 16, kk * 16);
#pragma unroll
                    for (int mt = 0; mt < MT; mt++) {
                        mma_bf16(s[mt][2 * np], qf[mt][kk], bb);
                        mma_bf16(s[mt][2 * np + 1], qf[mt][kk], bb + 2);
                    }
                }
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if (!all) {
                    int lo[2], hi[2];
                    #pragma unroll
                    for (int r = 0; r < 2; r++) keys_seen(row[mt][r], T, p.window, k0 + 2 * t, &lo[r], &hi[r]);
#pragma unroll
                    for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                        for (int e = 0; e < 4; e++) {
                            int c = nt * 8 + (e & 1);
                            if (c < lo[e >> 1] || c > hi[e >> 1]) s[mt][nt][e] = -INFINITY;
                        }
                }
                float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
                for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) mx[e >> 1] = fmaxf(mx[e >> 1], s[mt][nt][e]);
                float mu[2], corr[2];
#pragma unroll
                for (int r = 0; r < 2; r++) {  // the 4 lanes of a quad hold one row
                    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
                    float mnew = fmaxf(ms[mt][r], mx[r] * sl2);
                    mu[r] = mnew == -INFINITY ? 0.0f : mnew;  // no key seen yet: exp2(-inf - 0) = 0
                    corr[r] = exp2f(ms[mt][r] - mu[r]);
                    ms[mt][r] = mnew;
                }
#pragma unroll
                for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) s[mt][nt][e] = exp2_ftz(fmaf(s[mt][nt][e], sl2, -mu[e >> 1]));
                softmax_tile_update<BK, VD>(l[mt], o[mt], s[mt], corr);
            }
            ldsm_mma_pkn_rows<MT, BK, VD, LV>(o, s, Vb);
        }
        kv_tile_done<NBUF>();
    }
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int r = 0; r < 2; r++) {
            float lr = l[mt][r];
            lr += __shfl_xor_sync(0xffffffffu, lr, 1);
            lr += __shfl_xor_sync(0xffffffffu, lr, 2);
            int i = row[mt][r];
            if (i >= T) continue;
            float inv = 1.0f / lr;
            floatX *orow = p.o + (((long)b * T + i) * H + h) * p.hd;
#pragma unroll
            for (int dt = 0; dt < VD / 8; dt++)
                *reinterpret_cast<__nv_bfloat162 *>(orow + dt * 8 + 2 * t) =
                    __floats2bfloat162_rn(o[mt][dt][2 * r] * inv, o[mt][dt][2 * r + 1] * inv);
            if (t == 0) p.lse[((long)b * H + h) * T + i] = ms[mt][r] * ATT2_LN2 + logf(lr);
        }
}

// ---- Backward: dK/dV ------------------------------------------------------------------
// Block = (KB = 16 NW keys, kv head, batch); streams (query head of the group, query tile
// of BQ rows) pairs in order, double-buffered. Shared memory: K [KB][LQ], V [KB][LV],
// Q [2][BQ][LQ], dO [2][BQ][LV], lse [2][BQ], D [2][BQ].
// Version 3 (attention_kernel_version_cuda): dQ in the dK/dV pass, as FlashAttention-2
// does it. Each tile's dS (bf16, the rounding the dQ kernel gives it) goes through shared
// memory as [query][key]; the block's warps, re-partitioned RG x CP over (query rows,
// dQ columns), form dQ_tile = dS K over the block's KB keys and add it into an fp32
// buffer [B,T,H,QKD] with atomics; a last kernel adds scale * buffer into dq. Five tile
// products instead of seven, but the order of the atomic adds varies between runs, so
// dq's last bits do (dk and dv stay those of version 2). Needs the columns to split into
// 16-wide parts: not the 16-wide half-heads of differential attention at head dim 32,
// which keep version 2's dQ kernel.
template <int QKD, int NW, int BQ>
struct adq_cfg {
    static constexpr int RG = BQ / 16, CP = NW / RG, NCOL = QKD / (CP > 0 ? CP : 1);
    static constexpr bool ok = CP > 0 && NW % RG == 0 && QKD % CP == 0 && NCOL % 16 == 0;
    // Run only where it pays: with 64-key blocks (NW 4, value width 128) each dq value
    // takes twice the atomics of 128-key ones, and at hd 128 the backward ran 0.87x
    // version 2 (H200); at hd 32 and 64 (128 keys) 1.19 to 1.23x.
    static constexpr bool use = ok && 16 * NW >= 128;
};

template <int QKD, int VD, int NW, int BQ, bool ADQ, int MINB = 0, int NBUF = 2>
__global__ void __launch_bounds__(NW *WARP_SIZE, MINB) attention_backward_dkv_v2_kernel(attn_params p) {
    constexpr int KB = 16 * NW, NT = NW * WARP_SIZE;
    constexpr int LQ = QKD + ATT_PAD, LV = VD + ATT_PAD, LS = KB + ATT_PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    floatX *Ks = reinterpret_cast<floatX *>(smem), *Vs = Ks + KB * LQ, *Qs = Vs + KB * LV, *dOs = Qs + NBUF * BQ * LQ;
    float *lse_s = reinterpret_cast<float *>(dOs + NBUF * BQ * LV), *D_s = lse_s + NBUF * BQ;
    floatX *dSs = reinterpret_cast<floatX *>(D_s + NBUF * BQ);  // version 3: dS [BQ][LS]
    int T = p.T, H = p.H, b = blockIdx.z, grp = blockIdx.y, rep = H / p.Hkv;
    int j0 = blockIdx.x * KB, warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    int g = lane >> 2, t = lane & 3;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    cp_tile<QKD, KB, NT>(Ks, p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off, ks, j0, T);
    cp_tile<VD, KB, NT>(Vs, p.v + ((long)b * T * p.Hkv + grp) * p.hd, ks, j0, T);
    cp_async_commit();

    int istart = j0 / BQ * BQ;
    int qend = p.window > 0 ? min(T - 1, j0 + KB - 1 + p.window - 1) : T - 1;
    int nph = (qend - istart) / BQ + 1, ntiles = rep * nph;
    // Tile n: query head grp * rep + n / nph, rows istart + (n % nph) BQ.
    auto load = [&](int n, int buf) {
        int h = grp * rep + n / nph, i0 = istart + (n % nph) * BQ;
        cp_tile<QKD, BQ, NT>(Qs + buf * BQ * LQ, p.q + ((long)b * T * H + h) * p.hd + p.qk_off, qs, i0, T);
        cp_tile<VD, BQ, NT>(dOs + buf * BQ * LV, p.dout + ((long)b * T * H + h) * p.hd, qs, i0, T);
        cp_row_values<BQ, NT>(lse_s + buf * BQ, p.lse_in + ((long)b * H + h) * T, i0, T);
        cp_row_values<BQ, NT>(D_s + buf * BQ, p.dvec + ((long)b * H + h) * T, i0, T);
    };
    load(0, 0);
    cp_async_commit();
    if constexpr (NBUF == 3) {  // tile 1 as well (an empty group where there is none)
        if (ntiles > 1) load(1, 1);
        cp_async_commit();
    }

    int jl = j0 + warp * 16, jh = jl + 15;
    int key[2] = {jl + g, jl + g + 8};
    const float sl2 = p.scale * ATT2_LOG2E;
    float dk[QKD / 8][4] = {}, dv[VD / 8][4] = {};
    for (int n = 0; n < ntiles; n++) {
        int buf;
        if constexpr (NBUF == 3) {  // as next_kv_tile3: tile n + 2 into the buffer of tile n - 1
            cp_async_wait<1>();     // K, V and tile n are in
            __syncthreads();
            if (n + 2 < ntiles) load(n + 2, (n + 2) % 3);
            cp_async_commit();
            buf = n % 3;
        } else {
            if (n + 1 < ntiles) load(n + 1, (n + 1) & 1);
            cp_async_commit();
            cp_async_wait<1>();  // K, V and tile n are in
            __syncthreads();
            buf = n & 1;
        }
        int i0 = istart + (n % nph) * BQ;
        const floatX *Qb = Qs + buf * BQ * LQ, *dOb = dOs + buf * BQ * LV;
        const float *lse_b = lse_s + buf * BQ, *D_b = D_s + buf * BQ;
        bool none = jl > i0 + BQ - 1 || jl >= T || (p.window > 0 && i0 - jh >= p.window);
        if (!none) {
            bool all = jh <= i0 && i0 + BQ <= T && (p.window == 0 || i0 + BQ - 1 - jl < p.window);
            // S^T = K Q^T (this warp's 16 keys x BQ queries), then P^T.
            float pt[BQ / 8][4] = {};
            ldsm_mma_nk<QKD, BQ, LQ, LQ>(pt, Ks, warp * 16, Qb);
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++)
                    pt[nt][e] = exp2_ftz(fmaf(pt[nt][e], sl2, -lse_b[nt * 8 + 2 * t + (e & 1)] * ATT2_LOG2E));
            // The mask as a pass of its own, on the tiles that need it (a test per element fused
            // into the loop above made the compiler keep the tests as bit masks in registers,
            // a third of the dQ kernel's instructions, on every tile).
            if (!all) {
                int lo[2], hi[2];
                #pragma unroll
                for (int r = 0; r < 2; r++) queries_seeing(key[r], T, p.window, i0 + 2 * t, &lo[r], &hi[r]);
#pragma unroll
                for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        int c = nt * 8 + (e & 1);
                        if (c < lo[e >> 1] || c > hi[e >> 1]) pt[nt][e] = 0.0f;
                    }
            }
            // dP^T = V dO^T
            float dpt[BQ / 8][4] = {};
            ldsm_mma_nk<VD, BQ, LV, LV>(dpt, Vs, warp * 16, dOb);
            // dV += P^T dO
            ldsm_mma_pkn<BQ, VD, LV>(dv, pt, dOb);
            // dS^T = P^T (dP^T - D), kept in pt; dK += dS^T Q (scale applied at the end)
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) pt[nt][e] *= dpt[nt][e] - D_b[nt * 8 + 2 * t + (e & 1)];
            ldsm_mma_pkn<BQ, QKD, LQ>(dk, pt, Qb);
            if constexpr (ADQ) {
#pragma unroll
                for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        dSs[(nt * 8 + 2 * t + (e & 1)) * LS + warp * 16 + g + 8 * (e >> 1)] =
                            __float2bfloat16_rn(pt[nt][e]);
            }
        }
        if constexpr (ADQ) {
            if (none) {  // this warp's keys add nothing to the tile's dQ
#pragma unroll
                for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        dSs[(nt * 8 + 2 * t + (e & 1)) * LS + warp * 16 + g + 8 * (e >> 1)] = __float2bfloat16_rn(0.0f);
            }
            __syncthreads();  // the whole tile's dS is in
            using C = adq_cfg<QKD, NW, BQ>;
            int rg = warp % C::RG, cp = warp / C::RG;
            float dqt[C::NCOL / 8][4] = {};
#pragma unroll
            for (int kk = 0; kk < KB / 16; kk++) {
                uint32_t a[4];
                ldsm_a<LS>(a, dSs, rg * 16, kk * 16);
#pragma unroll
                for (int dp = 0; dp < C::NCOL / 16; dp++) {
                    uint32_t bb[4];
                    ldsm_b_kn<LQ>(bb, Ks, kk * 16, cp * C::NCOL + dp * 16);
                    mma_bf16(dqt[2 * dp], a, bb);
                    mma_bf16(dqt[2 * dp + 1], a, bb + 2);
                }
            }
            int h = grp * rep + n / nph;
#pragma unroll
            for (int r = 0; r < 2; r++) {
                int i = i0 + rg * 16 + g + 8 * r;
                if (i >= T) continue;
                float *dst = p.dqacc + (((long)b * T + i) * H + h) * QKD + cp * C::NCOL + 2 * t;
#pragma unroll
                for (int nt = 0; nt < C::NCOL / 8; nt++) {
                    atomicAdd(dst + nt * 8, dqt[nt][2 * r]);
                    atomicAdd(dst + nt * 8 + 1, dqt[nt][2 * r + 1]);
                }
            }
        }
        // NBUF 2: buffer n & 1 (and dS) is consumed before tile n + 2 loads into it. NBUF 3:
        // the next tile's barrier comes before its load and before its dS is written.
        kv_tile_done<NBUF>();
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

// ---- Backward: dQ ---------------------------------------------------------------------
// Block = (BQ = 16 NW queries, head, batch), the forward's key loop (double-buffered),
// recomputing P and dP; dQ += scale dS K. Shared memory: Q [BQ][LQ], dO [BQ][LV],
// K [2][ATT_BK][LQ], V [2][ATT_BK][LV]; lse and D of the thread's two rows in registers.
template <int QKD, int VD, int NW, int MINB = 0, int NBUF = 2>
__global__ void __launch_bounds__(NW *WARP_SIZE, MINB) attention_backward_dq_v2_kernel(attn_params p) {
    constexpr int BQ = 16 * NW, BK = ATT_BK, NT = NW * WARP_SIZE;
    constexpr int LQ = QKD + ATT_PAD, LV = VD + ATT_PAD;
    extern __shared__ __align__(16) unsigned char smem[];
    floatX *Qs = reinterpret_cast<floatX *>(smem), *dOs = Qs + BQ * LQ, *Ks = dOs + BQ * LV, *Vs = Ks + NBUF * BK * LQ;
    int T = p.T, H = p.H, b = blockIdx.z, h = blockIdx.y, grp = h / (H / p.Hkv);
    int q0 = (gridDim.x - 1 - blockIdx.x) * BQ;  // the longest rows first
    int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    const floatX *kg = p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off;
    const floatX *vg = p.v + ((long)b * T * p.Hkv + grp) * p.hd;
    int kbeg = first_key_tile(q0, p.window), kend = min(q0 + BQ - 1, T - 1);
    int ntiles = (kend - kbeg) / BK + 1;

    cp_tile<QKD, BQ, NT>(Qs, p.q + ((long)b * T * H + h) * p.hd + p.qk_off, qs, q0, T);
    cp_tile<VD, BQ, NT>(dOs, p.dout + ((long)b * T * H + h) * p.hd, qs, q0, T);
    kv_tile_load<QKD, VD, BK, NT>(Ks, Vs, kg, vg, ks, 0, kbeg, T);
    cp_async_commit();
    kv_tile1<QKD, VD, BK, NT, NBUF>(Ks, Vs, kg, vg, ks, ntiles, kbeg, T);

    int r_lo = q0 + warp * 16, r_hi = r_lo + 15;
    int row[2] = {r_lo + g, r_lo + g + 8};
    const float sl2 = p.scale * ATT2_LOG2E;
    float lse2[2], Dr[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        bool ok = row[r] < T;
        lse2[r] = ok ? p.lse_in[((long)b * H + h) * T + row[r]] * ATT2_LOG2E : 0.0f;
        Dr[r] = ok ? p.dvec[((long)b * H + h) * T + row[r]] : 0.0f;
    }
    float dq[QKD / 8][4] = {};
    for (int n = 0; n < ntiles; n++) {
        int k0 = kbeg + n * BK;
        kv_tile_in<QKD, VD, BK, NT, NBUF>(Ks, Vs, kg, vg, ks, n, ntiles, k0, T);  // Q, dO and tile n are in
        int buf = NBUF == 3 ? n % 3 : n & 1;
        const floatX *Kb = Ks + buf * BK * LQ, *Vb = Vs + buf * BK * LV;
        bool none = r_hi < k0 || r_lo >= T || (p.window > 0 && r_lo - (k0 + BK - 1) >= p.window);
        if (!none) {
            bool all = k0 + BK - 1 <= r_lo && r_hi < T && (p.window == 0 || r_hi - k0 < p.window);
            float s[BK / 8][4] = {}, dpr[BK / 8][4] = {};
            ldsm_mma_nk<QKD, BK, LQ, LQ>(s, Qs, warp * 16, Kb);
            ldsm_mma_nk<VD, BK, LV, LV>(dpr, dOs, warp * 16, Vb);
            // dS = P (dP - D), P = exp2(scale log2e S - lse log2e); masked entries are 0 (the
            // mask a pass of its own on the tiles that need it, as in the dK/dV kernel).
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[nt][e] = exp2_ftz(fmaf(s[nt][e], sl2, -lse2[e >> 1]));
            if (!all) {
                int lo[2], hi[2];
                #pragma unroll
                for (int r = 0; r < 2; r++) keys_seen(row[r], T, p.window, k0 + 2 * t, &lo[r], &hi[r]);
#pragma unroll
                for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        int c = nt * 8 + (e & 1);
                        if (c < lo[e >> 1] || c > hi[e >> 1]) s[nt][e] = 0.0f;
                    }
            }
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[nt][e] *= dpr[nt][e] - Dr[e >> 1];
            ldsm_mma_pkn<BK, QKD, LQ>(dq, s, Kb);
        }
        kv_tile_done<NBUF>();
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int i = row[r];
        if (i >= T) continue;
        floatX *dst = p.dq + (((long)b * T + i) * H + h) * p.hd + p.qk_off;
#pragma unroll
        for (int dt = 0; dt < QKD / 8; dt++)
            grad_pair(dst + dt * 8 + 2 * t, p.scale * dq[dt][2 * r], p.scale * dq[dt][2 * r + 1], p.add_dq);
    }
}

// Version 3's last step: dq[.., qk_off + d] += scale * acc[.., d] (acc [B*T*H][QKD] fp32;
// = under GRAD_SET).
template <int QKD>
__global__ void attention_dq_from_acc_kernel(attn_params p) {
    long rows = (long)p.B * p.T * p.H;
    long idx = blockIdx.x * (long)blockDim.x + threadIdx.x;  // one pair of values
    if (idx >= rows * (QKD / 2)) return;
    long row = idx / (QKD / 2);
    int d = 2 * (int)(idx % (QKD / 2));
    const float *a = p.dqacc + row * QKD + d;
    grad_pair(p.dq + row * p.hd + p.qk_off + d, p.scale * a[0], p.scale * a[1], p.add_dq);
}

// ---- Launchers -------------------------------------------------------------------------
template <int QKD, int VD, int MT, int NBUF = 2>
static int forward_launch_v2(attn_params p, star_stream st, star_error *err) {
    constexpr int NW = att2_fwd_cfg<VD, MT>::NW, BQ = 16 * NW * MT;
    size_t smem =
        sizeof(floatX) * ((size_t)(BQ + NBUF * ATT_BK) * (QKD + ATT_PAD) + (size_t)NBUF * ATT_BK * (VD + ATT_PAD));
    cudaCheck(cudaFuncSetAttribute(attention_forward_v2_kernel<QKD, VD, NW, MT, NBUF>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
              err);
    dim3 grid((p.T + BQ - 1) / BQ, p.H, p.B);
    attention_forward_v2_kernel<QKD, VD, NW, MT, NBUF><<<grid, NW * WARP_SIZE, smem, st>>>(p);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// rows_per_warp: 16 or 32 to choose, 0 for att2_cfg's (32 only where it is defined).
// stages 3: the 32-row-warp kernel with three key/value buffers (next_kv_tile3).
template <int QKD, int VD>
static int forward_map_v2(attn_params p, int rows_per_warp, int stages, star_stream st, star_error *err) {
    constexpr int MT = att2_cfg<VD>::FWD_MT;
    if constexpr (MT == 2) {
        if (rows_per_warp == 16) return forward_launch_v2<QKD, VD, 1>(p, st, err);
        if (stages == 3) return forward_launch_v2<QKD, VD, MT, 3>(p, st, err);
    }
    return forward_launch_v2<QKD, VD, MT>(p, st, err);
}

// The dK/dV pass with KBQ-row query tiles. Version 3 (atomic_dq, where adq_cfg uses it)
// also forms dq there and returns 1; otherwise 0 and the dQ kernel is still to run.
template <int QKD, int VD, int KBQ, int MINB, int NBUF = 2>
static int backward_dkv_launch_v2(attn_params p, int atomic_dq, star_stream st, star_error *err) {
    constexpr int KNW = att2_cfg<VD>::DKV_NW, KB = 16 * KNW;
    size_t smem_kv =
        sizeof(floatX) * ((size_t)(KB + NBUF * KBQ) * (QKD + ATT_PAD) + (size_t)(KB + NBUF * KBQ) * (VD + ATT_PAD)) +
        sizeof(float) * 2 * NBUF * KBQ;
    dim3 grid_kv((p.T + KB - 1) / KB, p.Hkv, p.B);
    if constexpr (adq_cfg<QKD, KNW, KBQ>::use) {
        if (atomic_dq) {
            size_t smem3 = smem_kv + sizeof(floatX) * (size_t)KBQ * (KB + ATT_PAD);
            long rows = (long)p.B * p.T * p.H;
            cudaCheck(cudaMemsetAsync(p.dqacc, 0, sizeof(float) * (size_t)rows * QKD, st), err);
            cudaCheck(cudaFuncSetAttribute(attention_backward_dkv_v2_kernel<QKD, VD, KNW, KBQ, true, MINB, NBUF>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem3),
                      err);
            attention_backward_dkv_v2_kernel<QKD, VD, KNW, KBQ, true, MINB, NBUF><<<grid_kv, KNW * WARP_SIZE, smem3, st>>>(p);
            cudaCheck(cudaGetLastError(), err);
            long pairs = rows * (QKD / 2);
            attention_dq_from_acc_kernel<QKD><<<(unsigned)((pairs + 255) / 256), 256, 0, st>>>(p);
            cudaCheck(cudaGetLastError(), err);
            return 1;
        }
    }
    cudaCheck(cudaFuncSetAttribute(attention_backward_dkv_v2_kernel<QKD, VD, KNW, KBQ, false, MINB, NBUF>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem_kv),
              err);
    attention_backward_dkv_v2_kernel<QKD, VD, KNW, KBQ, false, MINB, NBUF><<<grid_kv, KNW * WARP_SIZE, smem_kv, st>>>(p);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

template <int QKD, int VD, int MINB, int NBUF = 2>
static int backward_dq_launch_v2(attn_params p, star_stream st, star_error *err) {
    constexpr int QNW = att2_cfg<VD>::DQ_NW, BQ = 16 * QNW;
    size_t smem_q = sizeof(floatX) *
                    ((size_t)(BQ + NBUF * ATT_BK) * (QKD + ATT_PAD) + (size_t)(BQ + NBUF * ATT_BK) * (VD + ATT_PAD));
    cudaCheck(cudaFuncSetAttribute(attention_backward_dq_v2_kernel<QKD, VD, QNW, MINB, NBUF>,
                                   cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem_q),
              err);
    dim3 grid_q((p.T + BQ - 1) / BQ, p.H, p.B);
    attention_backward_dq_v2_kernel<QKD, VD, QNW, MINB, NBUF><<<grid_q, QNW * WARP_SIZE, smem_q, st>>>(p);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// Version 2's passes on wgmma (attention_wgmma.cuh, included after this file): mask 1
// dK/dV, 2 dQ, 16 ping-pong, 32 one warpgroup per block; returns the mask of those that ran (0 where they do not apply).
template <int QKD, int VD>
static int backward_launch_wgmma(attn_params p, int mask, star_stream st, star_error *err);

// After attention_backward_dvec_kernel has written D. atomic_dq: version 3 (p.dqacc set).
// dkv_rows: 32 for att2_dkv_alt's query tiles where it has them, else att2_cfg's;
// dq_blocks: 2 for att2_dq_alt's dQ kernel where it has it; wgmma: the passes to run on
// wgmma where they apply (1 dK/dV, 2 dQ, 16 ping-pong, 32 one warpgroup per block; not version 3, whose dK/dV pass
// forms dq); stages 3: the 32-row dK/dV tiles and the 2-block dQ kernel with three buffers
// for their streamed tiles (next_kv_tile3).
template <int QKD, int VD>
static int backward_map_v2(attn_params p, int atomic_dq, int dkv_rows, int dq_blocks, int wgmma, int stages,
                           star_stream st, star_error *err) {
    // The defaults, from H200 timings (kernels/NOTES.md): at value widths 32 and 64, 32-row
    // dK/dV tiles and the dQ kernel at 2 blocks per SM (version 2's backward 1.12-1.15x);
    // version 3 keeps 64-row tiles at value width 32 (0.97x there).
    if (dkv_rows == 0) dkv_rows = VD == 64 || (VD == 32 && !atomic_dq) ? 32 : 64;
    if (dq_blocks == 0) dq_blocks = VD <= 64 ? 2 : 1;
    int ran = (wgmma & 3) && !atomic_dq ? backward_launch_wgmma<QKD, VD>(p, wgmma, st, err) : 0;
    if (ran < 0) return -1;
    int done = 0;
    if (!(ran & 1)) {
        if constexpr (att2_dkv_alt<VD>::has) {
            constexpr int BQ = att2_dkv_alt<VD>::BQ, MINB = att2_dkv_alt<VD>::MINB;
            if (dkv_rows == BQ && stages == 3) done = backward_dkv_launch_v2<QKD, VD, BQ, MINB, 3>(p, atomic_dq, st, err);
            else if (dkv_rows == BQ) done = backward_dkv_launch_v2<QKD, VD, BQ, MINB>(p, atomic_dq, st, err);
            else
                done = backward_dkv_launch_v2<QKD, VD, att2_cfg<VD>::DKV_BQ, 0>(p, atomic_dq, st, err);
        } else {
            done = backward_dkv_launch_v2<QKD, VD, att2_cfg<VD>::DKV_BQ, 0>(p, atomic_dq, st, err);
        }
        if (done != 0) return done < 0 ? -1 : 0;  // version 3 formed dq
    }
    if (ran & 2) return 0;  // dq formed on wgmma
    if constexpr (att2_dq_alt<VD>::has) {
        constexpr int MINB = att2_dq_alt<VD>::MINB;
        if (dq_blocks == MINB && stages == 3) return backward_dq_launch_v2<QKD, VD, MINB, 3>(p, st, err);
        if (dq_blocks == MINB) return backward_dq_launch_v2<QKD, VD, MINB>(p, st, err);
    }
    return backward_dq_launch_v2<QKD, VD, 0>(p, st, err);
}

#endif
