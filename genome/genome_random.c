// star: random genomes and random LIVs of a space (the draws space.h describes).
#include "genome/space.h"

#include "genome/gene_table.h"

int genome_random_class(const genome_space *s, pcg32 *rng) {
    int allowed[LIV_CLASS_COUNT], n = 0;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if (s->classes & GENOME_CLASS_BIT(c)) allowed[n++] = c;
    return allowed[pcg32_bounded(rng, (uint32_t)n)];
}

liv_gene genome_random_liv(const genome_space *s, pcg32 *rng) {
    liv_gene l;
    l.bb[BB_CLASS] = (uint8_t)genome_random_class(s, rng);
    l.bb[BB_FEAT_GROUP] = (uint8_t)(1 + pcg32_bounded(rng, 9));
    l.bb[BB_FEAT_STRATEGY] = (uint8_t)(s->allow_featurizer_sharing ? 1 + pcg32_bounded(rng, 2) : SHARE_NONE);
    l.bb[BB_FG_GROUP] = (uint8_t)(1 + pcg32_bounded(rng, 9));
    l.bb[BB_FG_STRATEGY] = (uint8_t)(s->allow_feature_group_sharing ? 1 + pcg32_bounded(rng, 2) : SHARE_NONE);
    l.norm = (uint8_t)(1 + pcg32_bounded(rng, NORM_ALLELES));
    return l;
}

void genome_random(const genome_space *s, pcg32 *rng, genome *out) {
    genome g;
    genome_clear(&g);
    g.depth = s->depth_min + (int)pcg32_bounded(rng, (uint32_t)(s->depth_max - s->depth_min + 1));
    for (int i = 0; i < g.depth; i++) g.liv[i] = genome_random_liv(s, rng);
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        const gene_class_info *t = gene_class(c);
        for (int k = 0; k < OP_GENES; k++) g.op[c - 1][k] = (uint8_t)(1 + pcg32_bounded(rng, t->op_alleles[k]));
        for (int sl = 0; sl < GENOME_FEATURE_GROUPS; sl++)
            for (int k = 0; k < FZ_GENES; k++)
                g.feat[c - 1][sl][k] = (uint8_t)(1 + pcg32_bounded(rng, t->feat_alleles[sl][k]));
    }
    genome_space_repair(&g, s, rng);
    *out = g;
}
