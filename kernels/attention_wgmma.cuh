// star: version 2's attention passes (forward; backward dK/dV and dQ) on Hopper's
// warpgroup products (kernels/wgmma.cuh), at q.k and value width 64 (attention.cu includes
// this after attention_v2.cuh; attention_wgmma_set_cuda or STAR_ATTN_WGMMA selects them).
// Same contract as version 2's passes: fp32 accumulation, P and dS rounded to bf16 for
// their products, no atomics (deterministic), backward results added to the bf16 outputs.
//
// The dK/dV pass: block = 64 keys per warpgroup (NWG of them: 2, or 1 so that several
// independent blocks share an SM) of one key/value head and batch; the query tiles of the
// group's query heads stream through shared memory (64 rows, double-buffered by cp.async). Per tile and warpgroup, all products on wgmma:
//   S^T  = K Q^T      64 keys x 64 queries, K and Q from shared memory (K-major)
//   dP^T = V dO^T     V and dO from shared memory (K-major)
//   P^T = exp(scale S^T - lse), dS^T = P^T (dP^T - D), masked entries 0 (registers)
//   dV  += P^T dO     P^T from registers, dO from shared memory as N-major
//   dK  += dS^T Q     dS^T from registers, Q as N-major
// Tiles live in shared memory as 8 x 8 core matrices, row blocks one after the other
// (wg_off_kmajor with K = 64): the same bytes serve as the K-major operand of S^T and dP^T
// and as the N-major operand of dV and dK, only the descriptor's strides differ.
#ifndef STAR_KERNELS_ATTENTION_WGMMA_CUH
#define STAR_KERNELS_ATTENTION_WGMMA_CUH

#include "kernels/wgmma.cuh"

#define AWG_D 64                    // q.k and value width
#define AWG_BQ 64                   // queries (keys) per streamed tile; rows per warpgroup
#define AWG_TILE (64 * AWG_D * 2)   // bytes of a 64-row tile

// Blocks of NWG warpgroups (2, or 1: blocks that share an SM then run out of step, so one
// block's exponentials overlap another's products without ping-pong): threads and rows
// (queries or keys) per block. How many blocks an SM is asked to hold is each kernel's
// __launch_bounds__ minimum, which caps its registers.
template <int NWG>
struct awg_block {
    static constexpr int THREADS = 128 * NWG, ROWS = 64 * NWG;
};

// rows r0 .. r0 + NROWS - 1 of a [T, stride] bf16 matrix (64 columns from g) into the core
// matrix layout at s; rows at or past T become zeros. Lanes 8 i .. 8 i + 7 take 8
// consecutive rows of one 16-byte column chunk: one warp writes 512 contiguous bytes.
template <int NROWS, int NT>
__device__ __forceinline__ void awg_cp_tile(unsigned char *s, const floatX *g, long stride, int r0, int T, int tid) {
#pragma unroll
    for (int idx = tid; idx < NROWS * 8; idx += NT) {
        int cb = (idx / 8) % 8, r = idx % 8 + 8 * (idx / 64);
        bool ok = r0 + r < T;
        cp_async16(s + wg_off_kmajor(r, 8 * cb, AWG_D), g + (long)(ok ? r0 + r : 0) * stride + 8 * cb, ok);
    }
}

// Issues x = A B^T (64 x 64, A and B K-major 64 x 64 tiles in shared memory), not waited for.
__device__ __forceinline__ void awg_issue_product(float (&x)[32], const unsigned char *a, const unsigned char *b) {
    constexpr wg_tile KM = wg_tile_kmajor(64, AWG_D);
#pragma unroll
    for (int i = 0; i < 32; i++) x[i] = 0.0f;
    wg_fence_regs(x);
    wgmma_fence();
#pragma unroll
    for (int s = 0; s < AWG_D / 16; s++)
        wgmma_m64n64k16_ss<0, 0>(x, wg_desc(a + s * KM.kstep, KM.lbo, KM.sbo), wg_desc(b + s * KM.kstep, KM.lbo, KM.sbo),
                                 s > 0);
}

// x = A1 B1^T and y = A2 B2^T issued together (one group), not waited for: the score and
// dP products of the backward passes.
__device__ __forceinline__ void awg_issue_two(float (&x)[32], float (&y)[32], const unsigned char *a1,
                                              const unsigned char *b1, const unsigned char *a2,
                                              const unsigned char *b2) {
    awg_issue_product(x, a1, b1);
    awg_issue_product(y, a2, b2);
    wgmma_commit();
}

// Waits for every product issued and makes x and y readable.
__device__ __forceinline__ void awg_wait_two(float (&x)[32], float (&y)[32]) {
    wgmma_wait<0>();
    wg_fence_regs(x);
    wg_fence_regs(y);
}

