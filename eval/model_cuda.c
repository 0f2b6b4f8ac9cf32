// star: the model on a CUDA device (see eval/model_cuda.h). The structure follows
// eval/model.c step for step (same layers, same order of gradient contributions); each
// CPU operator call becomes its kernels.h counterpart on one stream.
#include "eval/model_cuda.h"

#ifndef STAR_REAL_DOUBLE
#ifdef STAR_WITH_CUDA
int cuda_backend_built(void) { return 1; }
#else
int cuda_backend_built(void) { return 0; }
#endif
#endif

#if defined(STAR_WITH_CUDA) && !defined(STAR_REAL_DOUBLE)

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/model_private.h"
#include "kernels/kernels.h"

#define NO_TENSOR (-1)
#define ARENA_ALIGN 256  // bytes: every buffer 16-byte aligned (attention needs it) and more

// One parameter tensor on the device: fp32 master, gradient and moments, bf16 copy.
typedef struct gtensor {
    float *w, *g, *m, *v;
    floatX *wx;
    size_t n;
    int decay;
} gtensor;

typedef struct glayer {
    const liv_spec *s;
    int index;
    // Parameter tensor indices (NO_TENSOR when absent); tied LIVs hold their owner's.
    int norm, proj[LIV_SLOTS], fconv[LIV_SLOTS], out, lambda, dt_w, dt_b, a_log, skip, conv, fa, fb, falpha;
    int computes[LIV_SLOTS];
    struct glayer *mem_owner;
    // Activations for the planned B, T (bf16 unless noted).
    floatX *x_in, *h, *sum;
    float *rstd;
    floatX *fpre[LIV_SLOTS], *feat[LIV_SLOTS], *dfeat[LIV_SLOTS];
    floatX *dense[LIV_SLOTS];  // grouped projections written dense [dim][D]
    floatX *q_rot, *k_rot, *dq_rot, *dk_rot;  // attention (k: memory owner only)
    float *lse;                                // attention [B,H,T] (SA-diff: twice, map 1 then map 2)
    floatX *o1, *o2;                           // SA-diff: the two maps' outputs [B,T,H,hd]
    float *head_rstd;                          // SA-diff: the head norm's rstd [B,T,H]
    floatX *u, *du;                            // GConv-1/-2: the value path after its conv
    float *filt, *dfilt;                       // GConv-2: the implicit filter [inner][T] and its gradient
    floatX *dt, *ddt;                          // Rec-2 owner: raw dt [B,T,H]
    floatX *core, *y;
    long_conv_plan_cuda *lc;                   // GConv-2: FFT plan for the planned B, T
} glayer;

// What a captured step was captured for: a step of another shape or clipping captures again.
typedef struct step_key {
    int B, T;
    double max_norm;
} step_key;

// A LIV has at most 3 features, q and k, u, dt and the filter with gradients of their own.
#define GRAD_WRITTEN_MAX (GENOME_MAX_DEPTH * (LIV_SLOTS + 5))

// The arena plan: every buffer's byte offset, resolved to pointers after one cudaMalloc.
typedef struct arena_entry {
    void **slot;
    size_t offset;
} arena_entry;

struct cuda_model {
    arch a;
    model_options opt;
    model *host;  // parameter names, shapes, initial values; staging for checkpoints
    star_cuda *ctx;
    star_stream stream;  // the model's own (capturable); every copy and launch goes on it
    int n_tensors;
    gtensor tensors[MODEL_MAX_TENSORS];
    glayer layers[GENOME_MAX_DEPTH];
    int embed, final_norm;
    // Model-level activations.
    int32_t *d_inputs, *d_targets;
    floatX *x_final, *h_final, *dlogits, *dres, *scratch[4];
    float *rstd_final, *logits, *losses, *fscratch;
    double *d_loss;
    int *d_count;
    void *emb_scratch;
    size_t emb_scratch_bytes, fscratch_bytes;
    float *grads_begin;  // every gradient lies in [grads_begin, grads_begin + grads_n)
    size_t grads_n;
    // Gradients of layer i's own tensors and of everything after them are final once its
    // backward is done: they start at grads_begin + layer_grads_from[i].
    size_t layer_grads_from[GENOME_MAX_DEPTH], final_norm_grads_from;
    cuda_grads_ready_fn ready_fn;
    void *ready_ctx;
    size_t ready_min, ready_to;  // ranges handed out so far cover [ready_to, grads_n)
    // The arena.
    void *arena;
    size_t arena_bytes;
    arena_entry *plan;
    int n_plan, cap_plan;
    adamw_list_cuda *adamw;
    long step;
    int B, T;  // shape of the last forward
    size_t widest;
    // The captured training step (cuda_model_train_step).
    int graph_on, graph_captures;
    star_cuda_graph *graph;       // the step captured for graph_key, or NULL
    step_key graph_key, warm_key;  // warm_key: the last step run uncaptured while graph_on
    int32_t *h_tokens;             // pinned: inputs [max_batch * max_seq], then targets
    adamw_consts_cuda *h_consts;   // pinned: the next step's AdamW constants ...
    adamw_consts_cuda *d_consts;   // ... and where the graph copies them (arena)
    double *h_out;                 // pinned: loss and gradient norm of the last captured step
    // The activation gradients the running backward has written so far (grad_first).
    const void *written[GRAD_WRITTEN_MAX];
    int n_written;
};

// ---- the arena ---------------------------------------------------------------------------
static int arena_plan(cuda_model *g, void *slot, size_t bytes, star_error *err) {
    if (g->n_plan == g->cap_plan) {
        int cap = g->cap_plan ? 2 * g->cap_plan : 256;
        arena_entry *p = realloc(g->plan, sizeof *p * (size_t)cap);
        if (!p) return STAR_FAIL(err, "out of host memory planning the CUDA model");
        g->plan = p;
        g->cap_plan = cap;
    }
    g->plan[g->n_plan].slot = (void **)slot;
    g->plan[g->n_plan].offset = g->arena_bytes;
    g->n_plan++;
    g->arena_bytes += (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    return 0;
}

static int arena_allocate(cuda_model *g, star_error *err) {
    if (g->opt.memory_limit_bytes && g->arena_bytes > g->opt.memory_limit_bytes)
        return STAR_FAIL(err, "out of memory: the CUDA model needs %.1f MiB, above its limit of %.1f MiB",
                         g->arena_bytes / 1048576.0, g->opt.memory_limit_bytes / 1048576.0);
    if (star_cuda_malloc(&g->arena, g->arena_bytes, err) != 0) {
        STAR_FAIL(err, "cannot allocate the CUDA model's arena of %.1f MiB: %s", g->arena_bytes / 1048576.0, err->msg);
        return -1;
    }
    for (int i = 0; i < g->n_plan; i++) *g->plan[i].slot = (char *)g->arena + g->plan[i].offset;
    return 0;
}

#define PLAN(slot, bytes)                                                                  \
    do {                                                                                   \
        if (arena_plan(g, (void *)&(slot), (size_t)(bytes), err) != 0) return -1;          \
    } while (0)

// ---- what runs on the device -------------------------------------------------------------
int cuda_model_check_arch(const arch *a, star_error *err) {
    static const char *const names[LIV_CLASS_COUNT] = {"SA-1", "SA-2", "SA-3", "SA-diff", "Rec-1",
                                                       "Rec-2", "GConv-1", "GConv-2", "GMemless"};
    for (int i = 0; i < a->depth; i++) {
        const liv_spec *s = &a->liv[i];
        const char *name = s->cls >= 1 && s->cls <= LIV_CLASS_COUNT ? names[s->cls - 1] : "?";
        switch (s->cls) {
        case LIV_SA1: case LIV_SA2: case LIV_SA3: case LIV_SADIFF:  // SA-diff's maps: half-heads
            if (s->head_dim != 32 && s->head_dim != 64 && s->head_dim != 128)
                return STAR_FAIL(err, "LIV %d (%s): head dim %d is not on the CUDA backend (32, 64 or 128)", i, name,
                                 s->head_dim);
            break;
        case LIV_REC1:
            if (s->head_dim > 128)
                return STAR_FAIL(err, "LIV %d (%s): head dim %d is not on the CUDA backend (at most 128)", i, name,
                                 s->head_dim);
            break;
        case LIV_REC2:
            if (s->head_dim > 128 || s->state_dim > 128)
                return STAR_FAIL(err, "LIV %d (%s): head dim %d / state %d not on the CUDA backend (at most 128)", i,
                                 name, s->head_dim, s->state_dim);
            break;
        case LIV_GCONV1:
            if (s->conv_len > 16)
                return STAR_FAIL(err, "LIV %d (%s): kernel length %d is not on the CUDA backend (at most 16)", i, name,
                                 s->conv_len);
            break;
        case LIV_GCONV2: case LIV_GMEMLESS: break;
        default:
            return STAR_FAIL(err, "LIV %d: class %s is not on the CUDA backend yet", i, name);
        }
        for (int k = 0; k < LIV_SLOTS; k++)
            if (s->feat[k].present && s->feat[k].conv_len > 16)
                return STAR_FAIL(err, "LIV %d (%s): feature conv length %d is not on the CUDA backend (at most 16)", i,
                                 name, s->feat[k].conv_len);
    }
    return 0;
}

// The index of the host tensor whose data is w (NO_TENSOR for NULL).
static int tensor_of(const model *m, const real *w) {
    if (!w) return NO_TENSOR;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].data == w) return i;
    return NO_TENSOR;
}

