// star: the parameters of a model, allocated from a resolved architecture. This is the
// count that `star genome stats` must match (tests/eval check both over random
// genomes): each tensor is allocated once; a tied LIV points at its owner's tensors.
//
// What a LIV holds (docs/genome.md):
//   norm [D] unless NORM_NONE; per computed slot a projection (dense [dim, D] or 4 blocks
//   of [dim/4, D/4]) and, with a feature conv, [dim][conv_len]; the output projection
//   [D, inner] or a diagonal [D]. Class parameters: SA-diff lambda [H]; Rec-2 memory
//   unit dt_w [H, D], dt_b [H], a_log [H] (with the B/X slots) and skip [H]; GConv-1
//   conv [inner][len]; GConv-2 filter a, b [inner][M], alpha [inner], skip [inner].
// Featurizer tying covers the slot projections and convs and Rec-2's memory unit.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/pcg32.h"
#include "eval/model_private.h"

static const char *const slot_names[LIV_CLASS_COUNT][LIV_SLOTS] = {
    {"q", "k", "v"}, {"q", "k", "v"}, {"q", "k", "v"}, {"q", "k", "v"},      // SA-1, SA-2, SA-3, SA-diff
    {"q", "k", "v"},                                                         // Rec-1
    {"c", "b", "x"},                                                         // Rec-2
    {"gate", "value", ""}, {"gate", "value", ""}, {"gate", "up", ""},        // GConv-1, GConv-2, GMemless
};

const char *liv_slot_name(liv_class c, int slot) { return slot_names[c - 1][slot]; }

// Slots holding the memory a feature-group-sharing LIV reuses.
int liv_slot_is_memory(liv_class c, int slot) {
    switch (c) {
    case LIV_SA1: case LIV_SA2: case LIV_SA3: case LIV_SADIFF: case LIV_REC1: case LIV_REC2:
        return slot == 1 || slot == 2;
    default:
        return 0;
    }
}

typedef enum { INIT_NORMAL, INIT_CONST, INIT_DELTA, INIT_RANGE } init_kind;

static int add_tensor(model *m, ptensor *pt, const char *name, int ndim, const int *shape, int decay, init_kind init,
                      double a, star_error *err) {
    if (m->n_tensors == MODEL_MAX_TENSORS) return STAR_FAIL(err, "too many parameter tensors (max %d)", MODEL_MAX_TENSORS);
    param_tensor *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->numel *= (size_t)shape[i];
    }
    t->decay = decay;
    t->data = model_alloc(m, t->numel, err);
    t->grad = model_alloc(m, t->numel, err);
    if (!t->data || !t->grad) return -1;
    // Each tensor draws from its own stream: initialization does not depend on the order
    // or number of other tensors.
    pcg32 rng = pcg32_derive(m->opt.seed, 0x1000u + (uint64_t)m->n_tensors);
    size_t inner = ndim > 0 ? (size_t)shape[ndim - 1] : 1;
    // A normal takes 4 outputs of the stream, a uniform double 2, always: chunks of the
    // tensor fill in parallel from the stream advanced to their first element, with the
    // values of one pass in order (a 6.5M-parameter model: half a second on one core).
    const uint64_t draws = init == INIT_NORMAL ? 4 : init == INIT_RANGE ? 2 : 0;
    const long chunk = 1L << 15, n_chunks = (long)((t->numel + (size_t)chunk - 1) / (size_t)chunk);
    real *data = t->data;
#pragma omp parallel for schedule(static) if (n_chunks > 1 && draws > 0)
    for (long c = 0; c < n_chunks; c++) {
        pcg32 r = rng;
        pcg32_advance(&r, draws * (uint64_t)c * (uint64_t)chunk);
        size_t end = (size_t)(c + 1) * (size_t)chunk < t->numel ? (size_t)(c + 1) * (size_t)chunk : t->numel;
        for (size_t k = (size_t)c * (size_t)chunk; k < end; k++) {
            switch (init) {
            case INIT_NORMAL: data[k] = (real)(a * pcg32_normal(&r)); break;
            case INIT_CONST: data[k] = (real)a; break;
            case INIT_DELTA: data[k] = (real)((k % inner) == 0 ? 1.0 : 0.0); break;
            case INIT_RANGE: data[k] = (real)(a * (2.0 * pcg32_double(&r) - 1.0)); break;
            }
        }
    }
    pt->w = t->data;
    pt->g = t->grad;
    pt->numel = t->numel;
    m->n_tensors++;
    return 0;
}