// Issues acc += A B over 64 k: A from registers (a[s]: the fragments of k16 step s), B the
// N-major reading of a 64 x 64 tile (rows k, columns n) in shared memory; not waited for.
__device__ __forceinline__ void awg_issue_acc(float (&acc)[32], const uint32_t (&a)[4][4], const unsigned char *b) {
    constexpr wg_tile NM = wg_tile_mnmajor(AWG_D, AWG_BQ);
    wg_fence_regs(acc);
    wgmma_fence();
#pragma unroll
    for (int s = 0; s < AWG_BQ / 16; s++) wgmma_m64n64k16_rs<1>(acc, a[s], wg_desc(b + s * NM.kstep, NM.lbo, NM.sbo), 1);
}

// A fragments (bf16) of the k16 steps from a 64 x 64 fp32 accumulator: accumulator i is
// (row 16 warp + g + 8 ((i % 4) / 2), column 8 (i / 4) + 2 q + i % 2), and step s's
// registers are mma.sync's a0 (row g), a1 (g + 8), a2 (row g, k + 8), a3 (g + 8, k + 8).
__device__ __forceinline__ void awg_frags(uint32_t (&a)[4][4], const float (&x)[32]) {
#pragma unroll
    for (int i = 0; i < 32; i += 2) a[i / 8][(i % 8) / 2] = pack_f32(x[i], x[i + 1]);
}

// Where a query-block kernel (forward, dQ) works: 64 NWG queries from q0 of head h, batch b
// (the longest rows first), the thread's warpgroup, warp and quad parts, and the key tiles
// its rows can see. awg_qblock_start also starts loading Q (and dO where dOs is given)
// and the first key/value tile, as one cp.async group.
struct awg_qblock {
    int T, H, b, h, tid, wg, warp, g, q, q0, kbeg, ntiles;
    long ks;
    const floatX *kg, *vg;
};
template <int NWG>
__device__ __forceinline__ awg_qblock awg_qblock_start(const attn_params &p, unsigned char *Qs, unsigned char *dOs,
                                                       unsigned char *Ks, unsigned char *Vs) {
    constexpr int NT = awg_block<NWG>::THREADS, ROWS = awg_block<NWG>::ROWS;
    awg_qblock B;
    B.T = p.T, B.H = p.H, B.b = blockIdx.z, B.h = blockIdx.y;
    int grp = B.h / (B.H / p.Hkv), lane = threadIdx.x % WARP_SIZE;
    B.tid = threadIdx.x, B.wg = B.tid / 128, B.warp = (B.tid % 128) / WARP_SIZE, B.g = lane >> 2, B.q = lane & 3;
    B.q0 = (gridDim.x - 1 - blockIdx.x) * ROWS;
    long qs = (long)B.H * p.hd, qoff = ((long)B.b * B.T * B.H + B.h) * p.hd;
    B.ks = (long)p.Hkv * p.hd;
    B.kg = p.k + ((long)B.b * B.T * p.Hkv + grp) * p.hd + p.qk_off;
    B.vg = p.v + ((long)B.b * B.T * p.Hkv + grp) * p.hd;
    B.kbeg = first_key_tile(B.q0, p.window);
    B.ntiles = (min(B.q0 + ROWS - 1, B.T - 1) - B.kbeg) / AWG_BQ + 1;
    awg_cp_tile<ROWS, NT>(Qs, p.q + qoff + p.qk_off, qs, B.q0, B.T, B.tid);
    if (dOs) awg_cp_tile<ROWS, NT>(dOs, p.dout + qoff, qs, B.q0, B.T, B.tid);
    awg_cp_tile<AWG_BQ, NT>(Ks, B.kg, B.ks, B.kbeg, B.T, B.tid);
    awg_cp_tile<AWG_BQ, NT>(Vs, B.vg, B.ks, B.kbeg, B.T, B.tid);
    cp_async_commit();
    return B;
}

// The key loop of the query-block kernels (forward, dQ): starts loading key/value tile
// n + 1 (key rows from k0 + 64) into the other buffer, then waits until tile n, and all
// committed before it, is in shared memory and visible to the tensor cores, block-wide.
template <int NT>
__device__ __forceinline__ void awg_next_kv(unsigned char *Ks, unsigned char *Vs, const floatX *kg, const floatX *vg,
                                            long ks, int n, int ntiles, int k0, int T, int tid) {
    if (n + 1 < ntiles) {
        int nb = (n + 1) & 1;
        awg_cp_tile<AWG_BQ, NT>(Ks + nb * AWG_TILE, kg, ks, k0 + AWG_BQ, T, tid);
        awg_cp_tile<AWG_BQ, NT>(Vs + nb * AWG_TILE, vg, ks, k0 + AWG_BQ, T, tid);
    }
    cp_async_commit();
    cp_async_wait<1>();
    fence_proxy_async();
    __syncthreads();
}

// For 64 query rows from r_lo against the 64 keys from k0: none visible (the warpgroup
// skips the tile), or all (no mask needed).
__device__ __forceinline__ bool awg_rows_none(int r_lo, int k0, int T, int window) {
    return r_lo + 63 < k0 || r_lo >= T || (window > 0 && r_lo - (k0 + AWG_BQ - 1) >= window);
}
__device__ __forceinline__ bool awg_rows_all(int r_lo, int k0, int T, int window) {
    return k0 + AWG_BQ - 1 <= r_lo && r_lo + 63 < T && (window == 0 || r_lo + 63 - k0 < window);
}