static void map_layer(cuda_model *g, glayer *gl, const liv_layer *hl) {
    const model *m = g->host;
    gl->s = hl->s;
    gl->index = hl->index;
    gl->norm = tensor_of(m, hl->norm.w);
    for (int k = 0; k < LIV_SLOTS; k++) {
        gl->proj[k] = tensor_of(m, hl->proj[k].w);
        gl->fconv[k] = tensor_of(m, hl->fconv[k].w);
        gl->computes[k] = hl->computes[k];
    }
    gl->out = tensor_of(m, hl->out.w);
    gl->lambda = tensor_of(m, hl->lambda.w);
    gl->dt_w = tensor_of(m, hl->dt_w.w);
    gl->dt_b = tensor_of(m, hl->dt_b.w);
    gl->a_log = tensor_of(m, hl->a_log.w);
    gl->skip = tensor_of(m, hl->skip.w);
    gl->conv = tensor_of(m, hl->conv.w);
    gl->fa = tensor_of(m, hl->fa.w);
    gl->fb = tensor_of(m, hl->fb.w);
    gl->falpha = tensor_of(m, hl->falpha.w);
    gl->mem_owner = &g->layers[hl->mem_owner->index];
}

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

static attn_shape attn_shape_of(const liv_spec *s, int B, int T) {
    attn_shape sh = {.B = B, .T = T, .H = s->n_heads, .Hkv = s->n_kv_heads, .hd = s->head_dim, .window = s->window};
    return sh;
}

static ssd_shape ssd_shape_of(const liv_spec *s, int B, int T) {
    ssd_shape sh = {.B = B, .T = T, .H = s->n_heads, .P = s->head_dim, .N = s->state_dim};
    return sh;
}

// Plans every buffer: parameters (gradients contiguous), activations, scratch.
static int plan_buffers(cuda_model *g, star_error *err) {
    int B = g->opt.max_batch, T = g->opt.max_seq, D = g->a.dims.width, V = g->a.dims.vocab;
    size_t BT = (size_t)B * T, X = sizeof(floatX), F = sizeof(float);
    // Gradients first and back to back: one memset zeroes them all.
    size_t gsum = 0;
    for (int i = 0; i < g->n_tensors; i++) gsum += (g->tensors[i].n + ARENA_ALIGN / F - 1) / (ARENA_ALIGN / F) * (ARENA_ALIGN / F);
    g->grads_n = gsum;
    PLAN(g->grads_begin, gsum * F);
    for (int i = 0; i < g->n_tensors; i++) {
        gtensor *t = &g->tensors[i];
        PLAN(t->w, t->n * F);
        PLAN(t->m, t->n * F);
        PLAN(t->v, t->n * F);
        PLAN(t->wx, t->n * X);
    }
    size_t widest = (size_t)D, fs = (size_t)rmsnorm_backward_scratch_floats(D) * F;
    for (int i = 0; i < g->a.depth; i++) {
        glayer *l = &g->layers[i];
        const liv_spec *s = l->s;
        size_t inner = (size_t)s->inner;
        PLAN(l->x_in, BT * D * X);
        PLAN(l->rstd, BT * F);
        PLAN(l->y, BT * D * X);
        PLAN(l->core, BT * inner * X);
        if (s->norm == NORM_PRE) PLAN(l->h, BT * D * X);  // else h is x_in (set_aliases)
        if (s->norm == NORM_POST) PLAN(l->sum, BT * D * X);
        widest = maxz(widest, inner);
        for (int k = 0; k < LIV_SLOTS; k++) {
            if (!l->computes[k]) continue;
            const feature_spec *f = &s->feat[k];
            size_t n = BT * (size_t)f->dim;
            widest = maxz(widest, (size_t)f->dim);
            PLAN(l->fpre[k], n * X);
            PLAN(l->dfeat[k], n * X);
            if (f->conv_len > 0) {  // else feat is fpre (set_aliases)
                PLAN(l->feat[k], n * X);
                fs = maxz(fs, (size_t)short_conv_backward_scratch_floats(f->dim, f->conv_len) * F);
            }
            if (f->groups > 1) {
                PLAN(l->dense[k], (size_t)f->dim * D * X);
                fs = maxz(fs, (size_t)f->dim * D * F);  // the dense fp32 gradient
            }
        }
        switch (s->cls) {
        case LIV_SA1: case LIV_SA2: case LIV_SA3: case LIV_SADIFF: {
            size_t nq = BT * s->n_heads * s->head_dim, nk = BT * s->n_kv_heads * s->head_dim;
            int diff = s->cls == LIV_SADIFF;
            PLAN(l->q_rot, nq * X);
            PLAN(l->dq_rot, nq * X);
            if (l->mem_owner == l) {
                PLAN(l->k_rot, nk * X);
                PLAN(l->dk_rot, nk * X);
            }
            PLAN(l->lse, (size_t)(diff ? 2 : 1) * B * s->n_heads * T * F);
            if (diff) {
                PLAN(l->o1, nq * X);
                PLAN(l->o2, nq * X);
                PLAN(l->head_rstd, BT * s->n_heads * F);
                fs = maxz(fs, diff_attention_backward_scratch_bytes(attn_shape_of(s, B, T)));
            } else {
                fs = maxz(fs, (size_t)attention_backward_scratch_floats(attn_shape_of(s, B, T)) * F);
            }
            break;
        }
        case LIV_REC2:
            if (l->mem_owner == l) {
                PLAN(l->dt, BT * s->n_heads * X);
                PLAN(l->ddt, BT * s->n_heads * X);
            }
            fs = maxz(fs, ssd_scan_backward_scratch_bytes(ssd_shape_of(s, B, T)));
            break;
        case LIV_GCONV1:
            PLAN(l->u, BT * inner * X);
            PLAN(l->du, BT * inner * X);
            fs = maxz(fs, (size_t)short_conv_backward_scratch_floats(s->inner, s->conv_len) * F);
            break;
        case LIV_GCONV2:
            PLAN(l->u, BT * inner * X);
            PLAN(l->du, BT * inner * X);
            PLAN(l->filt, inner * T * F);
            PLAN(l->dfilt, inner * T * F);
            break;
        default: break;
        }
    }
    g->widest = widest;
    PLAN(g->x_final, BT * D * X);
    PLAN(g->h_final, BT * D * X);
    PLAN(g->rstd_final, BT * F);
    PLAN(g->logits, BT * V * F);
    PLAN(g->dlogits, BT * V * X);
    PLAN(g->losses, BT * F);
    PLAN(g->d_loss, sizeof(double));
    PLAN(g->d_count, sizeof(int));
    PLAN(g->d_consts, sizeof(adamw_consts_cuda));
    PLAN(g->d_inputs, BT * sizeof(int32_t));
    PLAN(g->d_targets, BT * sizeof(int32_t));
    PLAN(g->dres, BT * D * X);
    for (int k = 0; k < 4; k++) PLAN(g->scratch[k], BT * widest * X);
    if (embedding_backward_scratch_bytes(&g->emb_scratch_bytes, (long)BT, V, err) != 0) return -1;
    PLAN(g->emb_scratch, g->emb_scratch_bytes);
    g->fscratch_bytes = fs;
    PLAN(g->fscratch, fs);
    return 0;
}

