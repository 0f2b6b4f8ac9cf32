// star: incremental decoding of one sequence, one token at a time, through the
// inference cache. Each LIV keeps exactly what its class needs to continue a sequence:
//   attention        K/V of the visible keys ([cap][Hkv][hd] each; cap = the window when
//                    it is shorter than the context, a ring buffer), rotated by rope at
//                    their absolute positions;
//   Rec-1 / Rec-2    the recurrent state (H x hd x hd / H x N x P);
//   GConv-1          the last conv_len-1 inputs of its short conv;
//   GConv-2          every past input of its long conv ((T-1) x inner), filter generated
//                    once for the longest context;
//   feature convs    the last conv_len-1 projection outputs of each slot it computes;
//   GMemless         nothing.
// A LIV that reuses its owner's memory (kv_from) holds none of it: it reads the owner's
// cache or state, which the owner (earlier in depth) has already advanced this step.
// That is what genome_stats counts as cache_bytes, and decode_cache_bytes counts the
// elements actually allocated here, so the two can be compared.
#include <stdlib.h>
#include <string.h>

#include "eval/model_private.h"
#include "operators/attention.h"
#include "operators/glu.h"
#include "operators/linear_attention.h"
#include "operators/long_conv.h"
#include "operators/matmul.h"
#include "operators/rmsnorm.h"
#include "operators/rope.h"
#include "operators/short_conv.h"
#include "operators/ssd_scan.h"

#define DECODE_MAX_ALLOCS (GENOME_MAX_DEPTH * 24 + 8)

// One LIV's decode buffers. Per-token work buffers hold one position; the cache
// buffers (fstate, kbuf/vbuf, state, conv_state, history) persist along the sequence.
typedef struct liv_decode {
    real *h;                  // input of the LIV after its norm [D]
    real *fpre[LIV_SLOTS];    // projection outputs [dim]
    real *feat[LIV_SLOTS];    // features after the optional conv [dim] (== fpre without)
    real *fstate[LIV_SLOTS];  // cache: feature conv history [(conv_len-1) * dim]
    real *q, *k;              // attention: rotated q [H*hd] and k [Hkv*hd] (k: owner only)
    real *kbuf, *vbuf;        // cache: attention keys and values (owner only)
    attn_cache cache;
    real *state;              // cache: Rec-1 [H][hd][hd], Rec-2 [H][N][P] (owner only)
    real *dt;                 // Rec-2 raw step [H] (owner only)
    real *zero_v;             // Rec-1 reuse: zero values, so a step reads the state unchanged
    real *conv_state;         // cache: GConv-1 [(conv_len-1) * inner]
    real *history;            // cache: GConv-2 inputs [(T-1) * inner]
    real *filter;             // GConv-2 filter [inner][T]
    real *u;                  // gated convolutions: conv output [inner]
    real *core;               // [inner]
    real *y;                  // [D]
} liv_decode;

struct decode_state {
    const model *m;
    int max_context;
    long pos;              // position of the next token
    size_t cache_elems;    // elements of the buffers marked as cache
    real *x;               // residual stream [D]
    real *sum;             // post-norm: x + y [D]
    real *h_final;         // final norm output [D]
    liv_decode liv[GENOME_MAX_DEPTH];
    void *allocs[DECODE_MAX_ALLOCS];
    int n_allocs;
};

// Zeroed buffer of numel reals owned by d; counted as cache when is_cache.
static real *dalloc(decode_state *d, size_t numel, int is_cache, star_error *err) {
    if (d->n_allocs == DECODE_MAX_ALLOCS) {
        STAR_FAIL(err, "decode: too many buffers (max %d)", DECODE_MAX_ALLOCS);
        return NULL;
    }
    real *p = calloc(numel ? numel : 1, sizeof(real));
    if (!p) {
        STAR_FAIL(err, "out of memory: cannot allocate %.1f MiB for the decode cache",
                  (double)numel * sizeof(real) / 1048576.0);
        return NULL;
    }
    d->allocs[d->n_allocs++] = p;
    if (is_cache) d->cache_elems += numel;
    return p;
}

