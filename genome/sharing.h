// star: who shares with whom, computed from the backbone genes (used inside genome/
// only; everything outside reads tie_to / kv_from in the resolved arch).
//  - tie set: LIVs of one class with the same featurizer-sharing group; its owner is
//    the first of them in depth order. A strategy-2 LIV that is not the owner uses the
//    owner's featurizer weights.
//  - feature-group set: the same with the feature-group-sharing group; a strategy-2
//    non-owner of a class with memory reuses the owner's memory feature groups.
#ifndef STAR_GENOME_SHARING_H
#define STAR_GENOME_SHARING_H

#include "genome/genome.h"

typedef struct genome_sharing {
    int tie_owner[GENOME_MAX_DEPTH];  // owner of this LIV's tie set (itself when first)
    int fg_owner[GENOME_MAX_DEPTH];   // owner of this LIV's feature-group set
    int tie_to[GENOME_MAX_DEPTH];     // owner whose featurizer weights it uses, or -1
    int kv_from[GENOME_MAX_DEPTH];    // owner whose memory groups it reuses, or -1
    int tie_followers[GENOME_MAX_DEPTH];  // how many LIVs have tie_to == this LIV
    int kv_followers[GENOME_MAX_DEPTH];   // how many LIVs have kv_from == this LIV
} genome_sharing;

// Reads only class, group and strategy genes; alleles out of range are taken as they
// are (callers check or repair first).
void genome_sharing_compute(const genome *g, genome_sharing *s);

#endif