// Buffers that are other buffers (no pre-norm: h is the input; no feature conv: the
// feature is the projection), once the arena's pointers are resolved.
static void set_aliases(cuda_model *g) {
    for (int i = 0; i < g->a.depth; i++) {
        glayer *l = &g->layers[i];
        if (l->s->norm != NORM_PRE) l->h = l->x_in;
        for (int k = 0; k < LIV_SLOTS; k++)
            if (l->computes[k] && l->s->feat[k].conv_len == 0) l->feat[k] = l->fpre[k];
    }
}

// Gradients: tensor i's slice of the contiguous block (set after the arena is allocated).
static void place_grads(cuda_model *g) {
    size_t off = 0, q = ARENA_ALIGN / sizeof(float);
    for (int i = 0; i < g->n_tensors; i++) {
        g->tensors[i].g = g->grads_begin + off;
        off += (g->tensors[i].n + q - 1) / q * q;
    }
}

// The parameter tensors a layer reads (its own and those it is tied to).
static int layer_max_tensor(const glayer *l) {
    int m = NO_TENSOR;
    const int idx[] = {l->norm, l->out, l->lambda, l->dt_w, l->dt_b, l->a_log,
                       l->skip, l->conv, l->fa, l->fb, l->falpha};
    for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++)
        if (idx[k] > m) m = idx[k];
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (l->proj[k] > m) m = l->proj[k];
        if (l->fconv[k] > m) m = l->fconv[k];
    }
    return m;
}

// Tensors are made in order (embed, layer 0's, layer 1's, ..., final_norm) and a layer
// reads only its own tensors and those of earlier layers it is tied to (writing their
// gradients during its backward). So once layer i's backward is done, every tensor made
// after the last tensor that layers 0..i-1 read has its final gradient.
static void place_ready_bounds(cuda_model *g) {
    int last = g->embed;
    for (int i = 0; i < g->a.depth; i++) {
        g->layer_grads_from[i] = (size_t)(g->tensors[last + 1].g - g->grads_begin);
        int m = layer_max_tensor(&g->layers[i]);
        if (m > last) last = m;
    }
    g->final_norm_grads_from = (size_t)(g->tensors[g->final_norm].g - g->grads_begin);
}

void cuda_model_on_grads_ready(cuda_model *g, cuda_grads_ready_fn fn, void *ctx, size_t min_floats) {
    g->ready_fn = fn;
    g->ready_ctx = ctx;
    g->ready_min = min_floats;
}

star_stream cuda_model_stream(const cuda_model *g) { return g->stream; }

// Hands out [from, ready_to) when it is large enough, or when last.
static int grads_ready(cuda_model *g, size_t from, int last, star_error *err) {
    if (!g->ready_fn || from >= g->ready_to) return 0;
    if (!last && g->ready_to - from < g->ready_min) return 0;
    size_t n = g->ready_to - from;
    g->ready_to = from;
    return g->ready_fn(g->ready_ctx, g->grads_begin + from, n, g->stream, err);
}

static int refresh_bf16(cuda_model *g, star_error *err) {
    for (int i = 0; i < g->n_tensors; i++)
        if (cast_f32_to_bf16_cuda(g->tensors[i].wx, g->tensors[i].w, (long)g->tensors[i].n, g->stream, err) != 0)
            return -1;
    return 0;
}

int cuda_model_create(const arch *a, model_options opt, int device, cuda_model **out, star_error *err) {
    *out = NULL;
    if (opt.max_batch < 1 || opt.max_seq < 1) return STAR_FAIL(err, "model: batch and sequence length must be >= 1");
    if (cuda_model_check_arch(a, err) != 0) return -1;
    int count = 0;
    if (star_cuda_device_count(&count, err) != 0) return -1;
    if (count == 0) return STAR_FAIL(err, "the CUDA backend needs a CUDA device and none was found");
    if (device < 0 || device >= count) return STAR_FAIL(err, "CUDA device %d does not exist (%d found)", device, count);
    cuda_model *g = calloc(1, sizeof *g);
    if (!g) return STAR_FAIL(err, "out of host memory for the CUDA model");
    g->a = *a;
    g->opt = opt;
    // The host model gives the tensors (same names, shapes and initial values as a CPU model
    // of this seed); its activations are planned for one token only.
    model_options ho = {.max_batch = 1, .max_seq = 1, .seed = opt.seed};
    if (model_create(a, ho, &g->host, err) != 0) goto fail;
    if (star_cuda_create(&g->ctx, device, err) != 0 || star_cuda_stream_create(&g->stream, err) != 0 ||
        cuda_graph_env(&g->graph_on, err) != 0)
        goto fail;
    size_t cap = (size_t)opt.max_batch * opt.max_seq;
    if (star_cuda_host_alloc((void **)&g->h_tokens, 2 * cap * sizeof(int32_t), err) != 0 ||
        star_cuda_host_alloc((void **)&g->h_consts, sizeof(adamw_consts_cuda), err) != 0 ||
        star_cuda_host_alloc((void **)&g->h_out, 2 * sizeof(double), err) != 0)
        goto fail;
    g->n_tensors = g->host->n_tensors;
    for (int i = 0; i < g->n_tensors; i++) {
        g->tensors[i].n = g->host->tensors[i].numel;
        g->tensors[i].decay = g->host->tensors[i].decay;
    }
    g->embed = tensor_of(g->host, g->host->embed.w);
    g->final_norm = tensor_of(g->host, g->host->final_norm.w);
    for (int i = 0; i < a->depth; i++) {
        g->layers[i].s = &g->a.liv[i];
        map_layer(g, &g->layers[i], &g->host->layers[i]);
        g->layers[i].s = &g->a.liv[i];
    }
    if (plan_buffers(g, err) != 0 || arena_allocate(g, err) != 0) goto fail;
    place_grads(g);
    place_ready_bounds(g);
    set_aliases(g);
    for (int i = 0; i < a->depth; i++) {
        glayer *l = &g->layers[i];
        if (l->s->cls == LIV_GCONV2 &&
            long_conv_plan_create_cuda(&l->lc, opt.max_batch, opt.max_seq, l->s->inner, err) != 0)
            goto fail;
    }
    adamw_tensor_cuda *list = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *list);
    if (!list) {
        STAR_FAIL(err, "out of host memory for the AdamW list");
        goto fail;
    }
    for (int i = 0; i < g->n_tensors; i++) {
        gtensor *t = &g->tensors[i];
        list[i] = (adamw_tensor_cuda){.param = t->w, .grad = t->g, .m = t->m, .v = t->v, .param_bf16 = t->wx,
                                      .n = (long)t->n, .decay = t->decay};
    }
    int rc = adamw_list_create_cuda(&g->adamw, list, g->n_tensors, err);
    free(list);
    if (rc != 0) goto fail;
    // Zero moments and gradients, then the initial weights.
    for (int i = 0; i < g->n_tensors; i++) {
        gtensor *t = &g->tensors[i];
        if (star_cuda_memset(t->m, 0, t->n * sizeof(float), g->stream, err) != 0 ||
            star_cuda_memset(t->v, 0, t->n * sizeof(float), g->stream, err) != 0)
            goto fail;
    }
    if (cuda_model_zero_grad(g, err) != 0 || cuda_model_upload_weights(g, g->host, err) != 0) goto fail;
    // The AdamW list went up with synchronous copies on the legacy default stream, which the
    // model's stream does not wait for: let them finish.
    if (star_cuda_device_sync(err) != 0) goto fail;
    *out = g;
    return 0;
