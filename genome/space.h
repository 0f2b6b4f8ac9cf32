// star: the genome search space: which classes, depths and sharing a search may use, and
// the dimensions every genome in it is built at. Random genomes are drawn inside it and
// every variation (genome/variation.h) ends with genome_space_repair, so the search only
// ever sees valid genomes of its space.
#ifndef STAR_GENOME_SPACE_H
#define STAR_GENOME_SPACE_H

#include "common/error.h"
#include "common/pcg32.h"
#include "genome/genome.h"

#define GENOME_CLASS_BIT(c) (1u << (c))
#define GENOME_ALL_CLASSES (((1u << (LIV_CLASS_COUNT + 1)) - 1) & ~1u)

typedef struct genome_space {
    unsigned classes;  // GENOME_CLASS_BIT(c) set: class c may appear
    int depth_min, depth_max;
    genome_dims dims;
    int allow_featurizer_sharing;     // 0: every featurizer strategy is 1 (none)
    int allow_feature_group_sharing;  // 0: every feature-group strategy is 1 (none)
} genome_space;

// Every class, depth 2..8, width 128, vocab 256, both kinds of sharing allowed.
genome_space genome_space_default(void);
// At least one class, 1 <= depth_min <= depth_max <= GENOME_MAX_DEPTH, valid dims.
int genome_space_check(const genome_space *s, star_error *err);
// 0 when g is valid (genome_check at the space's dims) and inside the space; otherwise
// -1 naming the first LIV or gene that is not.
int genome_in_space(const genome *g, const genome_space *s, star_error *err);
// Moves g into the space, then repairs it:
//  - depth above the maximum: the LIVs past it are dropped; below the minimum: random
//    LIVs (as genome_random draws them) are appended;
//  - a class out of range or not allowed: a class drawn uniformly from the allowed ones;
//  - a sharing kind that is not allowed: its strategy genes set to 1;
//  - then genome_repair at the space's dims, and the bytes past the depth zeroed.
// The space must be valid (genome_space_check).
void genome_space_repair(genome *g, const genome_space *s, pcg32 *rng);
// A random genome of the space: depth uniform in [depth_min, depth_max]; each LIV's
// class uniform over the allowed classes, groups uniform 1..9, strategies uniform over
// the allowed ones, norm uniform 1..3; every operator and featurizer gene uniform over
// its alleles; then genome_space_repair.
void genome_random(const genome_space *s, pcg32 *rng, genome *out);
// One random LIV of the space (as genome_random draws them).
liv_gene genome_random_liv(const genome_space *s, pcg32 *rng);
// A class drawn uniformly from the allowed ones.
int genome_random_class(const genome_space *s, pcg32 *rng);

#endif
