// star: one 64 x 64 tile product through wgmma (kernels/wgmma.cuh), for the tests: it
// checks on the device that the shared-memory layouts, the descriptors and the fragment
// layouts written in wgmma.cuh are the ones the hardware reads, for each way an operand
// can arrive (A K-major or M-major in shared memory or in registers; B K-major or
// N-major), before any kernel is built on them.
#include "kernels/mma.cuh"  // ld_pair
#include "kernels/wgmma.cuh"

#define WG_TILE 64
#define WG_MAX_K 256

__global__ void __launch_bounds__(128) wgmma_tile_kernel(float *c, const floatX *a, const floatX *bt, int K, int a_mode,
                                                         int b_mn) {
#ifdef STAR_WGMMA
    extern __shared__ __align__(128) unsigned char wg_smem[];
    unsigned char *As = wg_smem, *Bs = wg_smem + WG_TILE * K * sizeof(floatX);
    int tid = threadIdx.x;
    for (int i = tid; i < WG_TILE * K; i += 128) {
        int r = i / K, k = i % K;
        if (a_mode != 2) {
            uint32_t o = a_mode & 1 ? wg_off_mnmajor(r, k, WG_TILE) : wg_off_kmajor(r, k, K);
            *reinterpret_cast<floatX *>(As + o) = a[i];
        }
        uint32_t o = b_mn ? wg_off_mnmajor(r, k, WG_TILE) : wg_off_kmajor(r, k, K);
        *reinterpret_cast<floatX *>(Bs + o) = bt[i];
    }
    fence_proxy_async();
    __syncthreads();
    wg_tile ta = a_mode & 1 ? wg_tile_mnmajor(WG_TILE, K) : wg_tile_kmajor(WG_TILE, K);
    wg_tile tb = b_mn ? wg_tile_mnmajor(WG_TILE, K) : wg_tile_kmajor(WG_TILE, K);
    if (a_mode == 3) ta = wg_tile{ta.sbo, ta.lbo, ta.kstep};  // the other reading of the strides
    if (b_mn == 2) tb = wg_tile{tb.sbo, tb.lbo, tb.kstep};
    int warp = tid / WARP_SIZE, lane = tid % WARP_SIZE, g = lane / 4, q = lane % 4;
    float d[32];
#pragma unroll
    for (int i = 0; i < 32; i++) d[i] = 0.0f;
    wgmma_fence();
    for (int s = 0; s < K / 16; s++) {
        uint64_t db = wg_desc(Bs + s * tb.kstep, tb.lbo, tb.sbo);
        if (a_mode == 2) {
            const floatX *p = a + (long)(16 * warp + g) * K + 16 * s + 2 * q;
            uint32_t af[4] = {ld_pair(p), ld_pair(p + 8 * K), ld_pair(p + 8),
                              ld_pair(p + 8 * K + 8)};
            wgmma_fence();
            if (b_mn) wgmma_m64n64k16_rs<1>(d, af, db, s > 0);
            else wgmma_m64n64k16_rs<0>(d, af, db, s > 0);
        } else {
            uint64_t da = wg_desc(As + s * ta.kstep, ta.lbo, ta.sbo);
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

int wgmma_available_cuda(star_error *err) {
    int dev = 0, major = 0, minor = 0;
    cudaCheck(cudaGetDevice(&dev), err);
    cudaCheck(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), err);
    cudaCheck(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev), err);
    if (major == 9 && minor == 0) return 1;
    STAR_FAIL(err, "wgmma needs compute capability 9.0 (the kernels are sm_90a); this device is %d.%d", major, minor);
    return 0;
}

int wgmma_tile_product_cuda(float *c, const floatX *a, const floatX *bt, int K, int a_mode, int b_mn, star_stream s,
                            star_error *err) {
    int ok = wgmma_available_cuda(err);
    if (ok != 1) return -1;
    if (K < 16 || K > WG_MAX_K || K % 16)
        return STAR_FAIL(err, "wgmma_tile_product_cuda: K %d must be a multiple of 16 in [16, %d]", K, WG_MAX_K);
    if (a_mode < 0 || a_mode > 3 || b_mn < 0 || b_mn > 2)
        return STAR_FAIL(err, "wgmma_tile_product_cuda: a_mode %d (0 to 3) or b_mn %d (0 to 2)", a_mode, b_mn);
    size_t smem = 2 * (size_t)WG_TILE * K * sizeof(floatX);
    cudaCheck(cudaFuncSetAttribute(wgmma_tile_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem), err);
    wgmma_tile_kernel<<<1, 128, smem, s>>>(c, a, bt, K, a_mode, b_mn);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