fail:
    cuda_model_free(g);
    star_cuda_clear_error();  // a failed allocation must not fail the next model's first launch
    return -1;
}

void cuda_model_free(cuda_model *g) {
    if (!g) return;
    star_error ignore;
    if (g->stream) star_cuda_sync(g->stream, &ignore);  // nothing queued may outlive the buffers
    star_cuda_graph_destroy(g->graph);
    for (int i = 0; i < g->a.depth; i++) long_conv_plan_destroy_cuda(g->layers[i].lc, &ignore);
    adamw_list_destroy_cuda(g->adamw, &ignore);
    star_cuda_free(g->arena, &ignore);
    star_cuda_host_free(g->h_tokens, &ignore);
    star_cuda_host_free(g->h_consts, &ignore);
    star_cuda_host_free(g->h_out, &ignore);
    star_cuda_stream_destroy(g->stream, &ignore);
    star_cuda_destroy(g->ctx, &ignore);
    model_free(g->host);
    free(g->plan);
    free(g);
}

model *cuda_model_host(cuda_model *g) { return g->host; }
size_t cuda_model_arena_bytes(const cuda_model *g) { return g->arena_bytes; }
long cuda_model_step_count(const cuda_model *g) { return g->step; }
int cuda_model_sync(cuda_model *g, star_error *err) { return star_cuda_sync(g->stream, err); }

static int same_tensors(const cuda_model *g, const model *m, star_error *err) {
    if (m->n_tensors != g->n_tensors)
        return STAR_FAIL(err, "CUDA model: the CPU model has %d tensors, this one %d", m->n_tensors, g->n_tensors);
    for (int i = 0; i < g->n_tensors; i++)
        if (m->tensors[i].numel != g->tensors[i].n || strcmp(m->tensors[i].name, g->host->tensors[i].name))
            return STAR_FAIL(err, "CUDA model: tensor %d is %s [%zu] on the CPU and %s [%zu] here", i, m->tensors[i].name,
                             m->tensors[i].numel, g->host->tensors[i].name, g->tensors[i].n);
    return 0;
}

int cuda_model_upload_weights(cuda_model *g, model *src, star_error *err) {
    if (same_tensors(g, src, err) != 0) return -1;
    for (int i = 0; i < g->n_tensors; i++)
        if (star_cuda_upload_async(g->tensors[i].w, src->tensors[i].data, g->tensors[i].n * sizeof(float), g->stream,
                                   err) != 0)
            return -1;
    return refresh_bf16(g, err) == 0 ? star_cuda_sync(g->stream, err) : -1;
}

int cuda_model_download_weights(cuda_model *g, model *dst, star_error *err) {
    if (same_tensors(g, dst, err) != 0 || star_cuda_sync(g->stream, err) != 0) return -1;
    for (int i = 0; i < g->n_tensors; i++)
        if (star_cuda_download_async(dst->tensors[i].data, g->tensors[i].w, g->tensors[i].n * sizeof(float), g->stream,
                                     err) != 0)
            return -1;
    return star_cuda_sync(g->stream, err);
}

int cuda_model_download_grads(cuda_model *g, model *dst, star_error *err) {
    if (same_tensors(g, dst, err) != 0 || star_cuda_sync(g->stream, err) != 0) return -1;
    for (int i = 0; i < g->n_tensors; i++)
        if (star_cuda_download_async(dst->tensors[i].grad, g->tensors[i].g, g->tensors[i].n * sizeof(float), g->stream,
                                     err) != 0)
            return -1;
    return star_cuda_sync(g->stream, err);
}

static size_t param_total(const cuda_model *g) {
    size_t n = 0;
    for (int i = 0; i < g->n_tensors; i++) n += g->tensors[i].n;
    return n;
}

int cuda_model_upload_optimizer(cuda_model *g, const adamw_state *s, star_error *err) {
    if (s->n != param_total(g))
        return STAR_FAIL(err, "CUDA model: the optimizer state holds %zu values, the model %zu", s->n, param_total(g));
    if (star_cuda_sync(g->stream, err) != 0) return -1;
    size_t off = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        size_t b = g->tensors[i].n * sizeof(float);
        if (star_cuda_upload_async(g->tensors[i].m, s->m + off, b, g->stream, err) != 0 ||
            star_cuda_upload_async(g->tensors[i].v, s->v + off, b, g->stream, err) != 0)
            return -1;
        off += g->tensors[i].n;
    }
    g->step = s->t;
    return star_cuda_sync(g->stream, err);
}

int cuda_model_download_optimizer(cuda_model *g, adamw_state *s, star_error *err) {
    if (s->n != param_total(g))
        return STAR_FAIL(err, "CUDA model: the optimizer state holds %zu values, the model %zu", s->n, param_total(g));
    if (star_cuda_sync(g->stream, err) != 0) return -1;
    size_t off = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        size_t b = g->tensors[i].n * sizeof(float);
        if (star_cuda_download_async(s->m + off, g->tensors[i].m, b, g->stream, err) != 0 ||
            star_cuda_download_async(s->v + off, g->tensors[i].v, b, g->stream, err) != 0)
            return -1;
        off += g->tensors[i].n;
    }
    s->t = g->step;
    return star_cuda_sync(g->stream, err);
}

// ---- forward -----------------------------------------------------------------------------
#define T_W(i) (g->tensors[(i)].w)
#define T_WX(i) (g->tensors[(i)].wx)
#define T_G(i) (g->tensors[(i)].g)
#define CK(call)                        \
    do {                                \
        if ((call) != 0) return -1;     \
    } while (0)

static linatt_phi rec1_phi(const liv_spec *s) { return s->act == ACT_ELU1 ? LINATT_PHI_ELU1 : LINATT_PHI_IDENTITY; }

static ssd_inputs_cuda rec2_inputs(const cuda_model *g, const glayer *l) {
    const glayer *o = l->mem_owner;
    ssd_inputs_cuda in = {.x = o->feat[2], .Bm = o->feat[1], .Cm = l->feat[0], .dt = o->dt,
                          .dt_bias = T_W(o->dt_b), .A_log = T_W(o->a_log), .D = T_W(l->skip)};
    return in;
}

