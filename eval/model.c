// star: model creation, forward and backward on the CPU (see eval/model.h and
// eval/model_private.h for the structure).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/model_private.h"
#include "operators/crossentropy.h"
#include "operators/embedding.h"
#include "operators/matmul.h"
#include "operators/rmsnorm.h"
#include "operators/short_conv.h"

extern const liv_mixer liv_mixer_attention, liv_mixer_rec1, liv_mixer_rec2, liv_mixer_gconv, liv_mixer_mlp;
const liv_mixer *const liv_mixers[LIV_CLASS_COUNT] = {
    &liv_mixer_attention, &liv_mixer_attention, &liv_mixer_attention, &liv_mixer_attention,  // SA-1, -2, -3, -diff
    &liv_mixer_rec1, &liv_mixer_rec2,                                                         // Rec-1, Rec-2
    &liv_mixer_gconv, &liv_mixer_gconv, &liv_mixer_mlp,                                       // GConv-1, -2, GMemless
};
static_assert(LIV_CLASS_COUNT == 9, "liv_mixers lists one mixer per class");

real *model_alloc(model *m, size_t numel, star_error *err) {
    size_t bytes = numel * sizeof(real);
    if (m->opt.memory_limit_bytes && m->bytes + bytes > m->opt.memory_limit_bytes) {
        STAR_FAIL(err, "out of memory: the model needs more than its limit of %.1f MiB (%.1f MiB planned so far)",
                  m->opt.memory_limit_bytes / 1048576.0, (m->bytes + bytes) / 1048576.0);
        return NULL;
    }
    if (m->n_allocs == MODEL_MAX_ALLOCS) {
        STAR_FAIL(err, "too many model buffers (max %d)", MODEL_MAX_ALLOCS);
        return NULL;
    }
    real *p = calloc(numel ? numel : 1, sizeof(real));
    if (!p) {
        STAR_FAIL(err, "out of memory: cannot allocate %.1f MiB for the model", bytes / 1048576.0);
        return NULL;
    }
    m->allocs[m->n_allocs++] = p;
    m->bytes += bytes;
    return p;
}

static int alloc_activations(model *m, star_error *err) {
    int B = m->opt.max_batch, T = m->opt.max_seq, D = m->a.dims.width, V = m->a.dims.vocab;
    size_t BT = (size_t)B * T, widest = (size_t)D;
    for (int i = 0; i < m->a.depth; i++) {
        liv_layer *l = &m->layers[i];
        const liv_spec *s = l->s;
        if (!(l->x_in = model_alloc(m, BT * D, err)) || !(l->rstd = model_alloc(m, BT, err)) ||
            !(l->y = model_alloc(m, BT * D, err)) || !(l->core = model_alloc(m, BT * s->inner, err)))
            return -1;
        l->h = l->x_in;
        if (s->norm == NORM_PRE && !(l->h = model_alloc(m, BT * D, err))) return -1;
        if (s->norm == NORM_POST && !(l->sum = model_alloc(m, BT * D, err))) return -1;
        if ((size_t)s->inner > widest) widest = (size_t)s->inner;
        for (int k = 0; k < LIV_SLOTS; k++) {
            if (!l->computes[k]) continue;
            size_t n = BT * (size_t)s->feat[k].dim;
            if ((size_t)s->feat[k].dim > widest) widest = (size_t)s->feat[k].dim;
            if (!(l->fpre[k] = model_alloc(m, n, err)) || !(l->dfeat[k] = model_alloc(m, n, err))) return -1;
            l->feat[k] = l->fpre[k];
            if (s->feat[k].conv_len > 0 && !(l->feat[k] = model_alloc(m, n, err))) return -1;
        }
        if (liv_mixers[s->cls - 1]->alloc(m, l, B, T, err) != 0) return -1;
    }
    if (!(m->x_final = model_alloc(m, BT * D, err)) || !(m->h_final = model_alloc(m, BT * D, err)) ||
        !(m->rstd_final = model_alloc(m, BT, err)) || !(m->logits = model_alloc(m, BT * V, err)) ||
        !(m->dlogits = model_alloc(m, BT * V, err)) || !(m->dres = model_alloc(m, BT * D, err)))
        return -1;
    for (int k = 0; k < 4; k++)
        if (!(m->scratch[k] = model_alloc(m, BT * widest, err))) return -1;
    m->inputs = calloc(BT, sizeof(int32_t));
    m->targets = calloc(BT, sizeof(int32_t));
    if (!m->inputs || !m->targets) return STAR_FAIL(err, "out of memory for the batch copy");
    return 0;
}

