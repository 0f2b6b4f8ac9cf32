// star: deterministic repair, one step per rule of genome_check, in the same order, so
// that a repaired genome passes genome_check (given valid dims). docs/genome.md lists
// each rule with its repair.
#include "genome/genome_check.h"

#include "genome/gene_table.h"
#include "genome/sharing.h"

static int set_gene(uint8_t *gene, int value) {
    if (*gene == value) return 0;
    *gene = (uint8_t)value;
    return 1;
}

int genome_repair(genome *g, genome_dims dims) {
    static const int alleles[BB_GENES] = {LIV_CLASS_COUNT, 9, 2, 9, 2};
    int changed = 0;
    // Depth: an empty genome gets one default SA-1 LIV; a long one is cut at the limit.
    if (g->depth < 1) {
        g->depth = 1;
        g->liv[0] = liv_gene_default(LIV_SA1);
        changed++;
    } else if (g->depth > GENOME_MAX_DEPTH) {
        g->depth = GENOME_MAX_DEPTH;
        changed++;
    }
    // Backbone and norm alleles out of range: 1 (class SA-1, group 1, no sharing, pre-norm).
    for (int i = 0; i < g->depth; i++) {
        for (int k = 0; k < BB_GENES; k++)
            if (g->liv[i].bb[k] < 1 || g->liv[i].bb[k] > alleles[k]) changed += set_gene(&g->liv[i].bb[k], 1);
        if (g->liv[i].norm < 1 || g->liv[i].norm > NORM_ALLELES) changed += set_gene(&g->liv[i].norm, NORM_PRE);
    }
    // Operator and featurizer alleles out of range (fixed genes included): the default.
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        const gene_class_info *t = gene_class(c);
        for (int k = 0; k < OP_GENES; k++)
            if (g->op[c - 1][k] < 1 || g->op[c - 1][k] > t->op_alleles[k])
                changed += set_gene(&g->op[c - 1][k], t->op_default[k]);
        for (int s = 0; s < GENOME_FEATURE_GROUPS; s++)
            for (int k = 0; k < FZ_GENES; k++)
                if (g->feat[c - 1][s][k] < 1 || g->feat[c - 1][s][k] > t->feat_alleles[s][k])
                    changed += set_gene(&g->feat[c - 1][s][k], t->feat_default[s][k]);
    }
    // Diagonal channel mixing with inner != width: dense.
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if (gene_inner_width(c, g->feat[c - 1][0][FZ_EXPANSION], dims.width) != dims.width)
            changed += set_gene(&g->op[c - 1][OP_CHANNEL_MIXING], 1);
    // Feature-group reuse on a class without memory: none.
    for (int i = 0; i < g->depth; i++)
        if (!gene_class_has_memory(g->liv[i].bb[BB_CLASS]))
            changed += set_gene(&g->liv[i].bb[BB_FG_STRATEGY], SHARE_NONE);
    // A tied LIV whose owner reuses memory but which computes its own: untie it. Untying
    // changes no owner and no feature-group set, so one pass suffices.
    genome_sharing s;
    genome_sharing_compute(g, &s);
    for (int i = 0; i < g->depth; i++) {
        int o = s.tie_to[i];
        if (o >= 0 && s.kv_from[o] >= 0 && s.kv_from[i] < 0)
            changed += set_gene(&g->liv[i].bb[BB_FEAT_STRATEGY], SHARE_NONE);
    }
    return changed;
}
