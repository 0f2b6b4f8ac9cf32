// star: closed-form parameters, cache bytes and FLOPs (formulas in docs/genome.md).
// FLOPs count 2 per multiply-add of every matrix product a token goes through (a tied
// weight counts at every use), plus attention, state updates, convolutions and the
// LM head; elementwise work (norms, gates, activations) is not counted.
#include "genome/genome_stats.h"

#include <string.h>

#include "genome/gene_table.h"

static int64_t ceil_log2(int64_t n) {
    int64_t k = 0;
    while (((int64_t)1 << k) < n) k++;
    return k;
}

void arch_liv_stats(const arch *a, int i, long context, int dtype_bytes, arch_stats *out) {
    const liv_spec *l = &a->liv[i];
    const gene_class_info *t = gene_class(l->cls);
    const int64_t D = l->width, inner = l->inner, H = l->n_heads, T = context, b = dtype_bytes;
    const int reuse = l->kv_from >= 0, tied = l->tie_to >= 0;
    int64_t params = 0, cache = 0, mm = 0, other = 0;  // mm: matrix-product weights a token uses
    if (l->norm != NORM_NONE) params += D;
    for (int s = 0; s < GENOME_FEATURE_GROUPS; s++) {
        const feature_spec *f = &l->feat[s];
        if (!f->present || (reuse && (t->memory_slots >> s & 1))) continue;  // reused: not computed
        int64_t proj = D * f->dim / f->groups, conv = (int64_t)f->conv_len * f->dim;
        if (!tied) params += proj + conv;
        mm += proj;
        if (f->conv_len) {
            other += 2 * conv;
            cache += (int64_t)(f->conv_len - 1) * f->dim * b;
        }
    }
    if (t->memory_extra && !reuse) {  // Rec-2: dt projection D->H, dt bias, A_log
        if (!tied) params += D * H + 2 * H;
        mm += D * H;
    }
    if (l->out_dense) {
        params += inner * D;
        mm += inner * D;
    } else {
        params += D;
        other += D;  // one multiply per channel
    }
    switch (l->cls) {
    case LIV_SA1:
    case LIV_SA2:
    case LIV_SA3:
    case LIV_SADIFF: {
        int64_t t_eff = l->window > 0 && l->window < T ? l->window : T;
        other += 4 * t_eff * D;  // q.k scores and the weighted sum of values, full query width
        if (!reuse) cache += 2 * t_eff * l->n_kv_heads * l->head_dim * b;
        if (l->cls == LIV_SADIFF) params += H;  // lambda per head
        break;
    }
    case LIV_REC1:
    case LIV_REC2: {
        int64_t dk = l->cls == LIV_REC1 ? l->head_dim : l->state_dim, dv = l->head_dim;
        other += (reuse ? 2 : 4) * H * dk * dv;  // update (owner only) and read of the state
        if (!reuse) cache += H * dk * dv * b;
        if (l->cls == LIV_REC2) params += H;  // skip D per head
        break;
    }
    case LIV_GCONV1:
        params += (int64_t)l->conv_len * inner;
        other += 2 * (int64_t)l->conv_len * inner;
        cache += (int64_t)(l->conv_len - 1) * inner * b;
        break;
    case LIV_GCONV2:
        params += inner * (2 * l->filter_modes + 2);
        other += 20 * inner * ceil_log2(2 * T);  // FFT convolution, per token
        cache += (T - 1) * inner * b;
        break;
    default: break;  // GMemless: gate and up are slots, down is the output projection
    }
    out->params = params;
    out->cache_bytes = cache;
    out->flops_per_token = 2 * mm + other;
    out->train_flops_per_token = 3 * out->flops_per_token;
}

void arch_stats_compute(const arch *a, long context, int dtype_bytes, arch_stats *out) {
    const int64_t D = a->dims.width, V = a->dims.vocab;
    memset(out, 0, sizeof *out);
    out->params = V * D + D;  // embedding tied with the LM head, final RMSNorm
    out->flops_per_token = 2 * V * D;
    for (int i = 0; i < a->depth; i++) {
        arch_stats s;
        arch_liv_stats(a, i, context, dtype_bytes, &s);
        out->params += s.params;
        out->cache_bytes += s.cache_bytes;
        out->flops_per_token += s.flops_per_token;
    }
    out->train_flops_per_token = 3 * out->flops_per_token;
}

int genome_stats(const genome *g, genome_dims dims, long context, int dtype_bytes, arch_stats *out,
                 star_error *err) {
    if (context < 1) return STAR_FAIL(err, "context %ld: expected at least 1 token", context);
    if (dtype_bytes < 1) return STAR_FAIL(err, "dtype bytes %d: expected at least 1", dtype_bytes);
    arch a;
    if (genome_resolve(g, dims, &a, err)) return -1;
    arch_stats_compute(&a, context, dtype_bytes, out);
    return 0;
}