static int attn_create(decode_state *d, const liv_layer *l, liv_decode *ld, star_error *err) {
    const liv_spec *s = l->s;
    size_t nq = (size_t)s->n_heads * s->head_dim, nk = (size_t)s->n_kv_heads * s->head_dim;
    if (!(ld->q = dalloc(d, nq, 0, err))) return -1;
    if (l->mem_owner != l) return 0;  // attends over the owner's cache
    // A window at least as long as the context never hides a key: full causal cache.
    int windowed = s->window > 0 && s->window < d->max_context;
    int cap = windowed ? s->window : d->max_context;
    if (!(ld->k = dalloc(d, nk, 0, err)) || !(ld->kbuf = dalloc(d, (size_t)cap * nk, 1, err)) ||
        !(ld->vbuf = dalloc(d, (size_t)cap * nk, 1, err)))
        return -1;
    return attn_cache_init(&ld->cache, ld->kbuf, ld->vbuf, 1, cap, s->n_kv_heads, s->head_dim,
                           windowed ? s->window : 0, err);
}

static int liv_decode_create(decode_state *d, const model *m, int i, star_error *err) {
    const liv_layer *l = &m->layers[i];
    const liv_spec *s = l->s;
    liv_decode *ld = &d->liv[i];
    int D = s->width, inner = s->inner, T = d->max_context;
    if (!(ld->h = dalloc(d, D, 0, err)) || !(ld->core = dalloc(d, inner, 0, err)) || !(ld->y = dalloc(d, D, 0, err)))
        return -1;
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (!l->computes[k]) continue;
        const feature_spec *f = &s->feat[k];
        if (!(ld->fpre[k] = dalloc(d, f->dim, 0, err))) return -1;
        ld->feat[k] = ld->fpre[k];
        if (f->conv_len > 0 && (!(ld->feat[k] = dalloc(d, f->dim, 0, err)) ||
                                !(ld->fstate[k] = dalloc(d, (size_t)(f->conv_len - 1) * f->dim, 1, err))))
            return -1;
    }
    int own = l->mem_owner == l;
    switch (s->cls) {
    case LIV_SA1: case LIV_SA2: case LIV_SA3: case LIV_SADIFF:
        return attn_create(d, l, ld, err);
    case LIV_REC1:
        if (!own) return (ld->zero_v = dalloc(d, inner, 0, err)) ? 0 : -1;
        return (ld->state = dalloc(d, (size_t)s->n_heads * s->head_dim * s->head_dim, 1, err)) ? 0 : -1;
    case LIV_REC2:
        if (!own) return 0;
        if (!(ld->dt = dalloc(d, s->n_heads, 0, err))) return -1;
        return (ld->state = dalloc(d, (size_t)s->n_heads * s->state_dim * s->head_dim, 1, err)) ? 0 : -1;
    case LIV_GCONV1:
        if (!(ld->u = dalloc(d, inner, 0, err))) return -1;
        return (ld->conv_state = dalloc(d, (size_t)(s->conv_len - 1) * inner, 1, err)) ? 0 : -1;
    case LIV_GCONV2:
        if (!(ld->u = dalloc(d, inner, 0, err)) || !(ld->filter = dalloc(d, (size_t)inner * T, 0, err)) ||
            !(ld->history = dalloc(d, (size_t)(T - 1) * inner, 1, err)))
            return -1;
        // The filter does not depend on the sequence length (LONG_CONV_T0): generating it
        // for the longest context gives the taps every shorter prefix uses.
        long_conv_filter_forward(ld->filter, l->fa.w, l->fb.w, l->falpha.w, inner, T, s->filter_modes);
        return 0;
    default:
        return 0;  // GMemless: no memory
    }
}

int decode_create(model *m, int max_context, decode_state **out, star_error *err) {
    *out = NULL;
    if (max_context < 1) return STAR_FAIL(err, "decode: context %d, expected at least 1 token", max_context);
    decode_state *d = calloc(1, sizeof *d);
    if (!d) return STAR_FAIL(err, "out of memory for the decode state");
    d->m = m;
    d->max_context = max_context;
    int D = m->a.dims.width;
    if (!(d->x = dalloc(d, D, 0, err)) || !(d->sum = dalloc(d, D, 0, err)) || !(d->h_final = dalloc(d, D, 0, err))) {
        decode_free(d);
        return -1;
    }
    for (int i = 0; i < m->a.depth; i++)
        if (liv_decode_create(d, m, i, err) != 0) {
            decode_free(d);
            return -1;
        }
    *out = d;
    return 0;
}

