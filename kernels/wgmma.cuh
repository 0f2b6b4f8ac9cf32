// star: Hopper's warpgroup matrix products (wgmma.mma_async, sm_90a), the building block
// for tiles larger than mma.sync's: one warpgroup (4 warps, 128 threads) computes a
// 64 x N fp32 accumulator from bf16 operands, B always from shared memory, A from shared
// memory or from registers. Operands in shared memory are described by a 64-bit matrix
// descriptor; this file uses the layout without swizzle (the "interleaved" canonical
// layout), whose unit is the core matrix: 8 rows of 16 bytes, 128 contiguous bytes.
//
//   K-major (A: M x K with k contiguous; B: N x K with k contiguous, i.e. B^T row major):
//     a core matrix is 8 rows (m or n) of 8 consecutive k. Element (r, k) at byte
//     (r % 8) * 16 + (k % 8) * 2 + (r / 8) * SBO + (k / 8) * LBO.
//   MN-major ("transposed": A stored as K x M with m contiguous, B as K x N with n
//     contiguous, selected by the trans flags): a core matrix is 8 k of 8 consecutive m
//     (or n). Element (r, k) at byte
//     (r % 8) * 2 + (k % 8) * 16 + (r / 8) * SBO + (k / 8) * LBO.
//
// LBO (leading byte offset) steps between the two core matrices along k of one k16 step,
// SBO (stride byte offset) between core matrices along m or n. The tiles here put the
// core matrices of a tile in one block: wg_tile_kmajor / wg_tile_mnmajor give the offsets
// and the descriptor strides for a tile of R rows (m or n) by K columns.
//
// Accumulator fragment of m64nNk16 (fp32, N / 2 per thread): warp w of the warpgroup owns
// rows 16 w .. 16 w + 15; lane = 4 g + q; d[4 j + e] is (row 16 w + g + 8 (e / 2),
// column 8 j + 2 q + e % 2), as mma.sync's m16n8 C fragment repeated along n. The A
// fragment from registers is mma.sync's m16n8k16 A fragment of the warp's 16 rows.
//
// Order of operations: generic stores to shared memory, fence_proxy_async(), a barrier,
// then wgmma_fence() (before the first product and after registers it reads change),
// the products, wgmma_commit(), and wgmma_wait<n>() before reading the accumulators.
#ifndef STAR_KERNELS_WGMMA_CUH
#define STAR_KERNELS_WGMMA_CUH

#include "kernels/common.cuh"

// Compiled for sm_90a only; elsewhere the kernels that use it refuse to launch.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define STAR_WGMMA 1
#endif

// Byte offsets of element (r, k) in a tile of R rows by K columns (R, K multiples of 8
// and 16), and its descriptor strides. K-major: core matrices row block by row block, each
// block's k core matrices adjacent (LBO 128 bytes, SBO K * 16). MN-major: k blocks one after
// the other, each block's row core matrices adjacent (SBO 128, LBO R * 16).
struct wg_tile {
    uint32_t lbo, sbo, kstep;  // bytes; kstep: from one k16 step to the next
};
__host__ __device__ constexpr wg_tile wg_tile_kmajor(int R, int K) {
    return wg_tile{128u, (uint32_t)K * 16u, 256u};
}
__host__ __device__ constexpr wg_tile wg_tile_mnmajor(int R, int K) {
    return wg_tile{(uint32_t)R * 16u, 128u, (uint32_t)R * 32u};
}
__host__ __device__ inline uint32_t wg_off_kmajor(int r, int k, int K) {
    return (uint32_t)((r / 8) * (K * 16) + (k / 8) * 128 + (r % 8) * 16 + (k % 8) * 2);
}
__host__ __device__ inline uint32_t wg_off_mnmajor(int r, int k, int R) {
    return (uint32_t)((k / 8) * (R * 16) + (r / 8) * 128 + (k % 8) * 16 + (r % 8) * 2);
}

// The descriptor of the k16 step that starts at smem (no swizzle, base offset 0).
__device__ __forceinline__ uint64_t wg_desc(const void *smem, uint32_t lbo, uint32_t sbo) {
    uint32_t addr = (uint32_t)__cvta_generic_to_shared(smem);
    return (uint64_t)((addr & 0x3ffff) >> 4) | ((uint64_t)((lbo & 0x3ffff) >> 4) << 16) |
           ((uint64_t)((sbo & 0x3ffff) >> 4) << 32);
}