// What the differential forward keeps for its backward (lse: both maps).
static diff_attn_saved_cuda diff_saved(const glayer *l) {
    diff_attn_saved_cuda sv = {.o1 = l->o1, .o2 = l->o2, .lse = l->lse, .rstd = l->head_rstd};
    return sv;
}

static int mixer_forward(cuda_model *g, glayer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    glayer *o = l->mem_owner;
    star_stream st = g->stream;
    long n = (long)B * T * s->inner;
    switch (s->cls) {
    case LIV_SA1: case LIV_SA2: case LIV_SA3:
        CK(rope_forward_cuda(l->q_rot, l->feat[0], B, T, s->n_heads, s->head_dim, 0, st, err));
        if (o == l) CK(rope_forward_cuda(l->k_rot, l->feat[1], B, T, s->n_kv_heads, s->head_dim, 0, st, err));
        return attention_forward_cuda(l->core, l->lse, l->q_rot, o->k_rot, o->feat[2], attn_shape_of(s, B, T), st, err);
    case LIV_SADIFF: {
        // Each half-head (hd/2 channels) is rotated on its own: [B,T,H,hd] read as [B,T,2H,hd/2].
        CK(rope_forward_cuda(l->q_rot, l->feat[0], B, T, 2 * s->n_heads, s->head_dim / 2, 0, st, err));
        if (o == l) CK(rope_forward_cuda(l->k_rot, l->feat[1], B, T, 2 * s->n_kv_heads, s->head_dim / 2, 0, st, err));
        diff_attn_saved_cuda sv = diff_saved(l);
        return diff_attention_forward_cuda(l->core, &sv, l->q_rot, o->k_rot, o->feat[2], T_W(l->lambda),
                                           attn_shape_of(s, B, T), st, err);
    }
    case LIV_REC1:
        return linear_attention_forward_cuda(l->core, l->feat[0], o->feat[1], o->feat[2], B, T, s->n_heads, s->head_dim,
                                             rec1_phi(s), st, err);
    case LIV_REC2: {
        if (o == l) CK(matmul_forward_cuda(g->ctx, l->dt, l->h, T_WX(l->dt_w), B * T, s->width, s->n_heads, st, err));
        ssd_inputs_cuda in = rec2_inputs(g, l);
        return ssd_scan_forward_cuda(l->core, &in, ssd_shape_of(s, B, T), st, err);
    }
    case LIV_GCONV1:
        CK(short_conv_forward_cuda(l->u, l->feat[1], T_WX(l->conv), B, T, s->inner, s->conv_len, st, err));
        return glu_forward_cuda(l->core, l->feat[0], l->u, n, s->act, st, err);
    case LIV_GCONV2:
        CK(long_conv_filter_forward_cuda(l->filt, T_W(l->fa), T_W(l->fb), T_W(l->falpha), s->inner, T, s->filter_modes,
                                         st, err));
        CK(long_conv_forward_cuda(l->lc, l->u, l->feat[1], l->filt, T_W(l->skip), st, err));
        return glu_forward_cuda(l->core, l->feat[0], l->u, n, s->act, st, err);
    case LIV_GMEMLESS:
        return glu_forward_cuda(l->core, l->feat[0], l->feat[1], n, s->act, st, err);
    default:
        return STAR_FAIL(err, "LIV %d: class %d is not on the CUDA backend yet", l->index, (int)s->cls);
    }
}

// y = f(h): features, token mixer, output projection.
static int liv_forward(cuda_model *g, glayer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    int N = B * T, D = s->width;
    star_stream st = g->stream;
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (!l->computes[k]) continue;
        const feature_spec *f = &s->feat[k];
        const floatX *w = T_WX(l->proj[k]);
        if (f->groups > 1) {
            CK(grouped_to_dense_cuda(l->dense[k], w, f->dim, D, f->groups, st, err));
            w = l->dense[k];
        }
        CK(matmul_forward_cuda(g->ctx, l->fpre[k], l->h, w, N, D, f->dim, st, err));
        if (f->conv_len > 0)
            CK(short_conv_forward_cuda(l->feat[k], l->fpre[k], T_WX(l->fconv[k]), B, T, f->dim, f->conv_len, st, err));
    }
    CK(mixer_forward(g, l, B, T, err));
    if (s->out_dense) return matmul_forward_cuda(g->ctx, l->y, l->core, T_WX(l->out), N, s->inner, D, st, err);
    return scale_channels_forward_cuda(l->y, l->core, T_W(l->out), N, D, st, err);
}

// The batch's shape against the plan, and every token and target against the vocabulary.
static int check_batch(const cuda_model *g, const token_batch *b, star_error *err) {
    int B = b->B, T = b->T, V = g->a.dims.vocab;
    if (B > g->opt.max_batch || T > g->opt.max_seq || B < 1 || T < 1)
        return STAR_FAIL(err, "CUDA model: batch %dx%d outside the planned %dx%d", B, T, g->opt.max_batch, g->opt.max_seq);
    for (int i = 0; i < g->a.depth; i++)
        if (g->layers[i].lc && (B != g->opt.max_batch || T != g->opt.max_seq))
            return STAR_FAIL(err, "CUDA model: LIV %d (GConv-2) runs only at the planned batch %dx%d, got %dx%d", i,
                             g->opt.max_batch, g->opt.max_seq, B, T);
    size_t BT = (size_t)B * T;
    for (size_t p = 0; p < BT; p++) {
        if (b->inputs[p] < 0 || b->inputs[p] >= V)
            return STAR_FAIL(err, "model: token %d at position %zu is outside the vocabulary of %d", b->inputs[p], p, V);
        if (b->targets[p] < -1 || b->targets[p] >= V)
            return STAR_FAIL(err, "model: target %d at position %zu is outside the vocabulary of %d", b->targets[p], p, V);
    }
    return 0;
}

// The forward pass over the tokens in d_inputs / d_targets: queued on the stream only
// (capturable), ending with the loss in d_loss and dlogits for the backward.
static int forward_queue(cuda_model *g, int B, int T, star_error *err) {
    int D = g->a.dims.width, V = g->a.dims.vocab;
    star_stream st = g->stream;
    size_t BT = (size_t)B * T;
    g->B = B;
    g->T = T;
    floatX *x = g->a.depth > 0 ? g->layers[0].x_in : g->x_final;
    CK(embedding_forward_cuda(x, g->d_inputs, T_WX(g->embed), (long)BT, V, D, st, err));
    int normed = 0;  // 1 when the previous residual add already wrote this layer's h
    for (int i = 0; i < g->a.depth; i++) {
        glayer *l = &g->layers[i];
        glayer *nl = i + 1 < g->a.depth ? &g->layers[i + 1] : NULL;
        floatX *next = nl ? nl->x_in : g->x_final;
        if (l->s->norm == NORM_PRE && !normed)
            CK(rmsnorm_forward_cuda(l->h, l->rstd, l->x_in, T_WX(l->norm), (long)BT, D, st, err));
        CK(liv_forward(g, l, B, T, err));
        normed = 0;
        if (l->s->norm == NORM_POST) {
            CK(rmsnorm_residual_forward_cuda(l->sum, next, l->rstd, l->x_in, l->y, T_WX(l->norm), (long)BT, D, st, err));
        } else if (!nl) {  // fused with the final norm
            CK(rmsnorm_residual_forward_cuda(next, g->h_final, g->rstd_final, l->x_in, l->y, T_WX(g->final_norm),
                                             (long)BT, D, st, err));
            normed = 1;
        } else if (nl->s->norm == NORM_PRE) {  // fused with the next layer's pre-norm
            CK(rmsnorm_residual_forward_cuda(next, nl->h, nl->rstd, l->x_in, l->y, T_WX(nl->norm), (long)BT, D, st,
                                             err));
            normed = 1;
        } else {
            CK(add_cuda(next, l->x_in, l->y, (long)(BT * D), st, err));
        }
    }
    if (!normed)
        CK(rmsnorm_forward_cuda(g->h_final, g->rstd_final, g->x_final, T_WX(g->final_norm), (long)BT, D, st, err));
    CK(matmul_forward_f32_cuda(g->ctx, g->logits, g->h_final, T_WX(g->embed), (int)BT, D, V, st, err));
    // Loss and dlogits in one pass (the backward starts from dlogits).
    return crossentropy_fused_cuda(g->dlogits, g->losses, g->d_loss, g->d_count, g->logits, g->d_targets, (long)BT, V,
                                   1.0f, st, err);
}

