// star: genome -> layer shapes. The only place where alleles become head counts,
// windows, kernel lengths and sharing targets (docs/genome.md, "Resolution").
#include <string.h>

#include "genome/arch.h"
#include "genome/gene_table.h"
#include "genome/genome_check.h"
#include "genome/sharing.h"

// n_kv_heads of SA-2: n_heads / repeat, at least 1, lowered until it divides n_heads
// (so every K/V head serves the same number of query heads).
static int kv_heads(int n_heads, int repeat) {
    int kv = n_heads / repeat;
    if (kv < 1) kv = 1;
    while (n_heads % kv) kv--;
    return kv;
}

static act_kind activation(int c, int allele) {
    static const act_kind gate[] = {ACT_IDENTITY, ACT_IDENTITY, ACT_SIGMOID, ACT_SILU};
    switch (c) {
    case LIV_REC1: return allele == 2 ? ACT_ELU1 : ACT_IDENTITY;
    case LIV_GCONV1:
    case LIV_GCONV2: return gate[allele];
    case LIV_GMEMLESS: return allele == 2 ? ACT_GELU : ACT_SILU;
    default: return ACT_IDENTITY;  // softmax (SA) and Rec-2 have no choice here
    }
}

static void resolve_class_shape(const genome *g, int c, int width, liv_spec *l) {
    const uint8_t *op = g->op[c - 1];
    const uint8_t(*fz)[FZ_GENES] = g->feat[c - 1];
    const gene_class_info *t = gene_class(c);
    l->cls = (liv_class)c;
    l->width = width;
    l->inner = gene_inner_width(c, fz[0][FZ_EXPANSION], width);
    l->act = activation(c, op[OP_NONLINEARITY]);
    l->out_dense = op[OP_CHANNEL_MIXING] == 1;
    if (t->op_alleles[OP_SPARSITY] > 1) {  // classes with heads
        l->head_dim = gene_head_dim(op[OP_SPARSITY], l->inner);
        l->n_heads = l->inner / l->head_dim;
        l->n_kv_heads = l->n_heads;
    }
    int dim[GENOME_FEATURE_GROUPS] = {l->inner, l->inner, l->inner};
    switch (c) {
    case LIV_SA2:
        l->n_kv_heads = kv_heads(l->n_heads, gene_kv_repeat(fz[1][FZ_REPEAT], l->n_heads));
        dim[1] = dim[2] = l->n_kv_heads * l->head_dim;
        break;
    case LIV_SA3: l->window = gene_sa3_window(op[OP_TOKEN_MIXING]); break;
    case LIV_REC2:
        l->state_dim = gene_rec2_state(op[OP_TOKEN_MIXING]);
        dim[0] = dim[1] = l->state_dim;  // C and B: one group shared by all heads
        break;
    case LIV_GCONV1: l->conv_len = gene_gconv1_kernel(op[OP_TOKEN_MIXING]); break;
    case LIV_GCONV2: l->filter_modes = GCONV2_FILTER_MODES; break;
    default: break;
    }
    for (int s = 0; s < GENOME_FEATURE_GROUPS; s++) {
        feature_spec *f = &l->feat[s];
        f->present = t->slot_names[s] != NULL;
        if (!f->present) continue;
        f->dim = dim[s];
        f->conv_len = op[OP_FEATURIZATION] == 2 ? gene_short_conv_len(fz[s][FZ_TOKEN_MIXING]) : 0;
        f->groups = gene_proj_groups(fz[s][FZ_CHANNEL_MIXING]);
    }
}

int genome_resolve(const genome *g, genome_dims dims, arch *out, star_error *err) {
    if (genome_check(g, dims, err)) return -1;
    memset(out, 0, sizeof *out);
    out->dims = dims;
    out->depth = g->depth;
    genome_sharing s;
    genome_sharing_compute(g, &s);
    for (int i = 0; i < g->depth; i++) {
        liv_spec *l = &out->liv[i];
        resolve_class_shape(g, g->liv[i].bb[BB_CLASS], dims.width, l);
        l->norm = g->liv[i].norm;
        l->tie_to = s.tie_to[i];
        l->kv_from = s.kv_from[i];
    }
    return 0;
}
