// star: rotary position embedding, as operators/rope.c: on x [B,T,H,hd], channel i pairs
// with i + hd/2 and turns by pos * ROPE_BASE^(-2i/hd), pos = pos0 + t. One thread per
// (b, t, i): it computes the angle once, in double as the CPU does (so both rotate by the
// same float cos/sin), and applies it to every head; a warp's lanes take consecutive i,
// so each head's reads are contiguous. The backward applies the inverse rotation. Where
// hd/2 % 8 == 0, hd <= 256 and the pointers are 16-byte aligned, a thread takes 8
// consecutive i instead, in 16-byte accesses (rope_vec_kernel).
#include "kernels/common.cuh"
#include "operators/rope.h"  // ROPE_BASE

#define ROPE_HEADS 8  // heads whose loads one thread issues together

// MODE: 0 forward, 1 backward adding into out, 2 backward overwriting out.
template <int MODE>
__global__ void rope_kernel(floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2;
    long total = (long)B * T * half;
    for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < total; idx += (long)gridDim.x * blockDim.x) {
        int i = (int)(idx % half);
        long bt = idx / half;
        int t = (int)(bt % T);
        float c = 0.0f, s = 0.0f;
        // Heads in groups of ROPE_HEADS: a group's loads are issued before its stores (and the
        // first group's before the angle's double math), so their latencies overlap. In place
        // (out == x) stays safe: each element is read and written by this thread alone.
        for (int h0 = 0; h0 < H; h0 += ROPE_HEADS) {
            float a[ROPE_HEADS], z[ROPE_HEADS], oa[ROPE_HEADS], oz[ROPE_HEADS];
#pragma unroll
            for (int j = 0; j < ROPE_HEADS; j++) {
                if (h0 + j >= H) break;
                long o = (bt * H + h0 + j) * hd;
                a[j] = __bfloat162float(x[o + i]), z[j] = __bfloat162float(x[o + i + half]);
                if (MODE == 1) oa[j] = __bfloat162float(out[o + i]), oz[j] = __bfloat162float(out[o + i + half]);
                if (MODE == 2) oa[j] = oz[j] = 0.0f;
            }
            if (h0 == 0) {
                double ang = (double)(pos0 + t) * pow(ROPE_BASE, -2.0 * i / hd);
                double sd, cd;
                sincos(ang, &sd, &cd);
                c = (float)cd, s = (float)sd;
            }
#pragma unroll
            for (int j = 0; j < ROPE_HEADS; j++) {
                if (h0 + j >= H) break;
                long o = (bt * H + h0 + j) * hd;
                if (MODE != 0) {
                    out[o + i] = __float2bfloat16_rn(oa[j] + (a[j] * c + z[j] * s));
                    out[o + i + half] = __float2bfloat16_rn(oz[j] + (-a[j] * s + z[j] * c));
                } else {
                    out[o + i] = __float2bfloat16_rn(a[j] * c - z[j] * s);
                    out[o + i + half] = __float2bfloat16_rn(a[j] * s + z[j] * c);
                }
            }
        }
    }
}

#define ROPE_VEC_HEADS 4  // heads per group in the 16-byte kernel: 8 (MODE 1: 16) loads in flight

#define ROPE_FREQS 128  // frequencies a block keeps in shared memory: the 16-byte kernel's hd <= 256