int cuda_model_forward(cuda_model *g, const token_batch *b, double *loss, star_error *err) {
    CK(check_batch(g, b, err));
    size_t BT = (size_t)b->B * b->T;
    // Queued behind the previous step's work on the stream, which may still read d_inputs.
    CK(star_cuda_upload_async(g->d_inputs, b->inputs, BT * sizeof(int32_t), g->stream, err));
    CK(star_cuda_upload_async(g->d_targets, b->targets, BT * sizeof(int32_t), g->stream, err));
    CK(forward_queue(g, b->B, b->T, err));
    CK(star_cuda_download_async(loss, g->d_loss, sizeof(double), g->stream, err));
    return star_cuda_sync(g->stream, err);
}

int cuda_model_logits(cuda_model *g, float *out, star_error *err) {
    if (g->B == 0) return STAR_FAIL(err, "cuda_model_logits: no forward pass yet");
    CK(star_cuda_download_async(out, g->logits, (size_t)g->B * g->T * g->a.dims.vocab * sizeof(float), g->stream, err));
    return star_cuda_sync(g->stream, err);
}

// ---- backward ----------------------------------------------------------------------------
int cuda_model_zero_grad(cuda_model *g, star_error *err) {
    return star_cuda_memset(g->grads_begin, 0, g->grads_n * sizeof(float), g->stream, err);
}

// ---- which activation gradients hold values ---------------------------------------------
// The backward never zeroes an activation gradient for a kernel that can overwrite it: the
// first kernel to write a buffer in a pass writes it with GRAD_SET, the later ones (LIVs
// that share memory features add into their owner's) with GRAD_ADD. g->written lists the
// buffers written so far; a pass writes a few per LIV, so the list is searched from its end.
static int was_written(const cuda_model *g, const void *p) {
    for (int i = g->n_written - 1; i >= 0; i--)
        if (g->written[i] == p) return 1;
    return 0;
}

static int mark_written(cuda_model *g, const void *p, star_error *err) {
    if (g->n_written == GRAD_WRITTEN_MAX)
        return STAR_FAIL(err, "cuda_model_backward: more than %d activation gradients", GRAD_WRITTEN_MAX);
    g->written[g->n_written++] = p;
    return 0;
}

// How the next kernel writes gradient buffer p: GRAD_SET the first time in this pass.
static int grad_first(cuda_model *g, const void *p, grad_write *mode, star_error *err) {
    *mode = was_written(g, p) ? GRAD_ADD : GRAD_SET;
    return *mode == GRAD_SET ? mark_written(g, p, err) : 0;
}

// For a kernel that only adds: zeroes p unless something wrote it already in this pass.
static int grad_zeroed(cuda_model *g, void *p, size_t bytes, star_error *err) {
    if (!p || was_written(g, p)) return 0;
    CK(star_cuda_memset(p, 0, bytes, g->stream, err));
    return mark_written(g, p, err);
}

// One mode for a kernel's two outputs: when only one is fresh, zero it and both add.
static int grad_pair_mode(cuda_model *g, void *a, void *b, size_t bytes, grad_write *mode, star_error *err) {
    grad_write ma, mb;
    CK(grad_first(g, a, &ma, err));
    CK(grad_first(g, b, &mb, err));
    *mode = ma;
    if (ma == mb) return 0;
    *mode = GRAD_ADD;
    return star_cuda_memset(ma == GRAD_SET ? a : b, 0, bytes, g->stream, err);
}

// The recurrences' q (own), k and v (the memory owner's) for scans that only add.
static int scan_grads_zeroed(cuda_model *g, glayer *l, size_t BT, star_error *err) {
    glayer *o = l->mem_owner;
    size_t X = sizeof(floatX);
    CK(grad_zeroed(g, l->dfeat[0], BT * l->s->feat[0].dim * X, err));
    CK(grad_zeroed(g, o->dfeat[1], BT * o->s->feat[1].dim * X, err));
    return grad_zeroed(g, o->dfeat[2], BT * o->s->feat[2].dim * X, err);
}

// The gradients of the attention classes' q, k and v (k and v the memory owner's).
static int attn_modes(cuda_model *g, glayer *l, attn_grad_write *m, star_error *err) {
    glayer *o = l->mem_owner;
    CK(grad_first(g, l->dq_rot, &m->dq, err));
    CK(grad_first(g, o->dk_rot, &m->dk, err));
    return grad_first(g, o->dfeat[2], &m->dv, err);
}

