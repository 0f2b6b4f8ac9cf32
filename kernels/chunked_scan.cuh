// star: the chunked kernel shared by linear attention and the SSD scan (and by their
// backwards). Both are instances of one causal "decayed linear attention":
//   forward:  out_t = sum_{j <= t} (Q_t . K_j) w(t, j) lam_j V_j
//   reverse:  out_t = sum_{j >= t} (Q_t . K_j) w(j, t) lam_j V_j
// with w(t, j) = exp(cum_t - cum_j), cum the running sum of log a over time (w = 1 and
// lam = 1 without decay: linear attention). Every gradient of both operators is such a
// product with the roles of Q, K, V exchanged (see linear_attention.cu, ssd_scan.cu).
//
// One block per (sequence b, head h, slice of SCAN_VB value columns), 256 threads. The
// block walks the chunks of SCAN_L positions in order (reverse: last to first) keeping the
// state S [DK][VB] (fp32, shared memory), and per chunk, all in fp32 shared-memory tiles:
//   A   = mask(Q K^T) o w o lam            (l x l, causal mask: j <= i, reverse j >= i)
//   out = A V + e_i Q S                    (e_i = exp(lc_i), reverse exp(lc_last - lc_i))
//   S   = exp(lc_last) S + K^T diag(g_j) V (g_j = exp(lc_last - lc_j) lam_j, reverse
//                                           exp(lc_j) lam_j)
// where lc is the chunk-local running sum of log a (lc <= 0 and falling, so every
// exponential is <= 1). Each thread holds a register tile of each product (4 x 4 of A,
// 4 x 2 of out, up to 8 x 2 of S), so a shared read feeds 2 to 4 multiply-adds. Inputs
// are floatX, read with an optional feature map (scale * phi(x)); the epilogue writes or
// accumulates the output (see scan_out).
//
// This fp32 kernel runs on CUDA cores. chunked_scan_tc.cuh is the same scan with the four
// products on tensor cores (bf16 operands, fp32 accumulation); the launcher picks it
// unless scan_tensor_cores_cuda() is 0 (STAR_SCAN_TC=0) or the product sets
// fp32_operands (the SSD backward's dC and dB' scans, whose outputs feed cancelling running
// sums: see ssd_scan.cu).
#ifndef STAR_KERNELS_CHUNKED_SCAN_CUH
#define STAR_KERNELS_CHUNKED_SCAN_CUH

#include "kernels/mma.cuh"

#define SCAN_L 64         // chunk length
#define SCAN_VB 32        // value columns per block
#define SCAN_THREADS 256  // 8 warps
#define SCAN_DK_MAX 128   // largest Q/K width (shared memory: see scan_smem_bytes)
// The register tiles assume 16 x 16 threads over 64 rows (4 each) and 32 value columns (2 each).
static_assert(SCAN_L == 64 && SCAN_VB == 32 && SCAN_THREADS == 256 && SCAN_DK_MAX % 16 == 0, "scan tiling");

enum { SCAN_PHI_NONE = 0, SCAN_PHI_ELU1 = 1 };

// A [B,T,(H,)width] input: element (b, t, h, i) = p[b * b_stride + t * t_stride + h * h_off + i],
// read as scale * phi(x).
typedef struct scan_in {
    const floatX *p;
    long b_stride, t_stride, h_off;
    float scale;
    int phi;
} scan_in;

// The decay of the SSD scan at (b, t, h): u = dt[(b T + t) H + h] + bias[h],
// lam = softplus(u), log a = -lam exp(A_log[h]).
typedef struct scan_decay {
    const floatX *dt;
    const float *bias;  // or NULL
    const float *A_log;
} scan_decay;

// What the epilogue does with out (fp32) at (b, t, h, column v):
//   SCAN_WRITE_BF16: o = bf16(out + skip_h * V_t[v])                       (skip may be NULL)
//   SCAN_ACC_BF16:   o += bf16(out * (lam_out ? lam_t : 1) * gscale * phi'(g_t[v]) + skip_h * V_t[v])
//                    (gsrc.p NULL: no phi' factor)
//   SCAN_WRITE_F32:  o32 = out
// The skip term reads V at the output's own position (the SSD's D x and D dy terms).
enum { SCAN_WRITE_BF16 = 0, SCAN_ACC_BF16 = 1, SCAN_WRITE_F32 = 2 };

