// star: the softmax attention token mixers (SA-1 MHA, SA-2 GQA, SA-3 sliding window,
// SA-diff differential), over operators/attention.h with rotary positions. RoPE is
// applied to q and k after the features; a LIV that reuses its owner's K/V reads the
// owner's rotated keys, so the cache it would hold is the owner's.
// Differential attention ropes each half-head (hd/2 channels) on its own, so the two
// score maps are each rotation-invariant.
#include "eval/model_private.h"
#include "operators/attention.h"
#include "operators/rope.h"

// act[0] = rotated q [B*T*H*hd]; act[1] = rotated k [B*T*Hkv*hd] (memory owner only);
// act[2] = lse ([B*H*T], twice for SA-diff); SA-diff: act[3], act[4] = o1, o2, act[5] =
// head-norm rstd [B*T*H]. dact[0] = d rotated q; dact[1] = d rotated k (owner, summed
// over the LIVs that reuse it); dact[2] = SA-diff backward scratch.
static int attn_alloc(model *m, liv_layer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    size_t BT = (size_t)B * T, nq = BT * s->n_heads * s->head_dim, nk = BT * s->n_kv_heads * s->head_dim;
    int diff = s->cls == LIV_SADIFF;
    if (!(l->act[0] = model_alloc(m, nq, err)) || !(l->dact[0] = model_alloc(m, nq, err))) return -1;
    l->dact_n[0] = nq;
    if (l->mem_owner == l) {
        if (!(l->act[1] = model_alloc(m, nk, err)) || !(l->dact[1] = model_alloc(m, nk, err))) return -1;
        l->dact_n[1] = nk;
    }
    if (!(l->act[2] = model_alloc(m, (size_t)(diff ? 2 : 1) * B * s->n_heads * T, err))) return -1;
    if (diff) {
        if (!(l->act[3] = model_alloc(m, nq, err)) || !(l->act[4] = model_alloc(m, nq, err)) ||
            !(l->act[5] = model_alloc(m, BT * s->n_heads, err)) || !(l->dact[2] = model_alloc(m, nq, err)))
            return -1;
        l->dact_n[2] = nq;
    }
    return 0;
}

static attn_shape attn_shape_of(const liv_spec *s, int B, int T) {
    attn_shape sh = {.B = B, .T = T, .H = s->n_heads, .Hkv = s->n_kv_heads, .hd = s->head_dim, .window = s->window};
    return sh;
}

// Rotary heads: differential attention rotates each half-head separately.
static int rope_heads(const liv_spec *s, int heads) { return s->cls == LIV_SADIFF ? 2 * heads : heads; }
static int rope_dim(const liv_spec *s) { return s->cls == LIV_SADIFF ? s->head_dim / 2 : s->head_dim; }

static diff_attn_saved diff_saved(const liv_layer *l) {
    diff_attn_saved sv = {.o1 = l->act[3], .o2 = l->act[4], .lse = l->act[2], .rstd = l->act[5]};
    return sv;
}

static int attn_forward(liv_layer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    liv_layer *o = l->mem_owner;
    rope_forward(l->act[0], l->feat[0], B, T, rope_heads(s, s->n_heads), rope_dim(s), 0);
    if (o == l) rope_forward(l->act[1], l->feat[1], B, T, rope_heads(s, s->n_kv_heads), rope_dim(s), 0);
    attn_shape sh = attn_shape_of(s, B, T);
    if (s->cls == LIV_SADIFF) {
        diff_attn_saved sv = diff_saved(l);
        return diff_attention_forward(l->core, &sv, l->act[0], o->act[1], o->feat[2], l->lambda.w, sh, err);
    }
    return attention_forward(l->core, l->act[2], l->act[0], o->act[1], o->feat[2], sh, err);
}

static int attn_backward(liv_layer *l, const real *dcore, real *dh, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    liv_layer *o = l->mem_owner;
    attn_shape sh = attn_shape_of(s, B, T);
    int rc;
    if (s->cls == LIV_SADIFF) {
        diff_attn_saved sv = diff_saved(l);
        rc = diff_attention_backward(l->dact[0], o->dact[1], o->dfeat[2], l->lambda.g, l->dact[2], dcore, &sv, l->act[0],
                                     o->act[1], o->feat[2], l->lambda.w, sh, err);
    } else {
        rc = attention_backward(l->dact[0], o->dact[1], o->dfeat[2], dcore, l->core, l->act[2], l->act[0], o->act[1],
                                o->feat[2], sh, err);
    }
    if (rc != 0) return -1;
    rope_backward(l->dfeat[0], l->dact[0], B, T, rope_heads(s, s->n_heads), rope_dim(s), 0);
    // The owner runs last among the LIVs that read its keys: their gradients are all in.
    if (o == l) rope_backward(l->dfeat[1], l->dact[1], B, T, rope_heads(s, s->n_kv_heads), rope_dim(s), 0);
    return 0;
}

const liv_mixer liv_mixer_attention = {attn_alloc, attn_forward, attn_backward};
