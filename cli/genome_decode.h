// star: the human-readable table of a genome that `star genome decode` prints.
#ifndef STAR_CLI_GENOME_DECODE_H
#define STAR_CLI_GENOME_DECODE_H

#include <stdio.h>

#include "common/error.h"
#include "genome/genome.h"

// Fails (printing nothing) when g is not valid at dims.
int genome_decode_print(FILE *f, const genome *g, genome_dims dims, star_error *err);

#endif