typedef struct scan_out {
    int kind;
    floatX *o;
    float *o32;
    long b_stride, t_stride, h_off;
    const float *skip;  // [H] or NULL
    int lam_out;        // multiply by lam_t (SSD dx)
    scan_in gsrc;       // phi' source (linear attention dq, dk), gsrc.p NULL: none
} scan_out;

typedef struct scan_args {
    scan_in q, k, v;
    scan_out out;
    scan_decay decay;
    int lam_key;        // weight keys by lam_j
    int fp32_operands;  // keep this product on the fp32 kernel even when tensor cores are on
    int B, T, H, DK, DV;
    int vec;  // set by chunked_scan_launch: q, k, v all read 16 bytes at a time (scan_in_vec)
} scan_args;

__device__ __forceinline__ float scan_phi(float x, int phi) {
    return phi == SCAN_PHI_ELU1 ? (x > 0.0f ? x + 1.0f : expf(x)) : x;
}
__device__ __forceinline__ float scan_phi_grad(float x, int phi) {
    return phi == SCAN_PHI_ELU1 ? (x > 0.0f ? 1.0f : expf(x)) : 1.0f;
}
__device__ __forceinline__ float scan_softplus(float u) { return u > 20.0f ? u : log1pf(expf(u)); }

__device__ __forceinline__ float scan_read(const scan_in &in, int b, long t, int h, int i) {
    float x = __bfloat162float(in.p[b * in.b_stride + t * in.t_stride + h * in.h_off + i]);
    return in.scale * scan_phi(x, in.phi);
}

// ---- Chunk loads, 8 values (16 bytes) at a time --------------------------------------
// Read element by element, a chunk's loads wait one memory latency each: a shared-memory
// store lies between two of them and the compiler cannot move a generic load above it.
// When the layout allows (scan_in_vec), each thread issues all of its 16-byte loads of a
// tile first and converts them after: about one latency per chunk. The values stored are
// the same bits as element by element.
#define SCAN_PIECES (SCAN_L * SCAN_DK_MAX / PACK / SCAN_THREADS)  // pieces per thread of the widest tile: 4

// 16-byte aligned base, every stride and offset a multiple of 8 elements, width a multiple of 8.
static inline int scan_in_vec(const scan_in &in, int width) {
    return is_aligned16(in.p) && in.b_stride % PACK == 0 && in.t_stride % PACK == 0 && in.h_off % PACK == 0 &&
           width % PACK == 0;
}

// Piece r of this thread in a SCAN_L x WP tile (WP a multiple of 8): row u / (WP / 8), columns
// 8 (u % (WP / 8)) + 0..7, u = threadIdx.x + r SCAN_THREADS. Returns whether the piece lies in
// the tile; *live: whether it holds data (row < l, column < W).
__device__ __forceinline__ bool scan_piece(int r, int WP, int l, int W, int *i, int *c, bool *live) {
    const int u = threadIdx.x + r * SCAN_THREADS, per_row = WP / PACK;
    *i = u / per_row, *c = (u % per_row) * PACK;
    *live = *i < l && *c < W;
    return *i < SCAN_L;
}

// This thread's raw pieces of in at rows t0 + i, columns c0 + c (zero where not live).
template <int N>
__device__ __forceinline__ void scan_load_pieces(uint4 (&raw)[N], const scan_in &in, int b, long t0, int h, int c0,
                                                 int l, int W, int WP) {
#pragma unroll
    for (int r = 0; r < N; r++) {
        int i, c;
        bool live;
        raw[r] = make_uint4(0u, 0u, 0u, 0u);
        if (scan_piece(r, WP, l, W, &i, &c, &live) && live)
            raw[r] = *reinterpret_cast<const uint4 *>(in.p + b * in.b_stride + (t0 + i) * in.t_stride +
                                                      h * in.h_off + c0 + c);
    }
}