// Ping-pong between a block's two warpgroups (PP; FlashAttention-3's schedule): a
// warpgroup waits for its turn before it issues products and hands the turn over after,
// so the two issue alternately and one's exponentials run while the other's products
// do; without it both issue at once and then both compute while the tensor cores idle.
// Named barriers 1 and 2 (0 is __syncthreads), 256 threads each: 128 wait, 128 arrive.
// Every warpgroup takes every turn, also for a tile it skips. awg_pp_start: warpgroup 1
// hands warpgroup 0 the first turn; awg_pp_end: warpgroup 0 takes the last hand-over, so
// no arrival is left pending at exit.
// (Immediate barrier ids: a register id makes ptxas reserve all 16.)
template <bool PP>
__device__ __forceinline__ void awg_turn_wait(int wg) {
    if constexpr (PP) {
        if (wg == 0) asm volatile("bar.sync 1, 256;\n" ::: "memory");
        else asm volatile("bar.sync 2, 256;\n" ::: "memory");
    }
}
template <bool PP>
__device__ __forceinline__ void awg_turn_pass(int wg) {
    if constexpr (PP) {
        if (wg == 0) asm volatile("bar.arrive 2, 256;\n" ::: "memory");
        else asm volatile("bar.arrive 1, 256;\n" ::: "memory");
    }
}
template <bool PP>
__device__ __forceinline__ void awg_pp_start(int wg) {
    if (wg == 1) awg_turn_pass<PP>(1);
}
template <bool PP>
__device__ __forceinline__ void awg_pp_end(int wg) {
    if (wg == 0) awg_turn_wait<PP>(0);
}

// The online softmax of one 64-key score tile, version 2's arithmetic per row: s masked
// where not all keys are visible, the running max ms (of sl2 * s) and the partial row sums
// l updated, o rescaled, and P's A fragments (bf16) left in pa.
__device__ __forceinline__ void awg_softmax(uint32_t (&pa)[4][4], float (&s)[32], float (&o)[32], float (&ms)[2],
                                            float (&l)[2], const int (&row)[2], int k0, bool all, int T, int window,
                                            int q, float sl2) {
    // The mask as a pass of its own, on the tiles that need it (fused into the loop below,
    // the compiler keeps the tests as bits in registers on every tile: version 2's finding).
    if (!all) {
#pragma unroll
        for (int i = 0; i < 32; i++)
            if (!visible(row[(i % 4) / 2], k0 + 8 * (i / 4) + 2 * q + i % 2, T, window)) s[i] = -INFINITY;
    }
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int i = 0; i < 32; i++) mx[(i % 4) / 2] = fmaxf(mx[(i % 4) / 2], s[i]);
    float mu[2], corr[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {  // the 4 lanes of a quad hold one row
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        float mnew = fmaxf(ms[r], mx[r] * sl2);
        mu[r] = mnew == -INFINITY ? 0.0f : mnew;  // no key seen yet: exp2(-inf - 0) = 0
        corr[r] = exp2_ftz(ms[r] - mu[r]);
        ms[r] = mnew;
    }
    float rs[2] = {0.0f, 0.0f};
#pragma unroll
    for (int i = 0; i < 32; i++) {
        int r = (i % 4) / 2;
        s[i] = exp2_ftz(fmaf(s[i], sl2, -mu[r]));  // P
        rs[r] += s[i];
        o[i] *= corr[r];
    }
    l[0] = l[0] * corr[0] + rs[0];
    l[1] = l[1] * corr[1] + rs[1];
    awg_frags(pa, s);
}

// The forward's output rows: o over the row sums (the quad's 4 partial sums added), and
// the log-sum-exp.
__device__ __forceinline__ void awg_store_out(const attn_params &p, const float (&o)[32], const float (&ms)[2],
                                              const float (&l)[2], const int (&row)[2], int b, int h, int q) {
    int T = p.T, H = p.H;
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float lr = l[r];
        lr += __shfl_xor_sync(0xffffffffu, lr, 1);
        lr += __shfl_xor_sync(0xffffffffu, lr, 2);
        int i = row[r];
        if (i >= T) continue;
        float inv = 1.0f / lr;
        floatX *orow = p.o + (((long)b * T + i) * H + h) * p.hd;
#pragma unroll
        for (int j = 0; j < 8; j++)
            *reinterpret_cast<__nv_bfloat162 *>(orow + 8 * j + 2 * q) =
                __floats2bfloat162_rn(o[4 * j + 2 * r] * inv, o[4 * j + 2 * r + 1] * inv);
        if (q == 0) p.lse[((long)b * H + h) * T + i] = ms[r] * ATT2_LN2 + logf(lr);
    }
}

