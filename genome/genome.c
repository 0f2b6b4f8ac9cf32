// star: whole-genome basics: a cleared genome, equality.
#include "genome/genome.h"

#include <string.h>

#include "genome/gene_table.h"

void genome_clear(genome *g) {
    memset(g, 0, sizeof *g);
    genome_set_default_genes(g);
}

void genome_zero_tail(genome *g) {
    int d = g->depth < 0 ? 0 : g->depth > GENOME_MAX_DEPTH ? GENOME_MAX_DEPTH : g->depth;
    memset(&g->liv[d], 0, (size_t)(GENOME_MAX_DEPTH - d) * sizeof g->liv[0]);
}

int genome_equal(const genome *a, const genome *b) {
    if (a->depth != b->depth) return 0;
    int d = a->depth < 0 ? 0 : a->depth > GENOME_MAX_DEPTH ? GENOME_MAX_DEPTH : a->depth;
    return !memcmp(a->liv, b->liv, (size_t)d * sizeof a->liv[0]) && !memcmp(a->op, b->op, sizeof a->op) &&
           !memcmp(a->feat, b->feat, sizeof a->feat);
}