// A piece's values as the kernels use them: mul * scale * phi(x), 0 where not live.
__device__ __forceinline__ void scan_piece_values(float x[PACK], uint4 raw, const scan_in &in, bool live, float mul) {
    const floatX *v = reinterpret_cast<const floatX *>(&raw);
#pragma unroll
    for (int k = 0; k < PACK; k++) x[k] = live ? mul * (in.scale * scan_phi(__bfloat162float(v[k]), in.phi)) : 0.0f;
}

// Stores the pieces into a tile dst [SCAN_L][ld] of floatX (ld a multiple of 8: one 16-byte
// store a piece) or of float (any ld), each value times g[row] when g is given.
template <typename OUT, int N>
__device__ __forceinline__ void scan_store_pieces(OUT *dst, int ld, const uint4 (&raw)[N], const scan_in &in, int l,
                                                  int W, int WP, const float *g) {
#pragma unroll
    for (int r = 0; r < N; r++) {
        int i, c;
        bool live;
        if (!scan_piece(r, WP, l, W, &i, &c, &live)) continue;
        float x[PACK];
        scan_piece_values(x, raw[r], in, live, g && live ? g[i] : 1.0f);
        if constexpr (sizeof(OUT) == sizeof(float)) {
#pragma unroll
            for (int k = 0; k < PACK; k++) dst[i * ld + c + k] = x[k];
        } else {
            *reinterpret_cast<uint4 *>(dst + i * ld + c) =
                make_uint4(pack_f32(x[0], x[1]), pack_f32(x[2], x[3]), pack_f32(x[4], x[5]), pack_f32(x[6], x[7]));
        }
    }
}

// A chunk's Q and K (WP columns, zero past DK) and V (SCAN_VB columns from v0, zero past
// vb) into their tiles, every load issued before the first store (a.vec); vr keeps V's raw
// pieces for a later use (the tensor-core kernel's Vg).
template <typename OUT>
__device__ __forceinline__ void scan_load_chunk_vec(OUT *Qs, OUT *Ks, int ldk, OUT *Vs, int ldv, uint4 (&vr)[1],
                                                    const scan_args &a, int b, long t0, int h, int v0, int l, int DK,
                                                    int vb, int WP) {
    uint4 qr[SCAN_PIECES], kr[SCAN_PIECES];
    scan_load_pieces(qr, a.q, b, t0, h, 0, l, DK, WP);
    scan_load_pieces(kr, a.k, b, t0, h, 0, l, DK, WP);
    scan_load_pieces(vr, a.v, b, t0, h, v0, l, vb, SCAN_VB);
    scan_store_pieces(Qs, ldk, qr, a.q, l, DK, WP, nullptr);
    scan_store_pieces(Ks, ldk, kr, a.k, l, DK, WP, nullptr);
    scan_store_pieces(Vs, ldv, vr, a.v, l, vb, SCAN_VB, nullptr);
}

// Shared memory: Q, K [L][DK+1], V [L][VB+1], A [L][L+1], S [DK][VB], lc, lam, g [L].
static inline size_t scan_smem_bytes(int DK) {
    return sizeof(float) * ((size_t)2 * SCAN_L * (DK + 1) + (size_t)SCAN_L * (SCAN_VB + 1) +
                            (size_t)SCAN_L * (SCAN_L + 1) + (size_t)DK * SCAN_VB + 3 * SCAN_L);
}

// Stores one output element of a chunk as a.out says (the enum above); out is the scan's
// value, sk the skip term, lam_i the row's lam (read for lam_out only).
__device__ __forceinline__ void scan_store(const scan_out o, int b, long t, int h, int col, float out, float sk,
                                           const float *lam_i) {
    const long oi = b * o.b_stride + t * o.t_stride + h * o.h_off + col;
    if (o.kind == SCAN_WRITE_BF16) {
        o.o[oi] = __float2bfloat16_rn(out + sk);
    } else if (o.kind == SCAN_ACC_BF16) {
        if (o.lam_out) out *= *lam_i;
        if (o.gsrc.p) {
            const scan_in &gs = o.gsrc;
            float x = __bfloat162float(gs.p[b * gs.b_stride + t * gs.t_stride + h * gs.h_off + col]);
            out *= gs.scale * scan_phi_grad(x, gs.phi);
        }
        o.o[oi] = __float2bfloat16_rn(__bfloat162float(o.o[oi]) + out + sk);
    } else {
        o.o32[oi] = out;
    }
}