static int mixer_backward(cuda_model *g, glayer *l, const floatX *dcore, floatX *dh, grad_write *dh_mode, int B, int T,
                          star_error *err) {
    const liv_spec *s = l->s;
    glayer *o = l->mem_owner;
    star_stream st = g->stream;
    long n = (long)B * T * s->inner;
    size_t X = sizeof(floatX), BT = (size_t)B * T;
    attn_grad_write am;
    grad_write m;
    switch (s->cls) {
    case LIV_SA1: case LIV_SA2: case LIV_SA3: {
        attn_shape sh = attn_shape_of(s, B, T);
        CK(attn_modes(g, l, &am, err));
        CK(attention_backward_cuda(l->dq_rot, o->dk_rot, o->dfeat[2], g->fscratch, dcore, l->core, l->lse, l->q_rot,
                                   o->k_rot, o->feat[2], sh, am, st, err));
        CK(grad_first(g, l->dfeat[0], &m, err));
        CK(rope_backward_cuda(l->dfeat[0], l->dq_rot, B, T, s->n_heads, s->head_dim, 0, m, st, err));
        // The owner runs last among the LIVs that read its keys: their gradients are all in.
        if (o == l) {
            CK(grad_first(g, l->dfeat[1], &m, err));
            CK(rope_backward_cuda(l->dfeat[1], l->dk_rot, B, T, s->n_kv_heads, s->head_dim, 0, m, st, err));
        }
        return 0;
    }
    case LIV_SADIFF: {
        diff_attn_saved_cuda sv = diff_saved(l);
        CK(attn_modes(g, l, &am, err));
        CK(diff_attention_backward_cuda(l->dq_rot, o->dk_rot, o->dfeat[2], T_G(l->lambda), g->fscratch,
                                        g->fscratch_bytes, dcore, &sv, l->q_rot, o->k_rot, o->feat[2], T_W(l->lambda),
                                        attn_shape_of(s, B, T), am, st, err));
        CK(grad_first(g, l->dfeat[0], &m, err));
        CK(rope_backward_cuda(l->dfeat[0], l->dq_rot, B, T, 2 * s->n_heads, s->head_dim / 2, 0, m, st, err));
        // The owner runs last among the LIVs that read its keys: their gradients are all in.
        if (o == l) {
            CK(grad_first(g, l->dfeat[1], &m, err));
            CK(rope_backward_cuda(l->dfeat[1], l->dk_rot, B, T, 2 * s->n_kv_heads, s->head_dim / 2, 0, m, st, err));
        }
        return 0;
    }
    case LIV_REC1:
        CK(scan_grads_zeroed(g, l, BT, err));
        return linear_attention_backward_cuda(l->dfeat[0], o->dfeat[1], o->dfeat[2], dcore, l->feat[0], o->feat[1],
                                              o->feat[2], B, T, s->n_heads, s->head_dim, rec1_phi(s), st, err);
    case LIV_REC2: {
        ssd_inputs_cuda in = rec2_inputs(g, l);
        ssd_grads_cuda gr = {.dx = o->dfeat[2], .dBm = o->dfeat[1], .dCm = l->dfeat[0], .ddt = o->ddt,
                             .ddt_bias = T_G(o->dt_b), .dA_log = T_G(o->a_log), .dD = T_G(l->skip)};
        CK(scan_grads_zeroed(g, l, BT, err));
        CK(grad_zeroed(g, o->ddt, BT * o->s->n_heads * X, err));
        CK(ssd_scan_backward_cuda(&gr, g->fscratch, g->fscratch_bytes, dcore, &in, ssd_shape_of(s, B, T), st, err));
        if (o == l) {
            CK(matmul_backward_cuda(g->ctx, dh, T_G(l->dt_w), l->ddt, l->h, T_WX(l->dt_w), B * T, s->width, s->n_heads,
                                    *dh_mode, st, err));
            *dh_mode = GRAD_ADD;
        }
        return 0;
    }
    case LIV_GCONV1:
        CK(grad_pair_mode(g, l->dfeat[0], l->du, (size_t)n * X, &m, err));
        CK(glu_backward_cuda(l->dfeat[0], l->du, dcore, l->feat[0], l->u, n, s->act, m, st, err));
        CK(grad_first(g, l->dfeat[1], &m, err));
        return short_conv_backward_cuda(l->dfeat[1], T_G(l->conv), g->fscratch, l->du, l->feat[1], T_WX(l->conv), B, T,
                                        s->inner, s->conv_len, m, st, err);
    case LIV_GCONV2:
        CK(grad_pair_mode(g, l->dfeat[0], l->du, (size_t)n * X, &m, err));
        CK(glu_backward_cuda(l->dfeat[0], l->du, dcore, l->feat[0], l->u, n, s->act, m, st, err));
        CK(grad_zeroed(g, l->dfeat[1], (size_t)n * X, err));
        CK(grad_zeroed(g, l->dfilt, (size_t)s->inner * T * sizeof(float), err));
        CK(long_conv_backward_cuda(l->lc, l->dfeat[1], l->dfilt, T_G(l->skip), l->du, l->feat[1], l->filt, T_W(l->skip),
                                   st, err));
        return long_conv_filter_backward_cuda(T_G(l->fa), T_G(l->fb), T_G(l->falpha), l->dfilt, T_W(l->fa), T_W(l->fb),
                                              T_W(l->falpha), s->inner, T, s->filter_modes, st, err);
    case LIV_GMEMLESS:
        CK(grad_pair_mode(g, l->dfeat[0], l->dfeat[1], (size_t)n * X, &m, err));
        return glu_backward_cuda(l->dfeat[0], l->dfeat[1], dcore, l->feat[0], l->feat[1], n, s->act, m, st, err);
    default:
        return STAR_FAIL(err, "LIV %d: class %d is not on the CUDA backend yet", l->index, (int)s->cls);
    }
}

// Backward of f: dy -> parameter grads, dfeat (own or the memory owner's), and dh: written
// (dh_mode GRAD_SET: a fresh buffer, written whatever the LIV computes) or added into.
static int liv_backward(cuda_model *g, glayer *l, const floatX *dy, floatX *dh, grad_write dh_mode, int B, int T,
                        star_error *err) {
    const liv_spec *s = l->s;
    int N = B * T, D = s->width;
    star_stream st = g->stream;
    floatX *dcore = g->scratch[1];
    if (s->out_dense)
        CK(matmul_backward_cuda(g->ctx, dcore, T_G(l->out), dy, l->core, T_WX(l->out), N, s->inner, D, GRAD_SET, st,
                                err));
    else
        CK(scale_channels_backward_cuda(dcore, T_G(l->out), dy, l->core, T_W(l->out), N, D, GRAD_SET, st, err));
    CK(mixer_backward(g, l, dcore, dh, &dh_mode, B, T, err));
    for (int k = 0; k < LIV_SLOTS; k++) {
        if (!l->computes[k]) continue;
        const feature_spec *f = &s->feat[k];
        const floatX *dpre = l->dfeat[k];
        CK(grad_zeroed(g, l->dfeat[k], (size_t)N * f->dim * sizeof(floatX), err));  // a feature no one read
        if (f->conv_len > 0) {
            floatX *tmp = g->scratch[2];
            CK(short_conv_backward_cuda(tmp, T_G(l->fconv[k]), g->fscratch, l->dfeat[k], l->fpre[k], T_WX(l->fconv[k]),
                                        B, T, f->dim, f->conv_len, GRAD_SET, st, err));
            dpre = tmp;
        }
        if (f->groups > 1) {
            float *ddense = g->fscratch;
            CK(star_cuda_memset(ddense, 0, (size_t)f->dim * D * sizeof(float), st, err));
            CK(matmul_backward_cuda(g->ctx, dh, ddense, dpre, l->h, l->dense[k], N, D, f->dim, dh_mode, st, err));
            CK(grouped_grad_gather_cuda(T_G(l->proj[k]), ddense, f->dim, D, f->groups, st, err));
        } else {
            CK(matmul_backward_cuda(g->ctx, dh, T_G(l->proj[k]), dpre, l->h, T_WX(l->proj[k]), N, D, f->dim, dh_mode,
                                    st, err));
        }
        dh_mode = GRAD_ADD;
    }
    return dh_mode == GRAD_SET ? star_cuda_memset(dh, 0, (size_t)N * D * sizeof(floatX), st, err) : 0;
}

static int zero(cuda_model *g, void *p, size_t bytes, star_error *err) {
    return p ? star_cuda_memset(p, 0, bytes, g->stream, err) : 0;
}

int cuda_model_backward(cuda_model *g, star_error *err) {
    int B = g->B, T = g->T, D = g->a.dims.width, V = g->a.dims.vocab;
    star_stream st = g->stream;
    size_t BT = (size_t)B * T, X = sizeof(floatX);
    if (BT == 0) return STAR_FAIL(err, "cuda_model_backward: no forward pass to differentiate");
    floatX *dh = g->scratch[0], *dy = g->scratch[3];
    g->n_written = 0;
    CK(matmul_backward_cuda(g->ctx, dh, T_G(g->embed), g->dlogits, g->h_final, T_WX(g->embed), (int)BT, D, V, GRAD_SET,
                            st, err));
    CK(zero(g, g->dres, BT * D * X, err));
    CK(rmsnorm_backward_cuda(g->dres, T_G(g->final_norm), g->fscratch, dh, g->x_final, T_WX(g->final_norm),
                             g->rstd_final, (long)BT, D, st, err));
    g->ready_to = g->grads_n;
    CK(grads_ready(g, g->final_norm_grads_from, 0, err));
    for (int i = g->a.depth - 1; i >= 0; i--) {
        glayer *l = &g->layers[i];
        const liv_spec *s = l->s;
        // g->dres is the gradient of this block's output; make it the gradient of x_in.
        if (s->norm == NORM_POST) {
            CK(zero(g, dy, BT * D * X, err));
            CK(rmsnorm_backward_cuda(dy, T_G(l->norm), g->fscratch, g->dres, l->sum, T_WX(l->norm), l->rstd, (long)BT, D,
                                     st, err));
            CK(star_cuda_copy(g->dres, dy, BT * D * X, st, err));  // d sum flows to x_in and to y
            CK(liv_backward(g, l, dy, g->dres, GRAD_ADD, B, T, err));
        } else if (s->norm == NORM_PRE) {
            CK(liv_backward(g, l, g->dres, dh, GRAD_SET, B, T, err));
            CK(rmsnorm_backward_cuda(g->dres, T_G(l->norm), g->fscratch, dh, l->x_in, T_WX(l->norm), l->rstd, (long)BT,
                                     D, st, err));
        } else {
            CK(star_cuda_copy(dy, g->dres, BT * D * X, st, err));
            CK(liv_backward(g, l, dy, g->dres, GRAD_ADD, B, T, err));
        }
        CK(grads_ready(g, g->layer_grads_from[i], 0, err));
    }
    CK(embedding_backward_cuda(T_G(g->embed), g->emb_scratch, g->emb_scratch_bytes, g->dres, g->d_inputs, (long)BT, V,
                               D, st, err));
    return grads_ready(g, 0, 1, err);
}

