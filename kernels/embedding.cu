// star: token embedding, as operators/embedding.c. The forward copies rows, 16 bytes per
// access when C % 8 == 0 and the pointers are aligned.
// The backward must not depend on scheduling: positions are sorted by token with a
// stable radix sort (positions of one token stay in position order), then one block per
// (run of equal tokens, 256 channels) adds the run's rows in order onto dtable's value.
// That is the CPU's arithmetic exactly (float adds, same order, same start), so the
// result is bit-identical to it. A frequent token makes a long serial run; the runs of
// different tokens and the channels go in parallel.
#include <cub/device/device_radix_sort.cuh>
#include <limits.h>

#include "kernels/common.cuh"

template <bool VEC>
__global__ void embedding_forward_kernel(floatX *out, const int32_t *tokens, const floatX *table, long N, int V,
                                         int C) {
    long chunks_per_row = (C + PACK - 1) / PACK;
    long total = N * chunks_per_row;
    for (long idx = blockIdx.x * (long)blockDim.x + threadIdx.x; idx < total; idx += (long)gridDim.x * blockDim.x) {
        long n = idx / chunks_per_row;
        int c = (int)(idx % chunks_per_row) * PACK;
        int tok = tokens[n];
        float v[PACK];
        if (tok >= 0 && tok < V) {
            load_chunk<VEC>(v, table + (long)tok * C, c, C);
        } else {
#pragma unroll
            for (int j = 0; j < PACK; j++) v[j] = __int_as_float(0x7fc00000);  // NaN: a bad token shows in the loss
        }
        store_chunk<VEC>(out + n * C, v, c, C);
    }
}

int embedding_forward_cuda(floatX *out, const int32_t *tokens, const floatX *table, long N, int V, int C,
                           star_stream s, star_error *err) {
    if (N <= 0 || C <= 0) return 0;
    long chunks = N * ((C + PACK - 1) / PACK);
    unsigned blocks = grid_for(chunks, 256);
    if (C % PACK == 0 && is_aligned16(out) && is_aligned16(table))
        embedding_forward_kernel<true><<<blocks, 256, 0, s>>>(out, tokens, table, N, V, C);
    else
        embedding_forward_kernel<false><<<blocks, 256, 0, s>>>(out, tokens, table, N, V, C);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}

// ---- backward -----------------------------------------------------------------------------
// Scratch: keys_in, keys_out, pos_in, pos_out (N uint32 each, 256-byte aligned), then cub's
// temporary storage. Invalid tokens get key V, a run that is skipped.

static size_t align256(size_t b) { return (b + 255) & ~(size_t)255; }

static int key_bits(int V) {  // bits that hold every key in [0, V]
    int b = 1;
    while (b < 31 && (1L << b) <= V) b++;
    return b;
}

static int sort_temp_bytes(size_t *bytes, long N, int V, star_error *err) {
    *bytes = 0;
    cudaCheck(cub::DeviceRadixSort::SortPairs(NULL, *bytes, (const uint32_t *)NULL, (uint32_t *)NULL,
                                              (const uint32_t *)NULL, (uint32_t *)NULL, (int)N, 0, key_bits(V)),
              err);
    return 0;
}

int embedding_backward_scratch_bytes(size_t *bytes, long N, int V, star_error *err) {
    *bytes = 0;
    if (N > INT_MAX) return STAR_FAIL(err, "embedding backward: %ld positions exceed the sort's int range", N);
    size_t temp;
    if (sort_temp_bytes(&temp, N, V, err)) return -1;
    *bytes = 4 * align256(sizeof(uint32_t) * (size_t)N) + temp;
    return 0;
}

__global__ void embedding_keys_kernel(uint32_t *keys, uint32_t *pos, const int32_t *tokens, long N, int V) {
    long n = blockIdx.x * (long)blockDim.x + threadIdx.x;
    if (n >= N) return;
    int tok = tokens[n];
    keys[n] = tok >= 0 && tok < V ? (uint32_t)tok : (uint32_t)V;
    pos[n] = (uint32_t)n;
}

// grid (N, channel tiles of 256): block x starts a run when its key differs from the previous.
__global__ void embedding_runs_kernel(float *dtable, const floatX *dout, const uint32_t *keys, const uint32_t *pos,
                                      long N, int V, int C) {
    long b = blockIdx.x;
    uint32_t tok = keys[b];
    if ((b > 0 && keys[b - 1] == tok) || tok == (uint32_t)V) return;
    int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float *d = dtable + (long)tok * C + c;
    float acc = *d;
    for (long j = b; j < N && keys[j] == tok; j++) acc += __bfloat162float(dout[(long)pos[j] * C + c]);
    *d = acc;
}

int embedding_backward_cuda(float *dtable, void *scratch, size_t scratch_bytes, const floatX *dout,
                            const int32_t *tokens, long N, int V, int C, star_stream s, star_error *err) {
    if (N <= 0 || C <= 0) return 0;
    size_t need;
    if (embedding_backward_scratch_bytes(&need, N, V, err)) return -1;
    if (scratch_bytes < need)
        return STAR_FAIL(err, "embedding backward: scratch of %zu bytes, %zu needed", scratch_bytes, need);
    size_t arr = align256(sizeof(uint32_t) * (size_t)N);
    char *p = (char *)scratch;
    uint32_t *keys_in = (uint32_t *)p, *keys_out = (uint32_t *)(p + arr);
    uint32_t *pos_in = (uint32_t *)(p + 2 * arr), *pos_out = (uint32_t *)(p + 3 * arr);
    void *temp = p + 4 * arr;
    size_t temp_bytes = need - 4 * arr;

    embedding_keys_kernel<<<(unsigned)((N + 255) / 256), 256, 0, s>>>(keys_in, pos_in, tokens, N, V);
    cudaCheck(cudaGetLastError(), err);
    cudaCheck(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out, pos_in, pos_out, (int)N, 0,
                                              key_bits(V), s),
              err);
    dim3 grid((unsigned)N, (C + 255) / 256);
    embedding_runs_kernel<<<grid, 256, 0, s>>>(dtable, dout, keys_out, pos_out, N, V, C);
    cudaCheck(cudaGetLastError(), err);
    return 0;
}