// The chunk's decay weights, the same for both kernels: lam = softplus(dt + bias) (1
// without decay), lc = the running sum of the log decays -lam A in time order, g = the key
// weights of the state update (lam_j if lam_key, times exp(lc_last - lc_j), or exp(lc_j)
// in reverse). Every thread of the block calls it (it synchronizes); returns lc_last.
template <bool REVERSE, bool DECAY>
__device__ __forceinline__ float scan_chunk_weights(const floatX *dt, int T, int H, int lam_key, int b, int h, long t0,
                                                    int l, float A, float bias, float *lc, float *lam, float *g) {
    const int tid = threadIdx.x;
    if (tid < SCAN_L) {
        float la = 0.0f, lm = 1.0f;
        if (DECAY && tid < l) {
            float u = __bfloat162float(dt[((long)b * T + t0 + tid) * H + h]) + bias;
            lm = scan_softplus(u);
            la = -lm * A;
        }
        lc[tid] = la;
        lam[tid] = lm;
    }
    __syncthreads();
    if (DECAY && tid == 0)  // running sum in time order (64 adds: not worth a parallel scan)
        for (int i = 1; i < l; i++) lc[i] += lc[i - 1];
    __syncthreads();
    const float lc_last = DECAY ? lc[l - 1] : 0.0f;
    if (tid < SCAN_L) {
        float gj = 0.0f;
        if (tid < l) {
            gj = lam_key ? lam[tid] : 1.0f;
            if (DECAY) gj *= REVERSE ? expf(lc[tid]) : expf(lc_last - lc[tid]);
        }
        g[tid] = gj;
    }
    return lc_last;
}

