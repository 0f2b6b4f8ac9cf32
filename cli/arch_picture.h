// star: the SVG picture of a genome (plot/arch_svg.h) with its resolved shapes: used by
// `star genome draw` and by `star report` for the front and the baselines.
#ifndef STAR_CLI_ARCH_PICTURE_H
#define STAR_CLI_ARCH_PICTURE_H

#include "common/error.h"
#include "genome/genome.h"

// Writes the picture of g at dims to path ("-" or NULL: standard output). Fails when g
// is not valid at dims (naming the gene position) or the file cannot be written.
int arch_picture_write(const char *path, const genome *g, genome_dims dims, star_error *err);

#endif