// ---- Forward ---------------------------------------------------------------------------
// Block = 64 queries per warpgroup (NWG: 2 or 1) of one head and batch; Q stays in shared memory,
// the key/value tiles (64 keys) stream double-buffered. Per tile and warpgroup: S = Q K^T
// (shared memory, K-major), the online softmax in registers as version 2's (exp2 with the
// scale folded in, running max and partial row sums per thread, O rescaled), then
// O += P V with P from registers and V read as N-major. The same arithmetic as version 2
// per row; the sums run in another order. PP: ping-pong between the warpgroups (NWG 2).
// Without it the kernel fits 128 registers (124), so 2 blocks of 2 warpgroups (48 KB of
// shared memory each) or 4 of 1 (40 KB) share an SM: one block's products fill another's
// softmax.
template <bool PP, int NWG>
__global__ void __launch_bounds__(128 * NWG, PP ? 1 : 4 / NWG) attention_forward_wgmma_kernel(attn_params p) {
#ifdef STAR_WGMMA
    constexpr int NT = awg_block<NWG>::THREADS;
    extern __shared__ __align__(128) unsigned char awg_smem[];
    unsigned char *Qs = awg_smem, *Ks = Qs + NWG * AWG_TILE, *Vs = Ks + 2 * AWG_TILE;
    awg_qblock B = awg_qblock_start<NWG>(p, Qs, nullptr, Ks, Vs);
    int T = B.T, b = B.b, h = B.h, wg = B.wg, warp = B.warp, g = B.g, q = B.q;

    int r_lo = B.q0 + 64 * wg;
    int row[2] = {r_lo + 16 * warp + g, r_lo + 16 * warp + g + 8};
    const unsigned char *Qw = Qs + wg * AWG_TILE;
    const float sl2 = p.scale * ATT2_LOG2E;
    float o[32], ms[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // ms: running max of sl2 * s
#pragma unroll
    for (int i = 0; i < 32; i++) o[i] = 0.0f;
    awg_pp_start<PP>(wg);
    for (int n = 0; n < B.ntiles; n++) {
        int k0 = B.kbeg + n * AWG_BQ, buf = n & 1;
        awg_next_kv<NT>(Ks, Vs, B.kg, B.vg, B.ks, n, B.ntiles, k0, T, B.tid);  // Q and tile n are in
        const unsigned char *Kb = Ks + buf * AWG_TILE, *Vb = Vs + buf * AWG_TILE;
        bool vis = !awg_rows_none(r_lo, k0, T, p.window);  // uniform over the warpgroup
        float s[32];
        uint32_t pa[4][4];
        awg_turn_wait<PP>(wg);
        if (vis) {
            awg_issue_product(s, Qw, Kb);  // S = Q K^T
            wgmma_commit();
        }
        awg_turn_pass<PP>(wg);
        if (vis) {
            wgmma_wait<0>();
            wg_fence_regs(s);
            awg_softmax(pa, s, o, ms, l, row, k0, awg_rows_all(r_lo, k0, T, p.window), T, p.window, q, sl2);
        }
        awg_turn_wait<PP>(wg);
        if (vis) {
            awg_issue_acc(o, pa, Vb);  // O += P V
            wgmma_commit();
        }
        awg_turn_pass<PP>(wg);
        if (vis) {
            wgmma_wait<0>();  // tile n is read before the barrier below
            wg_fence_regs(o);
        }
        __syncthreads();  // buffer n & 1 is consumed before tile n + 2 loads into it
    }
    awg_pp_end<PP>(wg);
    awg_store_out(p, o, ms, l, row, b, h, q);
#endif
}

// The forward pipelined: tile n + 1's scores are issued before tile n's softmax, so the
// tensor cores form them while the warpgroup computes exponentials (FlashAttention-3's
// overlap within a warpgroup). The key/value tiles take 3 buffers: while tile n is used
// and n + 1's scores are formed, tile n + 2 loads. One barrier per tile: after it, tile
// n + 1 is in and every warpgroup is done with tile n - 1, whose buffer takes tile n + 2.
// The same arithmetic as the forward above, bit for bit. PP: ping-pong as above; NWG 1:
// 2 blocks per SM.
template <bool PP, int NWG>
__global__ void __launch_bounds__(128 * NWG, 2 / NWG) attention_forward_wgmma_pipe_kernel(attn_params p) {
#ifdef STAR_WGMMA
    constexpr int NT = awg_block<NWG>::THREADS;
    extern __shared__ __align__(128) unsigned char awg_smem[];
    unsigned char *Qs = awg_smem, *Ks = Qs + NWG * AWG_TILE, *Vs = Ks + 3 * AWG_TILE;
    awg_qblock B = awg_qblock_start<NWG>(p, Qs, nullptr, Ks, Vs);  // Q and tile 0: one group
    int T = B.T, b = B.b, h = B.h, wg = B.wg, warp = B.warp, g = B.g, q = B.q;
    if (B.ntiles > 1) {
        awg_cp_tile<AWG_BQ, NT>(Ks + AWG_TILE, B.kg, B.ks, B.kbeg + AWG_BQ, T, B.tid);
        awg_cp_tile<AWG_BQ, NT>(Vs + AWG_TILE, B.vg, B.ks, B.kbeg + AWG_BQ, T, B.tid);
    }
    cp_async_commit();
    cp_async_wait<1>();  // Q and tile 0 are in
    fence_proxy_async();
    __syncthreads();

    int r_lo = B.q0 + 64 * wg;
    int row[2] = {r_lo + 16 * warp + g, r_lo + 16 * warp + g + 8};
    const unsigned char *Qw = Qs + wg * AWG_TILE;
    const float sl2 = p.scale * ATT2_LOG2E;
    float o[32], ms[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // ms: running max of sl2 * s
#pragma unroll
    for (int i = 0; i < 32; i++) o[i] = 0.0f;
    float s[32], sn[32];
    bool vis = !awg_rows_none(r_lo, B.kbeg, T, p.window);  // uniform over the warpgroup
    awg_pp_start<PP>(wg);
    awg_turn_wait<PP>(wg);
    if (vis) {
        awg_issue_product(s, Qw, Ks);  // S of tile 0
        wgmma_commit();
    }
    awg_turn_pass<PP>(wg);
    if (vis) {
        wgmma_wait<0>();
        wg_fence_regs(s);
    }
    for (int n = 0; n < B.ntiles; n++) {
        int k0 = B.kbeg + n * AWG_BQ;
        cp_async_wait<0>();  // tile n + 1 is in (this thread's copies) ...
        fence_proxy_async();  // ... visible to the tensor cores
        __syncthreads();  // ... block-wide, and tile n - 1's buffer is free
        if (n + 2 < B.ntiles) {
            int nb = (n + 2) % 3;
            awg_cp_tile<AWG_BQ, NT>(Ks + nb * AWG_TILE, B.kg, B.ks, k0 + 2 * AWG_BQ, T, B.tid);
            awg_cp_tile<AWG_BQ, NT>(Vs + nb * AWG_TILE, B.vg, B.ks, k0 + 2 * AWG_BQ, T, B.tid);
        }
        cp_async_commit();
        bool visn = n + 1 < B.ntiles && !awg_rows_none(r_lo, k0 + AWG_BQ, T, p.window);
        awg_turn_wait<PP>(wg);
        if (visn) {
            awg_issue_product(sn, Qw, Ks + (n + 1) % 3 * AWG_TILE);  // S of tile n + 1, not waited for
            wgmma_commit();
        }
        awg_turn_pass<PP>(wg);
        uint32_t pa[4][4];
        if (vis) awg_softmax(pa, s, o, ms, l, row, k0, awg_rows_all(r_lo, k0, T, p.window), T, p.window, q, sl2);
        awg_turn_wait<PP>(wg);
        if (vis) {
            awg_issue_acc(o, pa, Vs + n % 3 * AWG_TILE);  // O += P V
            wgmma_commit();
        }
        awg_turn_pass<PP>(wg);
        wgmma_wait<0>();  // both: tile n is read before the next barrier
        if (visn) {
            wg_fence_regs(sn);
#pragma unroll
            for (int i = 0; i < 32; i++) s[i] = sn[i];
        }
        if (vis) wg_fence_regs(o);
        vis = visn;
    }
    awg_pp_end<PP>(wg);
    awg_store_out(p, o, ms, l, row, b, h, q);
#endif
}

// Launches one of the kernels above on its nwg warpgroups with smem bytes of dynamic shared
// memory: 0, or -1 with err.
static int awg_launch(void (*kernel)(attn_params), int nwg, dim3 grid, size_t smem, attn_params p, star_stream st,
                      star_error *err) {
    cudaCheck(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem), err);
    kernel<<<grid, 128 * nwg, smem, st>>>(p);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// Warpgroups per block for a mask: 1 with 32 (one warpgroup per block), unless 16 (ping-
// pong, which needs two) is in it too.
static int awg_nwg(int mask) { return (mask & 32) && !(mask & 16) ? 1 : 2; }

// Runs the forward where it applies (q.k and value width 64 on a compute capability 9.0
// device) and returns 1; 0 where it does not (the caller runs version 2's). mask: 8
// pipelined, 16 ping-pong, 32 one warpgroup per block.
template <int QKD, int VD>
static int forward_launch_wgmma(attn_params p, int mask, star_stream st, star_error *err) {
    if constexpr (QKD != AWG_D || VD != AWG_D) {
        return 0;
    } else {
        int ok = wgmma_available_cuda(err);
        if (ok <= 0) return ok;
        bool pipelined = mask & 8, pp = mask & 16;
        int nwg = awg_nwg(mask);
        void (*kernel)(attn_params) =
            pipelined ? (pp ? attention_forward_wgmma_pipe_kernel<true, 2>
                            : nwg == 1 ? attention_forward_wgmma_pipe_kernel<false, 1>
                                       : attention_forward_wgmma_pipe_kernel<false, 2>)
                      : (pp ? attention_forward_wgmma_kernel<true, 2>
                            : nwg == 1 ? attention_forward_wgmma_kernel<false, 1>
                                       : attention_forward_wgmma_kernel<false, 2>);
        size_t smem = (nwg + (pipelined ? 6 : 4)) * (size_t)AWG_TILE;  // Q, then 2 or 3 K and V tiles
        int rows = 64 * nwg;
        return awg_launch(kernel, nwg, dim3((p.T + rows - 1) / rows, p.H, p.B), smem, p, st, err) ? -1 : 1;
    }
}

// ---- Backward: dK/dV --------------------------------------------------------------------
// PP: ping-pong between the warpgroups (awg_turn_wait; NWG 2). NWG 1: AWG1_DKV_BLOCKS
// blocks per SM.
#ifndef AWG1_DKV_BLOCKS  // (a build may set it, to compare)
#define AWG1_DKV_BLOCKS 3
#endif
template <bool PP, int NWG>
__global__ void __launch_bounds__(128 * NWG, NWG == 2 ? 1 : AWG1_DKV_BLOCKS) attention_backward_dkv_wgmma_kernel(attn_params p) {
#ifdef STAR_WGMMA
    constexpr int NT = awg_block<NWG>::THREADS, KB = awg_block<NWG>::ROWS;
    extern __shared__ __align__(128) unsigned char awg_smem[];
    unsigned char *Ks = awg_smem, *Vs = Ks + NWG * AWG_TILE, *Qs = Vs + NWG * AWG_TILE, *dOs = Qs + 2 * AWG_TILE;
    float *lse_s = reinterpret_cast<float *>(dOs + 2 * AWG_TILE), *D_s = lse_s + 2 * AWG_BQ;
    int T = p.T, H = p.H, b = blockIdx.z, grp = blockIdx.y, rep = H / p.Hkv;
    int tid = threadIdx.x, wg = tid / 128, warp = (tid % 128) / WARP_SIZE, lane = tid % WARP_SIZE;
    int g = lane >> 2, q = lane & 3;
    int j0 = blockIdx.x * KB;
    long qs = (long)H * p.hd, ks = (long)p.Hkv * p.hd;
    awg_cp_tile<KB, NT>(Ks, p.k + ((long)b * T * p.Hkv + grp) * p.hd + p.qk_off, ks, j0, T, tid);
    awg_cp_tile<KB, NT>(Vs, p.v + ((long)b * T * p.Hkv + grp) * p.hd, ks, j0, T, tid);
    cp_async_commit();

    int istart = j0 / AWG_BQ * AWG_BQ;
    int qend = p.window > 0 ? min(T - 1, j0 + KB - 1 + p.window - 1) : T - 1;
    int nph = (qend - istart) / AWG_BQ + 1, ntiles = rep * nph;
    auto load = [&](int n, int buf) {
        int h = grp * rep + n / nph, i0 = istart + (n % nph) * AWG_BQ;
        awg_cp_tile<AWG_BQ, NT>(Qs + buf * AWG_TILE, p.q + ((long)b * T * H + h) * p.hd + p.qk_off, qs, i0, T, tid);
        awg_cp_tile<AWG_BQ, NT>(dOs + buf * AWG_TILE, p.dout + ((long)b * T * H + h) * p.hd, qs, i0, T, tid);
        cp_row_values<AWG_BQ, NT>(lse_s + buf * AWG_BQ, p.lse_in + ((long)b * H + h) * T, i0, T);
        cp_row_values<AWG_BQ, NT>(D_s + buf * AWG_BQ, p.dvec + ((long)b * H + h) * T, i0, T);
    };
    load(0, 0);
    cp_async_commit();

    // This warpgroup's 64 keys; the thread's accumulator rows are keys jl + 16 warp + g (+ 8).
    int jl = j0 + 64 * wg, jh = jl + 63;
    const unsigned char *Kw = Ks + wg * AWG_TILE, *Vw = Vs + wg * AWG_TILE;
    const float sl2 = p.scale * ATT2_LOG2E;
    float dk[32], dv[32];
#pragma unroll
    for (int i = 0; i < 32; i++) dk[i] = dv[i] = 0.0f;
    awg_pp_start<PP>(wg);
    for (int n = 0; n < ntiles; n++) {
        if (n + 1 < ntiles) load(n + 1, (n + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();  // K, V and tile n are in (this thread's copies)
        fence_proxy_async();  // ... and visible to the tensor cores' reads
        __syncthreads();
        int i0 = istart + (n % nph) * AWG_BQ, buf = n & 1;
        const unsigned char *Qb = Qs + buf * AWG_TILE, *dOb = dOs + buf * AWG_TILE;
        const float *lse_b = lse_s + buf * AWG_BQ, *D_b = D_s + buf * AWG_BQ;
        bool none = jl > i0 + AWG_BQ - 1 || jl >= T || (p.window > 0 && i0 - jh >= p.window);
        float st[32], dpt[32];
        uint32_t pa[4][4], da[4][4];
        awg_turn_wait<PP>(wg);
        if (!none) awg_issue_two(st, dpt, Kw, Qb, Vw, dOb);  // S^T = K Q^T, dP^T = V dO^T
        awg_turn_pass<PP>(wg);
        if (!none) {  // uniform over the warpgroup
            bool all = jh <= i0 && i0 + AWG_BQ <= T && (p.window == 0 || i0 + AWG_BQ - 1 - jl < p.window);
            awg_wait_two(st, dpt);
            // P^T and dS^T: accumulator i is (key jl + 16 warp + g + 8 ((i % 4) / 2), query
            // i0 + 8 (i / 4) + 2 q + i % 2).
#pragma unroll
            for (int i = 0; i < 32; i++) st[i] = exp2_ftz(fmaf(st[i], sl2, -lse_b[8 * (i / 4) + 2 * q + i % 2] * ATT2_LOG2E));
            if (!all) {  // the mask as a pass of its own (awg_softmax says why)
#pragma unroll
                for (int i = 0; i < 32; i++)
                    if (!visible(i0 + 8 * (i / 4) + 2 * q + i % 2, jl + 16 * warp + g + 8 * ((i % 4) / 2), T, p.window))
                        st[i] = 0.0f;  // P^T
            }
#pragma unroll
            for (int i = 0; i < 32; i++) dpt[i] = st[i] * (dpt[i] - D_b[8 * (i / 4) + 2 * q + i % 2]);  // dS^T
            awg_frags(pa, st);
            awg_frags(da, dpt);
        }
        awg_turn_wait<PP>(wg);
        if (!none) {
            awg_issue_acc(dv, pa, dOb);  // dV += P^T dO
            awg_issue_acc(dk, da, Qb);   // dK += dS^T Q
            wgmma_commit();
        }
        awg_turn_pass<PP>(wg);
        if (!none) awg_wait_two(dv, dk);  // the tile's buffers are read before the barrier below
        __syncthreads();  // buffer n & 1 is consumed before tile n + 2 loads into it
    }
    awg_pp_end<PP>(wg);
#pragma unroll
    for (int i = 0; i < 32; i += 2) {
        int key = jl + 16 * warp + g + 8 * ((i % 4) / 2), col = 8 * (i / 4) + 2 * q;
        if (key >= T) continue;
        long off = (((long)b * T + key) * p.Hkv + grp) * p.hd;
        grad_pair(p.dk + off + p.qk_off + col, p.scale * dk[i], p.scale * dk[i + 1], p.add_dk);
        grad_pair(p.dv + off + col, dv[i], dv[i + 1], p.add_dv);
    }
#endif
}

// ---- dQ --------------------------------------------------------------------------------
// Block = 128 queries of one head and batch, 2 warpgroups of 64; Q and dO stay in shared
// memory, the key/value tiles (64 keys) stream double-buffered. Per tile and warpgroup:
//   S = Q K^T, dP = dO V^T   (shared memory, K-major)
//   dS = P (dP - D)          (registers; P = exp(scale S - lse), masked entries 0)
//   dQ += dS K               (dS from registers, K read as N-major from the same bytes)
// PP: ping-pong between the warpgroups (awg_turn_wait; NWG 2). NWG 1: 3 blocks per SM
// (165 registers).
template <bool PP, int NWG>
__global__ void __launch_bounds__(128 * NWG, NWG == 2 ? 1 : 3) attention_backward_dq_wgmma_kernel(attn_params p) {
#ifdef STAR_WGMMA
    constexpr int NT = awg_block<NWG>::THREADS;
    extern __shared__ __align__(128) unsigned char awg_smem[];
    unsigned char *Qs = awg_smem, *dOs = Qs + NWG * AWG_TILE, *Ks = dOs + NWG * AWG_TILE, *Vs = Ks + 2 * AWG_TILE;
    awg_qblock B = awg_qblock_start<NWG>(p, Qs, dOs, Ks, Vs);
    int T = B.T, H = B.H, b = B.b, h = B.h, wg = B.wg, warp = B.warp, g = B.g, q = B.q;

    // This warpgroup's 64 queries; the thread's accumulator rows are r_lo + 16 warp + g (+ 8).
    int r_lo = B.q0 + 64 * wg;
    const unsigned char *Qw = Qs + wg * AWG_TILE, *dOw = dOs + wg * AWG_TILE;
    const float sl2 = p.scale * ATT2_LOG2E;
    float lse2[2], Dr[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int row = r_lo + 16 * warp + g + 8 * r;
        bool ok = row < T;
        lse2[r] = ok ? p.lse_in[((long)b * H + h) * T + row] * ATT2_LOG2E : 0.0f;
        Dr[r] = ok ? p.dvec[((long)b * H + h) * T + row] : 0.0f;
    }
    float dq[32];
#pragma unroll
    for (int i = 0; i < 32; i++) dq[i] = 0.0f;
    awg_pp_start<PP>(wg);
    for (int n = 0; n < B.ntiles; n++) {
        int k0 = B.kbeg + n * AWG_BQ, buf = n & 1;
        awg_next_kv<NT>(Ks, Vs, B.kg, B.vg, B.ks, n, B.ntiles, k0, T, B.tid);  // Q, dO and tile n are in
        const unsigned char *Kb = Ks + buf * AWG_TILE, *Vb = Vs + buf * AWG_TILE;
        bool vis = !awg_rows_none(r_lo, k0, T, p.window);  // uniform over the warpgroup
        float s[32], dp[32];
        uint32_t dsa[4][4];
        awg_turn_wait<PP>(wg);
        if (vis) awg_issue_two(s, dp, Qw, Kb, dOw, Vb);  // S = Q K^T, dP = dO V^T
        awg_turn_pass<PP>(wg);
        if (vis) {
            bool all = awg_rows_all(r_lo, k0, T, p.window);
            awg_wait_two(s, dp);
            // dS: accumulator i is (query r_lo + 16 warp + g + 8 ((i % 4) / 2), key
            // k0 + 8 (i / 4) + 2 q + i % 2); as A fragments of the k16 steps over keys.
#pragma unroll
            for (int i = 0; i < 32; i++) s[i] = exp2_ftz(fmaf(s[i], sl2, -lse2[(i % 4) / 2]));  // P
            if (!all) {  // the mask as a pass of its own (awg_softmax says why)
#pragma unroll
                for (int i = 0; i < 32; i++)
                    if (!visible(r_lo + 16 * warp + g + 8 * ((i % 4) / 2), k0 + 8 * (i / 4) + 2 * q + i % 2, T,
                                 p.window))
                        s[i] = 0.0f;
            }
#pragma unroll
            for (int i = 0; i < 32; i++) s[i] *= dp[i] - Dr[(i % 4) / 2];  // dS
            awg_frags(dsa, s);
        }
        awg_turn_wait<PP>(wg);
        if (vis) {
            awg_issue_acc(dq, dsa, Kb);  // dQ += dS K
            wgmma_commit();
        }
        awg_turn_pass<PP>(wg);
        if (vis) {
            wgmma_wait<0>();  // tile n is read before the barrier below
            wg_fence_regs(dq);
        }
        __syncthreads();  // buffer n & 1 is consumed before tile n + 2 loads into it
    }
    awg_pp_end<PP>(wg);
#pragma unroll
    for (int i = 0; i < 32; i += 2) {
        int row = r_lo + 16 * warp + g + 8 * ((i % 4) / 2), col = 8 * (i / 4) + 2 * q;
        if (row >= T) continue;
        grad_pair(p.dq + (((long)b * T + row) * H + h) * p.hd + p.qk_off + col, p.scale * dq[i], p.scale * dq[i + 1],
                  p.add_dq);
    }
#endif
}

// Runs the passes named by mask (1 dK/dV, 2 dQ; 16 with ping-pong, 32 one warpgroup per
// block) where they apply (q.k and value width 64 on a compute capability 9.0 device) and
// returns the mask of those that ran (1, 2); the caller runs version 2's for the others.
template <int QKD, int VD>
static int backward_launch_wgmma(attn_params p, int mask, star_stream st, star_error *err) {
    if constexpr (QKD != AWG_D || VD != AWG_D) {
        return 0;
    } else {
        int ok = wgmma_available_cuda(err);
        if (ok < 0) return -1;
        if (ok == 0) return 0;
        bool pp = mask & 16;
        int nwg = awg_nwg(mask), rows = 64 * nwg;
        dim3 grid((p.T + rows - 1) / rows, p.Hkv, p.B);
        if (mask & 1) {  // K and V of the block's keys, 2 Q and dO tiles, lse and D
            size_t smem = (2 * nwg + 4) * (size_t)AWG_TILE + sizeof(float) * 4 * AWG_BQ;
            if (awg_launch(pp ? attention_backward_dkv_wgmma_kernel<true, 2>
                              : nwg == 1 ? attention_backward_dkv_wgmma_kernel<false, 1>
                                         : attention_backward_dkv_wgmma_kernel<false, 2>,
                           nwg, grid, smem, p, st, err))
                return -1;
        }
        if (mask & 2) {  // Q and dO of the block's queries, 2 K and V tiles
            size_t smem = (2 * nwg + 4) * (size_t)AWG_TILE;
            grid.y = p.H;
            if (awg_launch(pp ? attention_backward_dq_wgmma_kernel<true, 2>
                              : nwg == 1 ? attention_backward_dq_wgmma_kernel<false, 1>
                                         : attention_backward_dq_wgmma_kernel<false, 2>,
                           nwg, grid, smem, p, st, err))
                return -1;
        }
        return mask & 3;
    }
}

#endif  // STAR_KERNELS_ATTENTION_WGMMA_CUH