template <bool REVERSE, bool DECAY>
__global__ void __launch_bounds__(SCAN_THREADS) chunked_scan_kernel(scan_args a) {
    extern __shared__ float smem[];
    const int DK = a.DK, ldq = DK + 1, ldv = SCAN_VB + 1, lda = SCAN_L + 1;
    float *Qs = smem, *Ks = Qs + SCAN_L * ldq, *Vs = Ks + SCAN_L * ldq, *As = Vs + SCAN_L * ldv;
    float *S = As + SCAN_L * lda, *lc = S + DK * SCAN_VB, *lam = lc + SCAN_L, *g = lam + SCAN_L;
    const int tid = threadIdx.x;
    const int b = blockIdx.x / a.H, h = blockIdx.x % a.H, v0 = blockIdx.y * SCAN_VB;
    const int vb = a.DV - v0 < SCAN_VB ? a.DV - v0 : SCAN_VB;
    const int T = a.T, nch = (T + SCAN_L - 1) / SCAN_L;
    float A = 0.0f;
    if (DECAY) A = expf(a.decay.A_log[h]);
    const float bias = DECAY && a.decay.bias ? a.decay.bias[h] : 0.0f;
    const float skip = a.out.skip ? a.out.skip[h] : 0.0f;

    for (int k = tid; k < DK * SCAN_VB; k += SCAN_THREADS) S[k] = 0.0f;

    for (int step = 0; step < nch; step++) {
        const int c = REVERSE ? nch - 1 - step : step;
        const long t0 = (long)c * SCAN_L;
        const int l = T - t0 < SCAN_L ? (int)(T - t0) : SCAN_L;
        // ---- load the chunk (rows past l are zero)
        if (a.vec) {
            uint4 vr[1];
            scan_load_chunk_vec(Qs, Ks, ldq, Vs, ldv, vr, a, b, t0, h, v0, l, DK, vb, DK);
        } else {
            for (int k = tid; k < SCAN_L * DK; k += SCAN_THREADS) {
                int i = k / DK, d = k % DK;
                Qs[i * ldq + d] = i < l ? scan_read(a.q, b, t0 + i, h, d) : 0.0f;
                Ks[i * ldq + d] = i < l ? scan_read(a.k, b, t0 + i, h, d) : 0.0f;
            }
            for (int k = tid; k < SCAN_L * SCAN_VB; k += SCAN_THREADS) {
                int i = k / SCAN_VB, v = k % SCAN_VB;
                Vs[i * ldv + v] = i < l && v < vb ? scan_read(a.v, b, t0 + i, h, v0 + v) : 0.0f;
            }
        }
        const float lc_last = scan_chunk_weights<REVERSE, DECAY>(a.decay.dt, a.T, a.H, a.lam_key, b, h, t0, l, A, bias,
                                                                    lc, lam, g);
        // Register tiles: thread (ty, tx) = (tid / 16, tid % 16) takes rows ty + 16 r and
        // columns tx + 16 c (strided, so a warp's shared reads fall in distinct banks).
        const int ty = tid / 16, tx = tid % 16;
        // ---- A[i][j] = (Q_i . K_j) w lam_j on the causal side, 0 elsewhere (4 x 4 per thread)
        {
            float acc[4][4];
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int c2 = 0; c2 < 4; c2++) acc[r][c2] = 0.0f;
            for (int d = 0; d < DK; d++) {
                float qv[4], kv[4];
#pragma unroll
                for (int r = 0; r < 4; r++) qv[r] = Qs[(ty + 16 * r) * ldq + d];
#pragma unroll
                for (int c2 = 0; c2 < 4; c2++) kv[c2] = Ks[(tx + 16 * c2) * ldq + d];
#pragma unroll
                for (int r = 0; r < 4; r++)
#pragma unroll
                    for (int c2 = 0; c2 < 4; c2++) acc[r][c2] += qv[r] * kv[c2];
            }
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int c2 = 0; c2 < 4; c2++) {
                    const int i = ty + 16 * r, j = tx + 16 * c2;
                    const bool on = i < l && j < l && (REVERSE ? j >= i : j <= i);
                    float sv = 0.0f;
                    if (on) {
                        sv = acc[r][c2];
                        if (DECAY) sv *= REVERSE ? expf(lc[j] - lc[i]) : expf(lc[i] - lc[j]);
                        if (a.lam_key) sv *= lam[j];
                    }
                    As[i * lda + j] = sv;
                }
        }
        __syncthreads();
        // ---- out = A V + e_i Q S (4 rows x 2 columns per thread), then the epilogue
        {
            float intra[4][2], inter[4][2];
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int c2 = 0; c2 < 2; c2++) intra[r][c2] = inter[r][c2] = 0.0f;
            for (int j = 0; j < l; j++) {  // A is zero off the causal side
                float av[4], vv[2];
#pragma unroll
                for (int r = 0; r < 4; r++) av[r] = As[(ty + 16 * r) * lda + j];
#pragma unroll
                for (int c2 = 0; c2 < 2; c2++) vv[c2] = Vs[j * ldv + tx + 16 * c2];
#pragma unroll
                for (int r = 0; r < 4; r++)
#pragma unroll
                    for (int c2 = 0; c2 < 2; c2++) intra[r][c2] += av[r] * vv[c2];
            }
            for (int d = 0; d < DK; d++) {
                float qv[4], sv[2];
#pragma unroll
                for (int r = 0; r < 4; r++) qv[r] = Qs[(ty + 16 * r) * ldq + d];
#pragma unroll
                for (int c2 = 0; c2 < 2; c2++) sv[c2] = S[d * SCAN_VB + tx + 16 * c2];
#pragma unroll
                for (int r = 0; r < 4; r++)
#pragma unroll
                    for (int c2 = 0; c2 < 2; c2++) inter[r][c2] += qv[r] * sv[c2];
            }
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int c2 = 0; c2 < 2; c2++) {
                    const int i = ty + 16 * r, v = tx + 16 * c2;
                    if (i >= l || v >= vb) continue;
                    const float e = DECAY ? (REVERSE ? expf(lc_last - lc[i]) : expf(lc[i])) : 1.0f;
                    float out = intra[r][c2] + inter[r][c2] * e;
                    const long t = t0 + i;
                    const float sk = a.out.skip ? skip * Vs[i * ldv + v] : 0.0f;
                    scan_store(a.out, b, t, h, v0 + v, out, sk, &lam[i]);
                }
        }
        __syncthreads();  // S is read above and rewritten below
        // ---- S = exp(lc_last) S + K^T diag(g) V (up to 8 rows x 2 columns per thread)
        {
            const float carry = DECAY ? expf(lc_last) : 1.0f;
            float acc[SCAN_DK_MAX / 16][2];
#pragma unroll
            for (int r = 0; r < SCAN_DK_MAX / 16; r++) acc[r][0] = acc[r][1] = 0.0f;
            for (int j = 0; j < l; j++) {
                const float gj = g[j];
                const float v0j = gj * Vs[j * ldv + tx], v1j = gj * Vs[j * ldv + tx + 16];
#pragma unroll
                for (int r = 0; r < SCAN_DK_MAX / 16; r++) {
                    const int d = ty + 16 * r;
                    if (d < DK) {
                        const float kd = Ks[j * ldq + d];
                        acc[r][0] += kd * v0j;
                        acc[r][1] += kd * v1j;
                    }
                }
            }
#pragma unroll
            for (int r = 0; r < SCAN_DK_MAX / 16; r++) {
                const int d = ty + 16 * r;
                if (d < DK) {
                    S[d * SCAN_VB + tx] = carry * S[d * SCAN_VB + tx] + acc[r][0];
                    S[d * SCAN_VB + tx + 16] = carry * S[d * SCAN_VB + tx + 16] + acc[r][1];
                }
            }
        }
        __syncthreads();  // before the next chunk overwrites the tiles
    }
}