// ---- optimizer ---------------------------------------------------------------------------
int cuda_model_grad_norm(cuda_model *g, double max_norm, double *norm, star_error *err) {
    CK(grad_global_norm_cuda(g->adamw, max_norm, g->stream, err));
    return grad_global_norm_read_cuda(g->adamw, norm, g->stream, err);
}

int cuda_model_adamw_step(cuda_model *g, adamw_hparams hp, int clip, star_error *err) {
    g->step++;
    return adamw_update_cuda(g->adamw, g->step, hp, 1.0, clip, g->stream, err);
}

// ---- the training step, uncaptured or as a CUDA graph -------------------------------------
int cuda_graph_env(int *on, star_error *err) {
    const char *v = getenv("STAR_CUDA_GRAPH");
    *on = 1;
    if (!v || !*v || !strcmp(v, "1")) return 0;
    if (!strcmp(v, "0")) {
        *on = 0;
        return 0;
    }
    return STAR_FAIL(err, "STAR_CUDA_GRAPH: expected 0 or 1, got '%s'", v);
}

void cuda_model_set_graph(cuda_model *g, int on) {
    g->graph_on = on != 0;
    if (!g->graph_on) {
        star_cuda_graph_destroy(g->graph);
        g->graph = NULL;
        g->warm_key = (step_key){0, 0, 0};
    }
}

int cuda_model_graph(const cuda_model *g) { return g->graph_on; }
int cuda_model_graph_captures(const cuda_model *g) { return g->graph_captures; }

static int same_key(step_key a, step_key b) { return a.B == b.B && a.T == b.T && a.max_norm == b.max_norm; }

// Forward, backward, norm and AdamW, each waiting for the host's look at the loss and norm.
static int step_uncaptured(cuda_model *g, const token_batch *b, double max_norm, adamw_hparams hp,
                           cuda_step_result *out, star_error *err) {
    CK(cuda_model_forward(g, b, &out->loss, err));
    if (!isfinite(out->loss)) return 0;
    CK(cuda_model_zero_grad(g, err));
    CK(cuda_model_backward(g, err));
    CK(cuda_model_grad_norm(g, max_norm, &out->grad_norm, err));
    if (!isfinite(out->grad_norm)) return 0;
    CK(cuda_model_adamw_step(g, hp, max_norm > 0, err));
    out->lr = hp.lr;
    out->stepped = 1;
    return 0;
}

// The whole step as the graph holds it: the staged tokens and AdamW constants up, the same
// calls as step_uncaptured in the same order, the loss and norm down to pinned memory.
// AdamW cannot wait for the host's look at the loss and norm here: the guard on d_loss and
// the norm makes it a no-op on the device where the uncaptured step would have stopped.
static int step_queue(cuda_model *g, int B, int T, double max_norm, star_error *err) {
    star_stream st = g->stream;
    size_t BT = (size_t)B * T, cap = (size_t)g->opt.max_batch * g->opt.max_seq;
    CK(star_cuda_upload_async(g->d_inputs, g->h_tokens, BT * sizeof(int32_t), st, err));
    CK(star_cuda_upload_async(g->d_targets, g->h_tokens + cap, BT * sizeof(int32_t), st, err));
    CK(star_cuda_upload_async(g->d_consts, g->h_consts, sizeof *g->h_consts, st, err));
    CK(forward_queue(g, B, T, err));
    CK(cuda_model_zero_grad(g, err));
    CK(cuda_model_backward(g, err));
    CK(grad_global_norm_cuda(g->adamw, max_norm, st, err));
    CK(adamw_update_device_cuda(g->adamw, g->d_consts, g->d_loss, max_norm > 0, st, err));
    CK(star_cuda_download_async(&g->h_out[0], g->d_loss, sizeof(double), st, err));
    return grad_global_norm_copy_cuda(g->adamw, &g->h_out[1], st, err);
}

static int step_capture(cuda_model *g, step_key key, star_error *err) {
    star_cuda_graph_destroy(g->graph);
    g->graph = NULL;
    CK(star_cuda_sync(g->stream, err));
    CK(star_cuda_capture_begin(g->stream, err));
    int rc = step_queue(g, key.B, key.T, key.max_norm, err);
    if (star_cuda_capture_end(g->stream, rc == 0, &g->graph, err) != 0) {
        star_error_prefix(err, "capturing the training step as a CUDA graph (STAR_CUDA_GRAPH=0 trains without)");
        return -1;
    }
    g->graph_key = key;
    g->graph_captures++;
    return 0;
}

int cuda_model_train_step(cuda_model *g, const token_batch *b, double max_norm, adamw_hparams hp,
                          cuda_step_result *out, star_error *err) {
    memset(out, 0, sizeof *out);
    if (g->ready_fn)
        return STAR_FAIL(err, "cuda_model_train_step: a gradient hook is set (data-parallel steps: cuda_train_step)");
    if (!g->graph_on) return step_uncaptured(g, b, max_norm, hp, out, err);
    step_key key = {b->B, b->T, max_norm};
    int capture = !g->graph || !same_key(g->graph_key, key);
    if (capture && !same_key(g->warm_key, key)) {
        // The first step of this shape runs uncaptured (the same computation): libraries
        // and kernels load on first use, which must not happen inside a capture.
        g->warm_key = key;
        return step_uncaptured(g, b, max_norm, hp, out, err);
    }
    CK(check_batch(g, b, err));  // before any capture: a bad shape is not captured
    if (capture) CK(step_capture(g, key, err));
    // The previous step (synchronized at its end) no longer reads the staging buffers.
    size_t BT = (size_t)b->B * b->T, cap = (size_t)g->opt.max_batch * g->opt.max_seq;
    memcpy(g->h_tokens, b->inputs, BT * sizeof(int32_t));
    memcpy(g->h_tokens + cap, b->targets, BT * sizeof(int32_t));
    CK(adamw_consts_make_cuda(g->h_consts, g->step + 1, hp, 1.0, err));
    CK(star_cuda_graph_launch(g->graph, g->stream, err));
    CK(star_cuda_sync(g->stream, err));
    g->B = b->B;
    g->T = b->T;
    out->loss = g->h_out[0];
    if (!isfinite(out->loss)) return 0;  // AdamW skipped it on the device; the norm is not reported
    out->grad_norm = g->h_out[1];
    if (!isfinite(out->grad_norm)) return 0;
    g->step++;
    out->lr = hp.lr;
    out->stepped = 1;
    return 0;
}

#endif  // STAR_WITH_CUDA && !STAR_REAL_DOUBLE
