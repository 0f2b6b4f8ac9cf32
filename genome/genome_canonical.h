// star: the canonical form of a genome and its hash. Two genomes that build the same
// model (the same resolved arch) have the same canonical form, so the search can
// recognize an architecture it has already measured. docs/genome.md ("Canonical form")
// lists every rewrite.
#ifndef STAR_GENOME_GENOME_CANONICAL_H
#define STAR_GENOME_GENOME_CANONICAL_H

#include <stdint.h>

#include "genome/genome.h"

// out = canonical form of in at dims (in is repaired first, so any genome has one).
// in and out may be the same genome.
void genome_canonical(const genome *in, genome_dims dims, genome *out);
// 64-bit FNV-1a over the canonical string, the width and the vocabulary.
uint64_t genome_hash(const genome *g, genome_dims dims);

#endif
