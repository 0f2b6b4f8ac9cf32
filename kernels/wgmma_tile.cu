// star: one 64 x 64 tile product through wgmma (kernels/wgmma.cuh), for the tests: it
// checks on the device that the shared-memory layouts, the descriptors and the fragment
// layouts written in wgmma.cuh are the ones the hardware reads, for each way an operand
// can arrive (A K-major or M-major in shared memory or in registers; B K-major or
// N-major; in shared memory without swizzle or with the 128-byte swizzle), before any
// kernel is built on them.
#include "kernels/mma.cuh"  // ld_pair
#include "kernels/wgmma.cuh"

#define WG_TILE 64
#define WG_MAX_K 256

// Bytes of one operand's tile in shared memory: a K-major tile in the 128-byte swizzle
// takes whole 64-column panels.
static __host__ __device__ int wg_operand_bytes(int K, int sw) { return WG_TILE * (sw && K < 64 ? 64 : K) * 2; }

#ifdef STAR_WGMMA
// The byte offset of element (r, k) of a 64 x K operand, MN-major or not, swizzled or not.
static __device__ uint32_t wg_operand_off(int r, int k, int K, int mn, int sw) {
    if (sw) return mn ? wg_off_mnmajor_sw128(r, k, K) : wg_off_kmajor_sw128(r, k, WG_TILE);
    return mn ? wg_off_mnmajor(r, k, WG_TILE) : wg_off_kmajor(r, k, K);
}

// The first 1024-byte boundary at or after p in shared memory: the swizzle's atoms must
// sit on one (the launches ask 1024 bytes more).
static __device__ unsigned char *wg_smem_1024(unsigned char *p) {
    return p + ((1024u - ((uint32_t)__cvta_generic_to_shared(p) & 1023u)) & 1023u);
}

// The descriptor of k16 step s of an operand at base; swap: the strides read the other way
// round (diagnosis).
static __device__ uint64_t wg_operand_desc(const unsigned char *base, int s, int K, int mn, int sw, int swap) {
    wg_tile t = sw ? (mn ? wg_tile_mnmajor_sw128(K) : wg_tile_kmajor_sw128())
                   : (mn ? wg_tile_mnmajor(WG_TILE, K) : wg_tile_kmajor(WG_TILE, K));
    if (swap) t = wg_tile{t.sbo, t.lbo, t.kstep};
    if (!sw) return wg_desc(base + s * t.kstep, t.lbo, t.sbo);
    uint32_t at = mn ? wg_step_mnmajor_sw128(s) : wg_step_kmajor_sw128(s, WG_TILE);
    return wg_desc_sw128(base + at, t.lbo, t.sbo);
}
#endif

__global__ void __launch_bounds__(128) wgmma_tile_kernel(float *c, const floatX *a, const floatX *bt, int K, int a_mode,
                                                         int b_mn, int sw) {
#ifdef STAR_WGMMA
    extern __shared__ __align__(1024) unsigned char wg_smem[];
    unsigned char *As = wg_smem_1024(wg_smem);
    unsigned char *Bs = As + wg_operand_bytes(K, sw);
    int tid = threadIdx.x;
    for (int i = tid; i < WG_TILE * K; i += 128) {
        int r = i / K, k = i % K;
        if (a_mode != 2) *reinterpret_cast<floatX *>(As + wg_operand_off(r, k, K, a_mode & 1, sw)) = a[i];
        *reinterpret_cast<floatX *>(Bs + wg_operand_off(r, k, K, b_mn != 0, sw)) = bt[i];
    }
    fence_proxy_async();
    __syncthreads();
    int warp = tid / WARP_SIZE, lane = tid % WARP_SIZE, g = lane / 4, q = lane % 4;
    float d[32];
#pragma unroll
    for (int i = 0; i < 32; i++) d[i] = 0.0f;
    wgmma_fence();
    for (int s = 0; s < K / 16; s++) {
        uint64_t db = wg_operand_desc(Bs, s, K, b_mn != 0, sw, b_mn == 2);
        if (a_mode == 2) {
            const floatX *p = a + (long)(16 * warp + g) * K + 16 * s + 2 * q;
            uint32_t af[4] = {ld_pair(p), ld_pair(p + 8 * K), ld_pair(p + 8),
                              ld_pair(p + 8 * K + 8)};
            wgmma_fence();
            if (b_mn) wgmma_m64n64k16_rs<1>(d, af, db, s > 0);
            else wgmma_m64n64k16_rs<0>(d, af, db, s > 0);
        } else {
            uint64_t da = wg_operand_desc(As, s, K, a_mode & 1, sw, a_mode == 3);
            if (a_mode & 1 && b_mn) wgmma_m64n64k16_ss<1, 1>(d, da, db, s > 0);
            else if (a_mode & 1) wgmma_m64n64k16_ss<1, 0>(d, da, db, s > 0);
            else if (b_mn) wgmma_m64n64k16_ss<0, 1>(d, da, db, s > 0);
            else wgmma_m64n64k16_ss<0, 0>(d, da, db, s > 0);
        }
    }
    wgmma_commit();
    wgmma_wait<0>();
    wg_fence_regs(d);
#pragma unroll
    for (int i = 0; i < 32; i++) {
        int row = 16 * warp + g + 8 * ((i % 4) / 2), col = 8 * (i / 4) + 2 * q + i % 2;
        c[row * WG_TILE + col] = d[i];
    }
#endif
}