void decode_free(decode_state *d) {
    if (!d) return;
    for (int i = 0; i < d->n_allocs; i++) free(d->allocs[i]);
    free(d);
}

size_t decode_cache_bytes(const decode_state *d, int dtype_bytes) { return d->cache_elems * (size_t)dtype_bytes; }

// Rotary heads: differential attention rotates each half-head separately (as the
// training forward does, eval/liv_attention.c).
static int rope_heads(const liv_spec *s, int heads) { return s->cls == LIV_SADIFF ? 2 * heads : heads; }
static int rope_dim(const liv_spec *s) { return s->cls == LIV_SADIFF ? s->head_dim / 2 : s->head_dim; }

static int attn_step(const liv_layer *l, liv_decode *ld, const liv_decode *od, int pos, star_error *err) {
    const liv_spec *s = l->s;
    rope_forward(ld->q, ld->feat[0], 1, 1, rope_heads(s, s->n_heads), rope_dim(s), pos);
    if (od == ld) rope_forward(ld->k, ld->feat[1], 1, 1, rope_heads(s, s->n_kv_heads), rope_dim(s), pos);
    // A reusing LIV steps a copy of the owner's cache one position back: the step writes
    // the owner's key and value of this position into the slot they already occupy (a
    // no-op) and attends over exactly the keys the owner saw. The owner's cache is not
    // advanced twice and no second cache exists.
    attn_cache c, *cp = &ld->cache;
    if (od != ld) {
        c = od->cache;
        c.pos--;
        cp = &c;
    }
    if (s->cls == LIV_SADIFF)
        return diff_attention_decode_step(ld->core, cp, ld->q, od->k, od->feat[2], l->lambda.w, s->n_heads, err);
    return attention_decode_step(ld->core, cp, ld->q, od->k, od->feat[2], s->n_heads, err);
}

// Rec-2 read of a reusing LIV: y = C^T S + D x over the owner's state after its update
// (the state a second scan of the same B, X and dt would hold).
static void rec2_read(real *y, const real *S, const real *Cm, const real *x, const real *skip, int H, int N, int P) {
    for (int h = 0; h < H; h++) {
        const real *Sh = S + (long)h * N * P;
        real *yh = y + (long)h * P;
        for (int p = 0; p < P; p++) yh[p] = skip[h] * x[(long)h * P + p];
        for (int n = 0; n < N; n++)
            for (int p = 0; p < P; p++) yh[p] += Cm[n] * Sh[(long)n * P + p];
    }
}

static int mixer_step(const model *m, decode_state *d, int i, star_error *err) {
    const liv_layer *l = &m->layers[i];
    const liv_spec *s = l->s;
    liv_decode *ld = &d->liv[i];
    const liv_decode *od = &d->liv[l->mem_owner->index];
    int inner = s->inner;
    switch (s->cls) {
    case LIV_SA1: case LIV_SA2: case LIV_SA3: case LIV_SADIFF:
        return attn_step(l, ld, od, (int)d->pos, err);
    case LIV_REC1: {
        linatt_phi phi = s->act == ACT_ELU1 ? LINATT_PHI_ELU1 : LINATT_PHI_IDENTITY;
        // A reusing LIV adds phi(k) 0^T to the owner's state (nothing) and reads it with its q.
        linear_attention_step(ld->core, od->state, ld->feat[0], od->feat[1], od == ld ? ld->feat[2] : ld->zero_v, 1,
                              s->n_heads, s->head_dim, phi);
        return 0;
    }
    case LIV_REC2: {
        if (od != ld) {
            rec2_read(ld->core, od->state, ld->feat[0], od->feat[2], l->skip.w, s->n_heads, s->state_dim,
                      s->head_dim);
            return 0;
        }
        matmul_forward(ld->dt, ld->h, l->dt_w.w, 1, s->width, s->n_heads);
        ssd_inputs in = {.x = ld->feat[2], .Bm = ld->feat[1], .Cm = ld->feat[0], .dt = ld->dt, .dt_bias = l->dt_b.w,
                         .A_log = l->a_log.w, .D = l->skip.w};
        ssd_shape sh = {.B = 1, .T = 1, .H = s->n_heads, .P = s->head_dim, .N = s->state_dim};
        ssd_scan_step(ld->core, ld->state, &in, sh);
        return 0;
    }
    case LIV_GCONV1:
        short_conv_step(ld->u, ld->conv_state, ld->feat[1], l->conv.w, 1, inner, s->conv_len);
        glu_forward(ld->core, ld->feat[0], ld->u, inner, s->act);
        return 0;
    case LIV_GCONV2:
        if (long_conv_step(ld->u, ld->history, ld->feat[1], ld->filter, l->skip.w, 1, inner, d->max_context,
                           (int)d->pos, err) != 0)
            return -1;
        glu_forward(ld->core, ld->feat[0], ld->u, inner, s->act);
        return 0;
    default:
        glu_forward(ld->core, ld->feat[0], ld->feat[1], inner, s->act);
        return 0;
    }
}