#include "kernels/chunked_scan_tc.cuh"

// Launches the kernel for a over B*H blocks x ceil(DV / SCAN_VB) value slices: the
// tensor-core kernel (chunked_scan_tc.cuh) when scan_tensor_cores_cuda says so and the
// product does not ask for fp32 operands, the fp32 kernel above otherwise.
static int chunked_scan_launch(const scan_args &a, bool reverse, bool decay, cudaStream_t s, star_error *err) {
    if (a.DK < 1 || a.DK > SCAN_DK_MAX || a.DV < 1)
        return STAR_FAIL(err, "chunked scan: key width %d outside [1, %d] or value width %d < 1", a.DK, SCAN_DK_MAX,
                         a.DV);
    long blocks = (long)a.B * a.H;
    if (blocks > 0x7fffffffL) return STAR_FAIL(err, "chunked scan: too many sequences x heads (%ld)", blocks);
    int tc = scan_tensor_cores_cuda(err);
    if (tc < 0) return -1;
    if (a.fp32_operands) tc = 0;
    scan_args av = a;
    av.vec = scan_in_vec(a.q, a.DK) && scan_in_vec(a.k, a.DK) && scan_in_vec(a.v, a.DV);
    dim3 grid((unsigned)blocks, (unsigned)((a.DV + SCAN_VB - 1) / SCAN_VB));
    size_t smem = tc ? scan_tc_smem_bytes(a.DK) : scan_smem_bytes(a.DK);
#define SCAN_CASE(R, D)                                                                                            \
    do {                                                                                                           \
        if (tc) {                                                                                                  \
            cudaCheck(cudaFuncSetAttribute(chunked_scan_tc_kernel<R, D>,                                           \
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),                \
                      err);                                                                                        \
            chunked_scan_tc_kernel<R, D><<<grid, SCAN_THREADS, smem, s>>>(av);                                      \
        } else {                                                                                                   \
            cudaCheck(cudaFuncSetAttribute(chunked_scan_kernel<R, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, \
                                           (int)smem),                                                             \
                      err);                                                                                        \
            chunked_scan_kernel<R, D><<<grid, SCAN_THREADS, smem, s>>>(av);                                         \
        }                                                                                                          \
    } while (0)
    if (reverse && decay)
        SCAN_CASE(true, true);
    else if (reverse)
        SCAN_CASE(true, false);
    else if (decay)
        SCAN_CASE(false, true);
    else
        SCAN_CASE(false, false);
#undef SCAN_CASE
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

#endif
