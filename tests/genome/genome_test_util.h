// star genome tests: a raw random genome drawn straight from the gene table (every gene
// uniform over its alleles, groups and strategies included), independent of
// genome_random, so the string/check/resolve tests do not lean on the code they test.
#ifndef STAR_TESTS_GENOME_TEST_UTIL_H
#define STAR_TESTS_GENOME_TEST_UTIL_H

#include "common/pcg32.h"
#include "genome/gene_table.h"
#include "genome/genome.h"

static inline void test_random_genes(genome *g, pcg32 *rng, int max_depth) {
    genome_clear(g);
    g->depth = 1 + (int)pcg32_bounded(rng, (uint32_t)max_depth);
    static const int bb_alleles[BB_GENES] = {LIV_CLASS_COUNT, 9, 2, 9, 2};
    for (int i = 0; i < g->depth; i++) {
        for (int k = 0; k < BB_GENES; k++) g->liv[i].bb[k] = (uint8_t)(1 + pcg32_bounded(rng, bb_alleles[k]));
        g->liv[i].norm = (uint8_t)(1 + pcg32_bounded(rng, NORM_ALLELES));
    }
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        const gene_class_info *t = gene_class(c);
        for (int k = 0; k < OP_GENES; k++) g->op[c - 1][k] = (uint8_t)(1 + pcg32_bounded(rng, t->op_alleles[k]));
        for (int s = 0; s < GENOME_FEATURE_GROUPS; s++)
            for (int k = 0; k < FZ_GENES; k++)
                g->feat[c - 1][s][k] = (uint8_t)(1 + pcg32_bounded(rng, t->feat_alleles[s][k]));
    }
}

#endif