// y = f(h) of LIV i for the current position: features, mixer step, output projection.
static int liv_step(const model *m, decode_state *d, int i, star_error *err) {
    const liv_layer *l = &m->layers[i];
    const liv_spec *s = l->s;
    liv_decode *ld = &d->liv[i];
    int D = s->width;
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (!l->computes[k]) continue;
        const feature_spec *f = &s->feat[k];
        if (f->groups > 1)
            matmul_grouped_forward(ld->fpre[k], ld->h, l->proj[k].w, 1, D, f->dim, f->groups);
        else
            matmul_forward(ld->fpre[k], ld->h, l->proj[k].w, 1, D, f->dim);
        if (f->conv_len > 0)
            short_conv_step(ld->feat[k], ld->fstate[k], ld->fpre[k], l->fconv[k].w, 1, f->dim, f->conv_len);
    }
    if (mixer_step(m, d, i, err) != 0) return -1;
    if (s->out_dense) {
        matmul_forward(ld->y, ld->core, l->out.w, 1, s->inner, D);
    } else {
        for (int c = 0; c < D; c++) ld->y[c] = ld->core[c] * l->out.w[c];
    }
    return 0;
}

int decode_step(model *m, decode_state *d, int token, real *logits, star_error *err) {
    int D = m->a.dims.width, V = m->a.dims.vocab;
    if (d->m != m) return STAR_FAIL(err, "decode: the state was created for another model");
    if (d->pos >= d->max_context)
        return STAR_FAIL(err, "decode: position %ld is past the context of %d tokens the cache was made for", d->pos,
                         d->max_context);
    if (token < 0 || token >= V)
        return STAR_FAIL(err, "decode: token %d at position %ld is outside the vocabulary of %d", token, d->pos, V);
    memcpy(d->x, m->embed.w + (size_t)token * D, sizeof(real) * (size_t)D);
    for (int i = 0; i < m->a.depth; i++) {
        const liv_layer *l = &m->layers[i];
        liv_decode *ld = &d->liv[i];
        real rstd;
        if (l->s->norm == NORM_PRE) rmsnorm_forward(ld->h, &rstd, d->x, l->norm.w, 1, D);
        else memcpy(ld->h, d->x, sizeof(real) * (size_t)D);
        if (liv_step(m, d, i, err) != 0) return star_error_prefix(err, "decode: LIV %d at position %ld", i + 1, d->pos);
        if (l->s->norm == NORM_POST) {
            for (int c = 0; c < D; c++) d->sum[c] = d->x[c] + ld->y[c];
            rmsnorm_forward(d->x, &rstd, d->sum, l->norm.w, 1, D);
        } else {
            for (int c = 0; c < D; c++) d->x[c] += ld->y[c];
        }
    }
    real rstd;
    rmsnorm_forward(d->h_final, &rstd, d->x, m->final_norm.w, 1, D);
    matmul_forward(logits, d->h_final, m->embed.w, 1, D, V);
    d->pos++;
    return 0;
}
