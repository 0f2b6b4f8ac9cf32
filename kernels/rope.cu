// star: rotary position embedding, as operators/rope.c: on x [B,T,H,hd], channel i pairs
// with i + hd/2 and turns by pos * ROPE_BASE^(-2i/hd), pos = pos0 + t. One thread per
// (b, t, i): it computes the angle once, in double as the CPU does (so both rotate by the
// same float cos/sin), and applies it to every head; a warp's lanes take consecutive i,
// so each head's reads are contiguous. The backward applies the inverse rotation.
#include "kernels/common.cuh"
#include "operators/rope.h"  // ROPE_BASE

template <bool BACKWARD>
__global__ void rope_kernel(floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0) {
    int half = hd / 2;
    long total = (long)B * T * half;
    for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < total; idx += (long)gridDim.x * blockDim.x) {
        int i = (int)(idx % half);
        long bt = idx / half;
        int t = (int)(bt % T);
        double ang = (double)(pos0 + t) * pow(ROPE_BASE, -2.0 * i / hd);
        double sd, cd;
        sincos(ang, &sd, &cd);
        float c = (float)cd, s = (float)sd;
        for (int h = 0; h < H; h++) {
            long o = (bt * H + h) * hd;
            float a = __bfloat162float(x[o + i]), z = __bfloat162float(x[o + i + half]);
            if (BACKWARD) {
                out[o + i] = __float2bfloat16_rn(__bfloat162float(out[o + i]) + (a * c + z * s));
                out[o + i + half] = __float2bfloat16_rn(__bfloat162float(out[o + i + half]) + (-a * s + z * c));
            } else {
                out[o + i] = __float2bfloat16_rn(a * c - z * s);
                out[o + i + half] = __float2bfloat16_rn(a * s + z * c);
            }
        }
    }
}

static int rope_launch(int backward, floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0,
                       star_stream s, star_error *err) {
    if (hd % 2) return STAR_FAIL(err, "rope: head dimension %d is odd", hd);
    long total = (long)B * T * (hd / 2);
    if (total <= 0 || H <= 0) return 0;
    unsigned blocks = grid_for(total, 256);
    if (backward)
        rope_kernel<true><<<blocks, 256, 0, s>>>(out, x, B, T, H, hd, pos0);
    else
        rope_kernel<false><<<blocks, 256, 0, s>>>(out, x, B, T, H, hd, pos0);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

int rope_forward_cuda(floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0, star_stream s,
                      star_error *err) {
    return rope_launch(0, out, x, B, T, H, hd, pos0, s, err);
}

int rope_backward_cuda(floatX *dx, const floatX *dout, int B, int T, int H, int hd, int pos0, star_stream s,
                       star_error *err) {
    return rope_launch(1, dx, dout, B, T, H, hd, pos0, s, err);
}