// As rope_kernel, a thread per (b, t, 8 consecutive i): the 8 angles once, then every head.
// The frequencies ROPE_BASE^(-2i/hd) once per block (the double pow was most of the angle's
// cost: 2.2-2.7 TB/s with it per thread, 3.2-3.4 without, H200), the product and sincos
// in double per thread as before: the same values.
template <int MODE>
__global__ void rope_vec_kernel(floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2, chunks = half / PACK;
    long total = (long)B * T * chunks;
    __shared__ double freq[ROPE_FREQS];
    for (int i = threadIdx.x; i < half; i += blockDim.x) freq[i] = pow(ROPE_BASE, -2.0 * i / hd);
    __syncthreads();
    for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < total; idx += (long)gridDim.x * blockDim.x) {
        int i0 = (int)(idx % chunks) * PACK;
        long bt = idx / chunks;
        int t = (int)(bt % T);
        float c[PACK] = {}, s[PACK] = {};
        for (int h0 = 0; h0 < H; h0 += ROPE_VEC_HEADS) {
            // The group's loads kept as loaded (16 bytes each, converted where used): as floats
            // they held 128 registers (208 when adding), 2 blocks (1) per SM.
            int4 a[ROPE_VEC_HEADS], z[ROPE_VEC_HEADS], oa[ROPE_VEC_HEADS], oz[ROPE_VEC_HEADS];
#pragma unroll
            for (int j = 0; j < ROPE_VEC_HEADS; j++) {
                if (h0 + j >= H) break;
                long o = (bt * H + h0 + j) * hd + i0;
                a[j] = *reinterpret_cast<const int4 *>(x + o), z[j] = *reinterpret_cast<const int4 *>(x + o + half);
                if (MODE == 1)
                    oa[j] = *reinterpret_cast<const int4 *>(out + o), oz[j] = *reinterpret_cast<const int4 *>(out + o + half);
            }
            if (h0 == 0) {
#pragma unroll
                for (int k = 0; k < PACK; k++) {
                    double sd, cd;
                    sincos((double)(pos0 + t) * freq[i0 + k], &sd, &cd);
                    c[k] = (float)cd, s[k] = (float)sd;
                }
            }
#pragma unroll
            for (int j = 0; j < ROPE_VEC_HEADS; j++) {
                if (h0 + j >= H) break;
                long o = (bt * H + h0 + j) * hd + i0;
                const floatX *va = reinterpret_cast<const floatX *>(&a[j]), *vz = reinterpret_cast<const floatX *>(&z[j]);
                const floatX *voa = reinterpret_cast<const floatX *>(&oa[j]), *voz = reinterpret_cast<const floatX *>(&oz[j]);
                float ra[PACK], rz[PACK];
#pragma unroll
                for (int k = 0; k < PACK; k++) {
                    float ak = __bfloat162float(va[k]), zk = __bfloat162float(vz[k]);
                    if (MODE != 0) {
                        ra[k] = (MODE == 1 ? __bfloat162float(voa[k]) : 0.0f) + (ak * c[k] + zk * s[k]);
                        rz[k] = (MODE == 1 ? __bfloat162float(voz[k]) : 0.0f) + (-ak * s[k] + zk * c[k]);
                    } else {
                        ra[k] = ak * c[k] - zk * s[k];
                        rz[k] = ak * s[k] + zk * c[k];
                    }
                }
                store8(out + o, ra), store8(out + o + half, rz);
            }
        }
    }
}

static int rope_launch(int mode, floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0,
                       star_stream s, star_error *err) {
    if (hd % 2) return STAR_FAIL(err, "rope: head dimension %d is odd", hd);
    long total = (long)B * T * (hd / 2);
    if (total <= 0 || H <= 0) return 0;
    void (*kernel)(floatX *, const floatX *, int, int, int, int, int);
    long threads = total;
    if ((hd / 2) % PACK == 0 && hd / 2 <= ROPE_FREQS && is_aligned16(out) && is_aligned16(x)) {
        kernel = mode == 1 ? rope_vec_kernel<1> : mode == 2 ? rope_vec_kernel<2> : rope_vec_kernel<0>;
        threads = total / PACK;
    } else {
        kernel = mode == 1 ? rope_kernel<1> : mode == 2 ? rope_kernel<2> : rope_kernel<0>;
    }
    kernel<<<grid_for(threads, 256), 256, 0, s>>>(out, x, B, T, H, hd, pos0);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int rope_forward_cuda(floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0, star_stream s,
                      star_error *err) {
    return rope_launch(0, out, x, B, T, H, hd, pos0, s, err);
}

int rope_backward_cuda(floatX *dx, const floatX *dout, int B, int T, int H, int hd, int pos0, grad_write mode,
                       star_stream s, star_error *err) {
    return rope_launch(mode == GRAD_SET ? 2 : 1, dx, dout, B, T, H, hd, pos0, s, err);
}