// Throughput of one arrangement (K 64): each block (one warpgroup) writes its two tiles
// once, then chains iters x 4 products into one accumulator; the sum goes to out[block] so
// nothing is left out. For a timing side by side of the layouts, not a check.
__global__ void __launch_bounds__(128) wgmma_rate_kernel(float *out, int iters, int a_mode, int b_mn, int sw) {
#ifdef STAR_WGMMA
    constexpr int K = 64;
    extern __shared__ __align__(1024) unsigned char wg_smem[];
    unsigned char *As = wg_smem_1024(wg_smem);
    unsigned char *Bs = As + wg_operand_bytes(K, sw);
    for (int i = threadIdx.x; i < WG_TILE * K; i += 128) {
        int r = i / K, k = i % K;
        floatX v = __float2bfloat16_rn((float)((r * 7 + k * 3) % 17 - 8) / 64.0f);
        *reinterpret_cast<floatX *>(As + wg_operand_off(r, k, K, a_mode & 1, sw)) = v;
        *reinterpret_cast<floatX *>(Bs + wg_operand_off(r, k, K, b_mn != 0, sw)) = v;
    }
    fence_proxy_async();
    __syncthreads();
    uint64_t da[4], db[4];
    for (int st = 0; st < 4; st++) {
        da[st] = wg_operand_desc(As, st, K, a_mode & 1, sw, 0);
        db[st] = wg_operand_desc(Bs, st, K, b_mn != 0, sw, 0);
    }
    uint32_t af[4] = {0x3f803f80u, 0x3f803f80u, 0x3f803f80u, 0x3f803f80u};  // bf16 1.0
    float d[32];
#pragma unroll
    for (int i = 0; i < 32; i++) d[i] = 0.0f;
    wgmma_fence();
    for (int it = 0; it < iters; it++) {
#pragma unroll
        for (int st = 0; st < 4; st++) {
            if (a_mode == 2) {
                if (b_mn) wgmma_m64n64k16_rs<1>(d, af, db[st], 1);
                else wgmma_m64n64k16_rs<0>(d, af, db[st], 1);
            } else if (a_mode & 1) {
                if (b_mn) wgmma_m64n64k16_ss<1, 1>(d, da[st], db[st], 1);
                else wgmma_m64n64k16_ss<1, 0>(d, da[st], db[st], 1);
            } else {
                if (b_mn) wgmma_m64n64k16_ss<0, 1>(d, da[st], db[st], 1);
                else wgmma_m64n64k16_ss<0, 0>(d, da[st], db[st], 1);
            }
        }
        wgmma_commit();
    }
    wgmma_wait<0>();
    wg_fence_regs(d);
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < 32; i++) sum += d[i];
    if (threadIdx.x == 0) out[blockIdx.x] = sum;
#endif
}

int wgmma_rate_blocks_cuda(star_error *err) {
    int dev = 0, sms = 0;
    cudaCheck(cudaGetDevice(&dev), err);
    cudaCheck(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), err);
    return 4 * sms;
}

int wgmma_rate_run_cuda(float *out, int blocks, int iters, int a_mode, int b_mn, int swizzle, star_stream s,
                        star_error *err) {
    int ok = wgmma_available_cuda(err);
    if (ok != 1) return -1;
    if (blocks < 1 || iters < 1 || a_mode < 0 || a_mode > 2 || b_mn < 0 || b_mn > 1 || (swizzle != 0 && swizzle != 128))
        return STAR_FAIL(err, "wgmma_rate_run_cuda: blocks %d, iters %d (positive), a_mode %d (0 to 2), b_mn %d (0, 1), "
                              "swizzle %d (0 or 128)", blocks, iters, a_mode, b_mn, swizzle);
    int sw = swizzle == 128;
    size_t smem = 2 * (size_t)wg_operand_bytes(64, sw) + 1024;
    cudaCheck(cudaFuncSetAttribute(wgmma_rate_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem), err);
    wgmma_rate_kernel<<<blocks, 128, smem, s>>>(out, iters, a_mode, b_mn, sw);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int wgmma_available_cuda(star_error *err) {
    int dev = 0, major = 0, minor = 0;
    cudaCheck(cudaGetDevice(&dev), err);
    cudaCheck(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), err);
    cudaCheck(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev), err);
    if (major == 9 && minor == 0) return 1;
    STAR_FAIL(err, "wgmma needs compute capability 9.0 (the kernels are sm_90a); this device is %d.%d", major, minor);
    return 0;
}

int wgmma_tile_product_cuda(float *c, const floatX *a, const floatX *bt, int K, int a_mode, int b_mn, int swizzle,
                            star_stream s, star_error *err) {
    int ok = wgmma_available_cuda(err);
    if (ok != 1) return -1;
    if (K < 16 || K > WG_MAX_K || K % 16)
        return STAR_FAIL(err, "wgmma_tile_product_cuda: K %d must be a multiple of 16 in [16, %d]", K, WG_MAX_K);
    if (a_mode < 0 || a_mode > 3 || b_mn < 0 || b_mn > 2)
        return STAR_FAIL(err, "wgmma_tile_product_cuda: a_mode %d (0 to 3) or b_mn %d (0 to 2)", a_mode, b_mn);
    if (swizzle != 0 && swizzle != 128)
        return STAR_FAIL(err, "wgmma_tile_product_cuda: swizzle %d (0 or 128 bytes)", swizzle);
    int sw = swizzle == 128;
    size_t smem = 2 * (size_t)wg_operand_bytes(K, sw) + 1024;
    cudaCheck(cudaFuncSetAttribute(wgmma_tile_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem), err);
    wgmma_tile_kernel<<<1, 128, smem, s>>>(c, a, bt, K, a_mode, b_mn, sw);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
