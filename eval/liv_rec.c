// star: the recurrent token mixers. Rec-1, linear attention: core = (phi(q) phi(k)^T
// masked causally) v per head, no denominator (operators/linear_attention.h). Rec-2,
// the SSD-like diagonal recurrence (operators/ssd_scan.h): C is this layer's query
// feature; B, X and the step dt = h @ dt_w^T come from the memory owner, so a LIV that
// reuses them shares the owner's state exactly.
#include "eval/model_private.h"
#include "operators/linear_attention.h"
#include "operators/matmul.h"
#include "operators/ssd_scan.h"

static linatt_phi rec1_phi(const liv_spec *s) { return s->act == ACT_ELU1 ? LINATT_PHI_ELU1 : LINATT_PHI_IDENTITY; }

static int rec1_alloc(model *m, liv_layer *l, int B, int T, star_error *err) { return 0; }

static int rec1_forward(liv_layer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    liv_layer *o = l->mem_owner;
    return linear_attention_forward_chunked(l->core, l->feat[0], o->feat[1], o->feat[2], B, T, s->n_heads, s->head_dim,
                                            LIV_CHUNK, rec1_phi(s), err);
}

static int rec1_backward(liv_layer *l, const real *dcore, real *dh, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    liv_layer *o = l->mem_owner;
    return linear_attention_backward(l->dfeat[0], o->dfeat[1], o->dfeat[2], dcore, l->feat[0], o->feat[1], o->feat[2], B,
                                     T, s->n_heads, s->head_dim, LIV_CHUNK, rec1_phi(s), err);
}

const liv_mixer liv_mixer_rec1 = {rec1_alloc, rec1_forward, rec1_backward};

// Rec-2 activations: act[0] = raw dt [B*T*H] (owner only), dact[0] its gradient.
static int rec2_alloc(model *m, liv_layer *l, int B, int T, star_error *err) {
    if (l->mem_owner != l) return 0;
    size_t n = (size_t)B * T * l->s->n_heads;
    l->act[0] = model_alloc(m, n, err);
    l->dact[0] = model_alloc(m, n, err);
    l->dact_n[0] = n;
    return l->act[0] && l->dact[0] ? 0 : -1;
}

static ssd_inputs rec2_inputs(const liv_layer *l) {
    const liv_layer *o = l->mem_owner;
    ssd_inputs in = {.x = o->feat[2], .Bm = o->feat[1], .Cm = l->feat[0], .dt = o->act[0], .dt_bias = o->dt_b.w,
                     .A_log = o->a_log.w, .D = l->skip.w};
    return in;
}

static ssd_shape rec2_shape(const liv_spec *s, int B, int T) {
    ssd_shape sh = {.B = B, .T = T, .H = s->n_heads, .P = s->head_dim, .N = s->state_dim};
    return sh;
}

static int rec2_forward(liv_layer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    if (l->mem_owner == l) matmul_forward(l->act[0], l->h, l->dt_w.w, B * T, s->width, s->n_heads);
    ssd_inputs in = rec2_inputs(l);
    return ssd_scan_forward_chunked(l->core, &in, rec2_shape(s, B, T), LIV_CHUNK, err);
}

static int rec2_backward(liv_layer *l, const real *dcore, real *dh, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    liv_layer *o = l->mem_owner;
    ssd_inputs in = rec2_inputs(l);
    ssd_grads g = {.dx = o->dfeat[2], .dBm = o->dfeat[1], .dCm = l->dfeat[0], .ddt = o->dact[0], .ddt_bias = o->dt_b.g,
                   .dA_log = o->a_log.g, .dD = l->skip.g};
    if (ssd_scan_backward(&g, dcore, &in, rec2_shape(s, B, T), LIV_CHUNK, err) != 0) return -1;
    // The owner runs last among the LIVs that read its dt: every gradient is in by now.
    if (o == l) matmul_backward(dh, l->dt_w.g, l->dact[0], l->h, l->dt_w.w, B * T, s->width, s->n_heads);
    return 0;
}

const liv_mixer liv_mixer_rec2 = {rec2_alloc, rec2_forward, rec2_backward};