int model_create(const arch *a, model_options opt, model **out, star_error *err) {
    *out = NULL;
    if (opt.max_batch < 1 || opt.max_seq < 1) return STAR_FAIL(err, "model: batch and sequence length must be >= 1");
    model *m = calloc(1, sizeof *m);
    if (!m) return STAR_FAIL(err, "out of memory for the model");
    m->a = *a;
    m->opt = opt;
    // Specs point into m->a, which the layers reference for the model's lifetime.
    if (model_params_create(m, err) != 0 || alloc_activations(m, err) != 0) {
        model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void model_free(model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_allocs; i++) free(m->allocs[i]);
    free(m->inputs);
    free(m->targets);
    free(m);
}

const arch *model_arch(const model *m) { return &m->a; }
int model_n_tensors(const model *m) { return m->n_tensors; }
param_tensor *model_tensor(model *m, int i) { return &m->tensors[i]; }
size_t model_planned_bytes(const model *m) { return m->bytes; }
const real *model_logits(const model *m) { return m->logits; }

size_t model_param_count(const model *m) {
    size_t n = 0;
    for (int i = 0; i < m->n_tensors; i++) n += m->tensors[i].numel;
    return n;
}

void model_zero_grad(model *m) {
    for (int i = 0; i < m->n_tensors; i++) memset(m->tensors[i].grad, 0, m->tensors[i].numel * sizeof(real));
}

// y = f(h) for one LIV: features, token mixer, output projection.
static int liv_forward(liv_layer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    int N = B * T, D = s->width;
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (!l->computes[k]) continue;
        const feature_spec *f = &s->feat[k];
        if (f->groups > 1)
            matmul_grouped_forward(l->fpre[k], l->h, l->proj[k].w, N, D, f->dim, f->groups);
        else
            matmul_forward(l->fpre[k], l->h, l->proj[k].w, N, D, f->dim);
        if (f->conv_len > 0) short_conv_forward(l->feat[k], l->fpre[k], l->fconv[k].w, B, T, f->dim, f->conv_len);
    }
    if (liv_mixers[s->cls - 1]->forward(l, B, T, err) != 0) return -1;
    if (s->out_dense) {
        matmul_forward(l->y, l->core, l->out.w, N, s->inner, D);
    } else {
        for (long p = 0; p < (long)N; p++)
            for (int c = 0; c < D; c++) l->y[p * D + c] = l->core[p * D + c] * l->out.w[c];
    }
    return 0;
}

// Backward of f: dy -> parameter grads, dfeat (own or the memory owner's), and dh += .
static int liv_backward(model *m, liv_layer *l, const real *dy, real *dh, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    int N = B * T, D = s->width;
    real *dcore = m->scratch[1];
    size_t ncore = (size_t)N * s->inner;
    memset(dcore, 0, ncore * sizeof(real));
    if (s->out_dense) {
        matmul_backward(dcore, l->out.g, dy, l->core, l->out.w, N, s->inner, D);
    } else {
        for (long p = 0; p < (long)N; p++)
            for (int c = 0; c < D; c++) {
                dcore[p * D + c] = dy[p * D + c] * l->out.w[c];
                l->out.g[c] += dy[p * D + c] * l->core[p * D + c];
            }
    }
    if (liv_mixers[s->cls - 1]->backward(l, dcore, dh, B, T, err) != 0) return -1;
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (!l->computes[k]) continue;
        const feature_spec *f = &s->feat[k];
        const real *dpre = l->dfeat[k];
        if (f->conv_len > 0) {
            real *tmp = m->scratch[2];
            memset(tmp, 0, (size_t)N * f->dim * sizeof(real));
            short_conv_backward(tmp, l->fconv[k].g, l->dfeat[k], l->fpre[k], l->fconv[k].w, B, T, f->dim, f->conv_len);
            dpre = tmp;
        }
        if (f->groups > 1)
            matmul_grouped_backward(dh, l->proj[k].g, dpre, l->h, l->proj[k].w, N, D, f->dim, f->groups);
        else
            matmul_backward(dh, l->proj[k].g, dpre, l->h, l->proj[k].w, N, D, f->dim);
    }
    return 0;
}

