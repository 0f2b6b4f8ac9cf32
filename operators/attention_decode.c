// Incremental decoding against a key/value cache: one new token per sequence attends to
// the cached keys in position order, exactly as the full forward does for its last row.
#include <stdlib.h>
#include <string.h>

#include "operators/attention.h"
#include "operators/attention_core.h"
#include "operators/rmsnorm.h"

int attn_cache_init(attn_cache *c, real *k, real *v, int B, int cap, int Hkv, int hd, int window, star_error *err) {
    if (!k || !v) return STAR_FAIL(err, "attention cache: no key/value buffers");
    if (B < 1 || cap < 1 || Hkv < 1 || hd < 1 || window < 0)
        return STAR_FAIL(err, "attention cache: bad shape (batch %d, capacity %d, kv heads %d, head dim %d, window %d)",
                         B, cap, Hkv, hd, window);
    if (window > 0 && cap < window)
        return STAR_FAIL(err, "attention cache: capacity %d cannot hold a window of %d tokens", cap, window);
    *c = (attn_cache){.k = k, .v = v, .B = B, .cap = cap, .Hkv = Hkv, .hd = hd, .window = window, .pos = 0};
    return 0;
}

static int decode_check(const attn_cache *c, int H, star_error *err) {
    if (H < 1 || H % c->Hkv != 0)
        return STAR_FAIL(err, "attention decode: %d query heads must be a positive multiple of the %d key/value heads",
                         H, c->Hkv);
    if (c->window == 0 && c->pos >= c->cap)
        return STAR_FAIL(err, "attention decode: the cache is full (%d tokens)", c->cap);
    return 0;
}

static void cache_append(attn_cache *c, const real *k, const real *v) {
    long slot = c->window > 0 ? c->pos % c->cap : c->pos;
    long row = (long)c->Hkv * c->hd;
    for (int b = 0; b < c->B; b++) {
        long o = ((long)b * c->cap + slot) * row;
        memcpy(c->k + o, k + b * row, sizeof(real) * (size_t)row);
        memcpy(c->v + o, v + b * row, sizeof(real) * (size_t)row);
    }
}

// out [B,H,hd] for the token at c->pos (already appended).
static void decode_map(real *out, const attn_cache *c, const real *q, int H, int qk_off, int qk_dim, real scale) {
    int rep = H / c->Hkv, hd = c->hd;
    long stride = (long)c->Hkv * hd;
    int ring = c->window > 0 ? c->cap : 0;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < H; h++) {
            long qo = ((long)b * H + h) * hd;
            long ko = (long)b * c->cap * stride + (long)(h / rep) * hd;
            attend_row(out + qo, q + qo + qk_off, c->k + ko + qk_off, c->v + ko, stride,
                       attn_first_key(c->pos, c->window), c->pos, ring, qk_dim, hd, scale);
        }
}

int attention_decode_step(real *out, attn_cache *c, const real *q, const real *k, const real *v, int H,
                          star_error *err) {
    if (decode_check(c, H, err)) return -1;
    cache_append(c, k, v);
    decode_map(out, c, q, H, 0, c->hd, (real)(1.0 / sqrt((double)c->hd)));
    c->pos++;
    return 0;
}

int diff_attention_decode_step(real *out, attn_cache *c, const real *q, const real *k, const real *v,
                               const real *lambda, int H, star_error *err) {
    if (decode_check(c, H, err)) return -1;
    if (c->hd % 2 != 0)
        return STAR_FAIL(err, "differential attention decode: head dim %d must be even", c->hd);
    int half = c->hd / 2;
    real scale = (real)(1.0 / sqrt((double)half));
    long rows = (long)c->B * H, n = rows * c->hd;
    real *o2 = star_malloc(sizeof(real) * (size_t)(n + rows)), *rstd = o2 + n;
    cache_append(c, k, v);
    decode_map(out, c, q, H, 0, half, scale);
    decode_map(o2, c, q, H, half, half, scale);
    for (long i = 0; i < n; i++) out[i] = out[i] - lambda[(i / c->hd) % H] * o2[i];
    head_rmsnorm_forward(out, rstd, out, c->B, H, c->hd);
    for (long i = 0; i < n; i++) out[i] *= (real)(1.0 - DIFF_ATTN_LAMBDA_INIT);
    free(o2);
    c->pos++;
    return 0;
}
