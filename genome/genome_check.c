// star: genome validity rules, checked in the order docs/genome.md lists them.
#include "genome/genome_check.h"

#include <stdio.h>

#include "genome/gene_table.h"
#include "genome/sharing.h"

int genome_dims_check(genome_dims dims, star_error *err) {
    if (dims.width < 32 || dims.width > GENOME_WIDTH_MAX || dims.width % 32)
        return STAR_FAIL(err, "width %d: expected a multiple of 32 in [32, %d]", dims.width, GENOME_WIDTH_MAX);
    if (dims.vocab < 2 || dims.vocab > GENOME_VOCAB_MAX)
        return STAR_FAIL(err, "vocab %d: expected a size in [2, %d]", dims.vocab, GENOME_VOCAB_MAX);
    return 0;
}

static int check_backbone(const genome *g, star_error *err) {
    static const int alleles[BB_GENES] = {LIV_CLASS_COUNT, 9, 2, 9, 2};
    for (int i = 0; i < g->depth; i++) {
        for (int k = 0; k < BB_GENES; k++) {
            int a = g->liv[i].bb[k];
            if (a < 1 || a > alleles[k])
                return STAR_FAIL(err, "LIV %d (position %d-%d) gene '%s': allele %d out of range 1..%d", i + 1,
                                 5 * i + 1, 5 * i + 5, gene_backbone_names[k], a, alleles[k]);
        }
        int n = g->liv[i].norm;
        if (n < 1 || n > NORM_ALLELES)
            return STAR_FAIL(err, "LIV %d gene 'norm' (norm digit %d): allele %d out of range 1..%d", i + 1, i + 1, n,
                             NORM_ALLELES);
    }
    return 0;
}

static int check_allele(int a, int n, star_error *err, const char *what) {
    if (a >= 1 && a <= n) return 0;
    if (n == 1) return STAR_FAIL(err, "%s: allele %d, but the gene is fixed (its only allele is 1)", what, a);
    return STAR_FAIL(err, "%s: allele %d out of range 1..%d", what, a, n);
}

static int check_class_genes(const genome *g, int c, star_error *err) {
    const gene_class_info *t = gene_class(c);
    char what[160];
    for (int k = 0; k < OP_GENES; k++) {
        snprintf(what, sizeof what, "operator genome of %s (o%d gene %d '%s')", t->name, c, k + 1, gene_op_names[k]);
        if (check_allele(g->op[c - 1][k], t->op_alleles[k], err, what)) return -1;
    }
    for (int s = 0; s < GENOME_FEATURE_GROUPS; s++)
        for (int k = 0; k < FZ_GENES; k++) {
            snprintf(what, sizeof what, "featurizer genome of %s (f%d slot %d '%s', gene %d '%s')", t->name, c, s + 1,
                     t->slot_names[s] ? t->slot_names[s] : "absent", k + 1, gene_feat_names[k]);
            if (check_allele(g->feat[c - 1][s][k], t->feat_alleles[s][k], err, what)) return -1;
        }
    return 0;
}

// Rule: diagonal channel mixing needs inner == width.
static int check_channel_mixing(const genome *g, int c, genome_dims dims, star_error *err) {
    if (g->op[c - 1][OP_CHANNEL_MIXING] != 2) return 0;
    int inner = gene_inner_width(c, g->feat[c - 1][0][FZ_EXPANSION], dims.width);
    if (inner == dims.width) return 0;
    return STAR_FAIL(err,
                     "operator genome of %s (o%d gene 5 'channel_mixing'): allele 2 (diagonal) needs the inner width "
                     "to equal the width, but the expansion gives %d at width %d",
                     liv_class_name(c), c, inner, dims.width);
}

static int check_sharing(const genome *g, star_error *err) {
    genome_sharing s;
    genome_sharing_compute(g, &s);
    for (int i = 0; i < g->depth; i++) {
        int c = g->liv[i].bb[BB_CLASS];
        if (g->liv[i].bb[BB_FG_STRATEGY] == SHARE_TIE && !gene_class_has_memory(c))
            return STAR_FAIL(err,
                             "LIV %d (position %d-%d) gene 'feature_group_strategy': allele 2 (reuse), but %s has no "
                             "memory feature groups to reuse (expected 1 = none)",
                             i + 1, 5 * i + 1, 5 * i + 5, liv_class_name(c));
        int o = s.tie_to[i];
        if (o >= 0 && s.kv_from[o] >= 0 && s.kv_from[i] < 0)
            return STAR_FAIL(
                err,
                "LIV %d (position %d-%d) gene 'featurizer_strategy': allele 2 ties it to LIV %d, which "
                "reuses the memory groups of LIV %d and has no weights for them, while LIV %d computes its "
                "own (a tied LIV whose owner reuses memory must reuse memory too)",
                i + 1, 5 * i + 1, 5 * i + 5, o + 1, s.kv_from[o] + 1, i + 1);
    }
    return 0;
}

int genome_check(const genome *g, genome_dims dims, star_error *err) {
    if (genome_dims_check(dims, err)) return -1;
    if (g->depth < 1 || g->depth > GENOME_MAX_DEPTH)
        return STAR_FAIL(err, "genome depth %d out of range 1..%d", g->depth, GENOME_MAX_DEPTH);
    if (check_backbone(g, err)) return -1;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if (check_class_genes(g, c, err)) return -1;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if (check_channel_mixing(g, c, dims, err)) return -1;
    return check_sharing(g, err);
}