int model_forward(model *m, const token_batch *b, double *loss, star_error *err) {
    int B = b->B, T = b->T, D = m->a.dims.width, V = m->a.dims.vocab;
    if (B > m->opt.max_batch || T > m->opt.max_seq)
        return STAR_FAIL(err, "model: batch %dx%d exceeds the planned %dx%d", B, T, m->opt.max_batch, m->opt.max_seq);
    size_t BT = (size_t)B * T;
    for (size_t p = 0; p < BT; p++)
        if (b->inputs[p] < 0 || b->inputs[p] >= V)
            return STAR_FAIL(err, "model: token %d at position %zu is outside the vocabulary of %d", b->inputs[p], p, V);
    memcpy(m->inputs, b->inputs, BT * sizeof(int32_t));
    memcpy(m->targets, b->targets, BT * sizeof(int32_t));
    m->B = B;
    m->T = T;
    real *x = m->a.depth > 0 ? m->layers[0].x_in : m->x_final;
    if (embedding_forward(x, b->inputs, m->embed.w, (long)BT, V, D, err) != 0) return -1;
    for (int i = 0; i < m->a.depth; i++) {
        liv_layer *l = &m->layers[i];
        real *next = i + 1 < m->a.depth ? m->layers[i + 1].x_in : m->x_final;
        if (l->s->norm == NORM_PRE) rmsnorm_forward(l->h, l->rstd, l->x_in, l->norm.w, (int)BT, D);
        if (liv_forward(l, B, T, err) != 0) return -1;
        if (l->s->norm == NORM_POST) {
            for (size_t k = 0; k < BT * D; k++) l->sum[k] = l->x_in[k] + l->y[k];
            rmsnorm_forward(next, l->rstd, l->sum, l->norm.w, (int)BT, D);
        } else {
            for (size_t k = 0; k < BT * D; k++) next[k] = l->x_in[k] + l->y[k];
        }
    }
    rmsnorm_forward(m->h_final, m->rstd_final, m->x_final, m->final_norm.w, (int)BT, D);
    matmul_forward(m->logits, m->h_final, m->embed.w, (int)BT, D, V);
    // The probabilities go to dlogits; the backward turns them into the gradient in place.
    long n_scored;
    return crossentropy_forward(loss, &n_scored, m->dlogits, NULL, m->logits, b->targets, (long)BT, V, err);
}

int model_backward(model *m, star_error *err) {
    int B = m->B, T = m->T, D = m->a.dims.width, V = m->a.dims.vocab;
    size_t BT = (size_t)B * T;
    if (BT == 0) return STAR_FAIL(err, "model_backward: no forward pass to differentiate");
    crossentropy_backward(m->dlogits, m->dlogits, m->targets, (long)BT, V, 1);
    real *dh = m->scratch[0];
    memset(dh, 0, BT * D * sizeof(real));
    matmul_backward(dh, m->embed.g, m->dlogits, m->h_final, m->embed.w, (int)BT, D, V);
    memset(m->dres, 0, BT * D * sizeof(real));
    rmsnorm_backward(m->dres, m->final_norm.g, dh, m->x_final, m->final_norm.w, m->rstd_final, (int)BT, D);
    for (int i = 0; i < m->a.depth; i++) {
        liv_layer *l = &m->layers[i];
        for (int k = 0; k < LIV_SLOTS; k++)
            if (l->dfeat[k]) memset(l->dfeat[k], 0, BT * l->s->feat[k].dim * sizeof(real));
        for (int k = 0; k < 6; k++)
            if (l->dact[k]) memset(l->dact[k], 0, l->dact_n[k] * sizeof(real));
    }
    real *dy = m->scratch[3];
    for (int i = m->a.depth - 1; i >= 0; i--) {
        liv_layer *l = &m->layers[i];
        const liv_spec *s = l->s;
        // m->dres is the gradient of this block's output; make it the gradient of x_in.
        if (s->norm == NORM_POST) {
            memset(dy, 0, BT * D * sizeof(real));
            rmsnorm_backward(dy, l->norm.g, m->dres, l->sum, l->norm.w, l->rstd, (int)BT, D);
            memcpy(m->dres, dy, BT * D * sizeof(real));  // d sum flows to x_in and to y
            if (liv_backward(m, l, dy, m->dres, B, T, err) != 0) return -1;
        } else if (s->norm == NORM_PRE) {
            memcpy(dy, m->dres, BT * D * sizeof(real));
            memset(dh, 0, BT * D * sizeof(real));
            if (liv_backward(m, l, dy, dh, B, T, err) != 0) return -1;
            rmsnorm_backward(m->dres, l->norm.g, dh, l->x_in, l->norm.w, l->rstd, (int)BT, D);
        } else {
            memcpy(dy, m->dres, BT * D * sizeof(real));
            if (liv_backward(m, l, dy, m->dres, B, T, err) != 0) return -1;
        }
    }
    embedding_backward(m->embed.g, m->dres, m->inputs, (int)BT, D);
    return 0;
}
