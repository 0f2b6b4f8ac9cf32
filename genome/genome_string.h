// star: the genome as a STAR string. The backbone is one 5-digit gene per LIV joined by
// '-' (class, featurizer group, featurizer strategy, feature-group group, feature-group
// strategy), e.g. `21211-31112-21221-32112`. Optional sections follow, each only when it
// differs from the defaults of the gene table:
//   ;n=<one norm digit per LIV>                 (1 pre, 2 post, 3 none)
//   ;o<class>=<5 operator digits>
//   ;f<class>=<4 digits>.<4 digits>.<4 digits>  (slot 1, 2, 3 featurizer genes)
// Width and vocabulary are not part of the string.
#ifndef STAR_GENOME_GENOME_STRING_H
#define STAR_GENOME_GENOME_STRING_H

#include <stddef.h>

#include "common/error.h"
#include "genome/genome.h"

#define GENOME_STRING_MAX 1024  // fits the longest genome (64 LIVs, every section)

// Writes the string of g (any genome whose genes are single digits 1-9) into buf;
// returns its length, or -1 (buf set to "") when cap is too small or a gene is not a
// digit 1-9.
int genome_to_string(const genome *g, char *buf, size_t cap);
// Parses a string into out. Syntax only (digits 1-9, shape of each section); gene
// ranges are genome_check's job. Errors name the 1-based character position:
//   "genome string position 7 (LIV 2, gene 'class'): expected a digit 1-9, got 'x'"
int genome_parse(const char *s, genome *out, star_error *err);
// One line of class counts in class order, e.g. "4xSA-1 4xGMemless".
void genome_summary(const genome *g, char *buf, size_t cap);

#endif