// The 128-byte swizzle (the layout TMA writes with its 128-byte swizzle mode). Its unit is
// the atom: 8 rows of 128 bytes (64 bf16), 1024 contiguous bytes, 1024-byte aligned in
// shared memory, in which the 16-byte chunk c of row j is stored at chunk c ^ j. Rows are
// m or n for a K-major operand (a row holds 64 consecutive k), k for an MN-major one (a
// row holds 64 consecutive m or n). Fewer bank conflicts than the layout above when the
// tensor cores read a core matrix (8 rows of one chunk), and it lets a row of 64 values
// be stored as 8 chunks of 16 bytes.
//   K-major, R rows by K columns: 64-column panels of R x 128 bytes one after the other;
//     SBO 1024 (from 8 rows to the next 8), LBO unused (set to 16); a k16 step starts 32
//     bytes further along the row, and a new panel every 4 steps.
//   MN-major (R a multiple of 64): k rows of 128 bytes, atoms of 8 k one after the other
//     (SBO 1024; a k16 step is 2 atoms, 2048 bytes), 64-row panels K x 128 bytes apart
//     (LBO).
__host__ __device__ inline uint32_t wg_off_kmajor_sw128(int r, int k, int R) {
    return (uint32_t)((k / 64) * (R * 128) + r * 128 + ((((k % 64) / 8) ^ (r % 8)) * 16) + (k % 8) * 2);
}
__host__ __device__ inline uint32_t wg_off_mnmajor_sw128(int r, int k, int K) {
    return (uint32_t)((r / 64) * (K * 128) + (k / 8) * 1024 + (k % 8) * 128 + ((((r % 64) / 8) ^ (k % 8)) * 16) +
                      (r % 8) * 2);
}
// Where k16 step s starts, in bytes from the tile.
__host__ __device__ inline uint32_t wg_step_kmajor_sw128(int s, int R) { return (uint32_t)((s / 4) * (R * 128) + (s % 4) * 32); }
__host__ __device__ inline uint32_t wg_step_mnmajor_sw128(int s) { return (uint32_t)(s * 2048); }
__host__ __device__ constexpr wg_tile wg_tile_kmajor_sw128() { return wg_tile{16u, 1024u, 0u}; }
__host__ __device__ constexpr wg_tile wg_tile_mnmajor_sw128(int K) { return wg_tile{(uint32_t)K * 128u, 1024u, 2048u}; }

// The descriptor of a k16 step in the 128-byte swizzle: layout type 1 in bits 62-63, base
// offset 0 (the atoms are 1024-byte aligned; a step inside a K-major row moves only the
// start address, as the swizzle is applied to the address bits).
__device__ __forceinline__ uint64_t wg_desc_sw128(const void *smem, uint32_t lbo, uint32_t sbo) {
    return wg_desc(smem, lbo, sbo) | (1ull << 62);
}

__device__ __forceinline__ void fence_proxy_async() {
#ifdef STAR_WGMMA
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_fence() {
#ifdef STAR_WGMMA
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#ifdef STAR_WGMMA
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
#ifdef STAR_WGMMA
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}

// Keeps the compiler from moving accumulator reads or writes across the asynchronous
// product (the registers are in flight until wgmma_wait).
template <int N>
__device__ __forceinline__ void wg_fence_regs(float (&d)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}

#define STAR_WG_D32                                                                                                    \
    "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, " \
    "%24, %25, %26, %27, %28, %29, %30, %31}"
#define STAR_WG_D32_ARGS(d)                                                                                            \
    "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]),      \
        "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),         \
        "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]),        \
        "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])

// d (64 x 64) = A B + (accumulate ? d : 0), A and B from shared memory. TA, TB: 1 where the
// operand is MN-major.
template <int TA, int TB>
__device__ __forceinline__ void wgmma_m64n64k16_ss(float (&d)[32], uint64_t da, uint64_t db, int accumulate) {
#ifdef STAR_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 " STAR_WG_D32 ", %32, %33, p, 1, 1, %35, %36;\n}\n"
        : STAR_WG_D32_ARGS(d)
        : "l"(da), "l"(db), "r"(accumulate), "n"(TA), "n"(TB));
#endif
}

// d (64 x 64) = A B + (accumulate ? d : 0), A from registers (a: the warp's 16 x 16
// fragment), B from shared memory.
template <int TB>
__device__ __forceinline__ void wgmma_m64n64k16_rs(float (&d)[32], const uint32_t (&a)[4], uint64_t db,
                                                   int accumulate) {
#ifdef STAR_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 " STAR_WG_D32
        ", {%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
        : STAR_WG_D32_ARGS(d)
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(accumulate), "n"(TB));
#endif
}

#endif  // STAR_KERNELS_WGMMA_CUH
