// star: mutation on every level of the genome (variation.h describes the draws).
#include <string.h>

#include "genome/gene_table.h"
#include "genome/variation.h"

genome_mutation_rates genome_mutation_rates_default(void) {
    genome_mutation_rates r = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    return r;
}

static int draw(pcg32 *rng, double p) { return p > 0 && pcg32_double(rng) < p; }

// Resamples *gene uniformly among 1..n except its current allele; 1 if it changed.
static int resample(uint8_t *gene, int n, pcg32 *rng) {
    if (n < 2) return 0;
    int a = 1 + (int)pcg32_bounded(rng, (uint32_t)(n - 1));  // 1..n-1, skipping the current
    if (a >= *gene) a++;
    if (a > n) a = n;  // only when the current allele was out of range
    *gene = (uint8_t)a;
    return 1;
}

static int resample_class(uint8_t *gene, const genome_space *s, pcg32 *rng) {
    int others[LIV_CLASS_COUNT], n = 0;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if ((s->classes & GENOME_CLASS_BIT(c)) && c != *gene) others[n++] = c;
    if (!n) return 0;
    *gene = (uint8_t)others[pcg32_bounded(rng, (uint32_t)n)];
    return 1;
}

static int mutate_backbone(genome *g, const genome_space *s, const genome_mutation_rates *r, pcg32 *rng) {
    int changed = 0;
    for (int i = 0; i < g->depth; i++) {
        liv_gene *l = &g->liv[i];
        if (draw(rng, r->backbone)) changed += resample_class(&l->bb[BB_CLASS], s, rng);
        if (draw(rng, r->backbone)) changed += resample(&l->bb[BB_FEAT_GROUP], 9, rng);
        if (draw(rng, r->backbone) && s->allow_featurizer_sharing)
            changed += resample(&l->bb[BB_FEAT_STRATEGY], 2, rng);
        if (draw(rng, r->backbone)) changed += resample(&l->bb[BB_FG_GROUP], 9, rng);
        if (draw(rng, r->backbone) && s->allow_feature_group_sharing)
            changed += resample(&l->bb[BB_FG_STRATEGY], 2, rng);
        if (draw(rng, r->norm)) changed += resample(&l->norm, NORM_ALLELES, rng);
    }
    return changed;
}

static int mutate_class_genes(genome *g, const genome_mutation_rates *r, pcg32 *rng) {
    int used[LIV_CLASS_COUNT + 1] = {0}, changed = 0;
    for (int i = 0; i < g->depth; i++)
        if (g->liv[i].bb[BB_CLASS] >= 1 && g->liv[i].bb[BB_CLASS] <= LIV_CLASS_COUNT) used[g->liv[i].bb[BB_CLASS]] = 1;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        if (!used[c]) continue;
        const gene_class_info *t = gene_class(c);
        for (int k = 0; k < OP_GENES; k++)
            if (t->op_alleles[k] > 1 && draw(rng, r->op)) changed += resample(&g->op[c - 1][k], t->op_alleles[k], rng);
        for (int sl = 0; sl < GENOME_FEATURE_GROUPS; sl++)
            for (int k = 0; k < FZ_GENES; k++)
                if (t->feat_alleles[sl][k] > 1 && draw(rng, r->featurizer))
                    changed += resample(&g->feat[c - 1][sl][k], t->feat_alleles[sl][k], rng);
    }
    return changed;
}

int genome_mutate(genome *g, const genome_space *s, const genome_mutation_rates *r, pcg32 *rng) {
    int changed = mutate_backbone(g, s, r, rng) + mutate_class_genes(g, r, rng);
    if (draw(rng, r->insert) && g->depth < s->depth_max && g->depth < GENOME_MAX_DEPTH) {
        int at = (int)pcg32_bounded(rng, (uint32_t)(g->depth + 1));
        memmove(&g->liv[at + 1], &g->liv[at], (size_t)(g->depth - at) * sizeof g->liv[0]);
        g->liv[at] = genome_random_liv(s, rng);
        g->depth++;
        changed++;
    }
    if (draw(rng, r->del) && g->depth > s->depth_min && g->depth > 1) {
        int at = (int)pcg32_bounded(rng, (uint32_t)g->depth);
        memmove(&g->liv[at], &g->liv[at + 1], (size_t)(g->depth - at - 1) * sizeof g->liv[0]);
        g->depth--;
        changed++;
    }
    genome_space_repair(g, s, rng);
    return changed;
}