static int add_liv(model *m, int i, star_error *err) {
    const liv_spec *s = &m->a.liv[i];
    liv_layer *l = &m->layers[i];
    liv_layer *owner = s->tie_to >= 0 ? &m->layers[s->tie_to] : NULL;
    int D = s->width, depth = m->a.depth;
    double std = 0.02, out_std = 0.02 / sqrt(2.0 * depth);
    char name[96];
    l->s = s;
    l->index = i;
    l->mem_owner = s->kv_from >= 0 ? &m->layers[s->kv_from] : l;

    if (s->norm != NORM_NONE) {
        snprintf(name, sizeof name, "liv.%d.norm", i);
        if (add_tensor(m, &l->norm, name, 1, &D, 0, INIT_CONST, 1.0, err) != 0) return -1;
    }
    for (int k = 0; k < LIV_SLOTS; k++) {
        const feature_spec *f = &s->feat[k];
        if (!f->present) continue;
        l->computes[k] = !(s->kv_from >= 0 && liv_slot_is_memory(s->cls, k));
        if (!l->computes[k]) continue;
        if (owner && owner->proj[k].w) {  // featurizer tying: the owner's tensors
            l->proj[k] = owner->proj[k];
            l->fconv[k] = owner->fconv[k];
            continue;
        }
        snprintf(name, sizeof name, "liv.%d.proj.%s", i, liv_slot_name(s->cls, k));
        if (f->groups > 1) {
            int shape[3] = {f->groups, f->dim / f->groups, D / f->groups};
            if (add_tensor(m, &l->proj[k], name, 3, shape, 1, INIT_NORMAL, std, err) != 0) return -1;
        } else {
            int shape[2] = {f->dim, D};
            if (add_tensor(m, &l->proj[k], name, 2, shape, 1, INIT_NORMAL, std, err) != 0) return -1;
        }
        if (f->conv_len > 0) {
            int shape[2] = {f->dim, f->conv_len};
            snprintf(name, sizeof name, "liv.%d.fconv.%s", i, liv_slot_name(s->cls, k));
            if (add_tensor(m, &l->fconv[k], name, 2, shape, 0, INIT_DELTA, 0, err) != 0) return -1;
        }
    }
    if (s->out_dense) {
        int shape[2] = {D, s->inner};
        snprintf(name, sizeof name, "liv.%d.out", i);
        if (add_tensor(m, &l->out, name, 2, shape, 1, INIT_NORMAL, out_std, err) != 0) return -1;
    } else {
        snprintf(name, sizeof name, "liv.%d.out_diag", i);
        if (add_tensor(m, &l->out, name, 1, &D, 0, INIT_CONST, 1.0, err) != 0) return -1;
    }
    int H = s->n_heads, inner = s->inner;
    switch (s->cls) {
    case LIV_SADIFF:
        snprintf(name, sizeof name, "liv.%d.lambda", i);
        if (add_tensor(m, &l->lambda, name, 1, &H, 0, INIT_CONST, 0.8, err) != 0) return -1;
        break;
    case LIV_REC2:
        if (s->kv_from < 0) {
            if (owner && owner->dt_w.w) {
                l->dt_w = owner->dt_w;
                l->dt_b = owner->dt_b;
                l->a_log = owner->a_log;
            } else {
                int shape[2] = {H, D};
                snprintf(name, sizeof name, "liv.%d.dt_proj", i);
                if (add_tensor(m, &l->dt_w, name, 2, shape, 1, INIT_NORMAL, std, err) != 0) return -1;
                snprintf(name, sizeof name, "liv.%d.dt_bias", i);
                if (add_tensor(m, &l->dt_b, name, 1, &H, 0, INIT_CONST, -2.0, err) != 0) return -1;
                snprintf(name, sizeof name, "liv.%d.a_log", i);
                if (add_tensor(m, &l->a_log, name, 1, &H, 0, INIT_CONST, 0.0, err) != 0) return -1;
            }
        }
        snprintf(name, sizeof name, "liv.%d.skip", i);
        if (add_tensor(m, &l->skip, name, 1, &H, 0, INIT_CONST, 1.0, err) != 0) return -1;
        break;
    case LIV_GCONV1: {
        int shape[2] = {inner, s->conv_len};
        snprintf(name, sizeof name, "liv.%d.conv", i);
        if (add_tensor(m, &l->conv, name, 2, shape, 0, INIT_RANGE, 1.0 / sqrt((double)s->conv_len), err) != 0)
            return -1;
        break;
    }
    case LIV_GCONV2: {
        int shape[2] = {inner, s->filter_modes};
        snprintf(name, sizeof name, "liv.%d.filter_a", i);
        if (add_tensor(m, &l->fa, name, 2, shape, 0, INIT_NORMAL, 0.5 / sqrt((double)s->filter_modes), err) != 0)
            return -1;
        snprintf(name, sizeof name, "liv.%d.filter_b", i);
        if (add_tensor(m, &l->fb, name, 2, shape, 0, INIT_NORMAL, 0.5 / sqrt((double)s->filter_modes), err) != 0)
            return -1;
        snprintf(name, sizeof name, "liv.%d.filter_alpha", i);
        if (add_tensor(m, &l->falpha, name, 1, &inner, 0, INIT_RANGE, 1.0, err) != 0) return -1;
        snprintf(name, sizeof name, "liv.%d.skip", i);
        if (add_tensor(m, &l->skip, name, 1, &inner, 0, INIT_CONST, 1.0, err) != 0) return -1;
        break;
    }
    default:
        break;
    }
    return 0;
}

int model_params_create(model *m, star_error *err) {
    int D = m->a.dims.width, V = m->a.dims.vocab;
    int shape[2] = {V, D};
    ptensor pt;
    if (add_tensor(m, &pt, "embed", 2, shape, 1, INIT_NORMAL, 0.02, err) != 0) return -1;
    m->embed = pt;
    for (int i = 0; i < m->a.depth; i++)
        if (add_liv(m, i, err) != 0) return -1;
    if (add_tensor(m, &pt, "final_norm", 1, &D, 0, INIT_CONST, 1.0, err) != 0) return -1;
    m->final_norm = pt;
    return 0;
}
