// star: validity of a genome and its deterministic repair. genome_check names the first
// broken rule and the gene's position: backbone genes are numbered as in the STAR
// string without dashes (LIV k holds positions 5k-4 .. 5k), operator genes as
// `o<class>` gene 1..5, featurizer genes as `f<class>` slot 1..3 gene 1..4. Every
// rule and its repair is listed in docs/genome.md ("Invalid combinations").
#ifndef STAR_GENOME_GENOME_CHECK_H
#define STAR_GENOME_GENOME_CHECK_H

#include "common/error.h"
#include "genome/genome.h"

#define GENOME_WIDTH_MAX 16384
#define GENOME_VOCAB_MAX 16777216

// Width a multiple of 32 in [32, GENOME_WIDTH_MAX]; vocab in [2, GENOME_VOCAB_MAX].
int genome_dims_check(genome_dims dims, star_error *err);
// 0 when g is a valid genome at dims; -1 naming the first violated rule.
int genome_check(const genome *g, genome_dims dims, star_error *err);
// Makes g valid (dims themselves are not changed: check them separately). Each rule
// resets the offending gene as documented; returns how many genes were changed.
int genome_repair(genome *g, genome_dims dims);

#endif
