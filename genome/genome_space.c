// star: the search space: its check, membership, and repair into it.
#include "genome/space.h"

#include <string.h>

#include "genome/gene_table.h"
#include "genome/genome_check.h"

genome_space genome_space_default(void) {
    genome_space s = {GENOME_ALL_CLASSES, 2, 8, {128, 256}, 1, 1};
    return s;
}

int genome_space_check(const genome_space *s, star_error *err) {
    if (!(s->classes & GENOME_ALL_CLASSES)) return STAR_FAIL(err, "genome space: no LIV class is allowed");
    if (s->depth_min < 1 || s->depth_max > GENOME_MAX_DEPTH || s->depth_min > s->depth_max)
        return STAR_FAIL(err, "genome space: depth %d..%d, expected 1 <= min <= max <= %d", s->depth_min,
                         s->depth_max, GENOME_MAX_DEPTH);
    if (genome_dims_check(s->dims, err)) return star_error_prefix(err, "genome space");
    return 0;
}

int genome_in_space(const genome *g, const genome_space *s, star_error *err) {
    if (genome_check(g, s->dims, err)) return -1;
    if (g->depth < s->depth_min || g->depth > s->depth_max)
        return STAR_FAIL(err, "genome depth %d outside the space's %d..%d", g->depth, s->depth_min, s->depth_max);
    for (int i = 0; i < g->depth; i++) {
        const liv_gene *l = &g->liv[i];
        if (!(s->classes & GENOME_CLASS_BIT(l->bb[BB_CLASS])))
            return STAR_FAIL(err, "LIV %d (position %d-%d) gene 'class': %s is not one of the space's classes", i + 1,
                             5 * i + 1, 5 * i + 5, liv_class_name(l->bb[BB_CLASS]));
        if (!s->allow_featurizer_sharing && l->bb[BB_FEAT_STRATEGY] != SHARE_NONE)
            return STAR_FAIL(err,
                             "LIV %d (position %d-%d) gene 'featurizer_strategy': the space does not allow "
                             "featurizer sharing (expected 1 = none)",
                             i + 1, 5 * i + 1, 5 * i + 5);
        if (!s->allow_feature_group_sharing && l->bb[BB_FG_STRATEGY] != SHARE_NONE)
            return STAR_FAIL(err,
                             "LIV %d (position %d-%d) gene 'feature_group_strategy': the space does not allow "
                             "feature-group sharing (expected 1 = none)",
                             i + 1, 5 * i + 1, 5 * i + 5);
    }
    return 0;
}

void genome_space_repair(genome *g, const genome_space *s, pcg32 *rng) {
    if (g->depth > s->depth_max) g->depth = s->depth_max;
    if (g->depth < 0) g->depth = 0;
    while (g->depth < s->depth_min) g->liv[g->depth++] = genome_random_liv(s, rng);
    for (int i = 0; i < g->depth; i++) {
        liv_gene *l = &g->liv[i];
        int c = l->bb[BB_CLASS];
        if (c < 1 || c > LIV_CLASS_COUNT || !(s->classes & GENOME_CLASS_BIT(c)))
            l->bb[BB_CLASS] = (uint8_t)genome_random_class(s, rng);
        if (!s->allow_featurizer_sharing) l->bb[BB_FEAT_STRATEGY] = SHARE_NONE;
        if (!s->allow_feature_group_sharing) l->bb[BB_FG_STRATEGY] = SHARE_NONE;
    }
    genome_repair(g, s->dims);
    genome_zero_tail(g);
}
